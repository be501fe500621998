"""Links that open a source at a quote: a text fragment for a web page, the page for a PDF."""
from __future__ import annotations

from urllib.parse import quote as _pct
from urllib.parse import urlsplit

_EDGE_WORDS = 4  # words at each end of a long quote in a text fragment
_NO_FRAGMENT = frozenset({"docx"})  # served as a download: no viewer follows a fragment


def _is_pdf(url: str, kind: str | None) -> bool:
    return kind == "pdf" or urlsplit(url).path.lower().endswith(".pdf")


def _directive(words: list[str]) -> str:
    """Percent-encode words for a text directive, where ``-``, ``,`` and ``&`` are syntax."""
    return _pct(" ".join(words), safe="").replace("-", "%2D")


def quote_link(source_url: str | None, kind: str | None, quote: str, page: int | None) -> str | None:
    """A URL that opens the source at the quote, or None when the source is not on the web.

    - a PDF: ``URL#page=N`` (PDF viewers follow it; they ignore text fragments);
    - a web page (and the web page an interview was published on): a URL text fragment,
      ``URL#:~:text=START,END`` with the first and last words of the quote (the whole
      quote when it is short), which browsers scroll to and highlight;
    - a Word document: the URL as it is.

    A fragment the URL already had is replaced. Pure: no network, no index.
    """
    if not source_url or urlsplit(source_url).scheme not in ("http", "https"):
        return None
    base = source_url.split("#", 1)[0]
    if _is_pdf(base, kind):
        return f"{base}#page={int(page)}" if page else base
    if kind in _NO_FRAGMENT:
        return base
    words = quote.split()
    if not words:
        return base
    if len(words) <= 2 * _EDGE_WORDS:
        return f"{base}#:~:text={_directive(words)}"
    return f"{base}#:~:text={_directive(words[:_EDGE_WORDS])},{_directive(words[-_EDGE_WORDS:])}"
