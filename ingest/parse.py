"""Parse a source text into paragraphs with their role, section and speaker.

Place in the flow: sources.toml → load → **parse** → attribute → chunk → embed → Index.

An interview is recognised by its structure, not by line numbers: short lines that
end with "?" or carry no final punctuation and are followed by a long paragraph are
the interviewer's questions; what follows a question, up to the next one, is the
interviewee's answer; a credit line, a comment header ("Une réponse", "3 commentaires")
and the comments after it are told apart by their form.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.model import Link, Paragraph, Source

_URL = re.compile(r"https?://[^\s<>«»\"')\]]+[^\s<>«»\"')\].,;:!?]")
_QUESTION_MAX_CHARS = 220
_ANSWER_MIN_CHARS = 160
_FINAL_PUNCT = tuple(".!…:;»\"”)")
_CREDIT = re.compile(r"^(photo|photos|crédit|credit|crédits|illustration|image|source)s?\s*:", re.I)
_COMMENT_HEADER = re.compile(
    r"^(?:\d+|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)\s+"
    r"(?:réponses?|commentaires?|comments?|replies|reply|responses?)\s*$",
    re.I,
)
_ONLY_URL = re.compile(r"^\s*https?://\S+\s*$")


def iter_lines(text: str) -> Iterator[tuple[int, int, int]]:
    """Yield ``(number, start, end)`` for every non-empty line, stripped, 1-based."""
    pos = 0
    number = 0
    for raw in text.splitlines(keepends=True):
        s, e = pos, pos + len(raw.rstrip("\r\n"))
        pos += len(raw)
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        number += 1
        if e > s:
            yield number, s, e


def _looks_like_question(line: str, next_line: str | None) -> bool:
    if len(line) > _QUESTION_MAX_CHARS or next_line is None:
        return False
    if len(next_line) < _ANSWER_MIN_CHARS:
        return False
    if _CREDIT.match(line) or _COMMENT_HEADER.match(line):
        return False
    return line.rstrip().endswith("?") or not line.rstrip().endswith(_FINAL_PUNCT)


def parse_interview(text: str, source: Source) -> list[Paragraph]:
    """Paragraphs of an interview: introduction, questions, answers, closing, credit, comments."""
    lines = list(iter_lines(text))
    bodies = [text[s:e] for _, s, e in lines]
    interviewer = source.interviewer or source.publisher or source.author
    interviewee = source.interviewee
    out: list[Paragraph] = []
    section: str | None = None
    section_no: int | None = None
    seen_question = False
    in_comments = False
    for i, (number, s, e) in enumerate(lines):
        body = bodies[i]
        nxt = bodies[i + 1] if i + 1 < len(bodies) else None
        role: str
        speaker: str | None
        speaker_role: str | None
        if in_comments:
            role, speaker, speaker_role = "comment", "Un lecteur (commentaire)", "commenter"
        elif _COMMENT_HEADER.match(body):
            in_comments = True
            section, section_no = None, None
            # The blog's own line over its readers' comments ("Une réponse").
            role, speaker, speaker_role = "comment-header", interviewer, "publisher"
        elif _CREDIT.match(body):
            role, speaker, speaker_role = "caption", interviewer, "publisher"
        elif _looks_like_question(body, nxt):
            seen_question = True
            section, section_no = body, number
            role, speaker, speaker_role = "question", interviewer, "interviewer"
        elif not seen_question:
            role, speaker, speaker_role = "introduction", interviewer, "interviewer"
        elif len(body) < _ANSWER_MIN_CHARS and (nxt is None or len(nxt) < _ANSWER_MIN_CHARS) and not body.endswith("."):
            # A short line after the last answer that no answer follows: "Merci Olivier".
            section, section_no = None, None
            role, speaker, speaker_role = "closing", interviewer, "interviewer"
        else:
            role, speaker, speaker_role = "answer", interviewee, "interviewee"
        out.append(
            Paragraph(
                number=number,
                start=s,
                end=e,
                text=body,
                role=role,
                speaker=speaker,
                speaker_role=speaker_role,
                section=section if role == "answer" else (body if role == "question" else None),
                section_paragraph=section_no if role in ("answer", "question") else None,
            )
        )
    return out


def parse_text(text: str, source: Source) -> list[Paragraph]:
    """Paragraphs of a plain document: every non-empty line, said by the source's author."""
    return [
        Paragraph(
            number=number,
            start=s,
            end=e,
            text=text[s:e],
            role="text",
            speaker=source.author,
            speaker_role="author",
        )
        for number, s, e in iter_lines(text)
    ]


def parse(text: str, source: Source) -> list[Paragraph]:
    """Parse a source text according to its kind."""
    if source.kind == "interview":
        return parse_interview(text, source)
    return parse_text(text, source)


def is_only_url(paragraph: Paragraph) -> bool:
    """A paragraph that is nothing but a link: it is a citation target, not prose."""
    return bool(_ONLY_URL.match(paragraph.text))


def extract_links(paragraphs: list[Paragraph]) -> list[Link]:
    """Every URL in the paragraphs, with the sentence that cites it.

    A URL alone on its line is cited by the paragraph just before it ("Voici le lien
    vers l'avis…"), so that paragraph's text is kept as the citing text.
    """
    from ingest.sentences import split_sentences

    links: list[Link] = []
    for i, p in enumerate(paragraphs):
        for m in _URL.finditer(p.text):
            if is_only_url(p) and i > 0:
                citing = paragraphs[i - 1].text
            else:
                citing = p.text
                for a, b in split_sentences(p.text):
                    if a <= m.start() < b:
                        citing = p.text[a:b]
                        break
            links.append(Link(url=m.group(0), citing_text=citing, paragraph=p.number))
    return links
