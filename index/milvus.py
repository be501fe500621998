"""The index in Milvus: the same passages, vectors and answers as a local index folder,
held by Milvus Lite (a local ``.db`` file) or a Milvus server that several replicas share.

Three collections per index (prefix ``settings.milvus_collection``):

- ``PREFIX_passages``: one row per passage, keyed by its chunk id (as an int64): its
  vector, its text, the text BM25 reads, and every field of the passage (offsets, source,
  paragraph or page, section, speaker, role, reported people, sentence spans, links) as JSON;
- ``PREFIX_sentences``: one row per sentence of a passage, with its vector;
- ``PREFIX_store``: the sources (metadata and text, in pieces), the register of people
  (``people.json`` of a local index) and the index's meta (model, settings, corpus hash,
  facets, centroid), written last by a build.

Lexical search is BM25 inside Milvus over the passage analysed by Verbatim's own French
analyser (``index.lexical.analyze``) and stored as space-separated terms: Milvus Lite's
analyser has only a plain word tokenizer (it accepts ``stemmer`` and ``asciifolding``
filters and ignores them), so analysing on this side gives the same terms on Lite and on
a server, and the same terms as the local backend. Dense and BM25 candidates are fused by
``index.fusion``, as locally. pymilvus is imported only when this backend is used.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ingest.errors import VerbatimError
from ingest.model import Chunk, RegisterEntry, Source
from index.fusion import Evidence, best, rank
from index.latent import LatentEncoder, Sparse, encoder_for, scores_of, sparse_of
from index.lexical import analyze
from index.settings import Settings
from index.milvus_views import CACHE, Passages, Sources, Texts, Vocabulary, bm25_score, chunk_of, quote, read_pieces
from index.store import Filter, Hit, Index, IndexLoadError
from index.texts import lexical_text

LAYOUT = 4  # the collections' fields; another layout is stale and is rebuilt (4: latent terms)
PIECE = 16_000  # characters of a source text or of the meta per row (VARCHAR holds 65,535 bytes)


@dataclass(frozen=True)
class Found:
    """The candidates of each side, as ``index.store``'s search has them: ``dense`` (row ->
    cosine) and ``lexical`` (row -> positive BM25 score), each best first; ``cosine`` of every
    candidate; ``place`` of every candidate in the corpus (for ties); the analysed terms and
    the filter expression, for further searches."""

    dense: dict[int, float]
    lexical: dict[int, float]
    cosine: dict[int, float]
    place: dict[int, tuple[int, int]]
    terms: str
    expr: str


class MilvusUnavailableError(VerbatimError, RuntimeError):
    """Milvus cannot be reached, or its client is not installed."""


def collection_names(settings: Settings) -> tuple[str, str, str]:
    """The passages, sentences and store collections of the index."""
    p = settings.milvus_collection
    return f"{p}_passages", f"{p}_sentences", f"{p}_store"


def is_server(uri: str) -> bool:
    """A URL names a Milvus server; anything else is a Milvus Lite file."""
    return "://" in uri


def row_of(chunk_id: str) -> int:
    """A passage's primary key: its stable hexadecimal id as a non-negative int64."""
    return int(chunk_id, 16) >> 1


def filter_expression(where: Filter | None) -> str:
    """``where`` as a Milvus boolean expression ("" when it admits everything)."""
    if not where:
        return ""
    parts = []
    if where.sources:
        parts.append(f"source_id in [{', '.join(quote(s) for s in sorted(where.sources))}]")
    if where.people:
        # ``people`` holds who says the passage and the names of whom it reports.
        parts.append(f"array_contains_any(people, [{', '.join(quote(p) for p in sorted(where.people))}])")
    return " and ".join(parts)


