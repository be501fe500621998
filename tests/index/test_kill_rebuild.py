"""A rebuild killed at any moment leaves the previous index loadable and complete.

A child process rebuilds the index of a corpus copy with the FakeEmbedder, slowed down
(a sleep per embedded text and per file checksummed, so that a kill lands in reading,
embedding and writing alike), and is SIGKILLed after a random delay. After each kill
the index on disk must load with its checksums verified, and be either the previous
index or the new one, whole: same passage count and corpus hash as one of them.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from index.store import Index
from tests.conftest import CORPUS, ROOT

KILLS = 24  # kills that land while the child is still running
MAX_TRIALS = 60

CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    import ingest.people
    # Attribution (spaCy) is not what is tested here and takes seconds to load per process.
    ingest.people.attribute = lambda paragraphs, exclude=(): list(paragraphs)
    import index.store
    from index.build import build_index
    from index.settings import Settings
    from tests.conftest import FakeEmbedder

    class Slow(FakeEmbedder):
        def encode(self, texts, *, query=False):
            time.sleep(0.004 * len(texts))
            return super().encode(texts, query=query)

    sha = index.store.file_sha256
    def slow_sha(path):
        time.sleep(0.03)
        return sha(path)
    index.store.file_sha256 = slow_sha
    save = index.store.Index.save
    def announced_save(self, path):
        print("saving", flush=True)
        return save(self, path)
    index.store.Index.save = announced_save

    corpus, idx, model = sys.argv[1:4]
    print("ready", flush=True)
    build_index(corpus, idx, Settings(model_dir=model), Slow(), quiet=True)
    print("done", flush=True)
    """
)


def _state(path: Path) -> tuple[int, str]:
    index = Index.load(path)  # verifies every checksum listed in meta.json
    for c in index.chunks[:: max(1, len(index.chunks) // 10)]:
        assert index.texts[c.source_id][c.start : c.end] == c.text
    assert index.vectors.ntotal == len(index.chunks) == index.meta["counts"]["chunks"]
    return len(index.chunks), index.meta["corpus_hash"]


@pytest.mark.slow
def test_a_rebuild_killed_at_random_moments_never_loses_the_index(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns(".index*"))
    interview = corpus / "contre-sommet-ia-interview.txt"
    interview.chmod(0o644)
    short = interview.read_text(encoding="utf-8")
    # The other version of the corpus has more passages: old and new indexes differ.
    extra = "\n".join(
        f"Une phrase ajoutée numéro {i} pour changer le corpus entre deux reconstructions. Elle a une suite." for i in range(12)
    )
    long = short.rstrip("\n") + "\n" + extra + "\n"
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    idx = tmp_path / "idx"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(ROOT)))

    def start() -> tuple[subprocess.Popen, float]:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(corpus), str(idx), str(model)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
        )
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        return proc, time.monotonic()

    def full_run(text: str) -> float:
        interview.write_text(text, encoding="utf-8")
        proc, t0 = start()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "done" in out, err
        return time.monotonic() - t0

    # Calibrate: how long a rebuild takes, each way; this also records both indexes.
    t_long = full_run(long)
    states = {"long": _state(idx)}
    t_short = full_run(short)
    states["short"] = _state(idx)
    duration = max(t_long, t_short)

    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    killed = completed = kept_old = got_new = in_save = 0
    current = "short"
    trial = 0
    while killed < KILLS and trial < MAX_TRIALS:
        trial += 1
        target = "long" if current == "short" else "short"
        interview.write_text(long if target == "long" else short, encoding="utf-8")
        before = _state(idx)
        assert before == states[current]
        proc, t0 = start()
        delay = rng.uniform(0, duration)
        while time.monotonic() - t0 < delay and proc.poll() is None:
            time.sleep(0.002)
        was_killed = proc.poll() is None
        if was_killed:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        else:
            completed += 1
        out, _ = proc.communicate(timeout=60)
        in_save += was_killed and "saving" in out
        after = _state(idx)  # loads, checksums verified: never a half-written index
        assert after in (states[current], states[target]), f"trial {trial} (seed {seed}): {after}"
        if after == states[target]:
            got_new += 1
            current = target
        else:
            kept_old += 1
    assert killed == KILLS, f"only {killed} kills landed in {trial} trials (seed {seed})"
    assert in_save >= 1, f"no kill landed while the index was being written (seed {seed})"
    assert kept_old and got_new, f"kills all landed on one side of the swap (seed {seed}): {kept_old} old, {got_new} new"
    # The counts of both versions differ, so "same count as before or as the new corpus" means something.
    assert states["short"][0] != states["long"][0]
    # A later build cleans the debris the kills left behind.
    full_run(long if current == "short" else short)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("idx.") and p.name not in (os.readlink(idx), "idx.lock"))
    assert leftovers == [], leftovers
    print(f"\n{trial} trials (seed {seed}): {killed} killed ({in_save} while writing the index), {completed} completed; "
          f"{kept_old} kept the previous index, {got_new} had the new one")


def test_concurrent_rebuilds_and_readers_never_fail(tmp_path):
    """Three writers save the same path while a reader loads it: no save fails, every load
    reads one whole version (saves take turns; a load follows a swap that happens under it)."""
    import threading

    from index.build import build_index
    from index.settings import Settings
    from tests.conftest import FakeEmbedder

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns(".index*"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    idx = tmp_path / "idx"
    index = build_index(corpus, idx, Settings(model_dir=model), FakeEmbedder(), quiet=True)
    n = len(index.chunks)
    errors: list[str] = []
    loads: list[int] = []

    def write() -> None:
        for _ in range(8):
            try:
                index.save(idx)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(f"save: {exc!r}")

    def read() -> None:
        for _ in range(25):
            try:
                loads.append(len(Index.load(idx).chunks))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"load: {exc!r}")

    threads = [threading.Thread(target=write) for _ in range(3)] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert loads == [n] * 25
    # A link left by a save killed before its swap is cleaned by the next save.
    os.symlink("idx.v-gone", tmp_path / "idx.link-20000101T000000-deadbeef")
    index.save(idx)
    versions = sorted(p.name for p in tmp_path.glob("idx.*") if p.name != "idx.lock")
    assert versions == [os.readlink(idx)]
