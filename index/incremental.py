"""Update an index by redoing only what changed.

Two caches make an update cost what changed, and nothing else:

- per source: a source whose fingerprint (record, bytes, ingest code, index
  parameters; see ``ingest.corpus``) is the one the previous index recorded keeps its
  passages and its entries in the register of people, attribution included (spaCy
  is the slow part of ingest); a source read again gets its register entries anew;
- per text: ``CachingEmbedder`` wraps the embedder and returns the previous index's
  vector for any passage or sentence text it already embedded (keyed by the sha256 of
  the text), so that only new texts reach the model.

``Index.build`` then runs as for a full build, on the same passages in the same
order, so the result is the same as a rebuild from nothing (a test checks it). The
index is written by ``Index.save``, atomically: an interrupted update leaves the
previous index in place.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.embed import Embedder, sentence_vector_method
from index.latent import LatentEncoder, Sparse, latent_of
from index.prepare import attributed_document, model_info, progress_bar
from index.report import IngestReport, LinkedSource, SourceRecord
from index.settings import Settings
from index.store import Index, IndexLoadError
from index.texts import passage_spans, passage_text
from ingest.chunk import chunk
from ingest.corpus import LinkedRef, fingerprint, ingest_version, linked_sources, web_links
from ingest.errors import CorpusError, NoTextError, NotFetchedError
from ingest.fetch import FetchCache
from ingest.load import corpus_hash, manifest_links, page_at, read_manifest, resolve_source
from ingest.model import Chunk, Document, RegisterEntry, Source
from ingest.people import register


class CachingEmbedder:
    """An embedder that embeds each distinct passage text once, and remembers earlier vectors."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "embedder")
        self.dim = inner.dim
        self._vectors: dict[bytes, np.ndarray] = {}
        self._with_spans: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.computed = 0  # texts sent to the model
        self.reused = 0  # texts answered from the cache
        if getattr(inner, "encode_with_spans", None) is not None:
            # The model reads each passage once and pools its sentences' vectors from it:
            # a sentence's vector then depends on its passage, so the cache keys the pair.
            self.encode_with_spans = self._encode_with_spans
        inner_latent = latent_of(inner)
        self.latent = CachingLatent(inner_latent) if inner_latent is not None else None

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8")).digest()

    @staticmethod
    def span_key(text: str, spans: Sequence[tuple[int, int]]) -> bytes:
        h = hashlib.sha256(text.encode("utf-8"))
        h.update(repr([(int(a), int(b)) for a, b in spans]).encode())
        return h.digest()

    def __len__(self) -> int:
        return len(self._vectors)

    def seed(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        for text, vector in zip(texts, vectors):
            self._vectors[self.key(text)] = vector

    def seed_from_index(self, index: Index, settings: Settings) -> None:
        """Remember every vector of a previous index built with the same model.

        Sentence vectors are reused only when they were made the way this embedder makes
        them (recorded as ``meta["model"]["sentence_vectors"]``). Passage vectors are exact
        only in a flat index (an IVF one keeps 8-bit codes), and their texts are those of
        the settings the index was built with.
        """
        if index.meta.get("dimension") != self.dim:
            return
        mode = index.meta.get("model", {}).get("sentence_vectors")
        method = sentence_vector_method(self)
        flat = index.meta.get("vector_index", {}).get("type", "flat") == "flat"
        same_texts = index.meta.get("settings") == settings.index_params()
        if flat and same_texts and index.vectors.ntotal:
            vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
            texts = [passage_text(c, settings) for c in index.chunks]
            self.seed(texts, vectors)
            if mode == "pooled" == method:
                for row, (c, t) in enumerate(zip(index.chunks, texts)):
                    self._with_spans[self.span_key(t, passage_spans(c, t))] = (vectors[row], index.sentence_vectors_of(row))
        if mode == "alone" == method:
            for row, c in enumerate(index.chunks):
                text = index.texts.get(c.source_id, "")
                self.seed([text[s:e] for s, e in c.sentences], index.sentence_vectors_of(row))
        if self.latent is not None and index.latent and index.latent.info == self.latent.info and same_texts:
            for row, c in enumerate(index.chunks):
                self.latent.seed(passage_text(c, settings), index.latent.row(row))

    def _encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        keys = [self.span_key(t, sp) for t, sp in zip(texts, spans)]
        todo: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in self._with_spans and k not in todo:
                todo[k] = i
        if todo:
            idx = list(todo.values())
            pv, sv = self.inner.encode_with_spans([texts[i] for i in idx], [spans[i] for i in idx])
            for k, p, s in zip(todo, np.asarray(pv, dtype=np.float32), sv):
                self._with_spans[k] = (p, np.asarray(s, dtype=np.float32))
            self.computed += len(todo)
        self.reused += len(texts) - len(todo)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32), []
        return np.vstack([self._with_spans[k][0] for k in keys]), [self._with_spans[k][1] for k in keys]

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if query:
            return self.inner.encode(texts, query=True)
        keys = [self.key(t) for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self._vectors and k not in todo:
                todo[k] = t
        if todo:
            vectors = self.inner.encode(list(todo.values()))
            for k, v in zip(todo, np.asarray(vectors, dtype=np.float32)):
                self._vectors[k] = v
            self.computed += len(todo)
        self.reused += len(texts) - len(todo)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)


