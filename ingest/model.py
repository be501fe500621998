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
class Person:
    """Someone named in a source: a name and, when the text gives one, an affiliation."""

    name: str
    affiliation: str | None = None

    def label(self) -> str:
        """``"Katia Roux, Amnesty France"``, or the name alone."""
        return f"{self.name}, {self.affiliation}" if self.affiliation else self.name

    def __str__(self) -> str:
        return self.label()

    def to_dict(self) -> dict:
        return {"name": self.name, "affiliation": self.affiliation}

    @classmethod
    def from_dict(cls, d: dict) -> Person:
        return cls(name=d["name"], affiliation=d.get("affiliation"))


@dataclass(frozen=True)
class Mention:
    """One place where a paragraph names a person (absolute offsets in the source text)."""

    person: Person
    start: int  # the name
    end: int
    sentence: tuple[int, int]  # the sentence that names them
    # Their affiliation or role as the text writes it ("chargée de plaidoyer chez Amnesty
    # France"), when it stands next to the name; None otherwise.
    description: tuple[int, int] | None = None
    reported: bool = False  # the sentence relays their words or views


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a source with its role in the document."""

    number: int  # 1-based, as a person counts lines or paragraphs
    start: int
    end: int
    text: str
    role: str  # introduction, question, answer, closing, caption, comment-header, comment, text, title, heading
    speaker: str | None
    speaker_role: str | None  # interviewee, interviewer, commenter, author…
    section: str | None = None  # the question this paragraph answers
    section_paragraph: int | None = None
    page: int | None = None
    reported: tuple[Person, ...] = ()  # reported by at least one of its sentences
    mentioned: tuple[Person, ...] = ()  # named, reported by none of its sentences
    mentions: tuple[Mention, ...] = ()  # every naming, in order
    # For each sentence ``(start, end)``, the people it reports (its own or by a pronoun).
    sentence_reports: tuple[tuple[tuple[int, int], tuple[Person, ...]], ...] = ()


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
    role: str | None  # the speaker's role: interviewee, interviewer, commenter, author…
    reported: tuple[Person, ...] = ()  # people reported by at least one of its sentences
    sentences: tuple[tuple[int, int], ...] = field(default=())  # absolute offsets of each sentence
    links: tuple[str, ...] = ()
    # The paragraph's part of the document: introduction, question, answer, closing,
    # caption, comment-header, comment, text, title (a heading that opens the document) or heading.
    part: str = "text"
    # Parallel to ``sentences``: indices into ``reported`` of the people each sentence reports.
    reported_in: tuple[tuple[int, ...], ...] = ()
    mentioned: tuple[Person, ...] = ()  # named in the passage but reported by none of its sentences

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
            "part": self.part,
            "reported": [p.label() for p in self.reported],
            "reported_people": [p.to_dict() for p in self.reported],
            "reported_in": [list(i) for i in self.reported_in],
            "mentioned": [p.to_dict() for p in self.mentioned],
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
            reported=tuple(Person.from_dict(p) for p in d.get("reported_people", ())),
            sentences=tuple(tuple(s) for s in d.get("sentences", ())),
            links=tuple(d.get("links", ())),
            part=d.get("part", "text"),
            reported_in=tuple(tuple(i) for i in d.get("reported_in", ())),
            mentioned=tuple(Person.from_dict(p) for p in d.get("mentioned", ())),
        )


@dataclass(frozen=True)
class RegisterEntry:
    """A person of the register: who they are as the source writes it, and where they speak.

    One entry per person and source. Offsets are absolute in the source's text, so that
    ``text[start:end]`` gives the name, the description and the introducing sentence.
    """

    name: str
    affiliation: str | None
    source_id: str
    paragraph: int  # where they are introduced
    page: int | None
    name_span: tuple[int, int]  # the name in the introducing sentence
    introduction: tuple[int, int]  # the first sentence naming them with a role, else the first naming them
    description: str | None = None  # affiliation or role as written, e.g. "chargée de plaidoyer chez Amnesty France"
    description_span: tuple[int, int] | None = None
    reported_in: tuple[str, ...] = ()  # ids of the passages that report them
    mentioned_in: tuple[str, ...] = ()  # ids of the passages that name them without reporting them
    introduced_in: str | None = None  # id of the passage holding the introducing sentence

    @property
    def person(self) -> Person:
        return Person(self.name, self.affiliation)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "affiliation": self.affiliation,
            "source_id": self.source_id,
            "paragraph": self.paragraph,
            "page": self.page,
            "name_span": list(self.name_span),
            "introduction": list(self.introduction),
            "description": self.description,
            "description_span": list(self.description_span) if self.description_span else None,
            "reported_in": list(self.reported_in),
            "mentioned_in": list(self.mentioned_in),
            "introduced_in": self.introduced_in,
        }

    @classmethod
    def from_dict(cls, d: dict) -> RegisterEntry:
        span = d.get("description_span")
        return cls(
            name=d["name"],
            affiliation=d.get("affiliation"),
            source_id=d["source_id"],
            paragraph=d["paragraph"],
            page=d.get("page"),
            name_span=(d["name_span"][0], d["name_span"][1]),
            introduction=(d["introduction"][0], d["introduction"][1]),
            description=d.get("description"),
            description_span=(span[0], span[1]) if span else None,
            reported_in=tuple(d.get("reported_in", ())),
            mentioned_in=tuple(d.get("mentioned_in", ())),
            introduced_in=d.get("introduced_in"),
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
