"""``verbatim eval``: retrieval quality and the answer decision on a labelled question file.

A question file has one JSON object per line: ``q`` (the question), ``gold`` and ``kind``.
``gold`` lists what answers: ``{"source": ID, "paragraph": N}`` or ``{"source": ID,
"page": P}`` items, or bare paragraph numbers of the corpus's interview (the older form);
``[]`` when the corpus does not answer. A passage is right when its (source, paragraph)
or (source, page) is in ``gold``. Figures come with 95 % bootstrap intervals.

Kinds ``unanswerable-ontopic`` and ``unanswerable-offtopic`` (``unanswerable`` counts as
off-topic) have an empty gold; every other kind is answerable.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from chat.answer import Answer, answer_embedded, clean_question
from chat.decision import load_decision
from ingest.errors import VerbatimError
from index.embed import Embedder
from index.settings import Settings
from index.store import Index

# Each mode is a way of ordering candidates; "fused" is Verbatim as configured.
BASELINES = {
    "dense": {"fusion": "dense"},
    "lexical": {"fusion": "lexical"},
    # A plain hybrid: BM25 and the same dense model joined by reciprocal rank fusion (k = 60).
    "rrf": {"fusion": "rrf", "rrf_k": 60, "dense_weight": 1.0, "lexical_weight": 1.0, "cross_language_lexical_weight": 1.0,
            "frame_weight": 1.0},
}
MODES = ("fused", *BASELINES)
BOOTSTRAP = 2000


@dataclass(frozen=True)
class Gold:
    """Where the answer to a question stands: (source, paragraph) or (source, page) pairs."""

    paragraphs: frozenset[tuple[str, int]]
    pages: frozenset[tuple[str, int]]

    def __bool__(self) -> bool:
        return bool(self.paragraphs or self.pages)

    def holds(self, chunk) -> bool:
        return (chunk.source_id, chunk.paragraph) in self.paragraphs or (
            chunk.page is not None and (chunk.source_id, chunk.page) in self.pages
        )


class QuestionFileError(VerbatimError, ValueError):
    """A question file that cannot be read as questions."""


def read_questions(path: Path) -> list[dict]:
    """Questions of a question file; a malformed line is an error naming the line."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row.get("q"), str) or not isinstance(row.get("gold"), list):
                raise ValueError("needs a string 'q' and a list 'gold'")
            for g in row["gold"]:
                if not (isinstance(g, int) or (isinstance(g, dict) and "source" in g and ("paragraph" in g or "page" in g))):
                    raise ValueError(f"a gold item is a paragraph number or {{\"source\", \"paragraph\"|\"page\"}} (got {g!r})")
        except (ValueError, AttributeError) as exc:
            raise QuestionFileError(f"line {n} of {path} is not a question ({exc}); expected {{\"q\": …, \"gold\": [..], \"kind\": …}}") from exc
        row.setdefault("kind", "unanswerable" if not row["gold"] else "fact")
        rows.append(row)
    if not rows:
        raise QuestionFileError(f"{path} holds no question")
    return rows


def default_source(index: Index) -> str:
    """The source bare paragraph numbers refer to: the corpus's interview (else its first source)."""
    return next((s.id for s in index.sources.values() if s.kind == "interview"), next(iter(index.sources), ""))


def gold_of(row: dict, index: Index) -> Gold:
    """The gold of a question as (source, paragraph) and (source, page) pairs."""
    paragraphs, pages = set(), set()
    for g in row["gold"]:
        if isinstance(g, int):
            paragraphs.add((default_source(index), g))
        elif "paragraph" in g:
            paragraphs.add((g["source"], int(g["paragraph"])))
        else:
            pages.add((g["source"], int(g["page"])))
    return Gold(frozenset(paragraphs), frozenset(pages))


def is_offtopic(kind: str) -> bool:
    return kind in ("unanswerable", "unanswerable-offtopic")


def first_right(a: Answer, gold: Gold) -> int | None:
    """Rank (0-based) of the first passage that holds the answer, or None."""
    return next((i for i, p in enumerate(a.passages) if gold.holds(p.chunk)), None)


def _interval(values: np.ndarray, rng: np.random.Generator) -> list[float] | None:
    """95 % percentile bootstrap interval of the mean."""
    if len(values) == 0:
        return None
    means = values[rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))].mean(axis=1)
    return [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]


