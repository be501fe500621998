"""A Word ``.docx`` document's paragraphs, headings, tables and links (python-docx), with
its page breaks and properties."""
from __future__ import annotations

import io
import re

from ingest.errors import CorpusError
from ingest.extracted import Block, Extracted, Inline, absolute_url, clean, good_title, iso_date, metadata


def extract_docx(data: bytes, name: str, base_url: str | None) -> Extracted:
    """A Word document's paragraphs, headings, tables and links, with page breaks; its properties."""
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
        line = Inline()
        for item in p.iter_inner_content():
            if isinstance(item, Hyperlink):
                line.open_link(absolute_url(item.url or item.address, base_url))
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
                    t = clean(cell.text)
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
    meta = metadata(title=title, author=props.author or None, date=iso_date(props.created),
                 language=(props.language or "").split("-")[0] or None)
    return Extracted("docx", blocks, meta, pages=page if paged else None)
