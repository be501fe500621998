"""A search structure over every source text, built once per index, that finds where a
quote's words come from: word for word, with words changed, or from several places.

Each source is cut into words (``chat.quotetext``: typography between words, case and
Unicode forms folded in the word keys); every run of three consecutive words is posted
in a dictionary. A quote's three-word runs find the places that share them; hits on the
same diagonal (source position − quote position) join into *runs*, stretches the quote
shares word for word with a source. A run covering the whole quote is an exact
occurrence; otherwise the few best windows are aligned word by word (difflib) to give
the differences. Every place found is a range of source words, so it maps back to an
exact slice of the source text through the words' original offsets.
"""
from __future__ import annotations

import bisect
import difflib
from collections import defaultdict
from dataclasses import dataclass

from chat.quotetext import key, word_spans
from ingest.model import Chunk

N = 3  # words in a posted run
MAX_POSTINGS = 2000  # a run of words met more often than this says nothing about where a quote is from
SLACK = 3  # extra source words on each side of an alignment window


@dataclass(frozen=True)
class Run:
    """Quote words ``q0:q1`` equal source words ``p0:p1`` (global word numbers), in order."""

    q0: int
    q1: int
    p0: int
    p1: int


@dataclass(frozen=True)
class Alignment:
    """The best word-by-word alignment of quote words with one stretch of a source.

    ``ops`` are difflib opcodes over quote words ``0:len`` and global source words;
    ``p0:p1`` is the source stretch (its first and last aligned words).
    """

    p0: int
    p1: int
    matched: int
    similarity: float
    ops: tuple[tuple[str, int, int, int, int], ...]


