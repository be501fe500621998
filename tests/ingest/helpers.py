"""Helpers for the ingest and incremental-index tests: corpora in a temp folder, a local web server."""
from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import tomlkit

from index.settings import Settings
from tests.conftest import CORPUS, FakeEmbedder


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it embeds."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.texts: list[str] = []

    def encode(self, texts, *, query: bool = False) -> np.ndarray:
        if not query:
            self.texts.extend(texts)
        return super().encode(texts, query=query)


def fake_settings(tmp_path: Path) -> Settings:
    model = tmp_path / "fake-model"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text("{}")
    return Settings(model_dir=model)


def copy_corpus(tmp_path: Path, name: str = "corpus") -> Path:
    dest = tmp_path / name
    shutil.copytree(CORPUS, dest, ignore=shutil.ignore_patterns(".index*", ".cache"))
    return dest


def make_corpus(tmp_path: Path, files: dict[str, bytes | str], entries: list[dict], name: str = "corpus") -> Path:
    """A corpus folder with these files and a manifest listing ``entries``."""
    dest = tmp_path / name
    dest.mkdir()
    for fname, data in files.items():
        (dest / fname).write_bytes(data.encode() if isinstance(data, str) else data)
    (dest / "sources.toml").write_text("# test corpus\n" + tomlkit.dumps({"source": entries}), encoding="utf-8")
    return dest


Route = tuple[int, dict[str, str], bytes] | Callable[[BaseHTTPRequestHandler], None]


@contextlib.contextmanager
def local_server(routes: dict[str, Route]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving ``routes`` (path -> (status, headers, body) or a handler)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            route = routes.get(self.path)
            if route is None:
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"not found")
                return
            if callable(route):
                route(self)
                return
            status, headers, body = route
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def slow(seconds: float, body: bytes = b"<html><body><p>late</p></body></html>") -> Callable:
    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

    return handler


def endless(chunk: bytes = b"x" * 65536, limit: int = 64) -> Callable:
    """A response with no Content-Length that goes on (``limit`` chunks at most)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(limit):
                h.wfile.write(chunk)

    return handler
