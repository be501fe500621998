"""Whether the quotes answer: a calibrated probability and three states (answer, uncertain, none).

The last step of the flow ``candidates → fusion → quote choice → decision``. A few signals
of the best passages (how far they stand above the corpus background, their margin over
the next one, whether both retrieval sides agree on the best one, whether a question that
asks for a number or a date gets one) are mixed by a logistic model into the probability
that the quotes answer. ``verbatim calibrate`` fits that model and its two thresholds by
cross-validation on calibration questions only; the frozen test splits are refused and
their sha256 recorded, so a test can prove no parameter was chosen on them. A second model
over the same signals gates off-topic questions (``Decision.topic_at``).

Why a probability instead of a fixed bonus for reusing the corpus's words: a paraphrase
reuses none of them and an on-topic question the corpus does not answer reuses many, so
the bonus pushed both the wrong way. Here word reuse is one signal among others, with the
weight that held-out folds give it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.files import atomic_write

PARAMS_FILE = Path(__file__).with_name("decision.json")
LEVELS = ("answer", "uncertain", "none")
SIGNAL_PASSAGES = 3  # the signals read the first three passages, whatever top_k is

SIGNALS = (
    "lift",  # cosine of the best passage or sentence minus cosine to the corpus mean
    "best_lift",  # the same, best of the passages shown
    "margin",  # lift of the first passage minus the second's
    "cosine",  # raw cosine of the first passage
    "agree",  # 1 when the first passage is also first on the dense side and in BM25's top 3
    "known",  # share of the question's analysed words that the corpus has (0.5 across languages)
    "type_gap",  # 1 when the question asks for a number or a date and no quote holds one
    "other_language",  # 1 when the question is not in the corpus's language
    "word_match",  # word-vector match of the first passage (index/wordvectors.py; 0.5 unless French)
    "latent_cover",  # how much of the question's latent vector the first passage holds (index/latent.py; 0.5 without)
    "asked_part",  # 1 when the question asks for the first passage's part by name ("Quelles rubriques… ?")
)

_ASKS_NUMBER = re.compile(
    r"\b(combien|quel(?:le)?s? (?:est |était |a été )?(?:le |la )?(?:nombre|budget|montant|co[uû]t|prix|taux|pourcentage|chiffre|date|ann[ée]e)|"
    r"en quelle ann[ée]e|quand|à quelle date|how many|how much|what (?:year|date|number|budget|amount)|when)\b",
    re.IGNORECASE,
)


# A figure or a date as a text writes it: digits, number words ("quatre mille deux cents"), months.
_HOLDS_NUMBER = re.compile(
    r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingts?|trente|quarante|"
    r"cinquante|soixante|cents?|mille|millions?|milliards?|moitié|tiers|quart|dizaines?|centaines?|milliers?|"
    r"janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    r"two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|thousand|million|half)\b",
    re.IGNORECASE,
)


def holds_number(text: str) -> bool:
    """True when a text holds a figure or a date: digits, number words or a month."""
    return bool(_HOLDS_NUMBER.search(text))


def asks_for_number(question: str) -> bool:
    """True when the question asks for a figure or a date ("combien", "quel budget", "when")."""
    return bool(_ASKS_NUMBER.search(question))


@dataclass(frozen=True)
class Decision:
    """A fitted decision: logistic weights over standardised :data:`SIGNALS` and two thresholds.

    ``answer_at``: from this probability on, the quotes are given as an answer;
    ``uncertain_at``: from this one, they are shown as an uncertain answer; below, none.
    ``fitted_on`` maps each calibration file to its sha256; ``test_splits`` each frozen test
    split (refused as input) to its sha256 at fitting time.

    A second logistic model over the same standardised signals (``topic_weights``,
    ``topic_bias``) gives the probability that the question is on the corpus's topics at
    all; below ``topic_at`` there is no answer, whatever the first model says, so that a
    question on cooking is refused rather than shown quotes marked uncertain.
    """

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    answer_at: float
    uncertain_at: float
    signals: tuple[str, ...] = SIGNALS
    fitted_on: tuple[tuple[str, str], ...] = ()
    test_splits: tuple[tuple[str, str], ...] = ()
    report: str = "{}"  # the cross-validated figures, as JSON
    topic_weights: tuple[float, ...] = ()  # empty: no topic gate
    topic_bias: float = 0.0
    topic_at: float = 0.0

    def __post_init__(self) -> None:
        if self.signals != SIGNALS:
            raise ValueError(f"decision parameters were fitted on signals {list(self.signals)}, this version computes {list(SIGNALS)}: "
                             "run `verbatim calibrate` again")
        if not 0.0 <= self.uncertain_at <= self.answer_at <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 ≤ uncertain_at ≤ answer_at ≤ 1 (got {self.uncertain_at}, {self.answer_at})")
        if len(self.topic_weights) not in (0, len(SIGNALS)) or not 0.0 <= self.topic_at <= 1.0:
            raise ValueError(f"the topic gate needs {len(SIGNALS)} weights and 0 ≤ topic_at ≤ 1 "
                             f"(got {len(self.topic_weights)} weights, topic_at {self.topic_at}): run `verbatim calibrate` again")

    def probability(self, x: np.ndarray) -> np.ndarray:
        """The probability that the quotes answer, for each row of signals ``x``."""
        return logistic(np.atleast_2d(x), self.weights, self.bias, self.mean, self.scale)

    def topic_probability(self, x: np.ndarray) -> np.ndarray:
        """The probability that each question of signals ``x`` is on the corpus's topics (1 without a gate)."""
        if not self.topic_weights:
            return np.ones(len(np.atleast_2d(x)))
        return logistic(np.atleast_2d(x), self.topic_weights, self.topic_bias, self.mean, self.scale)

    def level(self, probability: float, answer_at: float | None = None, topic: float = 1.0) -> str:
        """``"answer"``, ``"uncertain"`` or ``"none"``; ``answer_at`` overrides the fitted
        threshold (``min_confidence``); ``topic`` (the topic probability) below ``topic_at``
        means none, whatever the threshold: an override moves how sure an answer must be,
        not which questions are off the corpus's topics."""
        hi = self.answer_at if answer_at is None else answer_at
        if topic < self.topic_at:
            return "none"
        if probability >= hi:
            return "answer"
        return "uncertain" if probability >= min(self.uncertain_at, hi) else "none"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fitted_on"] = dict(self.fitted_on)
        d["test_splits"] = dict(self.test_splits)
        d["report"] = json.loads(self.report)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Decision:
        return cls(
            weights=tuple(d["weights"]), bias=float(d["bias"]), mean=tuple(d["mean"]), scale=tuple(d["scale"]),
            answer_at=float(d["answer_at"]), uncertain_at=float(d["uncertain_at"]), signals=tuple(d["signals"]),
            fitted_on=tuple(sorted(d.get("fitted_on", {}).items())), test_splits=tuple(sorted(d.get("test_splits", {}).items())),
            report=json.dumps(d.get("report", {}), ensure_ascii=False, sort_keys=True),
            topic_weights=tuple(d.get("topic_weights", ())), topic_bias=float(d.get("topic_bias", 0.0)),
            topic_at=float(d.get("topic_at", 0.0)),
        )

    def save(self, path: Path) -> None:
        """Write the parameters as JSON, atomically."""
        atomic_write(path, (json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


@lru_cache(maxsize=4)
def load_decision(path: Path = PARAMS_FILE) -> Decision:
    """The decision parameters shipped with Verbatim (``chat/decision.json``)."""
    try:
        return Decision.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise RuntimeError(f"no decision parameters at {path}: run `verbatim calibrate` to fit them") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"the decision parameters at {path} are unreadable ({exc}): run `verbatim calibrate` again") from exc


def logistic(x: np.ndarray, weights: Sequence[float] | np.ndarray, bias: float, mean: Sequence[float] | np.ndarray,
             scale: Sequence[float] | np.ndarray) -> np.ndarray:
    """The probability of a logistic model for each row of signals ``x``, standardised by
    ``mean`` and ``scale`` (what :func:`fit_logistic` returns)."""
    z = (x - np.asarray(mean)) / np.asarray(scale)
    return 1.0 / (1.0 + np.exp(-(z @ np.asarray(weights) + bias)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """L2-regularised logistic regression by Newton's method on standardised signals.

    Returns (weights, bias, mean, scale). A few hundred questions and eight signals: Newton
    converges in a handful of steps, and needs no library beyond NumPy.
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1]), mean, scale


def folds(n: int, k: int, strata: list[str], seed: int = 0) -> list[np.ndarray]:
    """``k`` folds of ``range(n)``, stratified by ``strata`` and shuffled with ``seed``."""
    rng = np.random.default_rng(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for s in sorted(set(strata)):
        members = [i for i in range(n) if strata[i] == s]
        rng.shuffle(members)
        for i in members:
            out[turn % k].append(i)
            turn += 1
    return [np.array(sorted(f)) for f in out]


def thresholds(p: np.ndarray, answerable: np.ndarray, ontopic: np.ndarray, max_false_abstention: float,
               max_ontopic_answered: float, max_offtopic_answered: float) -> tuple[float, float]:
    """(answer_at, uncertain_at) from out-of-fold probabilities.

    ``uncertain_at`` is the highest threshold that leaves at most ``max_false_abstention`` of
    the answerable questions with no quote; ``answer_at`` the lowest that answers at most the
    given shares of on-topic and off-topic unanswerable questions.
    """
    pa = np.sort(p[answerable])
    cut = int(np.floor(max_false_abstention * len(pa) + 1e-9))  # a share given as k / n reads k
    uncertain_at = float(pa[cut]) if len(pa) else 0.5
    return answer_threshold(p, answerable, ontopic, uncertain_at, max_ontopic_answered, max_offtopic_answered), uncertain_at


def answer_threshold(p: np.ndarray, answerable: np.ndarray, ontopic: np.ndarray, uncertain_at: float,
                     max_ontopic_answered: float, max_offtopic_answered: float) -> float:
    """The lowest ``answer_at`` from ``uncertain_at`` on that answers at most the given
    shares of the on-topic and off-topic unanswerable questions."""
    on, off = p[~answerable & ontopic], p[~answerable & ~ontopic]
    for t in np.unique(np.concatenate([p, [1.0]])):
        if t < uncertain_at:
            continue
        if (np.mean(on >= t) if len(on) else 0.0) <= max_ontopic_answered and (np.mean(off >= t) if len(off) else 0.0) <= max_offtopic_answered:
            return float(t)
    return 1.0


def wilson_upper(k: int, n: int, z: float = 1.96) -> float:
    """The upper end of the Wilson score interval (95 % by default) on a share of ``k`` in ``n``."""
    if not 0 <= k <= n or n == 0:
        raise ValueError(f"a share needs 0 ≤ k ≤ n and n > 0 (got k={k}, n={n})")
    share = k / n
    centre = share + z * z / (2 * n)
    spread = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return float((centre + spread) / (1 + z * z / n))
