"""The one settings object, passed explicitly from the command line down."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.chunk import ChunkSettings

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
    fusion: str = "rrf"
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # answer
    top_k: int = 3
    min_confidence: float = 0.80  # below it, "the corpus does not answer"
    max_question_chars: int = 2000

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K} (got {self.top_k})")
        if self.fusion not in ("rrf", "dense", "lexical"):
            raise ValueError(f"fusion must be one of rrf, dense, lexical (got {self.fusion!r})")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k must be at least 1 (got {self.rrf_k})")

    def index_params(self) -> dict:
        """The parameters an index depends on, as stored in ``meta.json``."""
        return {
            "chunking": asdict(self.chunking),
            "section_context": self.section_context,
        }

    def search_params(self) -> dict:
        return {
            "fusion": self.fusion,
            "rrf_k": self.rrf_k,
            "dense_weight": self.dense_weight,
            "lexical_weight": self.lexical_weight,
            "min_confidence": self.min_confidence,
        }
