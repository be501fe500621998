"""The paraphrase step of checking quotes: the sentence of the index closest in meaning to
a text that has no textual match, and how surely it says the same thing."""
from __future__ import annotations

import numpy as np

from index.embed import Embedder
from index.settings import Settings
from index.store import Index


def paraphrase_candidates(texts: list[str], index: Index, embedder: Embedder, depth: int = 10) -> list[list[tuple[int, int, float, float]]]:
    """For each text, the sentences of its ``depth`` closest passages: ``(passage row,
    sentence number, cosine, share of the text's words in the sentence)``. The texts are
    embedded as queries, in one call; words are BM25's (stemmed, stop words out)."""
    from index.lexical import analyze

    if not texts:
        return []
    vectors = embedder.encode(texts, query=True)
    _, rows = index.vectors.search(np.ascontiguousarray(vectors, dtype=np.float32), min(depth, len(index.chunks)))
    out = []
    for t, v, found in zip(texts, vectors, rows):
        terms = set(analyze(t))
        cands = []
        for r in (int(x) for x in found if x >= 0):
            c = index.chunks[r]
            src = index.texts[c.source_id]
            for j, ((s, e), sim) in enumerate(zip(c.sentences, index.sentence_vectors_of(r) @ v)):
                share = len(terms & set(analyze(src[s:e]))) / len(terms) if terms else 0.0
                cands.append((r, j, float(sim), share))
        out.append(cands)
    return out


def paraphrase_score(cosine: float, share: float, settings: Settings) -> float:
    """How surely a sentence says what a text says: the cosine of their vectors, plus a
    little for the text's words that the sentence uses (calibrated, see README)."""
    return cosine + settings.check_overlap_weight * share
