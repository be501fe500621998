"""Read the corpus: its manifest, its documents, and a hash that says when it changed.

A source of the manifest (``[[source]]`` in ``sources.toml``) is a file of the corpus
folder (``file``), or a web page or document known by its URL only (``url`` without
``file``), whose bytes come from the fetch cache (``ingest.fetch``). Its format is read
from its file name (or the content type it was served with): plain text, Markdown,
HTML, PDF or Word. Metadata the manifest does not give (title, author, date) is taken
from the document itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ingest.errors import CorpusError, NotFetchedError
from ingest.files import file_sha256
from ingest.formats import EXTENSIONS, Extracted, decode_text, extract, format_of
from ingest.model import Document, Link, Paragraph, Source
from ingest.parse import extract_links, parse, parse_interview

MANIFEST = "sources.toml"
MAX_DOCUMENT_BYTES = 50_000_000  # one text file; larger ones are refused unread
_SOURCE_FIELDS = ("id", "title", "author", "url", "kind", "date", "publisher", "language",
                  "interviewee", "interviewer", "file")

__all__ = ["CorpusError", "MANIFEST", "read_manifest", "manifest_links", "read_text", "resolve_source",
           "load_document", "corpus_hash", "page_at", "manifest_settings"]


def _read_toml(corpus_dir: Path) -> dict:
    path = Path(corpus_dir) / MANIFEST
    if not Path(corpus_dir).is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir} (pass --corpus DIR with a {MANIFEST} in it)")
    if not path.is_file():
        raise CorpusError(f"no manifest in the corpus folder: {path} is missing (create it; see README, 'Adding documents')")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"the manifest {path} is not valid TOML ({exc}); fix the line it names") from exc


def read_manifest(corpus_dir: Path, allow_empty: bool = False) -> list[Source]:
    """The sources listed in ``corpus_dir/sources.toml``."""
    path = Path(corpus_dir) / MANIFEST
    data = _read_toml(corpus_dir)
    sources = []
    seen: set[str] = set()
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise CorpusError(f"in {path}, 'source' must be a list of [[source]] tables")
    for i, entry in enumerate(entries, 1):
        missing = [k for k in ("id",) if not entry.get(k)]
        if not entry.get("file") and not entry.get("url"):
            missing.append("file (or url)")
        if missing:
            raise CorpusError(f"source #{i} of {path} lacks {', '.join(missing)}; every source needs an id and a file or a url")
        if entry["id"] in seen:
            raise CorpusError(f"source id {entry['id']!r} appears twice in {path}; ids must be unique")
        seen.add(entry["id"])
        fields = {k: str(entry[k]) for k in _SOURCE_FIELDS if entry.get(k) is not None}
        fields.setdefault("title", "")
        if "kind" not in fields and fields.get("file"):
            fields["kind"] = EXTENSIONS.get(PurePosixPath(fields["file"]).suffix.lower(), "text")
        sources.append(Source(**fields))
    if not sources and not allow_empty:
        raise CorpusError(f"the manifest {path} lists no [[source]]; add a document with: verbatim add FILE")
    return sources


def manifest_settings(corpus_dir: Path) -> dict:
    """The ``[settings]`` table of the manifest as written (empty when there is none);
    ``index.settings.make_settings`` validates it.

    Without a manifest there are no settings to read, and no error either: a replica that
    serves an index held in Milvus has no corpus folder (the commands that need the corpus
    say it is missing)."""
    if not (Path(corpus_dir) / MANIFEST).is_file():
        return {}
    data = _read_toml(corpus_dir)
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise CorpusError(f"in {Path(corpus_dir) / MANIFEST}, 'settings' must be a table: [settings]")
    return table


def manifest_links(corpus_dir: Path) -> dict[str, dict]:
    """What the manifest says about linked sources (``[[source.links]]``: url, title, id…), by URL."""
    from ingest.fetch import normalise_url

    out: dict[str, dict] = {}
    for entry in _read_toml(corpus_dir).get("source", []):
        for link in entry.get("links", []) or []:
            if isinstance(link, dict) and link.get("url"):
                out[normalise_url(str(link["url"]))] = {k: str(v) for k, v in link.items()}
    return out


def read_text(path: Path) -> str:
    """The text of a document file, decoded as UTF-8 (a leading BOM is dropped).

    A file over ``MAX_DOCUMENT_BYTES`` is refused before it is read into memory.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size <= MAX_DOCUMENT_BYTES:
                raw = f.read(MAX_DOCUMENT_BYTES + 1)  # bounded even if the file grows meanwhile
                size = max(size, len(raw))
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}; check that the file exists and is readable") from exc
    _refuse_if_too_large(path, size)
    text = decode_text(raw, str(path))
    if not text.strip():
        raise CorpusError(f"{path} has no text; remove it from {MANIFEST} or fill it")
    return text