def connect(settings: Settings):
    """A ``MilvusClient`` for ``settings.milvus_uri``; the token comes from
    ``$VERBATIM_MILVUS_TOKEN`` when set, else from the settings."""
    uri = settings.milvus_uri or ""
    fix = "start it (see docs/scale-out.md) or pass another --milvus-uri"
    if not is_server(uri):
        if not uri.endswith(".db"):
            raise MilvusUnavailableError(f"a Milvus Lite URI is a file path ending in .db (got {uri!r}); pass e.g. --milvus-uri corpus/.index.db, or http://HOST:19530 for a server")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        fix = "check that the folder is writable and that no other process has the file open (Milvus Lite serves one process; replicas need a Milvus server)"
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise MilvusUnavailableError(f"the milvus backend needs pymilvus and milvus-lite ({exc}); install them with: pip install 'verbatim[milvus]'") from exc
    token = os.environ.get("VERBATIM_MILVUS_TOKEN") or settings.milvus_token or ""
    # Milvus Lite lacks the timestamp call of query iterators: pymilvus logs a warning and
    # Lite's in-process gRPC server an error for it, then the iterator works without it.
    logging.getLogger("pymilvus").setLevel(logging.ERROR)
    if not is_server(uri):
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    # Milvus Lite's in-process gRPC server keeps gRPC's default ping policy (one ping per
    # 5 minutes without data) and answers pymilvus's 10-second keepalive pings with GOAWAY,
    # after which no connection to it works; nothing needs keeping alive in-process.
    options = {} if is_server(uri) else {"grpc_options": {"grpc.keepalive_time_ms": 600_000, "grpc.keepalive_permit_without_calls": 0}}
    try:
        return MilvusClient(uri=uri, token=token, timeout=10, **options)
    except Exception as exc:  # grpc, network and server errors all mean "not reachable"
        reason = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
        raise MilvusUnavailableError(f"cannot reach Milvus at {uri} ({reason}); {fix}") from exc


def read_meta(client, settings: Settings) -> dict | None:
    """The meta of the index in Milvus, or None when there is no complete index.

    Loads the index's collections (into Milvus's memory) when they are not loaded yet."""
    names = collection_names(settings)
    if not all(client.has_collection(c) for c in names):
        return None
    for c in names:
        client.load_collection(c)
    store = names[2]
    body = read_pieces(client, store, "meta", "meta")
    return json.loads(body) if body else None


def read_register(client, store: str) -> list[RegisterEntry]:
    """The register of people stored with the index ([] when it has none)."""
    body = read_pieces(client, store, "people", "register")
    return [RegisterEntry.from_dict(d) for d in json.loads(body)] if body else []


def stored_meta(settings: Settings) -> dict:
    """The meta of the index in Milvus, or {} when there is none (``verbatim sources``)."""
    client = connect(settings)
    try:
        return read_meta(client, settings) or {}
    finally:
        client.close()


