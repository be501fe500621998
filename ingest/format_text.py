"""Plain text (kept line for line) and Markdown (paragraphs, headings, lists, tables and
links, with markdown-it)."""
from __future__ import annotations

from ingest.extracted import Block, Extracted, Inline, absolute_url, clean, decode_text, metadata


def extract_text(data: bytes, name: str, base_url: str | None) -> Extracted:
    """A plain text file, its lines kept as they are (``ingest.parse`` reads them)."""
    text = decode_text(data, name)
    return Extracted("text", [], {}, raw_text=text)


def extract_markdown(data: bytes, name: str, base_url: str | None) -> Extracted:
    """A Markdown file's blocks: headings, paragraphs, list items, table rows, code; links kept."""
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
            code = clean(tok.content)
            if code:
                blocks.append(Block(code))
        elif tok.type == "inline":
            line = Inline()
            for child in tok.children or []:
                if child.type in ("text", "code_inline"):
                    line.add(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    line.add(" ")
                elif child.type == "link_open":
                    line.open_link(absolute_url(str(child.attrGet("href") or ""), base_url))
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
    return Extracted("markdown", blocks, metadata(title=title))
