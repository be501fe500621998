"""The server code path of ``milvus_uri`` (``http://HOST:PORT``) against a real server process:
Milvus Lite serving its gRPC API on a TCP port of 127.0.0.1 (``milvus-lite server``), the same
protocol and client calls as a Milvus server."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from index.build import build_index, open_index
from index.milvus import MilvusIndex
from index.store import Filter
from ingest.manifest import add_entry
from tests.conftest import free_port
from tests.data import make_samples as samples
from tests.index.test_milvus import QUESTIONS, same_answers, same_ranking
from tests.ingest.helpers import CountingEmbedder, copy_corpus, fake_settings


def wait_for_port(process: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    """Return once ``port`` accepts connections; fail with the server's output if it exits
    or does not listen within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Milvus server exited with {process.returncode}: {process.stdout.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the Milvus server did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@pytest.fixture
def milvus_server(tmp_path):
    """A Milvus Lite server process listening on 127.0.0.1; yields its URL, stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "milvus-data"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for_port(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.slow
def test_build_and_ask_with_filters_on_a_milvus_server(milvus_server, tmp_path):
    corpus = copy_corpus(tmp_path)
    (corpus / "rapport.pdf").write_bytes(samples.report_pdf())
    add_entry(corpus, {"id": "rapport", "file": "rapport.pdf", "title": samples.REPORT_TITLE, "kind": "pdf"})
    local_settings = fake_settings(tmp_path)
    settings = replace(local_settings, backend="milvus", milvus_uri=milvus_server)
    emb = CountingEmbedder()
    index = build_index(corpus, tmp_path / "unused", settings, emb, quiet=True)
    local = build_index(corpus, tmp_path / "idx", local_settings, CountingEmbedder(), quiet=True)
    assert isinstance(index, MilvusIndex) and not (tmp_path / "unused").exists()
    assert (tmp_path / "milvus-data").is_dir()  # the server holds the data, not this process
    assert index.meta["counts"] == local.meta["counts"]
    # BM25's k1 and b reached the server: the scores are the local backend's.
    same_answers(local, index, emb, local_settings, settings)
    for where in (Filter(sources=frozenset({"rapport"})), Filter(people=frozenset({"Thierry Breton"}))):
        for q in QUESTIONS:
            qv = emb.encode([q], query=True)[0]
            got = index.search(q, qv, 10, settings, where)
            assert got and all(where.admits(h.chunk) for h in got), (where, q)
            assert same_ranking(got, local.search(q, qv, 10, local_settings, where)), (where, q)
        same_answers(local, index, emb, local_settings, settings, where)
    index.client.close()

    # A replica with no corpus opens the index on the server and answers the same.
    replica = open_index(tmp_path / "no-corpus", tmp_path / "unused", settings, emb, rebuild="never")
    assert isinstance(replica, MilvusIndex)
    same_answers(local, replica, emb, local_settings, settings, Filter(people=frozenset({"Thierry Breton"})))
    replica.client.close()
