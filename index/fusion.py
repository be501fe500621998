"""Joining dense and lexical candidates into one ranking: one function per join mode.

The step between *candidates* and the *second stage* in the flow
``candidates (dense, lexical) → fusion → rerank → quote choice → decision``.
Each joiner takes the candidates of both sides and returns a score per row (higher
is better). A side may be empty (no passage shares a word with the question, or a
filter left nothing); every joiner then ranks on the other side alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MODES = ("weighted", "rrf", "dense", "lexical")


@dataclass(frozen=True)
class Candidates:
    """Passages found for a question by each side, with their raw scores.

    ``dense`` maps the rows the vector search found to their cosine with the question;
    ``lexical`` maps the rows BM25 found to their score (positive scores only). Both are
    ordered best first. ``cosine`` gives the cosine of every candidate, including those
    only BM25 found (filled by the index), for the stages after fusion.
    """

    dense: dict[int, float]
    lexical: dict[int, float]
    cosine: dict[int, float] = field(default_factory=dict)

    @property
    def rows(self) -> list[int]:
        """Every candidate row, dense ones first, each once."""
        return list(dict.fromkeys([*self.dense, *self.lexical]))

    def dense_rank(self, row: int) -> int | None:
        return _ranks(self.dense).get(row)

    def lexical_rank(self, row: int) -> int | None:
        return _ranks(self.lexical).get(row)

    def __bool__(self) -> bool:
        return bool(self.dense or self.lexical)


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    return {r: i for i, r in enumerate(scores)}


def _scaled(scores: dict[int, float], rows: list[int], floor_at_zero: bool) -> np.ndarray:
    """Scores mapped to [0, 1] over the candidates; a row a side did not find gets 0."""
    if not scores:
        return np.zeros(len(rows))
    values = np.array([scores.get(r, np.nan) for r in rows], dtype=np.float64)
    found = ~np.isnan(values)
    lo = 0.0 if floor_at_zero else float(np.nanmin(values))
    span = (float(np.nanmax(values)) - lo) or 1.0
    out = np.where(found, (values - lo) / span, 0.0)
    return np.clip(out, 0.0, 1.0)


def weighted(c: Candidates, dense_weight: float, lexical_weight: float) -> dict[int, float]:
    """Both sides min-max scaled over the candidates, then mixed linearly.

    BM25 is scaled from 0 (not from its lowest candidate): a score of 0 means no shared
    word, and a lone lexical candidate must not look perfect.
    """
    rows = c.rows
    mixed = dense_weight * _scaled(c.dense, rows, False) + lexical_weight * _scaled(c.lexical, rows, True)
    return {r: float(s) for r, s in zip(rows, mixed)}


def rrf(c: Candidates, dense_weight: float, lexical_weight: float, k: int) -> dict[int, float]:
    """Reciprocal rank fusion: each side adds weight / (k + rank)."""
    d, lx = _ranks(c.dense), _ranks(c.lexical)
    return {
        r: (dense_weight / (k + d[r] + 1) if r in d else 0.0) + (lexical_weight / (k + lx[r] + 1) if r in lx else 0.0)
        for r in c.rows
    }


def dense_only(c: Candidates) -> dict[int, float]:
    """The dense side's cosine; rows only BM25 found rank after every dense one."""
    return {r: c.dense.get(r, -2.0) for r in c.rows}


def lexical_only(c: Candidates) -> dict[int, float]:
    """The BM25 score; rows only the dense side found rank after, by cosine."""
    return {r: c.lexical[r] if r in c.lexical else -2.0 + c.dense.get(r, 0.0) for r in c.rows}


def join(c: Candidates, mode: str, dense_weight: float, lexical_weight: float, rrf_k: int) -> dict[int, float]:
    """The fused score of every candidate row, by ``mode`` (one of :data:`MODES`)."""
    if mode == "weighted":
        return weighted(c, dense_weight, lexical_weight)
    if mode == "rrf":
        return rrf(c, dense_weight, lexical_weight, rrf_k)
    if mode == "dense":
        return dense_only(c)
    if mode == "lexical":
        return lexical_only(c)
    raise ValueError(f"fusion must be one of {', '.join(MODES)} (got {mode!r})")


def ranked(scores: dict[int, float]) -> list[int]:
    """Rows best first; ties broken by row so that a ranking is reproducible."""
    return sorted(scores, key=lambda r: (-scores[r], r))
