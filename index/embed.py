"""Embedders: a one-method protocol, and the sentence-transformers implementation."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray: ...


class ModelNotFoundError(RuntimeError):
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
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])
