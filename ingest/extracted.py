"""What reading a document gives, whatever its format, and the pieces every format's
reader shares (``ingest.format_text``, ``format_html``, ``format_pdf``, ``format_docx``):
paragraphs as ``Block``s, a paragraph built from inline pieces with its links, clean
metadata. ``ingest.formats`` chooses the reader.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from ingest.errors import CorpusError


@dataclass
class Block:
    """A paragraph of an extracted document: text on one line, no offsets yet."""

    text: str
    page: int | None = None
    heading: bool = False
    links: list[tuple[str, int, int]] = field(default_factory=list)  # (url, start, end) in text
    page_starts: list[tuple[int, int]] = field(default_factory=list)  # (offset in text, page)


@dataclass
class Extracted:
    format: str
    blocks: list[Block]
    metadata: dict[str, str]
    pages: int | None = None
    empty_pages: list[int] = field(default_factory=list)
    raw_text: str | None = None  # plain text keeps its own lines; see ingest.parse


def decode_text(raw: bytes, name: str) -> str:
    """Bytes of a text file as text: UTF-8 (a BOM dropped) or UTF-16 with its BOM."""
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{name} looks binary (it contains NUL bytes); only text documents can be read as text")
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name} is not valid UTF-8 (byte {exc.start}); save it as UTF-8 and rebuild") from exc


def clean(text: str) -> str:
    """Text on one line, spaces collapsed, Unicode in NFC."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class Inline:
    """Builds one paragraph's text from pieces, collapsing spaces, recording link anchors."""

    def __init__(self) -> None:
        self.text = ""
        self.links: list[tuple[str, int, int]] = []
        self._open: list[tuple[str, int]] = []

    def add(self, piece: str) -> None:
        if not piece:
            return
        piece = unicodedata.normalize("NFC", piece)
        piece = re.sub(r"\s+", " ", piece)
        if piece.startswith(" ") and (not self.text or self.text.endswith(" ")):
            piece = piece[1:]
        self.text += piece

    def open_link(self, url: str | None) -> None:
        self._open.append((url or "", len(self.text)))

    def close_link(self) -> None:
        if self._open:
            url, start = self._open.pop()
            if url:
                self.links.append((url, start, len(self.text)))

    def block(self, **kw) -> Block | None:
        text = self.text.rstrip()
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        if not text:
            return None
        links = []
        for url, s, e in self.links:
            s, e = max(0, s - lead), min(len(text), e - lead)
            while s < e and text[s] == " ":
                s += 1
            if e > s:
                links.append((url, s, e))
        return Block(text, links=links, **kw)


def absolute_url(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base``; None unless it is http(s)."""
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    return url if urlsplit(url).scheme in ("http", "https") else None


def iso_date(value) -> str | None:
    """A date from metadata as ``YYYY[-MM[-DD]]`` (PDF ``D:2024…`` strings and datetimes included)."""
    if value is None:
        return None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.strftime("%Y-%m-%d")
    m = re.match(r"(?:D:)?(\d{4})(?:-?(\d{2}))?(?:-?(\d{2}))?", str(value).strip())
    if not m:
        return None
    return "-".join(g for g in m.groups() if g)


_JUNK_TITLE = re.compile(r"^(?:microsoft (?:word|powerpoint|excel)\s*-|untitled|sans titre|document\s*\d*$|titre$)", re.I)


def good_title(title: str | None) -> str | None:
    """A title worth showing, or None for the placeholders that tools leave in metadata."""
    if not title:
        return None
    t = clean(str(title))
    if not t or _JUNK_TITLE.match(t) or re.search(r"\.(?:docx?|pdf|odt|indd|tex|txt)$", t, re.I) or len(t) > 300:
        return None
    return t


def metadata(**kw) -> dict[str, str]:
    """The metadata given, cleaned, without the empty ones."""
    return {k: clean(str(v)) for k, v in kw.items() if v is not None and clean(str(v))}
