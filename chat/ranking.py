"""The second stage and the decision: a learned reranker and a calibrated answer estimate.

In the flow ``candidates → fusion → rerank → quote choice → decision`` this module holds
what comes after fusion. Every candidate passage is described by a few signals (how far
its passage and its best sentence stand above the corpus background, BM25, how much of
the question's vocabulary it covers, the ranks each side gave it, whether it is a part
of the document's structure, whether it holds the kind of thing the question asks for,
whether it names the person asked about). A linear model over them orders the
candidates; a logistic model over the best candidate's signals estimates the
probability that the corpus answers, and two thresholds turn it into three states:
``answer``, ``uncertain`` (quotes shown, marked as such) and ``none``.

The weights and thresholds are fitted by ``verbatim calibrate`` on labelled questions
(cross-validated; never on the frozen test split) and shipped in ``chat/params.json``.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.fusion import Candidates
from index.lexical import analyze
from index.store import Index

PARAMS_FILE = Path(__file__).with_name("params.json")

FEATURES = (
    "dense",  # cos(question, passage) − cos(question, corpus centroid)
    "sentence",  # best cos(question, sentence) − background
    "lexical",  # BM25 / best BM25 of the candidates (question in the corpus's language)
    "lexical_cross",  # the same, for a question in another language
    "coverage",  # IDF-weighted share of the question's terms the passage holds (same language)
    "rr_dense",  # 1 / (1 + rank on the dense side)
    "rr_lexical",  # 1 / (1 + rank on the lexical side)
    "structure",  # the passage is a question, closing, caption or comment header
    "structure_intent",  # … and the question asks about the document's structure
    "type_match",  # the question asks for a number/date/person and the passage has one
    "person_match",  # the passage says or reports a person the question names
)
DECISION_FEATURES = ("score", "margin", "dense", "sentence", "coverage", "lexical", "known", "cross", "type_match")
STRUCTURE_PARTS = frozenset({"question", "closing", "caption", "comment-header"})
LEVELS = ("answer", "uncertain", "none")

_STRUCTURE_WORDS = re.compile(
    r"\b(?:question|questions|intervieweur|interviewer|introduction|introdui\w*|conclu\w*|termin\w*|fin de l|"
    r"remerci\w*|merci|thank\w*|photo\w*|cr[ée]dit\w*|image|commentaire\w*|comment|lecteur\w*|lectrice\w*|reader\w*|"
    r"lien|link|titre|title|intitul\w*|closing|ends?|header|en-t[êe]te)\b",
    re.I,
)
_ASKS = {
    "number": re.compile(r"\b(?:combien|quel(?:le)?s? (?:nombre|part|pourcentage|proportion|montant|somme|chiffre)|how (?:many|much)|what (?:number|percentage|share|amount))\b", re.I),
    "date": re.compile(r"\b(?:quand|depuis quand|en quelle ann[ée]e|quelle ann[ée]e|[àa] quelle date|quelle date|when|what year|which year|what date|since when)\b", re.I),
    "person": re.compile(r"(?:^|\b)(?:qui|par qui|avec qui|[àa] qui|who|whom|quelle personne|which person)\b", re.I),
}
_NUMBER = re.compile(
    r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|vingt|trente|quarante|cinquante|soixante|cent|cents|mille|million|millions|milliard|milliards)\b",
    re.I,
)
_DATE = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b",
    re.I,
)
_NAME = re.compile(r"[A-ZÀ-ÖØ-Ý][a-zà-öø-ÿ’'-]+\s+(?:(?:de|du|le|la)\s+)?[A-ZÀ-ÖØ-Ý][\wà-öø-ÿ’'-]+")


def fold(text: str) -> str:
    """Lower case without accents: how names are compared."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@dataclass(frozen=True)
class QuestionInfo:
    """What the stages after fusion need to know about a question."""

    text: str
    folded: str
    terms: tuple[str, ...]  # analysed, each once
    same_language: bool
    asks: str | None  # number, date, person, or None
    about_structure: bool
    known: float  # share of the terms the corpus has (same language only; else 1.0)


def question_info(text: str, index: Index, same_language: bool) -> QuestionInfo:
    """Analyse a question once for every later stage."""
    terms = tuple(dict.fromkeys(analyze(text)))
    asks = next((kind for kind, pattern in _ASKS.items() if pattern.search(text)), None)
    known = sum(index.lexical.knows(t) for t in terms) / len(terms) if terms and same_language else 1.0
    return QuestionInfo(text, fold(text), terms, same_language, asks, bool(_STRUCTURE_WORDS.search(text)), known)


def _has(kind: str | None, text: str, chunk) -> bool:
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "person":
        return bool(chunk.reported) or bool(_NAME.search(text))
    return False


def _names(chunk) -> list[str]:
    people = [chunk.speaker, *(getattr(p, "name", str(p).split(",", 1)[0]) for p in chunk.reported)]
    people += [getattr(p, "name", str(p)) for p in getattr(chunk, "mentioned", ())]
    return [p for p in people if p]


def _names_match(q: QuestionInfo, chunk) -> bool:
    for name in _names(chunk):
        # The last name is enough ("Que fait Roux ?"); short particles are not names.
        words = [w for w in re.findall(r"[\w-]+", fold(name)) if len(w) > 2]
        if words and re.search(rf"\b{re.escape(words[-1])}\b", q.folded):
            return True
    return False


