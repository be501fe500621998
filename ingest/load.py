"""Read the corpus: its manifest, its documents, and a hash that says when it changed."""
from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path

from ingest.model import Document, Source
from ingest.parse import extract_links, parse

MANIFEST = "sources.toml"
MAX_DOCUMENT_BYTES = 50_000_000  # one text file; larger ones are refused unread
_SOURCE_FIELDS = ("id", "title", "author", "url", "kind", "date", "publisher", "language",
                  "interviewee", "interviewer", "file")


class CorpusError(ValueError):
    """The corpus or one of its documents cannot be read; the message says how to fix it."""


def read_manifest(corpus_dir: Path) -> list[Source]:
    """The sources listed in ``corpus_dir/sources.toml``."""
    path = Path(corpus_dir) / MANIFEST
    if not Path(corpus_dir).is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir} (pass --corpus DIR with a {MANIFEST} in it)")
    if not path.is_file():
        raise CorpusError(f"no manifest in the corpus folder: {path} is missing (create it; see README, 'Corpus')")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"the manifest {path} is not valid TOML ({exc}); fix the line it names") from exc
    sources = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("source", []), 1):
        missing = [k for k in ("id", "title", "file") if not entry.get(k)]
        if missing:
            raise CorpusError(f"source #{i} of {path} lacks {', '.join(missing)}; every source needs id, title and file")
        if entry["id"] in seen:
            raise CorpusError(f"source id {entry['id']!r} appears twice in {path}; ids must be unique")
        seen.add(entry["id"])
        sources.append(Source(**{k: str(entry[k]) for k in _SOURCE_FIELDS if entry.get(k) is not None}))
    if not sources:
        raise CorpusError(f"the manifest {path} lists no [[source]]; add at least one document")
    return sources


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
    if size > MAX_DOCUMENT_BYTES:
        raise CorpusError(
            f"{path} is too large ({size / 1e6:.0f} MB; the limit is {MAX_DOCUMENT_BYTES / 1e6:.0f} MB per document); "
            "split it into smaller documents"
        )
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{path} looks binary (it contains NUL bytes); only text documents can be indexed")
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = raw.decode("utf-16")
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not valid UTF-8 (byte {exc.start}); save it as UTF-8 and rebuild") from exc
    if not text.strip():
        raise CorpusError(f"{path} has no text; remove it from {MANIFEST} or fill it")
    return text


def load_document(corpus_dir: Path, source: Source) -> Document:
    """Read and parse one source (without attribution of reported people)."""
    text = read_text(Path(corpus_dir) / (source.file or ""))
    paragraphs = parse(text, source)
    return Document(source=source, text=text, paragraphs=tuple(paragraphs), links=tuple(extract_links(paragraphs)))


def corpus_hash(corpus_dir: Path) -> str:
    """A digest of the manifest and every document it lists: equal hashes, equal corpus."""
    corpus_dir = Path(corpus_dir)
    h = hashlib.sha256()
    h.update((corpus_dir / MANIFEST).read_bytes())
    for source in read_manifest(corpus_dir):
        path = corpus_dir / (source.file or "")
        h.update(source.id.encode() + b"\x00")
        try:
            with open(path, "rb") as f:  # by blocks: a huge file is hashed, never held in memory
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()
