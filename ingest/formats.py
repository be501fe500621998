"""Extract the text of a document, whatever its format, as paragraphs with pages and links.

Formats: plain text, Markdown, HTML (main text only, with trafilatura: no menus,
footers or scripts), PDF (pypdf, see ``ingest.pdftext``) and Word ``.docx``
(python-docx). What comes out is the text that offsets point into: one paragraph
per line, headings marked, each paragraph with its page when the format has pages,
each link with the span of its anchor, and the metadata the document carries
(title, author, date, language).
"""
from __future__ import annotations

import datetime as _dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from ingest.errors import CorpusError, NoTextError, UnsupportedFormatError

FORMATS = ("text", "markdown", "html", "pdf", "docx")
EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
EXTENSION_OF = {"text": ".txt", "markdown": ".md", "html": ".html", "pdf": ".pdf", "docx": ".docx"}
CONTENT_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
_READABLE = "Verbatim reads .txt, .md, .html, .pdf and .docx files"
_CONVERT = {
    ".doc": "open it in Word or LibreOffice and save it as .docx",
    ".odt": "save it as .docx or export it as PDF",
    ".rtf": "save it as .docx or .txt",
    ".pptx": "export it as PDF",
    ".ppt": "export it as PDF",
    ".xlsx": "export the sheet as PDF",
    ".epub": "convert it to PDF or HTML",
}


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


def format_of(name: str, head: bytes = b"") -> str:
    """The format of a file by its extension, or by its first bytes when the name says nothing."""
    ext = PurePosixPath(name).suffix.lower()
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if ext in _CONVERT:
        raise UnsupportedFormatError(f"{name}: {ext} files cannot be read ({_READABLE}); {_CONVERT[ext]}")
    sniffed = sniff(head)
    if sniffed:
        return sniffed
    raise UnsupportedFormatError(f"{name}: unknown file type {ext or '(no extension)'} ({_READABLE}); rename it with one of these extensions")


def sniff(head: bytes, name: str = "") -> str | None:
    """The format that the first bytes of a file show, when they show one."""
    h = head.lstrip()[:1024]
    if h.startswith(b"%PDF-"):
        return "pdf"
    if h.startswith(b"PK\x03\x04") and (b"word/" in head[:4096] or name.lower().endswith(".docx")):
        return "docx"
    low = h.lower()
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low[:512]:
        return "html"
    if b"\x00" not in head[:4096] and head:
        try:
            head[:4096].decode("utf-8")
            return "text"
        except UnicodeDecodeError:
            return None
    return None


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