def features(index: Index, found: Candidates, rows: list[int], qvec: np.ndarray, q: QuestionInfo) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate row."""
    background = float(qvec @ index.centroid)
    best_lex = max(found.lexical.values(), default=0.0) or 1.0
    dense_rank = {r: i for i, r in enumerate(found.dense)}
    lexical_rank = {r: i for i, r in enumerate(found.lexical)}
    idf = {t: index.lexical.idf(t) for t in q.terms} if q.same_language else {}
    total_idf = sum(idf.values()) or 1.0
    holds: dict[int, float] = {}
    for t, w in idf.items():
        for r in index.lexical.postings(t):
            holds[int(r)] = holds.get(int(r), 0.0) + w
    out = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
    for i, r in enumerate(rows):
        chunk = index.chunks[r]
        sims = index.sentence_vectors_of(r) @ qvec
        lex = found.lexical.get(r, 0.0) / best_lex
        structure = getattr(chunk, "part", None) in STRUCTURE_PARTS
        out[i] = (
            found.cosine[r] - background,
            (float(sims.max()) if len(sims) else found.cosine[r]) - background,
            lex if q.same_language else 0.0,
            0.0 if q.same_language else lex,
            holds.get(r, 0.0) / total_idf,
            1.0 / (1 + dense_rank[r]) if r in dense_rank else 0.0,
            1.0 / (1 + lexical_rank[r]) if r in lexical_rank else 0.0,
            float(structure),
            float(structure and q.about_structure),
            float(_has(q.asks, chunk.text, chunk)),
            float(_names_match(q, chunk)),
        )
    return out


@dataclass(frozen=True)
class Linear:
    """A linear scorer over named features: ``bias + Σ weight × feature``."""

    weights: dict[str, float]
    bias: float = 0.0

    def score(self, names: tuple[str, ...], x: np.ndarray) -> np.ndarray:
        w = np.array([self.weights.get(n, 0.0) for n in names])
        return x @ w + self.bias

    def to_dict(self) -> dict:
        return {"weights": {k: round(v, 6) for k, v in self.weights.items()}, "bias": round(self.bias, 6)}

    @classmethod
    def from_dict(cls, d: dict) -> Linear:
        return cls({k: float(v) for k, v in d["weights"].items()}, float(d.get("bias", 0.0)))


@dataclass(frozen=True)
class Params:
    """Fitted weights and thresholds, with a record of what they were fitted on."""

    rerank: Linear
    decision: Linear
    answer_at: float  # probability from which the best passage is given as the answer
    uncertain_at: float  # below it, the corpus does not answer
    variants: dict[str, Linear] = field(default_factory=dict)  # rerankers of the ablation
    fitted_on: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.uncertain_at <= self.answer_at <= 1.0:
            raise ValueError(
                f"thresholds must satisfy 0 <= uncertain_at <= answer_at <= 1 (got {self.uncertain_at}, {self.answer_at}); "
                "refit them with: verbatim calibrate"
            )

    def level(self, probability: float) -> str:
        if probability >= self.answer_at:
            return "answer"
        return "uncertain" if probability >= self.uncertain_at else "none"

    def to_dict(self) -> dict:
        return {
            "rerank": self.rerank.to_dict(),
            "decision": self.decision.to_dict(),
            "answer_at": round(self.answer_at, 6),
            "uncertain_at": round(self.uncertain_at, 6),
            "variants": {k: v.to_dict() for k, v in self.variants.items()},
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Params:
        return cls(
            Linear.from_dict(d["rerank"]),
            Linear.from_dict(d["decision"]),
            float(d["answer_at"]),
            float(d["uncertain_at"]),
            {k: Linear.from_dict(v) for k, v in d.get("variants", {}).items()},
            d.get("fitted_on", {}),
        )

    @classmethod
    def load(cls, path: Path = PARAMS_FILE) -> Params:
        """Read a parameter file; a missing or malformed one is an error that says how to refit."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot read the ranking parameters at {path} ({exc}); refit them with: verbatim calibrate") from exc

    def save(self, path: Path) -> None:
        from ingest.fetch import atomic_write  # one atomic write for every file Verbatim replaces

        atomic_write(Path(path), (json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def decision_features(x: np.ndarray, scores: np.ndarray, q: QuestionInfo) -> np.ndarray:
    """The signals of the decision, from the candidates' features in reranked order."""
    col = {n: i for i, n in enumerate(FEATURES)}
    if not len(scores):
        return np.zeros(len(DECISION_FEATURES))
    top = x[0]
    margin = float(scores[0] - scores[1]) if len(scores) > 1 else float(scores[0])
    return np.array([
        float(scores[0]),
        margin,
        top[col["dense"]],
        top[col["sentence"]],
        top[col["coverage"]],
        top[col["lexical"]] + top[col["lexical_cross"]],
        q.known,
        0.0 if q.same_language else 1.0,
        top[col["type_match"]],
    ])


def probability(decision: Linear, z: np.ndarray) -> float:
    """The logistic model's estimate that the best passage answers."""
    s = float(decision.score(DECISION_FEATURES, z.reshape(1, -1))[0])
    return float(1.0 / (1.0 + np.exp(-np.clip(s, -30, 30))))
