"""``verbatim calibrate``: fit the second stage and the answer decision on labelled questions.

Everything is chosen by cross-validation on the calibration questions alone:

1. The reranker is a logistic regression over :data:`chat.ranking.FEATURES`, one row per
   candidate passage, labelled by whether it holds the answer. Its regularisation is the
   one with the best out-of-fold Recall@1 (folds by question). Subsets of its signals are
   fitted the same way for the ablation table.
2. The decision is a logistic regression over the best passage's signals
   (:data:`chat.ranking.DECISION_FEATURES`), labelled by whether the passages shown hold
   the answer. It is fitted on out-of-fold rankings, so it learns from rankings like the
   ones it will meet on new questions.
3. The thresholds are read on out-of-fold probabilities: ``uncertain_at`` is the highest
   that refuses at most ``max_false_abstention`` of the answerable questions; ``answer_at``
   the lowest that gives a plain answer to at most ``max_unanswerable_answered`` of the
   unanswerable ones.

The frozen test split is never read for fitting: a calibration file whose questions
appear in it is refused, and its sha256 is recorded as excluded in the parameter file.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chat.answer import clean_question, detect_language
from chat.evaluate import Gold, gold_of, is_offtopic, read_questions
from chat.ranking import DECISION_FEATURES, FEATURES, Linear, Params, decision_features, features, question_info
from index.embed import Embedder
from index.settings import Settings
from index.store import Index

VARIANTS = {
    # What each signal adds, in the order of the ablation table.
    "dense + lexical": ("dense", "lexical", "lexical_cross", "rr_dense", "rr_lexical"),
    "+ sentences": ("dense", "lexical", "lexical_cross", "rr_dense", "rr_lexical", "sentence"),
    "+ coverage": ("dense", "lexical", "lexical_cross", "rr_dense", "rr_lexical", "sentence", "coverage"),
}
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
SEED = 7


@dataclass(frozen=True)
class Sample:
    """One calibration question: its candidates' features and labels."""

    x: np.ndarray  # candidates × FEATURES
    y: np.ndarray  # 1 where the candidate holds the answer
    keys: list[tuple[str, int, int | None]]  # (source, paragraph, page) of each candidate
    answerable: bool
    offtopic: bool
    q: object  # QuestionInfo


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _norm(q: str) -> str:
    return " ".join(q.lower().split())


def check_not_test(files: list[Path], test_file: Path | None) -> str | None:
    """The test split's sha256, after checking that no calibration question is in it."""
    if test_file is None or not Path(test_file).is_file():
        return None
    test_qs = {_norm(r["q"]) for r in read_questions(test_file)}
    for f in files:
        if Path(f).resolve() == Path(test_file).resolve():
            raise ValueError(f"{f} is the frozen test split: no parameter may be fitted on it; pass calibration files only")
        shared = [r["q"] for r in read_questions(f) if _norm(r["q"]) in test_qs]
        if shared:
            raise ValueError(f"{f} shares {len(shared)} question(s) with the test split {test_file} (e.g. {shared[0]!r}); remove them")
    return sha256_file(test_file)


def collect(rows: list[dict], index: Index, embedder: Embedder, settings: Settings, progress: Callable[[], None] | None = None) -> list[Sample]:
    """Candidates and features of every question, computed once."""
    out = []
    for r in rows:
        text, _ = clean_question(r["q"], settings, embedder)
        gold: Gold = gold_of(r, index)
        qvec = embedder.encode([text], query=True)[0]
        qi = question_info(text, index, same_language=detect_language(text) == index.language)
        found = index.candidates(text, qvec, max(50, 10 * settings.top_k), None, settings.ivf_nprobe)
        rows_ = found.rows
        x = features(index, found, rows_, qvec, qi) if rows_ else np.zeros((0, len(FEATURES)))
        chunks = [index.chunks[i] for i in rows_]
        y = np.array([gold.holds(c) for c in chunks], dtype=np.float64)
        keys = [(c.source_id, c.paragraph, c.page) for c in chunks]
        out.append(Sample(x, y, keys, bool(gold), is_offtopic(r["kind"]), qi))
        if progress:
            progress()
    return out


def _shown(sample: Sample, order: np.ndarray, k: int = 3) -> list[int]:
    """Positions of the passages an answer shows: one per paragraph, best first."""
    seen, keep = set(), []
    for i in order:
        if sample.keys[i] not in seen:
            seen.add(sample.keys[i])
            keep.append(int(i))
            if len(keep) == k:
                break
    return keep


