"""``verbatim eval``: retrieval quality and the answer decision on a labelled question file.

A question file has one JSON object per line: ``q`` (the question), ``gold`` and ``kind``.
``gold`` lists what answers: ``{"source": ID, "paragraph": N}`` or ``{"source": ID,
"page": P}`` items, or bare paragraph numbers of the corpus's interview (the older form);
``[]`` when the corpus does not answer. A passage is right when its (source, paragraph)
or (source, page) is in ``gold``. Figures come with 95 % bootstrap intervals.

Kinds ``unanswerable-ontopic`` and ``unanswerable-offtopic`` (``unanswerable`` counts as
off-topic) have an empty gold; every other kind is answerable.

An evidence file beside it (``X.evidence.jsonl`` for ``X.jsonl``) scores the quote as well:
one ``{"q", "evidence": [excerpt, …]}`` per question, each excerpt copied exactly from a gold
paragraph. The first quote *shows the answer* when its passage is right and it holds at least
half of one excerpt.
"""
from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from chat.answer import Answer, Passage, answer_embedded, clean_question
from chat.decision import load_decision
from ingest.errors import VerbatimError
from index.embed import Embedder
from index.report import IngestReport, NotInSourceError, SourceRecord, SourceSpan, page_span, paragraph_span
from index.settings import Settings
from index.store import Index, ProgressFn

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