def _rate(flags: list[bool], rng: np.random.Generator) -> dict | None:
    if not flags:
        return None
    v = np.array(flags, dtype=np.float64)
    return {"value": round(float(v.mean()), 4), "ci95": _interval(v, rng), "n": len(flags)}


def metrics(rows: list[dict], golds: list[Gold], answers: list[Answer], seed: int = 0) -> dict:
    """Ranking and decision figures, each with its 95 % bootstrap interval and count."""
    rng = np.random.default_rng(seed)
    ranks = [first_right(a, g) for g, a in zip(golds, answers) if g]
    answerable = [a for g, a in zip(golds, answers) if g]
    ontopic = [a for r, g, a in zip(rows, golds, answers) if not g and not is_offtopic(r["kind"])]
    offtopic = [a for r, g, a in zip(rows, golds, answers) if not g and is_offtopic(r["kind"])]
    mrr = np.array([1.0 / (r + 1) if r is not None else 0.0 for r in ranks])
    return {
        "answerable": len(answerable),
        "unanswerable_ontopic": len(ontopic),
        "unanswerable_offtopic": len(offtopic),
        "recall@1": _rate([r == 0 for r in ranks], rng),
        "recall@3": _rate([r is not None and r < 3 for r in ranks], rng),
        "mrr": {"value": round(float(mrr.mean()), 4), "ci95": _interval(mrr, rng), "n": len(mrr)} if len(mrr) else None,
        "false_abstention": _rate([a.level == "none" for a in answerable], rng),
        "answered_answerable": _rate([a.level == "answer" for a in answerable], rng),
        "ontopic_not_answered": _rate([a.level != "answer" for a in ontopic], rng),
        "offtopic_not_answered": _rate([a.level != "answer" for a in offtopic], rng),
        "offtopic_none": _rate([a.level == "none" for a in offtopic], rng),
    }