def _fit_logistic(x: np.ndarray, y: np.ndarray, c: float, balanced: bool) -> tuple[np.ndarray, float]:
    """Weights and bias in the raw features' scale (standardised for fitting)."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)
    model.fit((x - mu) / sd, y)
    w = model.coef_[0] / sd
    return w, float(model.intercept_[0] - (model.coef_[0] * mu / sd).sum())


def _folds(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(SEED)
    return np.array_split(rng.permutation(n), FOLDS)


def _fit_rerank(samples: list[Sample], cols: list[int], c: float) -> tuple[np.ndarray, float]:
    train = [s for s in samples if len(s.y)]
    x = np.vstack([s.x[:, cols] for s in train])
    y = np.concatenate([s.y for s in train])
    return _fit_logistic(x, y, c, balanced=True)


def _recall1(samples: list[Sample], scores: list[np.ndarray]) -> float:
    hits = [bool(s.y[int(np.argmax(sc))]) for s, sc in zip(samples, scores) if s.answerable and len(sc)]
    n = sum(s.answerable for s in samples)
    return sum(hits) / n if n else 0.0


def oof_rerank(samples: list[Sample], names: tuple[str, ...]) -> tuple[float, list[np.ndarray], float]:
    """The regularisation with the best out-of-fold Recall@1; its out-of-fold scores and that recall."""
    cols = [FEATURES.index(n) for n in names]
    best: tuple[float, float, list[np.ndarray]] | None = None
    for c in C_GRID:
        scores: list[np.ndarray] = [np.zeros(0)] * len(samples)
        for fold in _folds(len(samples)):
            held = set(fold.tolist())
            w, b = _fit_rerank([s for i, s in enumerate(samples) if i not in held], cols, c)
            for i in fold:
                scores[i] = samples[i].x[:, cols] @ w + b if len(samples[i].y) else np.zeros(0)
        r1 = _recall1(samples, scores)
        if best is None or r1 > best[0] + 1e-9:
            best = (r1, c, scores)
    assert best is not None
    return best[1], best[2], best[0]


def _decision_rows(samples: list[Sample], scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    z, y = [], []
    for s, sc in zip(samples, scores):
        order = np.argsort(-sc, kind="stable") if len(sc) else np.zeros(0, dtype=int)
        z.append(decision_features(s.x[order], sc[order], s.q))
        shown = _shown(s, order)
        y.append(float(s.answerable and any(s.y[i] for i in shown)))
    return np.array(z), np.array(y)


def choose_thresholds(p: np.ndarray, samples: list[Sample], max_false_abstention: float, max_unanswerable_answered: float) -> tuple[float, float]:
    """``(uncertain_at, answer_at)`` read on out-of-fold probabilities (see the module's docstring)."""
    ans = np.sort(p[[s.answerable for s in samples]])
    un = np.sort(p[[not s.answerable for s in samples]])
    # uncertain_at: the highest value refusing at most the allowed share of answerable questions.
    allowed = int(np.floor(max_false_abstention * len(ans)))
    uncertain_at = float(ans[allowed]) if len(ans) > allowed else 1.0
    # answer_at: the lowest value answering at most the allowed share of unanswerable ones.
    k = int(np.floor(max_unanswerable_answered * len(un)))
    answer_at = float(un[len(un) - k - 1]) + 1e-6 if len(un) > k else 0.0
    answer_at = min(max(answer_at, uncertain_at), 1.0)
    return uncertain_at, answer_at


def calibrate(
    files: list[Path],
    index: Index,
    embedder: Embedder,
    settings: Settings,
    test_file: Path | None = None,
    max_false_abstention: float = 0.03,
    max_unanswerable_answered: float = 0.10,
    progress: Callable[[], None] | None = None,
) -> tuple[Params, dict]:
    """Fitted parameters and a report of the cross-validation behind them."""
    test_sha = check_not_test(files, test_file)
    rows = [r for f in files for r in read_questions(f)]
    samples = collect(rows, index, embedder, settings, progress)
    report: dict = {"questions": len(rows), "answerable": sum(s.answerable for s in samples), "variants": {}}
    variants: dict[str, Linear] = {}
    for name, names in [*VARIANTS.items(), ("full", FEATURES)]:
        c, oof, r1 = oof_rerank(samples, names)
        w, b = _fit_rerank(samples, [FEATURES.index(n) for n in names], c)
        variants[name] = Linear(dict(zip(names, map(float, w))), b)
        report["variants"][name] = {"C": c, "oof_recall@1": round(r1, 4)}
        if name == "full":
            full_oof = oof
    rerank = variants.pop("full")
    z, y = _decision_rows(samples, full_oof)
    best_c, best_ll, oof_p = None, np.inf, np.zeros(len(y))
    for c in C_GRID:
        p = np.zeros(len(y))
        for fold in _folds(len(y)):
            mask = np.ones(len(y), bool)
            mask[fold] = False
            w, b = _fit_logistic(z[mask], y[mask], c, balanced=False)
            p[fold] = 1.0 / (1.0 + np.exp(-np.clip(z[fold] @ w + b, -30, 30)))
        ll = -np.mean(y * np.log(np.clip(p, 1e-9, 1)) + (1 - y) * np.log(np.clip(1 - p, 1e-9, 1)))
        if ll < best_ll:
            best_c, best_ll, oof_p = c, ll, p
    w, b = _fit_logistic(z, y, best_c, balanced=False)
    decision = Linear(dict(zip(DECISION_FEATURES, map(float, w))), b)
    uncertain_at, answer_at = choose_thresholds(oof_p, samples, max_false_abstention, max_unanswerable_answered)
    ans = np.array([s.answerable for s in samples])
    off = np.array([s.offtopic for s in samples])
    report["decision"] = {
        "C": best_c,
        "oof_log_loss": round(float(best_ll), 4),
        "oof_false_abstention": round(float((oof_p[ans] < uncertain_at).mean()), 4) if ans.any() else None,
        "oof_ontopic_not_answered": round(float((oof_p[~ans & ~off] < answer_at).mean()), 4) if (~ans & ~off).any() else None,
        "oof_offtopic_not_answered": round(float((oof_p[~ans & off] < answer_at).mean()), 4) if (~ans & off).any() else None,
    }
    fitted_on = {
        "files": [{"path": str(f), "sha256": sha256_file(f), "questions": len(read_questions(f))} for f in files],
        "excluded_test_split_sha256": test_sha,
        "targets": {"max_false_abstention": max_false_abstention, "max_unanswerable_answered": max_unanswerable_answered},
        "cross_validation": report,
    }
    params = Params(rerank, decision, answer_at, uncertain_at, variants, fitted_on)
    return params, report
