"""The index a running server answers from, followed on disk.

``verbatim add``, ``remove`` and ``fetch`` write a new index version and swap the index
path (a symbolic link) to it in one rename. The server compares the link's target with
the one it loaded before each question, and loads the new version when it changed: the
next question sees the new corpus, without a restart. A version that cannot be read
(half-written, or removed under the reader) is tried again at the next question; the
loaded one keeps answering meanwhile.
"""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from chat.matcher import SourceMatcher
from index.store import Index, IndexLoadError


class LiveIndex:
    """An index, reloaded when the version its path points to changes."""

    def __init__(self, index: Index, path: Path | None = None, corpus: Path | None = None) -> None:
        self._index = index
        self.path = Path(path) if path else None
        self.corpus = Path(corpus) if corpus else None
        self._target = self._resolve()
        self._lock = threading.Lock()
        self.version = 0  # how many times a new version was loaded
        self.rows_cache: tuple[object, list[dict]] | None = None  # corpus_rows, per index version and manifest
        self._matcher: tuple[Index, SourceMatcher] | None = None  # the quote matcher of one loaded index
        self._matcher_lock = threading.Lock()

    def _resolve(self) -> str | None:
        return os.path.realpath(self.path) if self.path else None

    def current(self) -> Index:
        """The index to answer from: the loaded one, or the new version on disk."""
        if self.path is None:
            return self._index
        target = self._resolve()
        if target == self._target:
            return self._index
        with self._lock:
            if target != self._target:
                try:
                    self._index = Index.load(self.path)
                    self._target = target
                    self.version += 1
                except IndexLoadError as exc:
                    print(f"verbatim: the new index at {self.path} cannot be read yet ({exc}); still answering from the previous one",
                          file=sys.stderr)
        return self._index

    def matcher(self, index: Index) -> SourceMatcher:
        """The quote matcher of ``index`` (what ``current()`` returned): built at the first
        check of each index version and kept until the next version is checked."""
        with self._matcher_lock:
            if self._matcher is None or self._matcher[0] is not index:
                self._matcher = (index, SourceMatcher.from_index(index))
            return self._matcher[1]


def corpus_rows(live: LiveIndex, settings) -> list[dict]:
    """Every source the page can tell about: ``{id, title, kind, chunks, state}``.

    With the corpus folder known, the manifest's states (indexed, waiting to be fetched,
    failed…) from ``index.incremental.source_states``; otherwise the index's own sources.
    """
    index = live.current()
    if live.corpus is not None and live.path is not None:
        from index.incremental import source_states
        from ingest.load import CorpusError

        # Reading the states hashes the sources: once per index version and manifest edit, not per question.
        try:
            key = (live.version, (live.corpus / "sources.toml").stat().st_mtime_ns)
        except OSError:
            key = (live.version, None)
        if live.rows_cache is not None and live.rows_cache[0] == key:
            return live.rows_cache[1]
        try:
            rows = source_states(live.corpus, live.path, settings)
            live.rows_cache = (key, rows)
            return rows
        except (CorpusError, OSError, ValueError):
            pass  # the manifest is being edited: the index alone still tells what it holds
    counts: dict[str, int] = {}
    for c in index.chunks:
        counts[c.source_id] = counts.get(c.source_id, 0) + 1
    return [{"id": s.id, "title": s.title, "kind": s.kind, "chunks": counts.get(s.id, 0), "state": "indexed"} for s in index.sources.values()]
