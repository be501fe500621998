"""The text side of checking quotes: words with their offsets, typography folded, cuts
marked with an ellipsis, the quoted spans of a text, and the people named next to them.

Words are runs of letters and digits. Punctuation, apostrophes (’ or '), quotation
marks, dashes and every kind of space (non-breaking, narrow) lie between words, so two
texts that differ only by typography have the same words. A word's *key* is its NFKC,
case-folded form; the words keep their offsets in the original text, so that a match
always maps back to an exact slice of it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters and digits, with combining accents (a decomposed "é" stays one word).
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
# A cut inside a quote: « […] », (…), [...], or a bare … / ... between words.
_CUT = re.compile(r"\s*(?:[\[(]\s*(?:…|\.{3})\s*[\])]|…|\.{3,})\s*")
# Quoted spans: « … », “ … ”, „ … “, " … " (straight quotes, paired on one line).
_QUOTED = (
    re.compile(r"«[\s\u00a0\u202f]*([^«»\n]+?)[\s\u00a0\u202f]*»"),
    re.compile(r"“\s*([^“”\n]+?)\s*[”“]"),
    re.compile(r"„\s*([^„“\n]+?)\s*“"),
    re.compile(r"\"\s*([^\"\n]+?)\s*\""),
)
MIN_QUOTE_WORDS = 3  # a shorter span in quotation marks is a term or a title, not a quote


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of every word of ``text[start:end]``, in absolute offsets."""
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def key(word: str) -> str:
    """The form two words are compared in: compatibility-normalised and case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFC", word)).casefold()


def cut_segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of a quote ``text[start:end]`` between its cuts (« […] », « ... »),
    as absolute offsets; parts without a word are dropped."""
    parts, pos = [], start
    for m in _CUT.finditer(text, start, end):
        parts.append((pos, m.start()))
        pos = m.end()
    parts.append((pos, end))
    return [(s, e) for s, e in parts if _WORD.search(text, s, e)]


def quoted_spans(text: str, min_words: int = MIN_QUOTE_WORDS) -> list[tuple[int, int]]:
    """The inside of every span in quotation marks, outermost first, in text order.

    A span nested in another (« he said “this” ») is left to its outer quote; spans of
    fewer than ``min_words`` words are terms or titles and are skipped.
    """
    found: list[tuple[int, int]] = []
    for pattern in _QUOTED:
        for m in pattern.finditer(text):
            s, e = m.span(1)
            if len(word_spans(text, s, e)) >= min_words:
                found.append((s, e))
    found.sort(key=lambda x: (x[0], -x[1]))
    out: list[tuple[int, int]] = []
    for s, e in found:
        if out and s < out[-1][1]:
            continue  # inside (or overlapping) a quote already taken
        out.append((s, e))
    return out


def sentence_spans(text: str, min_words: int = MIN_QUOTE_WORDS) -> list[tuple[int, int]]:
    """Every sentence of every line of ``text`` with at least ``min_words`` words."""
    from ingest.sentences import split_sentences

    out, pos = [], 0
    for line in text.split("\n"):
        for s, e in split_sentences(text, pos, pos + len(line)):
            if len(word_spans(text, s, e)) >= min_words:
                out.append((s, e))
        pos += len(line) + 1
    return out


# -- who the text says is speaking ----------------------------------------------------

_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ][\w’'-]+(?:\s+(?:(?:de|du|des|d’|d'|van|von|di|da|le|la)\s*)?[A-ZÀ-ÖØ-Þ][\w’'-]+)+")
_SAYS = (
    r"(?:selon|d['’]après|pour|affirme|affirmait|a\s+affirmé|déclare|a\s+déclaré|dit|a\s+dit|explique|a\s+expliqué|"
    r"souligne|a\s+souligné|rappelle|a\s+rappelé|estime|a\s+estimé|ajoute|a\s+ajouté|précise|a\s+précisé|"
    r"assure|a\s+assuré|note|a\s+noté|observe|a\s+observé|raconte|a\s+raconté|confie|a\s+confié|"
    r"according\s+to|said|says|told|explained|added|noted)"
)
_AFTER = re.compile(r"[\s,»”\"]*(?:" + _SAYS + r")\s+(?:(?:M\.|Mme|Mr\.?|Mrs\.?|Dr\.?)\s+)?(" + _NAME.pattern + r")")
_LEAD = frozenset("selon pour d'après d’après comme mais et le la les un une ce cette il elle ils elles nous on".split())


@dataclass(frozen=True)
class NamedPerson:
    """A person the checked text names next to a quote, where it names them."""

    name: str
    start: int
    end: int


def _strip_lead(text: str, s: int, e: int) -> tuple[int, int] | None:
    """Drop capitalised sentence openers (« Selon Katia Roux » → « Katia Roux »)."""
    while True:
        m = re.match(r"([\w’']+)\s+", text[s:e])
        if not m or m.group(1).lower() not in _LEAD:
            break
        s += m.end()
    return (s, e) if len(text[s:e].split()) >= 2 else None


def named_person(text: str, start: int, end: int, known: dict[str, str]) -> NamedPerson | None:
    """The person the text credits with the quote at ``text[start:end]``, if it names one.

    Looks after the quote first (« … », a déclaré Olivier Griffith), then before it in
    the same sentence (selon Katia Roux, « … »; Olivier Griffith : « … »). A name the
    corpus knows (``known``: folded full names and surnames → full name) is preferred
    to an unknown run of capitalised words.
    """
    line_end = text.find("\n", end)
    after_stop = len(text) if line_end < 0 else line_end
    m = _AFTER.match(text, end + _closing(text, end), min(after_stop, end + 120))
    if m:
        return NamedPerson(m.group(1), m.start(1), m.end(1))
    lo = max(text.rfind("\n", 0, start) + 1, start - 200)
    before = text[lo:start]
    cut = max(before.rfind(". "), before.rfind("» "), before.rfind("? "), before.rfind("! "))
    lo = lo + cut + 2 if cut >= 0 else lo
    best = None
    for span in (_strip_lead(text, *m.span()) for m in _NAME.finditer(text, lo, start)):
        if span:
            best = span
    words = [(s, e) for s, e in word_spans(text, lo, start)]
    for s, e in reversed(words):  # a known surname on its own: « Griffith : « … »
        if fold_name(text[s:e]) in known and (best is None or s >= best[1]):
            best = (s, e)
            break
    if best:
        return NamedPerson(text[best[0] : best[1]], *best)
    return None


def _closing(text: str, end: int) -> int:
    """Characters of the closing quotation mark (and spaces) right after a quote's inside."""
    m = re.match(r"[\s\u00a0\u202f]*[»”\"“]?", text[end : end + 4])
    return m.end() if m else 0


def fold_name(name: str) -> str:
    """A name in the form people are compared in: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name.replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def same_person(claimed: str, person: str) -> bool:
    """True when ``claimed`` names ``person``: the full name, or the surname alone."""
    a, b = fold_name(claimed).split(), fold_name(person).split()
    if not a or not b:
        return False
    return a == b or (len(a) == 1 and a[0] == b[-1]) or (len(b) >= 2 and a[-len(b) :] == b)
