"""Extract the text of a document, whatever its format, as paragraphs with pages and links.

Formats: plain text, Markdown, HTML (main text only, with trafilatura: no menus,
footers or scripts), PDF (pypdf, see ``ingest.pdftext``) and Word ``.docx``
(python-docx), each read by its module ``ingest/format_*.py``. What comes out is the text that offsets point into: one paragraph
per line, headings marked, each paragraph with its page when the format has pages,
each link with the span of its anchor, and the metadata the document carries
(title, author, date, language).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from ingest.errors import NoTextError, UnsupportedFormatError
from ingest.extracted import Block, Extracted, decode_text, good_title  # noqa: F401 - this module's API
from ingest.format_docx import extract_docx
from ingest.format_html import extract_html
from ingest.format_pdf import extract_pdf
from ingest.format_text import extract_markdown, extract_text

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
# One reader per format (its module: ingest/format_*.py); each imports its library when called.
_READERS: dict[str, Callable[[bytes, str, str | None], Extracted]] = {
    "text": extract_text, "markdown": extract_markdown, "html": extract_html, "pdf": extract_pdf, "docx": extract_docx,
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


def extract(data: bytes, fmt: str, name: str, base_url: str | None = None) -> Extracted:
    """The paragraphs, pages, links and metadata of a document's bytes."""
    if fmt not in FORMATS:
        raise UnsupportedFormatError(f"{name}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if not data.strip():
        raise NoTextError(f"{name} is empty: it has no text to index; remove it or fill it")
    out = _READERS[fmt](data, name, base_url)
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
