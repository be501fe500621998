"""A web page's main text (trafilatura: no menus, footers or scripts), with its links and
metadata."""
from __future__ import annotations

from ingest.errors import CorpusError
from ingest.extracted import Block, Extracted, Inline, absolute_url, iso_date, metadata


_HTML_BLOCKS = {"head", "p", "item", "quote", "code", "cell", "row"}


def extract_html(data: bytes, name: str, base_url: str | None) -> Extracted:
    """The main text of a web page (trafilatura), its links and its metadata."""
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
            line = Inline()
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
        fallback = metadata(title=t, author=a or None, language=(lang or "").split("-")[0] or None)
    except (ValueError, TypeError, Exception):  # lxml raises ParserError on an empty document
        pass
    meta = metadata(
        title=getattr(doc, "title", None),
        author=getattr(doc, "author", None),
        date=iso_date(getattr(doc, "date", None)),
        publisher=getattr(doc, "sitename", None),
        language=getattr(doc, "language", None),
    )
    for k, v in fallback.items():
        meta.setdefault(k, v)
    return Extracted("html", blocks, meta)


def _walk(el, line: Inline, base_url: str | None, top: bool = False) -> None:
    if el.tag == "ref":
        line.open_link(absolute_url(el.get("target"), base_url))
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
