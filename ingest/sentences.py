"""French-aware sentence boundaries, returned as offsets (never rewritten text)."""
from __future__ import annotations

import re

# Words that end with a period without ending the sentence.
_ABBREVIATIONS = frozenset(
    """m mm mme mmes mlle mlles dr pr me mgr st ste etc cf ex p pp vol n no nº art al
    av apr j.-c jc env chap fig éd ed coll dir trad t c.-à-d mr mrs ms prof gén col
    cie sté ass inc ltd jr sr vs""".split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space.
_BOUNDARY = re.compile(r"(?:[.!?…]+|\.\.\.)[»\"”’)\]]*(?=\s+)")
_OPENERS = "«\"“‘([-–—"


def _starts_sentence(text: str, i: int) -> bool:
    """True when the text at i (after the spaces) can begin a sentence."""
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    if i >= n:
        return False
    c = text[i]
    if c in _OPENERS:
        return True
    return c.isupper() or c.isdigit()


def _word_before(text: str, end: int) -> str:
    j = end
    while j > 0 and not text[j - 1].isspace() and text[j - 1] not in "(«\"“":
        j -= 1
    return text[j:end]


def _inside_quote(text: str, start: int, pos: int, end: int) -> bool:
    """True inside « … » that closes soon after: a quoted title or question is one sentence.

    Only a closing » nearby counts, so that an unclosed « (a typo) does not glue the
    rest of a paragraph into one sentence.
    """
    before = text[start:pos]
    opened = before.rfind("«")
    if opened < 0 or before.rfind("»") > opened:
        return False
    return "»" in text[pos : min(end, pos + 250)]


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentences; return absolute ``(start, end)`` offsets.

    Each span is stripped of surrounding white space and never cuts a word. A period
    after a known abbreviation, a single initial or inside a number does not end a
    sentence, nor does punctuation followed by a lower-case word (« Quoi ? » dit-il).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        if not _starts_sentence(text, stop) or stop >= end:
            continue
        if _inside_quote(text, start, m.start(), end):
            continue
        punct = m.group(0)
        if punct.startswith(".") and not punct.startswith(".."):
            word = _word_before(text, m.start()).rstrip(".").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        spans.append((cursor, stop))
        cursor = stop
    spans.append((cursor, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out
