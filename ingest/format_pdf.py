"""A PDF's text, page by page (pypdf; lines, running headers and hyphenation in
``ingest.pdftext``), with its metadata."""
from __future__ import annotations

import io

from ingest.errors import CorpusError
from ingest.extracted import Block, Extracted, good_title, iso_date, metadata


def extract_pdf(data: bytes, name: str, base_url: str | None) -> Extracted:
    """The text of a PDF, page by page, without running headers and footers; its metadata."""
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
        meta = metadata(title=good_title(info.title), author=info.author, date=iso_date(created))
    return Extracted("pdf", blocks, meta, pages=len(pages), empty_pages=empty)