def extract(data: bytes, fmt: str, name: str, base_url: str | None = None) -> Extracted:
    """The paragraphs, pages, links and metadata of a document's bytes."""
    if fmt not in FORMATS:
        raise UnsupportedFormatError(f"{name}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if not data.strip():
        raise NoTextError(f"{name} is empty: it has no text to index; remove it or fill it")
    out = {"text": _text, "markdown": _markdown, "html": _html, "pdf": _pdf, "docx": _docx}[fmt](data, name, base_url)
    if out.raw_text is not None:
        if not out.raw_text.strip():
            raise NoTextError(f"{name} has no text (only blank characters); remove it or fill it")
    elif not any(b.text.strip() for b in out.blocks):
        raise NoTextError(f"{name} has no extractable text ({fmt}); {_why_empty(out, fmt)}")
    return out


def _why_empty(out: Extracted, fmt: str) -> str:
    if fmt == "pdf":
        return (f"its {out.pages} page(s) hold no text layer, as a scan without OCR does; "
                "run OCR on it (for instance: ocrmypdf in.pdf out.pdf) and add the result")
    if fmt == "html":
        return "the page has no main text (it may be built by JavaScript); save the article's text and add that"
    return "fill it or remove it"


# -- helpers -------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


class _Inline:
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


def _absolute(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    return url if urlsplit(url).scheme in ("http", "https") else None


def _iso_date(value) -> str | None:
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
    t = _clean(str(title))
    if not t or _JUNK_TITLE.match(t) or re.search(r"\.(?:docx?|pdf|odt|indd|tex|txt)$", t, re.I) or len(t) > 300:
        return None
    return t


def _meta(**kw) -> dict[str, str]:
    return {k: _clean(str(v)) for k, v in kw.items() if v is not None and _clean(str(v))}


# -- plain text and Markdown ------------------------------------------------------------


def _text(data: bytes, name: str, base_url: str | None) -> Extracted:
    text = decode_text(data, name)
    return Extracted("text", [], {}, raw_text=text)


def _markdown(data: bytes, name: str, base_url: str | None) -> Extracted:
    from markdown_it import MarkdownIt

    text = decode_text(data, name)
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    blocks: list[Block] = []
    heading = False
    row: list[str] | None = None
    row_links: list[tuple[str, int, int]] = []
    for tok in tokens:
        if tok.type == "heading_open":
            heading = True
        elif tok.type == "heading_close":
            heading = False
        elif tok.type == "tr_open":
            row, row_links = [], []
        elif tok.type == "tr_close" and row is not None:
            cells = " | ".join(c for c in row if c)
            if cells:
                blocks.append(Block(cells, links=row_links))
            row = None
        elif tok.type in ("fence", "code_block"):
            code = _clean(tok.content)
            if code:
                blocks.append(Block(code))
        elif tok.type == "inline":
            line = _Inline()
            for child in tok.children or []:
                if child.type in ("text", "code_inline"):
                    line.add(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    line.add(" ")
                elif child.type == "link_open":
                    line.open_link(_absolute(str(child.attrGet("href") or ""), base_url))
                elif child.type == "link_close":
                    line.close_link()
                elif child.type == "image":
                    line.add(child.content)
            if row is not None:
                offset = sum(len(c) + 3 for c in row if c)
                b = line.block()
                if b:
                    row.append(b.text)
                    row_links.extend((u, s + offset, e + offset) for u, s, e in b.links)
                continue
            b = line.block(heading=heading)
            if b:
                blocks.append(b)
    title = next((b.text for b in blocks if b.heading), None)
    return Extracted("markdown", blocks, _meta(title=title))


# -- HTML ------------------------------------------------------------------------------

_HTML_BLOCKS = {"head", "p", "item", "quote", "code", "cell", "row"}


def _html(data: bytes, name: str, base_url: str | None) -> Extracted:
    import trafilatura
    from lxml import html as lxml_html

    doc = None
    for recall in (False, True):
        try:
            doc = trafilatura.bare_extraction(
                data,
                url=base_url,
                include_links=True,
                include_formatting=False,
                include_tables=True,
                include_comments=False,
                include_images=False,
                with_metadata=True,
                favor_recall=recall,
                deduplicate=False,
                as_dict=False,
            )
        except Exception as exc:  # trafilatura raises many kinds on broken markup
            raise CorpusError(f"{name} is not a readable HTML page ({type(exc).__name__}: {exc})") from exc
        if doc is not None and doc.body is not None and len(doc.body):
            break
    blocks: list[Block] = []
    if doc is not None and doc.body is not None:
        for el in doc.body.iter():
            if el.tag not in _HTML_BLOCKS or el.tag == "cell":
                continue
            if any(a.tag in _HTML_BLOCKS for a in el.iterancestors()):
                continue  # inside a block already taken whole
            line = _Inline()
            _walk(el, line, base_url, top=True)
            b = line.block(heading=el.tag == "head")
            if b:
                blocks.append(b)
    # <title> and <meta name="author"> as the page states them, when trafilatura found none
    fallback: dict[str, str] = {}
    try:
        tree = lxml_html.fromstring(data)
        t = tree.findtext(".//title")
        a = tree.xpath('string(//meta[@name="author"]/@content)')
        lang = tree.get("lang")
        fallback = _meta(title=t, author=a or None, language=(lang or "").split("-")[0] or None)
    except (ValueError, TypeError, Exception):  # lxml raises ParserError on an empty document
        pass
    meta = _meta(
        title=getattr(doc, "title", None),
        author=getattr(doc, "author", None),
        date=_iso_date(getattr(doc, "date", None)),
        publisher=getattr(doc, "sitename", None),
        language=getattr(doc, "language", None),
    )
    for k, v in fallback.items():
        meta.setdefault(k, v)
    return Extracted("html", blocks, meta)


def _walk(el, line: _Inline, base_url: str | None, top: bool = False) -> None:
    if el.tag == "ref":
        line.open_link(_absolute(el.get("target"), base_url))
    elif el.tag == "lb":
        line.add(" ")
    elif el.tag == "cell" and not top and line.text:
        line.add(" | ")
    line.add(el.text or "")
    for child in el:
        _walk(child, line, base_url)
        line.add(child.tail or "")
    if el.tag == "ref":
        line.close_link()
    elif el.tag in ("item", "p") and not top:
        line.add(" ")


# -- PDF -------------------------------------------------------------------------------


def _pdf(data: bytes, name: str, base_url: str | None) -> Extracted:
    import logging

    import pypdf
    from pypdf.errors import PdfReadError

    from ingest.pdftext import blocks as pdf_blocks
    from ingest.pdftext import drop_running_lines, page_lines

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings about odd but readable files
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise PdfReadError("password required")
            except Exception as exc:
                raise CorpusError(f"{name} is an encrypted PDF ({exc}); save an unprotected copy and add that") from exc
        pages = [page_lines(p) for p in reader.pages]
        info = reader.metadata
    except CorpusError:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise CorpusError(f"{name} is not a readable PDF ({type(exc).__name__}: {exc}); check that the file is complete") from exc
    empty = [i for i, p in enumerate(pages, 1) if not p]
    pages = drop_running_lines(pages)
    blocks = [Block(b.text, page=b.page, heading=b.heading, page_starts=b.page_starts) for b in pdf_blocks(pages)]
    meta: dict[str, str] = {}
    if info:
        created = None
        try:
            created = info.creation_date
        except Exception:  # an unparsable date is no date
            created = None
        meta = _meta(title=good_title(info.title), author=info.author, date=_iso_date(created))
    return Extracted("pdf", blocks, meta, pages=len(pages), empty_pages=empty)


# -- Word ------------------------------------------------------------------------------


def _docx(data: bytes, name: str, base_url: str | None) -> Extracted:
    import docx
    from docx.table import Table
    from docx.text.hyperlink import Hyperlink

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # a damaged zip, a .doc renamed .docx…
        raise CorpusError(f"{name} is not a readable Word .docx file ({type(exc).__name__}: {exc}); open it in Word and save it again as .docx") from exc
    blocks: list[Block] = []
    page = 1
    paged = False

    def paragraph(p) -> Block | None:
        nonlocal page, paged
        line = _Inline()
        for item in p.iter_inner_content():
            if isinstance(item, Hyperlink):
                line.open_link(_absolute(item.url or item.address, base_url))
                line.add(item.text)
                line.close_link()
            else:
                line.add(item.text)
        style = (p.style.name if p.style is not None else "") or ""
        heading = bool(re.match(r"^(?:heading|titre|title)\b", style, re.I))
        start_page = page
        breaks = len(p.rendered_page_breaks) + len(p._p.xpath('.//w:br[@w:type="page"]'))
        if breaks:
            paged = True
            page += breaks
        return line.block(heading=heading, page=start_page)

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    t = _clean(cell.text)
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                if cells:
                    blocks.append(Block(" | ".join(cells), page=page))
        else:
            b = paragraph(item)
            if b:
                blocks.append(b)
    if not paged:
        for b in blocks:
            b.page = None
    props = document.core_properties
    title = good_title(props.title) or next((b.text for b in blocks if b.heading), None)
    meta = _meta(title=title, author=props.author or None, date=_iso_date(props.created),
                 language=(props.language or "").split("-")[0] or None)
    return Extracted("docx", blocks, meta, pages=page if paged else None)