def _refuse_if_too_large(path: Path, size: int) -> None:
    """Documents over ``MAX_DOCUMENT_BYTES`` are refused before they are read."""
    if size > MAX_DOCUMENT_BYTES:
        raise CorpusError(
            f"{path} is too large ({size / 1e6:.0f} MB; the limit is {MAX_DOCUMENT_BYTES / 1e6:.0f} MB per document); "
            "split it into smaller documents"
        )


def resolve_source(corpus_dir: Path, source: Source, cache=None) -> Source:
    """The source with the file its bytes are in (the fetch cache for a web source) and their sha256."""
    corpus_dir = Path(corpus_dir)
    if not source.file:
        from ingest.fetch import FetchCache

        cache = cache or FetchCache(corpus_dir)
        record = cache.fetched(source.url or "")
        if record is None:
            failed = cache.record(source.url or "")
            why = f"the last try failed: {failed.get('error')}" if failed and failed.get("error") else "it was never fetched"
            raise NotFetchedError(f"{source.url} is waiting to be fetched ({why}); run: verbatim fetch")
        kind = source.kind if source.kind not in ("", "text") else record.get("format", "text")
        return replace(source, file=record["file"], sha256=record["sha256"], fetched_at=record.get("fetched_at"), kind=kind)
    path = corpus_dir / source.file
    try:
        _refuse_if_too_large(path, path.stat().st_size)
        digest = file_sha256(path)
    except OSError as exc:
        raise CorpusError(
            f"cannot read {path}: {exc.strerror or exc}; check that the file exists, or take the source out with: verbatim remove {source.id}"
        ) from exc
    return replace(source, sha256=digest)


def _fallback_title(source: Source) -> str:
    if source.url and not source.file or (source.file or "").startswith(".cache/"):
        parts = urlsplit(source.url or "")
        name = unquote(PurePosixPath(parts.path).stem) if parts.path.strip("/") else parts.hostname
        return (name or source.url or source.id).replace("_", " ").replace("-", " ")
    return PurePosixPath(source.file or source.id).stem.replace("_", " ").replace("-", " ")


def with_metadata(source: Source, metadata: dict[str, str]) -> Source:
    """The source with what the document says of itself where the manifest is silent."""
    changes: dict[str, str] = {}
    if not source.title:
        changes["title"] = metadata.get("title") or _fallback_title(source)
    for key in ("author", "date", "publisher"):
        if getattr(source, key) is None and metadata.get(key):
            changes[key] = metadata[key]
    return replace(source, **changes) if changes else source


def page_at(pages: tuple[tuple[int, int], ...] | list, offset: int) -> int | None:
    """The page the character at ``offset`` is on, given ``(offset, page)`` starts."""
    page = None
    for start, number in pages:
        if start > offset:
            break
        page = number
    return page


