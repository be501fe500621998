"""Cut paragraphs into passages of a few whole sentences, with exact offsets.

Place in the flow: sources.toml → load → parse → attribute → **chunk** → embed → Index.

Every part of a document a reader may ask about is a passage, with its ``part``:
the introduction, the interviewer's questions, the answers, the closing line, a photo
credit, the comment header, the comments, and a document's title and headings ("Quel est
le titre du compte rendu ?", "Quelles rubriques compte la note ?"; a heading is also the
section of the paragraphs under it). Only lines that are nothing but a URL are left out.
"""
from __future__ import annotations

from dataclasses import dataclass

from ingest.model import Chunk, Document, Paragraph, Person
from ingest.parse import is_only_url
from ingest.sentences import split_sentences

@dataclass(frozen=True)
class ChunkSettings:
    """How passages are cut; recorded in the index so a change triggers a rebuild."""

    max_sentences: int = 3
    max_chars: int = 600

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 20:
            raise ValueError(f"max_sentences must be between 1 and 20 (got {self.max_sentences})")
        if not 50 <= self.max_chars <= 10_000:
            raise ValueError(f"max_chars must be between 50 and 10000 (got {self.max_chars})")


def _group(spans: list[tuple[int, int]], settings: ChunkSettings) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in spans:
        if current and (
            len(current) >= settings.max_sentences or span[1] - current[0][0] > settings.max_chars
        ):
            groups.append(current)
            current = []
        current.append(span)
    if current:
        groups.append(current)
    # A lone short tail reads better with the sentences before it.
    if len(groups) > 1 and len(groups[-1]) == 1 and groups[-1][0][1] - groups[-1][0][0] < 80:
        tail = groups.pop()
        groups[-1] = groups[-1] + tail
    return groups


def _reported(
    group: list[tuple[int, int]], by_sentence: dict[tuple[int, int], tuple[Person, ...]]
) -> tuple[tuple[Person, ...], tuple[tuple[int, ...], ...]]:
    """The people the sentences of ``group`` report, and for each sentence their indices."""
    people = tuple(dict.fromkeys(x for span in group for x in by_sentence.get(span, ())))
    return people, tuple(tuple(people.index(x) for x in by_sentence.get(span, ())) for span in group)


def chunk_paragraph(doc: Document, p: Paragraph, settings: ChunkSettings) -> list[Chunk]:
    """Passages of one paragraph; they never cross a paragraph, hence never a section."""
    if is_only_url(p):
        return []
    text = doc.text
    spans = split_sentences(text, p.start, p.end)
    links = tuple(link.url for link in doc.links if link.paragraph in (p.number, p.number + 1) and (
        link.paragraph == p.number or link.citing_text == p.text))
    by_sentence = dict(p.sentence_reports)
    chunks = []
    for group in _group(spans, settings):
        start, end = group[0][0], group[-1][1]
        body = text[start:end]
        reported, reported_in = _reported(group, by_sentence)
        named = [m.person for m in p.mentions if start <= m.start < end]
        mentioned = tuple(dict.fromkeys(x for x in named if x not in reported))
        chunks.append(
            Chunk(
                id=Chunk.make_id(doc.source.id, start, end, body),
                source_id=doc.source.id,
                text=body,
                start=start,
                end=end,
                paragraph=p.number,
                page=p.page,
                section=p.section,
                speaker=p.speaker,
                role=p.speaker_role,
                reported=reported,
                sentences=tuple(group),
                links=links,
                part=p.role,
                reported_in=reported_in,
                mentioned=mentioned,
            )
        )
    return chunks


def chunk(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """All passages of a document, in reading order."""
    return [c for p in doc.paragraphs for c in chunk_paragraph(doc, p, settings)]
