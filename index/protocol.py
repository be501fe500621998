"""What answering needs from an index, whatever stores it (a local folder or Milvus)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from ingest.model import Chunk, RegisterEntry, Source
from index.latent import LatentEncoder, Sparse
from index.settings import Settings
from index.store import Filter, Hit


class Vocabulary(Protocol):
    def knows(self, term: str) -> bool:
        """Whether an analysed term occurs anywhere in the indexed passages."""
        ...


@runtime_checkable
class SearchIndex(Protocol):
    """An index ``answer()``, ``verbatim eval`` and the chat page can read.

    ``index.store.Index`` (FAISS and bm25s in a folder) and ``index.milvus.MilvusIndex``
    (collections in Milvus) both satisfy it.
    """

    meta: dict
    centroid: np.ndarray
    people: tuple[RegisterEntry, ...]  # the register of people (see ingest.people)

    @property
    def chunks(self) -> Mapping[int, Chunk] | list[Chunk]: ...

    @property
    def texts(self) -> Mapping[str, str]: ...

    @property
    def sources(self) -> Mapping[str, Source]: ...

    @property
    def lexical(self) -> Vocabulary: ...

    @property
    def language(self) -> str: ...

    def sentence_vectors_of(self, row: int) -> np.ndarray: ...

    def facets(self) -> dict[str, list]: ...

    def find_person(self, text: str) -> list[RegisterEntry]: ...

    def passage(self, chunk_id: str) -> tuple[int, Chunk, np.ndarray] | None: ...

    @property
    def latent_encoder(self) -> LatentEncoder | None: ...

    def latent_row(self, row: int) -> Sparse: ...

    def search(
        self,
        question: str,
        question_vector: np.ndarray,
        k: int,
        settings: Settings,
        where: Filter | None = None,
        same_language: bool = True,
    ) -> list[Hit]: ...

    def stale_reason(self, settings: Settings, corpus_hash: str | None, model_info: dict | None) -> str | None: ...