def reliability(golds: list[Gold], answers: list[Answer], bins: int = 5) -> list[dict]:
    """Predicted confidence against how often the passages shown held the answer, by bin."""
    pairs = [(a.confidence, bool(g) and first_right(a, g) is not None) for g, a in zip(golds, answers)]
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = [(p, y) for p, y in pairs if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        if inside:
            out.append({
                "bin": [round(float(lo), 2), round(float(hi), 2)],
                "n": len(inside),
                "mean_confidence": round(float(np.mean([p for p, _ in inside])), 3),
                "observed": round(float(np.mean([y for _, y in inside])), 3),
            })
    return out


@dataclass(frozen=True)
class Asked:
    """A question as searched: cleaned, with the notice cleaning gave, and embedded."""

    text: str
    notice: str | None
    vector: np.ndarray


def ask_all(rows: list[dict], embedder: Embedder, settings: Settings) -> list[Asked]:
    """Each question cleaned and embedded once: every mode, and every backend compared, reads
    the same vector (one question at a time, as ``answer`` embeds it)."""
    out = []
    for r in rows:
        text, notice = clean_question(r["q"], settings, embedder)
        out.append(Asked(text, notice, embedder.encode([text], query=True)[0]))
    return out


def evaluate(
    rows: list[dict],
    index: Index,
    embedder: Embedder,
    settings: Settings,
    modes=MODES,
    progress: Callable[[], None] | None = None,
    asked: list[Asked] | None = None,
) -> dict:
    """Figures for Verbatim ("fused") and each baseline, per kind, with the questions it got wrong.

    Every mode shares the same calibrated decision; the baselines differ only in how the
    candidates are ordered, so their rows make the ranking's ablation. ``asked`` gives the
    questions already embedded (:func:`ask_all`); by default they are embedded here, once.
    """
    if asked is None:
        asked = ask_all(rows, embedder, settings)
    if len(asked) != len(rows):
        raise ValueError(f"asked must hold one embedded question per row (got {len(asked)} for {len(rows)})")
    golds = [gold_of(r, index) for r in rows]
    base = replace(settings, top_k=max(settings.top_k, 3))
    runs = {mode: base if mode == "fused" else replace(base, **BASELINES[mode]) for mode in modes}
    report: dict = {"questions": len(rows), "settings": base.search_params(), "modes": {}}
    answers_of: dict[str, list[Answer]] = {}
    for mode, s in runs.items():
        answers = []
        for q in asked:
            answers.append(answer_embedded(q.text, q.notice, q.vector, index, s))
            if progress:
                progress()
        answers_of[mode] = answers
        by_kind: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            by_kind[r["kind"]].append(i)
        report["modes"][mode] = {
            "all": metrics(rows, golds, answers),
            "by_kind": {k: metrics([rows[i] for i in ix], [golds[i] for i in ix], [answers[i] for i in ix]) for k, ix in sorted(by_kind.items())},
        }
    fused = answers_of.get("fused")
    if fused:
        decision = load_decision()
        report["thresholds"] = {"answer_at": round(settings.min_confidence if settings.min_confidence is not None else decision.answer_at, 4),
                                "uncertain_at": round(decision.uncertain_at, 4)}
        report["reliability"] = reliability(golds, fused)
        report["levels"] = {lvl: sum(a.level == lvl for a in fused) for lvl in ("answer", "uncertain", "none")}
        report["wrong"] = [
            {
                "q": r["q"], "kind": r["kind"], "gold": r["gold"], "level": a.level, "confidence": round(a.confidence, 4),
                "got": _where(a.passages[0].chunk) if a.passages else None,
                "got_quote": a.passages[0].quote[:160] if a.passages else None,
            }
            for r, g, a in zip(rows, golds, fused)
            if (g and (a.level == "none" or first_right(a, g) != 0)) or (not g and a.level == "answer")
        ]
    return report


def _where(chunk) -> str:
    return f"{chunk.source_id} " + (f"p. {chunk.page}" if chunk.page else f"§ {chunk.paragraph}")


def _fmt(m: dict | None, pct: bool = False) -> str:
    if not m:
        return "-"
    v, ci = m["value"], m["ci95"]
    if pct:
        return f"{100 * v:.1f} % [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}]"
    return f"{v:.3f} [{ci[0]:.2f}–{ci[1]:.2f}]"


def format_report(report: dict) -> str:
    """A plain table for a terminal."""
    lines = [f"{report['questions']} questions" + (f" from {report['file']}" if report.get("file") else "")]
    lines.append(f"{'mode':34} {'R@1':>20} {'R@3':>20} {'MRR':>20}")
    for mode, m in report["modes"].items():
        a = m["all"]
        lines.append(f"{mode:34} {_fmt(a['recall@1']):>20} {_fmt(a['recall@3']):>20} {_fmt(a['mrr']):>20}")
    fused = report["modes"].get("fused")
    if fused:
        a = fused["all"]
        lines += [
            "",
            "decision (fused):",
            f"  false abstention (answerable → none)        {_fmt(a['false_abstention'], True)}",
            f"  answered (answerable → answer)              {_fmt(a['answered_answerable'], True)}",
            f"  on-topic unanswerable not answered          {_fmt(a['ontopic_not_answered'], True)}",
            f"  off-topic not answered                      {_fmt(a['offtopic_not_answered'], True)}",
            f"  off-topic refused (none)                    {_fmt(a['offtopic_none'], True)}",
            f"  levels: {report['levels']}  thresholds: {report['thresholds']}",
            "",
            "fused, by kind:",
        ]
        for kind, k in fused["by_kind"].items():
            if k["answerable"]:
                lines.append(f"  {kind:24} n={k['answerable']:3}  R@1 {_fmt(k['recall@1'])}  R@3 {_fmt(k['recall@3'])}  false-abst {_fmt(k['false_abstention'], True)}")
            else:
                lines.append(f"  {kind:24} n={k['unanswerable_ontopic'] + k['unanswerable_offtopic']:3}  not answered {_fmt(k['ontopic_not_answered'] or k['offtopic_not_answered'], True)}")
        lines += ["", "reliability (fused): confidence bin → mean confidence / observed share whose passages hold the answer"]
        for b in report["reliability"]:
            lines.append(f"  {b['bin'][0]:.1f}–{b['bin'][1]:.1f}  n={b['n']:3}  {b['mean_confidence']:.2f} / {b['observed']:.2f}")
    if report.get("wrong"):
        lines += ["", f"wrong ({len(report['wrong'])}):"]
        for w in report["wrong"]:
            lines.append(f"  [{w['kind']}] {w['q']}  gold={w['gold']} got={w['got']} level={w['level']} conf={w['confidence']}")
            if w["got_quote"]:
                lines.append(f"      « {w['got_quote']} »")
    return "\n".join(lines)
