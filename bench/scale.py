"""Scale: synthetic corpora of 10k, 100k (and 1M) passages — vector and lexical search.

Vectors are 384-dimensional, drawn around 2,000 random topic centres (real passage
vectors cluster by topic; uniform noise would make every index look bad), queries are
perturbed passages. Texts are generated from the interview's own words with a Zipf
distribution. The vector index is the one Verbatim would build at that size.
"""
from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, rss_mb, save, summary, table

DIM = 384


def synthetic_vectors(n: int, rng: np.random.Generator, centres: int = 2000) -> np.ndarray:
    c = rng.standard_normal((centres, DIM), dtype=np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for i in range(0, n, step):
        m = min(step, n - i)
        v = c[rng.integers(0, centres, m)] + rng.standard_normal((m, DIM), dtype=np.float32) * (0.6 / np.sqrt(DIM))
        out[i : i + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def synthetic_texts(n: int, rng: np.random.Generator) -> list[str]:
    words = sorted(set(re.findall(r"\w{3,}", (ROOT / "corpus" / "contre-sommet-ia-interview.txt").read_text(encoding="utf-8").lower())))
    p = 1.0 / np.arange(1, len(words) + 1)
    p /= p.sum()
    ids = rng.choice(len(words), size=(n, 25), p=p)
    return [" ".join(words[j] for j in row) for row in ids]


def one(n: int, queries: int, settings, rng: np.random.Generator) -> dict:
    import faiss

    from index.lexical import LexicalIndex
    from index.store import top_rows
    from index.vectors import make_vector_index

    vectors = synthetic_vectors(n, rng)
    q = vectors[rng.choice(n, queries, replace=False)] + rng.standard_normal((queries, DIM), dtype=np.float32) * (0.3 / np.sqrt(DIM))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    exact = np.vstack([np.argsort(-(vectors @ qi))[:10] for qi in q])

    before = rss_mb()
    t = time.perf_counter()
    index, desc = make_vector_index(vectors, settings.exact_max_passages, settings.ivf_nprobe)
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.faiss"
        faiss.write_index(index, str(path))
        disk_mb = path.stat().st_size / 2**20
    del vectors
    times, found = [], []
    for qi in q:
        t = time.perf_counter()
        _, rows = index.search(qi.reshape(1, -1), 10)
        times.append(time.perf_counter() - t)
        found.append(rows[0])
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)]))
    vec = summary(times)

    texts = synthetic_texts(n, rng)
    t = time.perf_counter()
    lexical = LexicalIndex.build(texts)
    lex_build_s = time.perf_counter() - t
    lex_q = [" ".join(texts[i].split()[:4]) for i in rng.choice(n, queries, replace=False)]
    lt = []
    for qq in lex_q:
        t = time.perf_counter()
        top_rows(lexical.scores(qq), 50)
        lt.append(time.perf_counter() - t)
    del texts, lexical
    return {
        "passages": n, "vector_index": desc, "build_s": build_s, "disk_mb": disk_mb,
        "memory_mb": disk_mb,  # a FAISS index in memory is its serialised size (checked by RSS below)
        "rss_growth_mb": rss_mb() - before, "search": vec, "recall@10": recall,
        "lexical_build_s": lex_build_s, "lexical_search": summary(lt),
    }


def run(sizes: list[int], queries: int = 200, quiet: bool = False) -> dict:
    from index.settings import Settings

    settings = Settings(model_dir=Path("unused"))
    rng = np.random.default_rng(42)
    results = [one(n, queries, settings, rng) for n in sizes]
    rows = [[f"{r['passages']:,}", r["vector_index"]["type"], r["build_s"], r["disk_mb"], r["search"]["median_ms"], r["search"]["p99_ms"], r["recall@10"], r["lexical_search"]["median_ms"], r["lexical_search"]["p99_ms"]] for r in results]
    print(table(f"Scale ({queries} queries each)", ["passages", "vector index", "build s", "size MB", "vector median ms", "vector p99 ms", "recall@10", "BM25 median ms", "BM25 p99 ms"], rows))
    save("scale", {"sizes": results, "settings": {"exact_max_passages": settings.exact_max_passages, "ivf_nprobe": settings.ivf_nprobe}})
    return {"sizes": results}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--full", action="store_true", help="add the 1,000,000-passage case")
    p.add_argument("--sizes", type=int, nargs="*", default=None)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    sizes = a.sizes or ([10_000, 100_000, 1_000_000] if a.full else [10_000, 100_000])
    run(sizes, quiet=a.quiet)
