"""The text of a PDF as a reader sees it: whole paragraphs, each with the page it starts on.

pypdf gives the text of a page line by line, with the position of each line. From that:

- running headers and footers (a line at the top or bottom of most pages, the same once
  digits are set aside: "Rapport 2024 — page 3") and bare page numbers are dropped;
- lines are joined into paragraphs: a paragraph ends at a vertical gap wider than the
  page's line spacing, after a short line that ends a sentence, or before a bullet;
  a short line without final punctuation between paragraphs is a heading;
- a word cut by a hyphen at the end of a line is joined again ("accompa-" + "gnement"),
  keeping the hyphen of compounds ("Jean-" + "Pierre", "peut-" + "être");
- a sentence that goes on over a page break stays one paragraph, which records where
  the next page starts inside it.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

_FINAL = tuple(".!?…:;»\"”)")
_SENTENCE_END = tuple(".!?…»\"”")
_BULLET = re.compile(r"^(?:[•·▪◦‣●○■□–—*-]\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)")
_PAGE_NUMBER = re.compile(
    r"^(?:page|p\.|pages?)?\s*[-–—]?\s*\d{1,4}\s*(?:(?:/|sur|of|de)\s*\d{1,4})?\s*[-–—]?$", re.I
)
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# Words that keep their hyphen when a line break falls right after it.
_HYPHEN_PREFIXES = frozenset(
    "peut au vis c'est c’est est-ce là ci celui celle ceux après avant arrière demi semi mi non ex anti "
    "auto co contre extra inter intra micro multi néo post pré pro pseudo quasi sous sur socio "
    "médico psycho politico économico grand grands grande grandes porte arc-en sans".split()
)


@dataclass
class Line:
    text: str
    x: float
    y: float
    size: float


@dataclass
class PdfBlock:
    """A paragraph of a PDF: its text, the page it starts on, and where later pages start in it."""

    text: str
    page: int
    heading: bool = False
    page_starts: list[tuple[int, int]] = field(default_factory=list)  # (offset in text, page)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.translate(_LIGATURES))


def page_lines(page) -> list[Line]:
    """The lines of a pypdf page, in content order, with their position and font size."""
    lines: list[Line] = []
    parts: list[str] = []
    pos: tuple[float, float, float] | None = None

    def flush() -> None:
        nonlocal parts, pos
        text = " ".join(normalise("".join(parts)).split())
        if text and pos is not None:
            lines.append(Line(text, *pos))
        parts, pos = [], None

    def visit(text, cm, tm, font_dict, font_size):
        nonlocal pos
        if not text:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(float(font_size or 0) * (tm[3] or 1) * (cm[3] or 1))
        pieces = text.split("\n")
        for j, piece in enumerate(pieces):
            if j:
                flush()
            if piece:
                if pos is None:
                    pos = (float(x), float(y), size)
                parts.append(piece)

    page.extract_text(visitor_text=visit)
    flush()
    return lines


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def drop_running_lines(pages: list[list[Line]], edge: int = 2) -> list[list[Line]]:
    """Remove running headers, footers and page numbers from the top and bottom lines of pages."""
    with_text = [p for p in pages if p]
    counts: Counter[str] = Counter()
    for lines in with_text:
        counts.update({_key(l.text) for l in lines[:edge] + lines[-edge:]})
    need = max(2, math.ceil(0.5 * len(with_text)))
    running = {k for k, n in counts.items() if n >= need} if len(with_text) >= 2 else set()
    out = []
    for lines in pages:
        n = len(lines)
        kept = []
        for i, line in enumerate(lines):
            at_edge = i < edge or i >= n - edge
            if at_edge and (_key(line.text) in running or _PAGE_NUMBER.match(line.text)):
                continue
            kept.append(line)
        out.append(kept)
    return out


def join_lines(a: str, b: str) -> str:
    """Join two lines of one paragraph, mending a word cut by a hyphen."""
    if a.endswith("\u00ad"):
        return a[:-1] + b
    if len(a) >= 2 and a.endswith("-") and a[-2].isalnum():
        if b[:1].islower():
            word = re.split(r"[\s(«\"“]", a[:-1])[-1].lower()
            if word in _HYPHEN_PREFIXES or (b.split(" ", 1)[0].rstrip(".,;:!?") in ("être", "delà", "dire", "vis", "ci", "là")):
                return a + b
            return a[:-1] + b
        return a + b  # "Jean-" + "Pierre", "2020-" + "2024"
    return f"{a} {b}"


def _typical(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _is_heading_line(line: Line, width: float, body_size: float) -> bool:
    t = line.text
    if len(t) > 100 or t.endswith((".", ",", ";", "…", "-")) or not (t[0].isupper() or t[0].isdigit()):
        return False
    if body_size and line.size > body_size * 1.15:
        return True
    return len(t) < 0.6 * width


def blocks(pages: list[list[Line]]) -> list[PdfBlock]:
    """Paragraphs of cleaned pages (``pages[i]`` is page ``i + 1``)."""
    out: list[PdfBlock] = []
    current: PdfBlock | None = None
    first: Line | None = None  # first line of the current paragraph
    n_lines = 0
    last: Line | None = None
    width = _typical([float(len(l.text)) for p in pages for l in p], 0.85) or 80.0
    body_size = _typical([l.size for p in pages for l in p], 0.5)

    def close() -> None:
        nonlocal current
        if current is not None:
            current.heading = n_lines == 1 and first is not None and _is_heading_line(first, width, body_size)
            out.append(current)
        current = None

    for page_no, lines in enumerate(pages, 1):
        steps = [lines[i - 1].y - lines[i].y for i in range(1, len(lines))]
        leading = _typical([s for s in steps if s > 0], 0.5) or 12.0
        for i, line in enumerate(lines):
            if current is not None and last is not None:
                new_page = i == 0
                dy = last.y - line.y
                gap = new_page or dy > 1.45 * leading or dy < -0.5 * leading
                prev = last.text
                one_heading_line = n_lines == 1 and _is_heading_line(last, width, body_size)
                if gap:
                    # Only a sentence cut by a page or column break goes on after a gap.
                    join = not one_heading_line and not prev.endswith(_FINAL) and (
                        prev.endswith("-") or line.text[:1].islower()
                    )
                elif _BULLET.match(line.text):
                    join = False
                elif one_heading_line and not line.text[:1].islower():
                    join = False
                elif prev.endswith(_SENTENCE_END) and len(prev) < 0.7 * width:
                    join = False
                else:
                    join = True
                if join:
                    joined = join_lines(current.text, line.text)
                    if new_page:
                        # the new page starts where this line's text starts in the joined text
                        current.page_starts.append((len(joined) - len(line.text), page_no))
                    current.text = joined
                    n_lines += 1
                    last = line
                    continue
                close()
            current = PdfBlock(line.text, page_no)
            first, n_lines, last = line, 1, line
    close()
    return out