def _assemble(source: Source, ex: Extracted) -> Document:
    """One line per block: the extracted text, its paragraphs, pages and links."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for b in ex.blocks:
        spans.append((pos, pos + len(b.text)))
        parts.append(b.text)
        pos += len(b.text) + 1
    text = "\n".join(parts) + "\n"
    pages: list[tuple[int, int]] = []
    for b, (s, _) in zip(ex.blocks, spans):
        for off, page in ([(0, b.page)] if b.page is not None else []) + list(b.page_starts):
            if not pages or pages[-1][1] != page:
                pages.append((s + off, page))
    if source.kind == "interview":
        paragraphs = [replace(p, page=page_at(pages, p.start)) for p in parse_interview(text, source)]
    else:
        paragraphs = []
        section: tuple[str, int] | None = None
        for n, (b, (s, e)) in enumerate(zip(ex.blocks, spans), 1):
            if b.heading:
                section = (b.text, n)
            # A heading that opens the document is its title ("Quel est le titre du compte
            # rendu ?"); the others head its sections ("Quelles rubriques… ?").
            role = ("title" if n == 1 else "heading") if b.heading else "text"
            paragraphs.append(
                Paragraph(
                    number=n,
                    start=s,
                    end=e,
                    text=b.text,
                    role=role,
                    speaker=source.author,
                    speaker_role="author" if source.author else None,
                    section=None if b.heading or section is None else section[0],
                    section_paragraph=None if b.heading or section is None else section[1],
                    page=b.page,
                )
            )
    links = list(extract_links(paragraphs))
    known = {(link.url, link.paragraph) for link in links}
    from ingest.sentences import split_sentences

    for n, (b, (s, _)) in enumerate(zip(ex.blocks, spans), 1):
        for url, a, _e in b.links:
            if (url, n) in known:
                continue
            known.add((url, n))
            citing = b.text
            for x, y in split_sentences(b.text):
                if x <= a < y:
                    citing = b.text[x:y]
                    break
            links.append(Link(url=url, citing_text=citing, paragraph=n))
    links.sort(key=lambda link: link.paragraph)
    return Document(source=source, text=text, paragraphs=tuple(paragraphs), links=tuple(links), pages=tuple(pages))


def load_document(corpus_dir: Path, source: Source) -> Document:
    """Read, extract and parse one source (without attribution of reported people)."""
    corpus_dir = Path(corpus_dir)
    if not source.file or source.sha256 is None:
        source = resolve_source(corpus_dir, source)
    path = corpus_dir / (source.file or "")
    try:
        _refuse_if_too_large(path, path.stat().st_size)
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}; check that the file exists and is readable") from exc
    name = source.file if not (source.file or "").startswith(".cache/") else (source.url or source.file or "")
    fmt = format_of(source.file or "", data[:4096])
    ex = extract(data, fmt, str(name), base_url=source.url)
    source = with_metadata(source, ex.metadata)
    if ex.raw_text is not None:
        text = ex.raw_text
        paragraphs = parse(text, source)
        return Document(source=source, text=text, paragraphs=tuple(paragraphs), links=tuple(extract_links(paragraphs)))
    return _assemble(source, ex)


def corpus_hash(corpus_dir: Path) -> str:
    """A digest of the manifest, every document it lists and every fetched web source."""
    from ingest.fetch import FetchCache

    corpus_dir = Path(corpus_dir)
    sources = read_manifest(corpus_dir, allow_empty=True)  # a missing folder or manifest says so first
    h = hashlib.sha256()
    # The manifest without its [settings]: those an index depends on are checked on their
    # own (Settings.index_params), and a change of top_k must not make an index stale.
    manifest = {k: v for k, v in _read_toml(corpus_dir).items() if k != "settings"}
    h.update(json.dumps(manifest, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    cache = FetchCache(corpus_dir)
    for source in sources:
        h.update(source.id.encode() + b"\x00")
        if not source.file:
            continue  # a web source: its bytes are counted with the cache below
        path = corpus_dir / source.file
        try:
            with open(path, "rb") as f:  # by blocks: a huge file is hashed, never held in memory
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            h.update(b"<missing>")
    for url, record in sorted(cache.records().items()):
        if record.get("status") == "fetched" or record.get("sha256"):
            h.update(f"\x00{url}\x00{record.get('sha256')}".encode())
    return h.hexdigest()