def evidence_path(path: Path) -> Path:
    """Where the evidence of a question file stands: ``X.evidence.jsonl`` beside ``X.jsonl``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.evidence.jsonl")


def read_evidence(path: Path) -> dict[str, tuple[str, ...]]:
    """Each question's excerpts that answer it, by question text; a malformed line is an
    error naming the line."""
    out: dict[str, tuple[str, ...]] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ev = row.get("evidence")
            if not isinstance(row.get("q"), str) or not isinstance(ev, list) or not ev or not all(isinstance(e, str) and e for e in ev):
                raise ValueError("needs a string 'q' and a non-empty list of excerpts 'evidence'")
        except (ValueError, AttributeError) as exc:
            raise QuestionFileError(f"line {n} of {path} is not evidence ({exc}); expected {{\"q\": …, \"evidence\": [\"…\"]}}") from exc
        out[row["q"]] = tuple(ev)
    return out


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


Span = tuple[str, int, int]  # (source id, start, end) of an excerpt in its source's text


def evidence_spans(row: dict, excerpts: tuple[str, ...], gold: Gold, index: Index,
                   records: Mapping[str, SourceRecord]) -> tuple[Span, ...]:
    """Where each excerpt stands in the question's gold paragraphs or pages (``records``: the
    index's ingest records, which place them in their text); an excerpt found in none of them
    is an error (the evidence no longer matches the corpus)."""
    where: list[SourceSpan] = []
    for sid, n in sorted(gold.paragraphs):
        if sid in index.texts:
            with contextlib.suppress(NotInSourceError):
                where.append(paragraph_span(sid, index.texts[sid], records.get(sid), n))
    for sid, n in sorted(gold.pages):
        if sid in index.texts:
            with contextlib.suppress(NotInSourceError):
                where.append(page_span(sid, index.texts[sid], records.get(sid), index.sources[sid].kind, n))
    found: list[Span] = []
    for ex in excerpts:
        hits = []
        for w in where:
            text = index.texts[w.source_id]
            i = text.find(ex, w.start, w.end)
            while i >= 0:
                hits.append((w.source_id, i, i + len(ex)))
                i = text.find(ex, i + 1, w.end)
        if not hits:
            raise QuestionFileError(f"the evidence {ex[:60]!r} of {row['q']!r} is in none of its gold paragraphs; "
                                    "copy it again from the text, character for character")
        found += hits
    return tuple(dict.fromkeys(found))


def shows(passage: Passage, spans: tuple[Span, ...], share: float = 0.5) -> bool:
    """Whether a quote holds at least ``share`` of one excerpt."""
    return any(sid == passage.chunk.source_id and min(passage.end, e) - max(passage.start, s) >= share * (e - s)
               for sid, s, e in spans)


def quote_f1(passage: Passage, spans: tuple[Span, ...]) -> float:
    """The best harmonic mean, over the excerpts, of the share of the quote that is excerpt and
    the share of the excerpt that is quoted (in characters): a long quote that holds the answer
    scores less than the answer alone."""
    best = 0.0
    for sid, s, e in spans:
        overlap = min(passage.end, e) - max(passage.start, s)
        if sid == passage.chunk.source_id and overlap > 0:
            p, r = overlap / (passage.end - passage.start), overlap / (e - s)
            best = max(best, 2 * p * r / (p + r))
    return best


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


def metrics(rows: list[dict], golds: list[Gold], answers: list[Answer], seed: int = 0,
            evidence: list[tuple[Span, ...]] | None = None) -> dict:
    """Ranking and decision figures, each with its 95 % bootstrap interval and count; with
    ``evidence`` (each question's excerpt spans, empty when it has none), the quote's too."""
    rng = np.random.default_rng(seed)
    ranks = [first_right(a, g) for g, a in zip(golds, answers) if g]
    answerable = [a for g, a in zip(golds, answers) if g]
    ontopic = [a for r, g, a in zip(rows, golds, answers) if not g and not is_offtopic(r["kind"])]
    offtopic = [a for r, g, a in zip(rows, golds, answers) if not g and is_offtopic(r["kind"])]
    mrr = np.array([1.0 / (r + 1) if r is not None else 0.0 for r in ranks])
    quoted = {}
    if evidence is not None:
        # the first passage, when it is right: its quote is what the reader sees first
        firsts = [(a.passages[0] if a.passages and first_right(a, g) == 0 else None, ev)
                  for g, a, ev in zip(golds, answers, evidence) if g and ev]
        f1 = np.array([quote_f1(p, ev) if p is not None else 0.0 for p, ev in firsts])
        quoted = {
            "quote_shows_answer": _rate([p is not None and shows(p, ev) for p, ev in firsts], rng),
            "quote_shows_answer_when_right": _rate([shows(p, ev) for p, ev in firsts if p is not None], rng),
            "quote_f1": {"value": round(float(f1.mean()), 4), "ci95": _interval(f1, rng), "n": len(f1)} if len(f1) else None,
            "quote_chars": round(float(np.mean([p.end - p.start for p, _ in firsts if p is not None])), 1)
            if any(p is not None for p, _ in firsts) else None,
        }
    return quoted | {
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
    progress: ProgressFn | None = None,
    asked: list[Asked] | None = None,
    evidence: dict[str, tuple[str, ...]] | None = None,
) -> dict:
    """Figures for Verbatim ("fused") and each baseline, per kind, with the questions it got wrong.

    Every mode shares the same calibrated decision; the baselines differ only in how the
    candidates are ordered, so their rows make the ranking's ablation. ``asked`` gives the
    questions already embedded (:func:`ask_all`); by default they are embedded here, once.
    ``evidence`` (:func:`read_evidence`) adds how often the first quote shows the answer.
    """
    if asked is None:
        asked = ask_all(rows, embedder, settings)
    if len(asked) != len(rows):
        raise ValueError(f"asked must hold one embedded question per row (got {len(asked)} for {len(rows)})")
    golds = [gold_of(r, index) for r in rows]
    spans = None
    if evidence is not None:
        records = IngestReport.of(index.meta).sources
        spans = [evidence_spans(r, evidence[r["q"]], g, index, records) if g and r["q"] in evidence else () for r, g in zip(rows, golds)]
    base = replace(settings, top_k=max(settings.top_k, 3))
    runs = {mode: base if mode == "fused" else replace(base, **BASELINES[mode]) for mode in modes}
    report: dict = {"questions": len(rows), "settings": base.search_params(), "modes": {}}
    answers_of: dict[str, list[Answer]] = {}
    for mode, s in runs.items():
        answers = []
        for q in asked:
            answers.append(answer_embedded(q.text, q.notice, q.vector, index, s))
            if progress:
                progress(len(answers_of) * len(asked) + len(answers), len(runs) * len(asked))
        answers_of[mode] = answers
        by_kind: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            by_kind[r["kind"]].append(i)
        report["modes"][mode] = {
            "all": metrics(rows, golds, answers, evidence=spans),
            "by_kind": {k: metrics([rows[i] for i in ix], [golds[i] for i in ix], [answers[i] for i in ix],
                                   evidence=[spans[i] for i in ix] if spans is not None else None)
                        for k, ix in sorted(by_kind.items())},
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
        ]
        if a.get("quote_shows_answer"):
            lines += [
                "",
                "quotes (fused), scored on the evidence:",
                f"  first quote shows the answer                {_fmt(a['quote_shows_answer'], True)}",
                f"  … when its passage is right                 {_fmt(a['quote_shows_answer_when_right'], True)}",
                f"  quote F1 against the evidence               {_fmt(a['quote_f1'])}   mean quote {a['quote_chars']} characters",
            ]
        lines += ["", "fused, by kind:"]
        for kind, k in fused["by_kind"].items():
            if k["answerable"]:
                shown = f"  quote shows {_fmt(k['quote_shows_answer'], True)}" if k.get("quote_shows_answer") else ""
                lines.append(f"  {kind:24} n={k['answerable']:3}  R@1 {_fmt(k['recall@1'])}  R@3 {_fmt(k['recall@3'])}  false-abst {_fmt(k['false_abstention'], True)}{shown}")
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