class CachingLatent:
    """A latent-terms encoder that encodes each distinct text once, and remembers earlier vectors."""

    def __init__(self, inner: LatentEncoder) -> None:
        self.inner = inner
        self.info = inner.info
        self.questions = inner.questions
        self._known: dict[bytes, Sparse] = {}

    def seed(self, text: str, vector: Sparse) -> None:
        self._known[CachingEmbedder.key(text)] = vector

    def encode(self, texts: Sequence[str]) -> list[Sparse]:
        keys = [CachingEmbedder.key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts) if k not in self._known}
        for k, v in zip(todo, self.inner.encode(list(todo.values()))):
            self._known[k] = v
        return [self._known[k] for k in keys]


@dataclass
class _Plan:
    docs: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    people: list[RegisterEntry] = field(default_factory=list)
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    failed_fingerprints: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)
    links: list[LinkedRef] = field(default_factory=list)
    linked: dict[str, LinkedSource] = field(default_factory=dict)


def previous_index(index_dir: Path, settings: Settings | None = None) -> Index | None:
    """The index now on disk (or in Milvus, read whole), or None when there is none that can be read."""
    try:
        if settings is not None and settings.backend == "milvus":
            from index.milvus_write import local_copy

            return local_copy(settings)
        return Index.load(index_dir)
    except IndexLoadError:
        return None


def _display(source: Source) -> str:
    if source.file and not source.file.startswith(".cache/"):
        return source.file
    return source.url or source.id


def process_source(
    corpus_dir: Path,
    source: Source,
    settings: Settings,
    cache: FetchCache,
    prev: Index | None,
    prev_chunks: dict[str, list[Chunk]],
    plan: _Plan,
    prev_report: IngestReport,
) -> None:
    """Add one source's passages to the plan: reused when unchanged, else read again."""
    try:
        resolved = resolve_source(corpus_dir, source, cache)
    except NotFetchedError as exc:
        plan.waiting[source.id] = str(exc)
        return
    except CorpusError as exc:
        plan.failed[source.id] = str(exc)
        return
    fp = fingerprint(resolved, settings.index_params())
    old = prev_report.sources.get(resolved.id) if prev else None
    if old and old.fingerprint == fp and resolved.id in prev.texts and prev_chunks.get(resolved.id):
        doc = Document(prev.sources[resolved.id], prev.texts[resolved.id], ())
        chunks = prev_chunks[resolved.id]
        people = [e for e in prev.people if e.source_id == resolved.id]
        info = old
        refs = list(old.links)
    else:
        try:
            doc = attributed_document(corpus_dir, resolved)
            chunks = chunk(doc, settings.chunking)
            if doc.pages:
                chunks = [replace(c, page=page_at(doc.pages, c.start)) for c in chunks]
            if not chunks:
                raise NoTextError(
                    f"{_display(resolved)} has text but no passage to index (only links); "
                    "check that it is the document you meant"
                )
        except CorpusError as exc:
            plan.failed[resolved.id] = str(exc)
            plan.failed_fingerprints[resolved.id] = fp
            return
        people = register(doc, chunks)
        refs = web_links(doc.source.id, doc.links)
        info = SourceRecord(
            fingerprint=fp,
            paragraphs=tuple((p.number, p.start, p.end, p.page) for p in doc.paragraphs),
            pages=tuple((int(o), int(n)) for o, n in doc.pages),
            links=tuple(refs),
        )
    plan.sources[doc.source.id] = replace(info, chunks=len(chunks))
    plan.docs.append(doc)
    plan.chunks.extend(chunks)
    plan.people.extend(people)
    if not doc.source.linked_from:
        plan.links.extend(refs)


