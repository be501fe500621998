"""Views of an index in Milvus that read on demand: passages, sources, their texts, and
what the lexical side knows of a term (``index.milvus.MilvusIndex`` holds them)."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import numpy as np

from ingest.model import Chunk, Source
from index.latent import Sparse, sparse_of

CACHE = 2048  # sentence-vector sets, term lookups kept between questions


def quote(value: str) -> str:
    """A string literal for a Milvus boolean expression."""
    return json.dumps(value, ensure_ascii=False)


def read_pieces(client, store: str, kind: str, owner: str) -> str | None:
    """The text stored in pieces under (kind, owner), or None when there is none."""
    rows = client.query(store, filter=f"kind == {quote(kind)} and owner == {quote(owner)}", output_fields=["piece", "body"])
    if not rows:
        return None
    return "".join(r["body"] for r in sorted(rows, key=lambda r: r["piece"]))


def chunk_of(record: dict) -> Chunk:
    """A passage from its row."""
    return Chunk.from_dict(dict(record["data"], text=record["text"]))


def bm25_score(distance: float) -> float:
    # Milvus Lite reports BM25 as a negative distance (smaller is better), a server as the score.
    return abs(float(distance))


class Texts(Mapping):
    """Source id -> full text, read from Milvus on first use and kept."""

    def __init__(self, client, store: str, ids: list[str]) -> None:
        self._client, self._store, self._ids, self._cache = client, store, ids, {}

    def __getitem__(self, sid: str) -> str:
        if sid not in self._cache:
            # A source added since this replica started is read too.
            text = read_pieces(self._client, self._store, "text", sid)
            if text is None:
                raise KeyError(sid)
            if sid not in self._ids:
                self._ids.append(sid)
            if len(self._cache) >= 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[sid] = text
        return self._cache[sid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, sid: object) -> bool:
        return sid in self._ids


class Sources(Mapping):
    """Source id -> record; a source added since this replica started is read on first use."""

    def __init__(self, client, store: str, sources: dict[str, Source]) -> None:
        self._client, self._store, self._sources = client, store, sources

    def __getitem__(self, sid: str) -> Source:
        if sid not in self._sources:
            body = read_pieces(self._client, self._store, "source", sid)
            if body is None:
                raise KeyError(sid)
            self._sources[sid] = Source(**json.loads(body))
        return self._sources[sid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


class Passages(Mapping):
    """Row (primary key) -> passage, read from Milvus; a search's candidates are read in one
    query and kept until the next search."""

    def __init__(self, client, collection: str, count: int) -> None:
        self._client, self._collection, self._count = client, collection, count
        self._recent: dict[int, Chunk] = {}
        self.latent: dict[int, Sparse] = {}  # the latent terms of the last prefetched passages

    def prefetch(self, rows: list[int]) -> dict[int, np.ndarray]:
        """Read these passages now (kept for the next lookups); return their vectors."""
        if not rows:
            return {}
        found = self._client.query(self._collection, filter=f"pk in [{', '.join(map(str, set(rows)))}]",
                                   output_fields=["text", "data", "vector", "latent"])
        # Replaced, not cleared: a question answered at the same time keeps its own.
        self._recent = {int(r["pk"]): chunk_of(r) for r in found}
        self.latent = {int(r["pk"]): sparse_of(r["latent"]) for r in found}
        return {int(r["pk"]): np.asarray(r["vector"], dtype=np.float32) for r in found}

    def __getitem__(self, row: int) -> Chunk:
        recent = self._recent.get(row)
        if recent is not None:
            return recent
        found = self._client.query(self._collection, filter=f"pk == {int(row)}", output_fields=["text", "data"])
        if not found:
            raise KeyError(row)
        return chunk_of(found[0])

    def __iter__(self) -> Iterator[int]:
        it = self._client.query_iterator(self._collection, batch_size=1000, filter="", output_fields=["pk"])
        try:
            while batch := it.next():
                yield from (int(r["pk"]) for r in batch)
        finally:
            it.close()

    def __len__(self) -> int:
        return self._count


class Vocabulary:
    """What the lexical side knows of a term: a one-term BM25 search in Milvus, remembered."""

    def __init__(self, client, collection: str, count: int) -> None:
        self._client, self._collection, self._count, self._known = client, collection, count, {}
        self._postings: dict[str, np.ndarray] = {}

    def postings(self, term: str) -> np.ndarray:
        """Rows of the passages that contain an analysed term (at most 16,384, Milvus's
        largest search)."""
        if term not in self._postings:
            res = self._client.search(self._collection, data=[term], anns_field="sparse", limit=max(1, min(self._count, 16_384)),
                                      output_fields=[], search_params={"metric_type": "BM25"}) if term else [[]]
            if len(self._postings) >= 256:
                self._postings = {}
            self._postings[term] = np.array([int(h["pk"]) for h in res[0] if bm25_score(h["distance"]) > 0], dtype=np.int64)
        return self._postings[term]

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of an analysed term, as ``index.lexical`` gives it."""
        df = len(self.postings(term))
        return float(np.log(1.0 + (self._count - df + 0.5) / (df + 0.5)))

    def knows(self, term: str) -> bool:
        if term not in self._known:
            res = self._client.search(self._collection, data=[term], anns_field="sparse", limit=1, output_fields=[],
                                      search_params={"metric_type": "BM25"})
            if len(self._known) >= CACHE:
                self._known.clear()
            self._known[term] = bool(res and res[0] and bm25_score(res[0][0]["distance"]) > 0)
        return self._known[term]
