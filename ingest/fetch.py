"""Download web sources safely, and keep what was downloaded in a cache beside the corpus.

Rules for every download (and every redirect it follows):

- only ``http`` and ``https``;
- the host must resolve to public addresses only: private, loopback, link-local and
  other non-global addresses are refused, so that a document cannot make Verbatim
  fetch from the machine's own network (``allow_private=True`` lifts this, for tests
  against a local server);
- a timeout on every network step and on the whole download, a size limit, at most
  ``max_redirects`` redirects (a loop is reported as one), and a content type that is
  a document Verbatim reads (HTML, PDF, plain text, Markdown, Word).

The cache is ``CORPUS/.cache/``: the bytes under ``fetched/<sha256><ext>``, and
``fetch.json``, which maps each URL to its record (fetch date, sha256, content type,
size, final URL) or to the reason it could not be fetched. The folder ignores
itself in git. Every write is atomic.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import ipaddress
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from ingest.errors import CorpusError
from ingest.files import atomic_write
from ingest.formats import CONTENT_TYPES, EXTENSION_OF, sniff

CACHE_DIR = ".cache"
INDEX_FILE = "fetch.json"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
USER_AGENT = "Verbatim/0.1 (citation-first retrieval; fetches the sources its documents link)"
_GENERIC_TYPES = {"application/octet-stream", "binary/octet-stream", "application/download", "application/force-download", ""}


class FetchError(CorpusError):
    """A URL could not be fetched; ``reason`` says why in a few words."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"could not fetch {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    url: str
    final_url: str
    content_type: str
    format: str
    data: bytes
    fetched_at: str


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def normalise_url(url: str) -> str:
    """The URL without its fragment: ``page#section`` and ``page`` are one document."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse a URL Verbatim must not fetch, with the rule it breaks."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched (this one is {parts.scheme or 'without a scheme'!r})")
    host = parts.hostname
    if not host:
        raise FetchError(url, "the URL has no host name")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError(url, "the URL has an invalid port") from None
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve the host {host} ({exc}; no network?)") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchError(
                url,
                f"refused: {host} resolves to {address}, a private, loopback or link-local address "
                "(a document must not make Verbatim fetch from this machine's network; "
                "pass --allow-private to allow it)",
            )


def fetch_url(
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> Fetched:
    """Download one document under the rules above; raise ``FetchError`` with the reason."""
    import httpx

    total = max(timeout * 3, timeout + 5)
    deadline = time.monotonic() + total
    seen: list[str] = []
    current = url
    with httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": ", ".join(CONTENT_TYPES) + ", */*;q=0.1"},
    ) as client:
        while True:
            check_url(current, allow_private)
            seen.append(current)
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(url, f"HTTP {response.status_code} redirect without a Location header")
                        nxt = urljoin(current, location)
                        if nxt in seen:
                            raise FetchError(url, f"redirect loop ({' -> '.join([*seen, nxt])})")
                        if len(seen) > max_redirects:
                            raise FetchError(url, f"more than {max_redirects} redirects (last: {nxt})")
                        current = nxt
                        continue
                    if response.status_code >= 400:
                        raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
                    if response.status_code != 200:
                        raise FetchError(url, f"unexpected HTTP {response.status_code} {response.reason_phrase}".strip())
                    ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                    if ctype not in CONTENT_TYPES and ctype not in _GENERIC_TYPES:
                        raise FetchError(url, f"content type {ctype!r} is not a document Verbatim reads (HTML, PDF, text, Markdown, Word)")
                    length = response.headers.get("content-length")
                    if length and length.isdigit() and int(length) > max_bytes:
                        raise FetchError(url, f"too large: {int(length)} bytes announced, the limit is {max_bytes} (--max-size)")
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchError(url, f"too large: more than {max_bytes} bytes (--max-size)")
                        if time.monotonic() > deadline:
                            raise FetchError(url, f"timed out: the download took longer than {total:g} s")
                        chunks.append(chunk)
                    data = b"".join(chunks)
            except httpx.TimeoutException as exc:
                raise FetchError(url, f"timed out after {timeout:g} s ({type(exc).__name__})") from exc
            except httpx.HTTPError as exc:
                raise FetchError(url, f"{type(exc).__name__}: {exc or 'network error'} (no network?)") from exc
            break
    fmt = CONTENT_TYPES.get(ctype)
    sniffed = sniff(data[:4096], urlsplit(current).path)
    if sniffed in ("pdf", "docx") or fmt is None:
        fmt = sniffed
    if fmt is None or (ctype in _GENERIC_TYPES and sniffed not in ("pdf", "docx")):
        raise FetchError(url, f"content type {ctype or 'missing'!r} and the bytes are not a document Verbatim reads")
    if not data.strip():
        raise FetchError(url, "the server sent an empty document")
    return Fetched(url, current, ctype, fmt, data, now())


# -- the cache -------------------------------------------------------------------------


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if needed) while the block runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def ensure_cache_dir(corpus_dir: Path) -> Path:
    """``CORPUS/.cache``, created with a ``.gitignore`` that keeps it out of git."""
    path = Path(corpus_dir) / CACHE_DIR
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# downloaded sources and locks: machine-local, never committed\n*\n", encoding="utf-8")
    return path


class FetchCache:
    """What was downloaded for a corpus: ``CORPUS/.cache``."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.dir = self.corpus_dir / CACHE_DIR
        self.index_path = self.dir / INDEX_FILE
        self._records = self._read()

    def _read(self) -> dict[str, dict]:
        """The records of ``fetch.json``. A file that cannot be parsed is moved aside, and
        records that are not records are dropped with a copy of the file kept aside: the
        next write must not silently lose what it held. Either is reported on stderr."""
        try:
            raw = self.index_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CorpusError(f"cannot read the fetch cache {self.index_path} ({exc}); check its permissions") from exc
        try:
            data = json.loads(raw.decode("utf-8"))
            urls = data["urls"] if isinstance(data, dict) else None
            if not isinstance(urls, dict):
                raise ValueError('no "urls" object')
        except (ValueError, KeyError) as exc:
            aside = self._set_aside(move=True)
            self._report(f"the fetch cache index {self.index_path} is unreadable ({exc}); it was moved to {aside} "
                         "and its downloads will be fetched again (run: verbatim fetch)")
            return {}
        records = {u: r for u, r in urls.items() if isinstance(r, dict) and isinstance(r.get("status"), str) and isinstance(r.get("url"), str)}
        if len(records) < len(urls):
            aside = self._set_aside(move=False)
            bad = sorted(set(urls) - set(records))
            self._report(f"{len(bad)} unreadable record(s) in the fetch cache index {self.index_path} were dropped "
                         f"({', '.join(bad[:3])}{'…' if len(bad) > 3 else ''}); the file as it was is kept in {aside}; "
                         f"the other {len(records)} record(s) are kept")
        return records

    def _set_aside(self, move: bool) -> Path:
        """Keep ``fetch.json`` as it is under another name; return that name."""
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        aside = self.index_path.with_name(f"{INDEX_FILE}.corrupt-{stamp}")
        try:
            if move:
                os.replace(self.index_path, aside)
            else:
                atomic_write(aside, self.index_path.read_bytes())
        except FileNotFoundError:  # another process set it aside first
            pass
        return aside

    @staticmethod
    def _report(message: str) -> None:
        print(f"verbatim: warning: {message}", file=sys.stderr)

    def record(self, url: str) -> dict | None:
        return self._records.get(normalise_url(url))

    def fetched(self, url: str) -> dict | None:
        """The record of a URL whose bytes are in the cache, or None."""
        rec = self.record(url)
        if rec and rec.get("status") == "fetched" and (self.corpus_dir / rec["file"]).is_file():
            return rec
        return None

    def records(self) -> dict[str, dict]:
        return dict(self._records)

    def _update(self, url: str, record: dict) -> None:
        ensure_cache_dir(self.corpus_dir)
        with locked(self.dir / "fetch.lock"):
            self._records = self._read()
            self._records[normalise_url(url)] = record
            body = json.dumps({"version": 1, "urls": self._records}, ensure_ascii=False, indent=1, sort_keys=True)
            atomic_write(self.index_path, body.encode("utf-8"))

    def store(self, fetched: Fetched) -> dict:
        digest = hashlib.sha256(fetched.data).hexdigest()
        rel = f"{CACHE_DIR}/fetched/{digest}{EXTENSION_OF[fetched.format]}"
        path = self.corpus_dir / rel
        if not path.is_file():
            atomic_write(path, fetched.data)
        record = {
            "status": "fetched",
            "url": fetched.url,
            "final_url": fetched.final_url,
            "fetched_at": fetched.fetched_at,
            "sha256": digest,
            "content_type": fetched.content_type,
            "format": fetched.format,
            "size": len(fetched.data),
            "file": rel,
        }
        self._update(fetched.url, record)
        return record

    def fail(self, url: str, reason: str) -> dict:
        previous = self.fetched(url)
        record = {"status": "failed", "url": url, "attempted_at": now(), "error": reason}
        if previous:  # a copy fetched before stays usable; note the failed refresh
            record = dict(previous, last_error=reason, attempted_at=record["attempted_at"])
        self._update(url, record)
        return record

    def fetch(self, url: str, **options) -> dict:
        """Fetch a URL into the cache; return its record (``status`` says how it went)."""
        try:
            return self.store(fetch_url(url, **options))
        except FetchError as exc:
            return self.fail(url, exc.reason)
