"""Frozen records shared by ingest, index and chat.

Offsets (`start`, `end`) always point into the text of the source as Verbatim
extracted it, so that ``source_text[start:end] == text`` holds everywhere.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    """A URL found in a source, with the sentence that cites it."""

    url: str
    citing_text: str
    paragraph: int


@dataclass(frozen=True)
class Source:
    """One document of the corpus, as described by the manifest."""

    id: str
    title: str
    author: str | None = None
    url: str | None = None
    kind: str = "text"
    date: str | None = None
    publisher: str | None = None
    language: str = "fr"
    interviewee: str | None = None
    interviewer: str | None = None
    file: str | None = None
    linked_from: str | None = None  # id of the source whose text links this one
    fetched_at: str | None = None  # when a web source was downloaded (ISO 8601, UTC)
    sha256: str | None = None  # digest of the bytes indexed


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a source with its role in the document."""

    number: int  # 1-based, as a person counts lines or paragraphs
    start: int
    end: int
    text: str
    role: str  # introduction, question, answer, closing, caption, comment-header, comment, text
    speaker: str | None
    speaker_role: str | None  # interviewee, interviewer, commenter, author…
    section: str | None = None  # the question this paragraph answers
    section_paragraph: int | None = None
    page: int | None = None
    reported: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage: a few whole sentences of one paragraph, with its attribution."""

    id: str
    source_id: str
    text: str
    start: int
    end: int
    paragraph: int
    page: int | None
    section: str | None
    speaker: str | None
    role: str | None
    reported: tuple[str, ...] = ()
    sentences: tuple[tuple[int, int], ...] = field(default=())  # absolute offsets of each sentence
    links: tuple[str, ...] = ()

    @staticmethod
    def make_id(source_id: str, start: int, end: int, text: str) -> str:
        """A stable id: the same passage of the same source always gets the same id."""
        digest = hashlib.sha1(f"{source_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
        return digest[:16]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "source_id": self.source_id,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "paragraph": self.paragraph,
            "page": self.page,
            "section": self.section,
            "speaker": self.speaker,
            "role": self.role,
            "reported": list(self.reported),
            "sentences": [list(s) for s in self.sentences],
            "links": list(self.links),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Chunk:
        return cls(
            id=d["id"],
            source_id=d["source_id"],
            text=d["text"],
            start=d["start"],
            end=d["end"],
            paragraph=d["paragraph"],
            page=d.get("page"),
            section=d.get("section"),
            speaker=d.get("speaker"),
            role=d.get("role"),
            reported=tuple(d.get("reported", ())),
            sentences=tuple(tuple(s) for s in d.get("sentences", ())),
            links=tuple(d.get("links", ())),
        )


@dataclass(frozen=True)
class Document:
    """A source with its extracted text and parsed paragraphs."""

    source: Source
    text: str
    paragraphs: tuple[Paragraph, ...]
    links: tuple[Link, ...] = ()
    # Where pages start in ``text``: ``(offset, page)`` in order (empty when not paged).
    pages: tuple[tuple[int, int], ...] = ()
