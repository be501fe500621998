"""What a build records about its sources, typed: ``meta["ingest"]`` of an index.

``IngestReport.from_dict(meta.get("ingest"))`` reads it (an index written before a field
existed, or no index at all, gives the empty value of each field); ``to_dict()`` writes
the same JSON layout back, so the meta of an index on disk or in Milvus is unchanged.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.corpus import LinkedRef
from ingest.errors import VerbatimError



@dataclass(frozen=True)
class SourceRecord:
    """One indexed source: its fingerprint (bytes, record, ingest code, index settings),
    its passages, its paragraphs and pages (offsets in its text) and the web links it cites."""

    fingerprint: str
    chunks: int = 0
    paragraphs: tuple[tuple[int, int, int, int | None], ...] = ()
    pages: tuple[tuple[int, int], ...] = ()  # (offset where the page starts, page number)
    links: tuple[LinkedRef, ...] = ()

    def to_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "paragraphs": [list(p) for p in self.paragraphs],
            "pages": [list(p) for p in self.pages],
            "links": [r.to_dict() for r in self.links],
            "chunks": self.chunks,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> SourceRecord:
        return cls(
            fingerprint=str(d.get("fingerprint", "")),
            chunks=int(d.get("chunks", 0)),
            paragraphs=tuple((int(p[0]), int(p[1]), int(p[2]), p[3] if len(p) > 3 else None) for p in d.get("paragraphs") or ()),
            pages=tuple((int(o), int(n)) for o, n in d.get("pages") or ()),
            links=tuple(LinkedRef(**r) for r in d.get("links") or ()),
        )


@dataclass(frozen=True)
class LinkedSource:
    """A linked source indexed: where it was fetched from, and the source that cites it."""

    url: str
    linked_from: str


@dataclass(frozen=True)
class IngestReport:
    """What the last build did with each source (``meta["ingest"]``)."""

    version: str = ""  # ingest_version() of the code that built the index
    sources: Mapping[str, SourceRecord] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)  # id -> why it could not be read
    failed_fingerprints: Mapping[str, str] = field(default_factory=dict)  # a failed source stays failed until it changes
    waiting: Mapping[str, str] = field(default_factory=dict)  # web sources not fetched yet -> why
    linked: Mapping[str, LinkedSource] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)  # id -> title as indexed (a linked source not indexed: the manifest's)
    links: tuple[LinkedRef, ...] = ()  # every web link the manifest's sources cite
    embedded: int = 0  # texts embedded by this build
    reused_vectors: int = 0  # texts whose vectors came from the previous index
    reused_sources: tuple[str, ...] = ()  # sources kept as they were

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "sources": {sid: s.to_dict() for sid, s in self.sources.items()},
            "failed": dict(self.failed),
            "failed_fingerprints": dict(self.failed_fingerprints),
            "waiting": dict(self.waiting),
            "linked": {sid: {"url": s.url, "linked_from": s.linked_from} for sid, s in self.linked.items()},
            "titles": {sid: {"title": t} for sid, t in self.titles.items()},
            "links": [r.to_dict() for r in self.links],
            "embedded": self.embedded,
            "reused_vectors": self.reused_vectors,
            "reused_sources": list(self.reused_sources),
        }

    @classmethod
    def from_dict(cls, d: Mapping | None) -> IngestReport:
        d = d or {}
        return cls(
            version=str(d.get("version", "")),
            sources={sid: SourceRecord.from_dict(s) for sid, s in (d.get("sources") or {}).items()},
            failed=dict(d.get("failed") or {}),
            failed_fingerprints=dict(d.get("failed_fingerprints") or {}),
            waiting=dict(d.get("waiting") or {}),
            linked={sid: LinkedSource(s["url"], s["linked_from"]) for sid, s in (d.get("linked") or {}).items()},
            titles={sid: t.get("title") for sid, t in (d.get("titles") or {}).items()},
            links=tuple(LinkedRef(**r) for r in d.get("links") or ()),
            embedded=int(d.get("embedded", 0)),
            reused_vectors=int(d.get("reused_vectors", 0)),
            reused_sources=tuple(d.get("reused_sources") or ()),
        )

    @classmethod
    def of(cls, meta: Mapping) -> IngestReport:
        """The report in an index's meta (empty when the index has none)."""
        return cls.from_dict(meta.get("ingest"))


class NotInSourceError(VerbatimError, LookupError):
    """A paragraph or page a source does not have; the message says which it has."""


@dataclass(frozen=True)
class SourceSpan:
    """A part of a source's text (``text[start:end]``): a paragraph, with its page when known, or a page."""

    source_id: str
    start: int
    end: int
    paragraph: int | None = None
    page: int | None = None


def paragraph_span(source_id: str, text: str, record: SourceRecord | None, number: int) -> SourceSpan:
    """Where paragraph ``number`` of a source is in its text (``verbatim show --paragraph``).

    Without a record (an index from before records), the text's non-empty lines are its paragraphs.
    """
    from ingest.parse import iter_lines

    paragraphs = (record.paragraphs if record else ()) or tuple((n, s, e, None) for n, s, e in iter_lines(text))
    for n, s, e, page in paragraphs:
        if n == number:
            return SourceSpan(source_id, s, e, n, page)
    first, last = (paragraphs[0][0], paragraphs[-1][0]) if paragraphs else (0, 0)
    raise NotInSourceError(f"{source_id} has no paragraph {number} (paragraphs {first} to {last})")


def page_span(source_id: str, text: str, record: SourceRecord | None, kind: str, number: int) -> SourceSpan:
    """Where page ``number`` of a paged source (PDF, Word with page breaks) is in its text."""
    pages = list(record.pages) if record else []
    if not pages:
        raise NotInSourceError(f"{source_id} has no pages (it is a {kind} source); use --paragraph N")
    last = max(p for _, p in pages)
    if number not in {p for _, p in pages}:
        raise NotInSourceError(f"{source_id} has no text on page {number} (pages with text: 1 to {last})")
    start = min(o for o, p in pages if p == number)
    end = min((o for o, p in pages if p > number), default=len(text))
    return SourceSpan(source_id, start, end, None, number)
