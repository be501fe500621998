"""What the searches read of a passage: the text embedded, the text BM25 and the word match see."""
from __future__ import annotations

from ingest.model import Chunk
from index.settings import Settings


def _people(chunk: Chunk, author: bool = True) -> str:
    """Who says the passage (its document's author only if ``author``) and whom it reports."""
    speaker = chunk.speaker if author or chunk.role != "author" else None
    return ", ".join(n for n in (speaker, *(p.name for p in chunk.reported)) if n)


# What a passage that is not content is, in the words a reader uses to ask for it ("Comment
# se termine l'interview ?", "Quel est l'en-tête du commentaire ?"): its text alone ("Merci
# Olivier", "Une réponse") says nothing of its place in the document.
PART_LABELS = {
    "introduction": "Introduction, chapeau de l'article",
    "question": "Question posée par l'intervieweur",
    "closing": "Fin de l'interview, conclusion",
    "caption": "Légende et crédit de la photo",
    "comment-header": "En-tête des commentaires",
    "comment": "Commentaire d'un lecteur",
    "title": "Titre du document",
    "heading": "Intertitre du document, rubrique",
}


def passage_text(chunk: Chunk, settings: Settings) -> str:
    """The text embedded for a passage: an answer is read with the question it answers, a
    passage of text with its heading or its document's title, and a passage with the
    people who say it or are reported in it. A question passage
    is not read with its section: it is the section.

    A document's author is left out: the same name on every passage of a document tells
    none of them apart, and costs tokens on each. BM25 and the filters still see it.
    """
    parts = []
    if settings.part_labels and chunk.part in PART_LABELS:
        parts.append(PART_LABELS[chunk.part] + " :")
    # An answer is read with its question; a passage of text with the heading it stands
    # under, or the title that opens its document ("À Port-Sillac, l'algorithme…" before
    # "En 2023, la caisse a effectué 4 800 contrôles"): what the document is about.
    if settings.section_context and chunk.section and chunk.part in ("answer", "text"):
        parts.append(chunk.section)
    names = _people(chunk, author=False) if settings.people_context else ""
    if names:
        parts.append(names + " :")
    parts.append(chunk.text)
    return "\n".join(parts)


def passage_spans(chunk: Chunk, text: str) -> list[tuple[int, int]]:
    """Where the passage's sentences stand inside ``text``, its embedded text (which ends
    with the passage itself, after any context lines)."""
    shift = len(text) - len(chunk.text) - chunk.start
    return [(s + shift, e + shift) for s, e in chunk.sentences]


def lexical_text(chunk: Chunk, settings: Settings) -> str:
    """The text BM25 sees: the passage, the names of who says it and whom it reports, and
    what a framing passage is (``part_labels``)."""
    label = PART_LABELS[chunk.part] + "\n" if settings.part_labels and chunk.part in PART_LABELS else ""
    if settings.people_context:
        return f"{label}{_people(chunk)}\n{chunk.text}"
    return label + chunk.text
