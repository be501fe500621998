"""Milvus Lite against the local backend on 100,000 generated passages, in the same run.

The passages are bench/scale.py's: 384-dimensional vectors around 2,000 topic centres and
texts drawn from the interview's words (no model embeds them), one sentence each, in ten
sources. Each side runs in its own process, twice: one ingests (local: FAISS, BM25 and the
index folder; Milvus: the upserts into a Milvus Lite file), a fresh one opens the index and
answers the queries, and its resident memory is read at the end (Milvus Lite runs inside
the process, so its memory is counted). Queries are perturbed passages with four of their
words: ``search`` is the whole hybrid search (dense + BM25, fused, top 9, passages read);
``dense`` alone gives recall@10 against exact search; the top passage of both backends is
compared.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, rss_mb, save, summary, table
from bench.scale import DIM, synthetic_texts, synthetic_vectors

SOURCES = 10


def corpus(n: int, queries: int, seed: int = 7):
    """Chunks, documents, vectors, and the queries (vectors and texts), the same in every process."""
    from ingest.model import Chunk, Document, Source

    rng = np.random.default_rng(seed)
    vectors = synthetic_vectors(n, rng)
    texts = synthetic_texts(n, rng)
    pick = rng.choice(n, queries, replace=False)
    qv = vectors[pick] + rng.standard_normal((queries, DIM), dtype=np.float32) * (0.3 / np.sqrt(DIM))
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    qt = [" ".join(texts[i].split()[:4]) for i in pick]
    chunks, docs, offsets = [], [], [0] * SOURCES
    parts: list[list[str]] = [[] for _ in range(SOURCES)]
    for i, t in enumerate(texts):
        s = i % SOURCES
        start = offsets[s]
        chunks.append(Chunk(id=f"{i << 1:016x}", source_id=f"s{s}", text=t, start=start, end=start + len(t), paragraph=i // SOURCES + 1,
                            page=None, section=None, speaker=None, role="text", sentences=((start, start + len(t)),)))
        parts[s].append(t)
        offsets[s] = start + len(t) + 1
    for s in range(SOURCES):
        docs.append(Document(Source(id=f"s{s}", title=f"Source {s}"), "\n".join(parts[s]), ()))
    return chunks, docs, vectors, qv.astype(np.float32), qt


def in_memory_index(n: int, queries: int, settings):
    from index.lexical import LexicalIndex
    from index.store import FORMAT, Index
    from index.texts import lexical_text
    from index.vectors import make_vector_index

    chunks, docs, vectors, _, _ = corpus(n, queries)
    faiss_index, desc = make_vector_index(vectors, settings.exact_max_passages, settings.ivf_nprobe)
    lexical = LexicalIndex.build([lexical_text(c, settings) for c in chunks])
    meta = {"format": FORMAT, "model": {"name": "synthetic", "id": "synthetic"}, "dimension": DIM, "settings": settings.index_params(),
            "search": settings.search_params(), "vector_index": desc, "corpus_hash": "synthetic",
            "counts": {"sources": len(docs), "chunks": n, "sentences": n}}
    return Index(chunks, {d.source.id: d.source for d in docs}, {d.source.id: d.text for d in docs}, faiss_index,
                 vectors, lexical, meta, vectors.mean(axis=0))


def child(backend: str, step: str, folder: Path, n: int, queries: int) -> dict:
    from index.settings import Settings

    settings = Settings(model_dir=Path("synthetic"), backend=backend, milvus_uri=str(folder / "milvus.db") if backend == "milvus" else None)
    if step == "ingest":
        t = time.perf_counter()
        index = in_memory_index(n, queries, settings)
        if backend == "milvus":
            from index.milvus_write import save_to_milvus

            save_to_milvus(index, settings)
        else:
            index.save(folder / "local")
        return {"ingest_s": time.perf_counter() - t}
    _, _, _, qv, qt = corpus(n, queries)
    base = rss_mb()
    t = time.perf_counter()
    if backend == "milvus":
        from index.milvus import MilvusIndex

        index = MilvusIndex.load(settings)
    else:
        from index.store import Index

        index = Index.load(folder / "local")
    open_s = time.perf_counter() - t
    search, dense, tops, found = [], [], [], []
    for v, text in zip(qv, qt):
        t = time.perf_counter()
        hits = index.search(text, v, 9, settings)
        search.append(time.perf_counter() - t)
        tops.append(hits[0].chunk.id)
        t = time.perf_counter()
        if backend == "milvus":
            res = index.client.search(index._passages, data=[v.tolist()], anns_field="vector", limit=10, output_fields=[], search_params={"metric_type": "IP"})
            rows = [int(h["pk"]) for h in res[0]]
        else:
            rows = [int(r) for r in index.vectors.search(v.reshape(1, -1), 10)[1][0]]
        dense.append(time.perf_counter() - t)
        found.append(rows)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and (backend == "milvus") == ("milvus.db" in p.parts))
    return {"open_s": open_s, "search": summary(search), "dense": summary(dense), "tops": tops, "found": found,
            "rss_mb": rss_mb(), "rss_before_open_mb": base, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "disk_mb": size / 2**20}


def spawn(backend: str, step: str, folder: Path, n: int, queries: int) -> dict:
    cmd = [sys.executable, "-m", "bench.milvus", "--child", backend, step, str(folder), "--n", str(n), "--queries", str(queries)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if done.returncode != 0:
        raise RuntimeError(f"{backend} {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(n: int = 100_000, queries: int = 100, quiet: bool = False) -> dict:
    _, _, vectors, qv, _ = corpus(n, queries)
    exact = [set(np.argsort(-(vectors @ q))[:10].tolist()) for q in qv]
    del vectors
    out: dict = {"passages": n, "queries": queries}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("local", "milvus"):
            r = spawn(backend, "ingest", Path(tmp), n, queries) | spawn(backend, "query", Path(tmp), n, queries)
            r["recall@10"] = float(np.mean([len(set(f) & e) / 10 for f, e in zip(r.pop("found"), exact)]))
            out[backend] = r
    tops = [a == b for a, b in zip(out["local"].pop("tops"), out["milvus"].pop("tops"))]
    out["same_top_passage"] = sum(tops) / len(tops)
    rows = []
    for backend, label in (("local", "local (FAISS + bm25s, a folder)"), ("milvus", "Milvus Lite (a .db file)")):
        r = out[backend]
        rows.append([label, r["ingest_s"], r["open_s"], r["search"]["median_ms"], r["search"]["p99_ms"], r["dense"]["median_ms"],
                     r["dense"]["p99_ms"], r["recall@10"], r["rss_mb"] - r["rss_before_open_mb"], r["rss_mb"], r["disk_mb"]])
    m, loc = out["milvus"], out["local"]
    rows.append(["Milvus Lite ÷ local", m["ingest_s"] / loc["ingest_s"], m["open_s"] / loc["open_s"],
                 m["search"]["median_ms"] / loc["search"]["median_ms"], m["search"]["p99_ms"] / loc["search"]["p99_ms"],
                 m["dense"]["median_ms"] / loc["dense"]["median_ms"], m["dense"]["p99_ms"] / loc["dense"]["p99_ms"], "", "", "", ""])
    print(table(f"Milvus Lite and local backend, {n:,} generated passages, {queries} queries (same top passage: {out['same_top_passage']:.0%})",
                ["backend", "ingest s", "open s", "search median ms", "search p99 ms", "dense median ms", "dense p99 ms", "recall@10",
                 "memory of the open index MB", "process RSS MB", "disk MB"], rows))
    save("milvus", out)
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench.milvus")
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--child", nargs=3, metavar=("BACKEND", "STEP", "DIR"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1], Path(a.child[2]), a.n, a.queries)))
    else:
        run(a.n, a.queries, a.quiet)