class MilvusIndex:
    """An index held in Milvus, offering what ``index.protocol.SearchIndex`` asks."""

    def __init__(self, client, settings: Settings, meta: dict, sources: dict[str, Source],
                 people: list[RegisterEntry] | None = None) -> None:
        self.client = client
        self.meta = meta
        self._passages, self._sentences, self._store = collection_names(settings)
        self.sources = Sources(client, self._store, sources)
        self.centroid = np.asarray(meta["centroid"], dtype=np.float32)
        self.texts = Texts(client, self._store, list(sources))
        self.chunks = Passages(client, self._passages, int(meta["counts"]["chunks"]))
        self.lexical = Vocabulary(client, self._passages, int(meta["counts"]["chunks"]))
        self._sentence_cache: dict[int, np.ndarray] = {}
        # The register is small (one entry per person and source): read once, as the
        # local index reads people.json, so a replica with no corpus answers "Qui est X ?".
        self.people = tuple(people if people is not None else read_register(client, self._store))

    @classmethod
    def load(cls, settings: Settings) -> MilvusIndex:
        """Open the index in Milvus; ``IndexLoadError`` when there is none (a build makes it)."""
        return cls.open(connect(settings), settings)

    @classmethod
    def open(cls, client, settings: Settings) -> MilvusIndex:
        """Open the index through an existing client."""
        meta = read_meta(client, settings)
        if meta is None:
            raise IndexLoadError(
                f"no index in Milvus at {settings.milvus_uri} (collections {settings.milvus_collection}_*); "
                f"build it with: verbatim build --backend milvus --milvus-uri {settings.milvus_uri}"
            )
        store = collection_names(settings)[2]
        rows = client.query(store, filter='kind == "source"', output_fields=["owner", "body"])
        sources = {r["owner"]: Source(**json.loads(r["body"])) for r in rows}
        order = meta.get("source_order", [])
        sources = {sid: sources[sid] for sid in sorted(sources, key=lambda s: order.index(s) if s in order else len(order))}
        return cls(client, settings, meta, sources)

    # -- what answering reads -------------------------------------------------------
    @property
    def language(self) -> str:
        return self.meta.get("language", "fr")

    def facets(self) -> dict[str, list]:
        f = self.meta["facets"]
        return {"sources": [(s.id, s.title) for s in self.sources.values()], "speakers": f["speakers"], "reported": f["reported"]}

    def find_person(self, text: str) -> list[RegisterEntry]:
        """Register entries whose name matches ``text``, as ``Index.find_person``."""
        from ingest.people import find_person

        return find_person(self.people, text)

    def passage(self, chunk_id: str) -> tuple[int, Chunk, np.ndarray] | None:
        """The row, passage and vector of a chunk id, as ``Index.passage``: one query by key."""
        row = row_of(chunk_id)
        found = self.client.query(self._passages, filter=f"pk == {row}", output_fields=["text", "data", "vector"])
        if not found:
            return None
        return row, chunk_of(found[0]), np.asarray(found[0]["vector"], dtype=np.float32)

    def latent_row(self, row: int) -> Sparse:
        """The latent vector of passage ``row``: kept from the search's candidates, else read."""
        got = self.chunks.latent.get(row)
        if got is not None:
            return got
        found = self.client.query(self._passages, filter=f"pk == {int(row)}", output_fields=["latent"])
        return sparse_of(found[0]["latent"] if found else None)

    def latent_scores(self, query: Sparse, rows: Collection[int]) -> dict[int, float]:
        """The latent match of each of ``rows`` (candidates of the last search, whose latent
        terms it read) with a question's latent vector."""
        return scores_of(query, {r: self.chunks.latent[r] for r in rows})

    def chunk(self, row: int) -> Chunk:
        """The passage of a row (a candidate of the last search costs no query)."""
        return self.chunks[row]

    def document(self, source_id: str) -> list[tuple[int, Chunk]]:
        """A document's (row, passage) in reading order: one query (asked only by a question
        about a place in a document)."""
        found = self.client.query(self._passages, filter=f"source_id == {quote(source_id)}", output_fields=["text", "data"])
        rows = [(int(r["pk"]), chunk_of(r)) for r in found]
        return sorted(rows, key=lambda rc: (rc[1].paragraph, rc[1].start))

    @cached_property
    def latent_encoder(self) -> LatentEncoder | None:
        """The encoder of questions' latent vectors for this index, or None (no latent terms);
        resolved once, as the local index does."""
        return encoder_for(self.meta.get("latent"))

    def stale_reason(self, settings: Settings, corpus_hash: str | None, model_info: dict | None) -> str | None:
        if self.meta.get("milvus_layout") != LAYOUT:
            return f"its collections have layout {self.meta.get('milvus_layout')} and this version reads layout {LAYOUT}"
        # The rest of the rule reads only ``meta``, which both backends record alike.
        return Index.stale_reason(self, settings, corpus_hash, model_info)  # type: ignore[arg-type]

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """The vectors of the sentences of passage ``row``, in order."""
        cached = self._sentence_cache.get(row)
        return cached if cached is not None else self._fetch_sentences([row], missing_only=False)[row]

    def _fetch_sentences(self, rows: list[int], missing_only: bool = True) -> dict[int, np.ndarray]:
        """Read the sentence vectors of these passages in one query, and keep them (a search
        reads its hits' vectors at once; the quote is chosen from them just after)."""
        todo = [r for r in rows if r not in self._sentence_cache] if missing_only else list(rows)
        found = self.client.query(self._sentences, filter=f"chunk in [{', '.join(map(str, todo))}]",
                                  output_fields=["chunk", "n", "vector"]) if todo else []
        by_row: dict[int, list] = {r: [] for r in todo}
        for rec in found:
            by_row[int(rec["chunk"])].append((int(rec["n"]), rec["vector"]))
        dim = len(self.centroid)
        out = {r: np.asarray([v for _, v in sorted(items, key=lambda x: x[0])], dtype=np.float32).reshape(len(items), dim)
               for r, items in by_row.items()}
        if len(self._sentence_cache) + len(out) > CACHE:
            self._sentence_cache = {}  # replaced, not cleared: a concurrent reader keeps its dict
        self._sentence_cache.update(out)
        return out

    def candidates(self, question: str, question_vector: np.ndarray, depth: int, where: Filter | None = None,
                   nprobe: int | None = None) -> Found:
        """The ``depth`` best passages by cosine and by BM25, searched in Milvus; the rows of
        both are read in one query (their passages are kept for what follows, and a passage
        found by BM25 alone gets its real cosine)."""
        depth = max(1, min(int(self.meta["counts"]["chunks"]), depth))
        expr = filter_expression(where)
        q = np.asarray(question_vector, dtype=np.float32).reshape(-1)
        params: dict = {"metric_type": "IP"}
        if self.meta.get("vector_index", {}).get("type") == "ivf-sq8":
            described = self.meta["vector_index"]
            params["params"] = {"nprobe": min(int(nprobe or described["nprobe"]), int(described["nlist"]))}
        # Where each candidate stands in the corpus, to break ties as the local index does.
        fields = ["source_id", "start"]
        order_of = self._source_order()
        place: dict[int, tuple[int, int]] = {}

        def note(hits) -> None:
            for h in hits:
                place[int(h["pk"])] = (order_of.get(h["entity"]["source_id"], len(order_of)), int(h["entity"]["start"]))

        res = self.client.search(self._passages, data=[q.tolist()], anns_field="vector", limit=depth, filter=expr,
                                 output_fields=fields, search_params=params)
        note(res[0])
        dense = {int(h["pk"]): float(h["distance"]) for h in res[0]}
        lexical: dict[int, float] = {}
        terms = " ".join(analyze(question))
        # BM25 runs even without a dense candidate: an approximate (IVF) search scans only
        # some lists, and a filter may admit passages none of them holds.
        if terms:
            res = self.client.search(self._passages, data=[terms], anns_field="sparse", limit=depth, filter=expr,
                                     output_fields=fields, search_params={"metric_type": "BM25"})
            note(res[0])
            lexical = {int(h["pk"]): bm25_score(h["distance"]) for h in res[0] if bm25_score(h["distance"]) > 0}
        vectors = self.chunks.prefetch([*dense, *lexical])
        cosine = dict(dense)
        cosine.update({r: float(vectors[r] @ q) for r in lexical if r not in dense})
        return Found(dense, lexical, cosine, place, terms, expr)

    def _source_order(self) -> dict[str, int]:
        """Each source's position in the corpus, to order passages as the local index does."""
        return {sid: i for i, sid in enumerate(self.meta.get("source_order", []))}

    def _read_outside(self, found: Found, rows: list[int], question_vector: np.ndarray) -> None:
        """The cosine and corpus place of passages ranked outside both searches' candidates
        (a place the question asks for, index.fusion.rank), in one query, into ``found``."""
        if not rows:
            return
        q = np.asarray(question_vector, dtype=np.float32).reshape(-1)
        order_of = self._source_order()
        for rec in self.client.query(self._passages, filter=f"pk in [{', '.join(map(str, rows))}]",
                                     output_fields=["source_id", "start", "vector"]):
            row = int(rec["pk"])
            found.cosine[row] = float(np.asarray(rec["vector"], dtype=np.float32) @ q)
            found.place[row] = (order_of.get(rec["source_id"], len(order_of)), int(rec["start"]))

    def search(
        self,
        question: str,
        question_vector: np.ndarray,
        k: int,
        settings: Settings,
        where: Filter | None = None,
        same_language: bool = True,
    ) -> list[Hit]:
        """The ``k`` best passages: dense and BM25 searches in Milvus, fused as locally."""
        found = self.candidates(question, question_vector, max(50, 10 * k), where, settings.ivf_nprobe)
        if not found.dense and not found.lexical:
            return []
        lexical = dict(found.lexical)
        others = [r for r in found.dense if r not in lexical]
        if others and lexical:
            # The dense candidates' own BM25 scores, as the local index has every passage's.
            only = f"pk in [{', '.join(map(str, others))}]"
            res = self.client.search(self._passages, data=[found.terms], anns_field="sparse", limit=len(others),
                                     filter=f"({found.expr}) and {only}" if found.expr else only, output_fields=[],
                                     search_params={"metric_type": "BM25"})
            lexical.update({int(h["pk"]): bm25_score(h["distance"]) for h in res[0]})
        lex_rows = list(found.lexical)
        # Every candidate's passage and latent terms were read by candidates(): they cost no query.
        ranking = rank(question, Evidence(found.dense, lexical, lex_rows, max(lexical.values(), default=0.0)), settings,
                       same_language, self, where.admits if where else None)
        self._read_outside(found, [r for r in ranking.scores if r not in found.cosine], question_vector)
        order = best(ranking.scores, k, found.place.__getitem__)
        dense_rank = {r: i for i, r in enumerate(found.dense)}
        lexical_rank = {r: i for i, r in enumerate(lex_rows)}
        self._fetch_sentences(order)
        return [
            Hit(r, self.chunks[r], float(ranking.scores[r]), found.cosine[r], lexical.get(r, 0.0), dense_rank.get(r),
                lexical_rank.get(r), ranking.word_match.get(r), r in ranking.asked)
            for r in order
        ]