def update_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    quiet: bool = False,
) -> Index:
    """Build the index of ``corpus_dir`` into ``index_dir``, reusing the previous one unless ``full``.

    A source that cannot be read is reported in ``meta["ingest"]["failed"]`` (with the
    reason) and the others are indexed; a web source not fetched yet is reported in
    ``meta["ingest"]["waiting"]``. Raises ``CorpusError`` when no source can be indexed.
    """
    corpus_dir = Path(corpus_dir)
    manifest = read_manifest(corpus_dir)
    digest = corpus_hash(corpus_dir)
    cache = FetchCache(corpus_dir)
    info = model_info(settings.model_dir, embedder)
    prev = None if full else previous_index(index_dir, settings)
    prev_chunks: dict[str, list[Chunk]] = {}
    if prev is not None:
        for c in prev.chunks:
            prev_chunks.setdefault(c.source_id, []).append(c)

    prev_report = IngestReport.of(prev.meta) if prev is not None else IngestReport()
    plan = _Plan()
    for source in manifest:
        process_source(corpus_dir, source, settings, cache, prev, prev_chunks, plan, prev_report)
    linked_titles: dict[str, str] = {}
    for source in linked_sources(plan.links, manifest, manifest_links(corpus_dir)):
        plan.linked[source.id] = LinkedSource(source.url or "", source.linked_from or "")
        if source.title:
            linked_titles[source.id] = source.title
        process_source(corpus_dir, source, settings, cache, prev, prev_chunks, plan, prev_report)

    if not plan.chunks:
        problems = {**plan.failed, **{k: v for k, v in plan.waiting.items() if k not in plan.linked}}
        detail = "; ".join(f"{k}: {v}" for k, v in problems.items()) or "the manifest lists nothing readable"
        raise CorpusError(f"no source of {corpus_dir} could be indexed ({detail})")

    caching = CachingEmbedder(embedder)
    if prev is not None and prev.meta.get("model", {}).get("id") == info.get("id"):
        caching.seed_from_index(prev, settings)
    bar, progress = progress_bar(quiet)
    try:
        if bar:
            bar.start()
        index = Index.build(plan.docs, plan.chunks, caching, settings, digest, info, progress, people=plan.people)
    finally:
        if bar:
            bar.stop()
    reused = sorted(
        sid for sid, s in plan.sources.items()
        if prev is not None and sid in prev_report.sources and prev_report.sources[sid].fingerprint == s.fingerprint
    )
    index.meta["ingest"] = IngestReport(
        version=ingest_version(),
        sources=plan.sources,
        failed=plan.failed,
        failed_fingerprints=plan.failed_fingerprints,
        waiting=plan.waiting,
        linked=plan.linked,
        # A linked source not indexed keeps the manifest's title, by which a question may name it.
        titles={**linked_titles, **{d.source.id: d.source.title for d in plan.docs}},
        links=tuple(plan.links),
        embedded=caching.computed,
        reused_vectors=caching.reused,
        reused_sources=tuple(reused),
    ).to_dict()
    if settings.backend == "milvus":
        from index.milvus_write import save_to_milvus

        return save_to_milvus(index, settings, fresh=full)  # type: ignore[return-value]  (a SearchIndex)
    index.save(index_dir)
    return index


def read_meta(index_dir: Path) -> dict:
    """The index's meta.json, or {} when there is no index (no model, no FAISS needed)."""
    import json

    try:
        data = json.loads((Path(index_dir) / "meta.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def source_states(corpus_dir: Path, index_dir: Path, settings: Settings) -> list[dict]:
    """Every source, the manifest's then the linked ones, with its state against the index.

    States: ``indexed``; ``stale`` (new or changed since the index was built);
    ``waiting`` (a web source not fetched yet); ``fetch-failed`` and ``failed``, with
    the reason. Reads meta.json only: no model is loaded.
    """
    from ingest.corpus import cache_state

    corpus_dir = Path(corpus_dir)
    manifest = read_manifest(corpus_dir, allow_empty=True)
    cache = FetchCache(corpus_dir)
    if settings.backend == "milvus":
        from index.milvus import stored_meta

        ingest = IngestReport.of(stored_meta(settings))
    else:
        ingest = IngestReport.of(read_meta(index_dir))
    indexed = ingest.sources
    params = settings.index_params()
    rows: list[dict] = []

    def state_of(source: Source) -> dict:
        row = {
            "id": source.id,
            "kind": source.kind if source.file else (source.kind if source.kind != "text" else "web"),
            "title": source.title or _display(source),
            "file": source.file,
            "url": source.url,
            "linked_from": source.linked_from,
            "chunks": 0,
            "state": "stale",
            "reason": None,
        }
        if source.url and not source.file:
            fetch_state, why = cache_state(cache, source.url)
            if fetch_state == "failed":
                return dict(row, state="fetch-failed", reason=why)
            if fetch_state == "waiting":
                return dict(row, state="waiting", reason="not fetched yet; run: verbatim fetch")
        try:
            resolved = resolve_source(corpus_dir, source, cache)
        except CorpusError as exc:
            return dict(row, state="failed", reason=str(exc))
        row["kind"] = resolved.kind
        fp = fingerprint(resolved, params)
        info = indexed.get(source.id)
        if info and info.fingerprint == fp:
            row.update(state="indexed", chunks=info.chunks)
        elif ingest.failed_fingerprints.get(source.id) == fp:
            row.update(state="failed", reason=ingest.failed.get(source.id))
        elif info:
            row.update(reason="changed since the index was built; it is updated by the next build, add, fetch or ask")
        else:
            row.update(reason="not in the index yet; it is indexed by the next build, add, fetch or ask")
        return row

    titles = ingest.titles
    for source in manifest:
        row = state_of(source)
        row["title"] = source.title or titles.get(source.id) or row["title"]
        rows.append(row)
    refs = list(ingest.links)
    by_url = {r.url: r for r in refs}
    for source in linked_sources(refs, manifest, manifest_links(corpus_dir)):
        row = state_of(source)
        row["title"] = titles.get(source.id) or source.title or source.url
        ref = by_url.get(source.url)
        if ref:
            row["cited_in"] = ref.paragraph
            row["citing_text"] = ref.citing_text
        rows.append(row)
    return rows