class SourceMatcher:
    """Every word of every source of an index, with its offsets, posted by three-word runs."""

    def __init__(
        self,
        texts: dict[str, str],
        chunks: list[Chunk],
        paragraphs: dict[str, list[tuple[int, int, int, int | None]]] | None = None,
        source_records: dict[str, dict] | None = None,
    ) -> None:
        self.texts = texts
        self.source_records = source_records or {}
        self.source_ids: list[str] = []
        self.bounds: list[int] = []  # global number of each source's first word
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.keys: list[str] = []
        self.grams: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.words: dict[str, list[int]] = defaultdict(list)
        for sid, text in texts.items():
            base = len(self.keys)
            self.source_ids.append(sid)
            self.bounds.append(base)
            for s, e in word_spans(text):
                self.starts.append(s)
                self.ends.append(e)
                self.keys.append(key(text[s:e]))
            for p in range(base, len(self.keys)):
                self.words[self.keys[p]].append(p)
                if p + N <= len(self.keys):
                    self.grams[tuple(self.keys[p : p + N])].append(p)
        self.bounds.append(len(self.keys))
        self.grams = dict(self.grams)
        self.words = dict(self.words)
        # Passages by source, in order, to say who speaks at an offset.
        self._chunks: dict[str, list[Chunk]] = defaultdict(list)
        for c in chunks:
            self._chunks[c.source_id].append(c)
        for lst in self._chunks.values():
            lst.sort(key=lambda c: c.start)
        self._chunk_starts = {sid: [c.start for c in lst] for sid, lst in self._chunks.items()}
        self._paragraphs = paragraphs or {}

    @classmethod
    def from_index(cls, index) -> SourceMatcher:
        """The matcher of an :class:`index.store.Index` (build it once, reuse it for every check)."""
        from chat.answer import source_record
        from index.report import IngestReport

        paragraphs = {sid: list(s.paragraphs) for sid, s in IngestReport.of(index.meta).sources.items()}
        return cls(index.texts, index.chunks, paragraphs, {sid: source_record(index, sid) for sid in index.sources})

    # -- words ------------------------------------------------------------------------
    def source_of(self, p: int) -> int:
        """The number of the source holding global word ``p``."""
        return bisect.bisect_right(self.bounds, p) - 1

    def span(self, p0: int, p1: int) -> tuple[str, int, int]:
        """``(source id, start, end)`` of source words ``p0:p1`` (one source)."""
        return self.source_ids[self.source_of(p0)], self.starts[p0], self.ends[p1 - 1]

    def same_paragraph(self, p0: int, p1: int) -> bool:
        """True when words ``p0`` and ``p1`` are in one source and one paragraph (line)."""
        i = self.source_of(p0)
        if i != self.source_of(p1):
            return False
        a, b = sorted((p0, p1))
        return "\n" not in self.texts[self.source_ids[i]][self.starts[a] : self.ends[b]]

    # -- finding ------------------------------------------------------------------------
    def runs(self, keys: list[str]) -> list[Run]:
        """Maximal stretches the quote shares word for word with a source (at least
        ``min(3, len(keys))`` words), longest first."""
        m = len(keys)
        n = min(N, m)
        if n == 0:
            return []
        hits: dict[int, list[int]] = defaultdict(list)
        for qi in range(m - n + 1):
            gram = tuple(keys[qi : qi + n])
            posts = self._postings(gram)
            if len(posts) > MAX_POSTINGS:
                continue
            for p in posts:
                hits[p - qi].append(qi)
        out = []
        for d, qis in hits.items():
            a = prev = qis[0]
            for qi in qis[1:]:
                if qi != prev + 1:
                    out.append(Run(a, prev + n, d + a, d + prev + n))
                    a = qi
                prev = qi
            out.append(Run(a, prev + n, d + a, d + prev + n))
        out.sort(key=lambda r: (-(r.q1 - r.q0), r.p0))
        return out

    def _postings(self, gram: tuple[str, ...]) -> list[int]:
        if len(gram) == N:
            return self.grams.get(gram, [])
        first = self.words.get(gram[0], [])
        if len(gram) == 1:
            return first
        # Quotes shorter than N words: follow the first word's postings.
        return [p for p in first if self.source_of(p + len(gram) - 1) == self.source_of(p)
                and self.keys[p : p + len(gram)] == list(gram)]

    def align(self, keys: list[str], runs: list[Run], tries: int = 3) -> Alignment | None:
        """The best word-by-word alignment of the quote with the ``tries`` windows that
        share the most words with it, or None without any shared run."""
        m = len(keys)
        windows: list[list[int]] = []  # [lo, hi, shared words]
        for r in runs:
            i = self.source_of(r.p0)
            lo = max(self.bounds[i], r.p0 - r.q0 - SLACK)
            hi = min(self.bounds[i + 1], r.p1 + (m - r.q1) + SLACK)
            for w in windows:
                if lo < w[1] and w[0] < hi and self.source_of(w[0]) == i:
                    w[0], w[1], w[2] = min(w[0], lo), max(w[1], hi), w[2] + r.q1 - r.q0
                    break
            else:
                windows.append([lo, hi, r.q1 - r.q0])
        best: Alignment | None = None
        for lo, hi, _ in sorted(windows, key=lambda w: -w[2])[:tries]:
            a = self._align_window(keys, lo, hi)
            if a is not None and (best is None or a.similarity > best.similarity):
                best = a
        return best

    def _align_window(self, keys: list[str], lo: int, hi: int) -> Alignment | None:
        sm = difflib.SequenceMatcher(None, keys, self.keys[lo:hi], autojunk=False)
        ops = [(tag, i1, i2, j1 + lo, j2 + lo) for tag, i1, i2, j1, j2 in sm.get_opcodes()]
        # Source words outside the quote's reach are the window's slack, not differences.
        while ops and ops[0][0] == "insert":
            ops.pop(0)
        while ops and ops[-1][0] == "insert":
            ops.pop()
        if not any(op[0] == "equal" for op in ops):
            return None
        # An edge word changed: keep as many source words as the quote has there.
        tag, i1, i2, j1, j2 = ops[0]
        if tag == "replace" and j2 - j1 > i2 - i1:
            ops[0] = (tag, i1, i2, j2 - (i2 - i1), j2)
        tag, i1, i2, j1, j2 = ops[-1]
        if tag == "replace" and j2 - j1 > i2 - i1:
            ops[-1] = (tag, i1, i2, j1, j1 + (i2 - i1))
        p0 = min(j1 for *_, j1, j2 in ops if j2 > j1)
        p1 = max(j2 for *_, j1, j2 in ops if j2 > j1)
        matched = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal")
        similarity = matched / max(len(keys), p1 - p0)
        return Alignment(p0, p1, matched, similarity, tuple(ops))

    # -- who speaks -----------------------------------------------------------------------
    def passages_at(self, source_id: str, start: int, end: int) -> list[Chunk]:
        """The passages of a source that overlap ``start:end``, in order."""
        lst = self._chunks.get(source_id, [])
        i = max(bisect.bisect_right(self._chunk_starts.get(source_id, []), start) - 1, 0)
        out = []
        for c in lst[i:]:
            if c.start >= end:
                break
            if c.end > start:
                out.append(c)
        return out

    def paragraph_passages(self, source_id: str, paragraph: int | None, page: int | None) -> list[Chunk]:
        """The passages of one paragraph (or, without paragraphs, one page) of a source."""
        if paragraph is None and page is None:
            return []
        return [c for c in self._chunks.get(source_id, []) if (c.paragraph, c.page) == (paragraph, page)]

    def paragraph_at(self, source_id: str, offset: int) -> tuple[int | None, int | None]:
        """``(paragraph, page)`` at an offset of a source, from its ingest record."""
        for n, s, e, page in self._paragraphs.get(source_id, []):
            if s <= offset < e:
                return n, page
        text = self.texts[source_id]
        return text.count("\n", 0, offset) + 1, None
