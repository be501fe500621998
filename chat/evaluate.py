"""``verbatim eval``: retrieval quality and abstention on a labelled question file.

A question file has one JSON object per line: ``q`` (the question), ``gold`` (what
answers it, ``[]`` when the corpus does not) and ``kind``. A gold item is a paragraph
number (a corpus of one document, as ``corpus/dev_questions.jsonl``) or
``{"source", "paragraph"}`` / ``{"source", "page"}`` (``tests/data/heldout/``). A passage
is right when it matches a gold item.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from chat.answer import Answer, answer
from ingest.errors import VerbatimError
from index.embed import Embedder
from index.settings import Settings
from index.store import Index
from ingest.model import Chunk

MODES = ("fused", "dense", "lexical")


class QuestionFileError(VerbatimError, ValueError):
    """A question file that cannot be read as questions."""


def read_questions(path: Path) -> list[dict]:
    """Questions of a dev-set file; a malformed line is an error naming the line."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row.get("q"), str) or not isinstance(row.get("gold"), list):
                raise ValueError("needs a string 'q' and a list 'gold'")
        except (ValueError, AttributeError) as exc:
            raise QuestionFileError(f"line {n} of {path} is not a question ({exc}); expected {{\"q\": …, \"gold\": [..], \"kind\": …}}") from exc
        row.setdefault("kind", "unanswerable" if not row["gold"] else "fact")
        rows.append(row)
    if not rows:
        raise QuestionFileError(f"{path} holds no question")
    return rows


def is_right(chunk: Chunk, gold: list) -> bool:
    """Whether a passage matches a gold item: its paragraph number, or its source and its
    paragraph or page."""
    for g in gold:
        if isinstance(g, dict):
            if g.get("source") == chunk.source_id and (
                ("paragraph" in g and g["paragraph"] == chunk.paragraph) or ("page" in g and g["page"] == chunk.page)
            ):
                return True
        elif g == chunk.paragraph:
            return True
    return False


def _metrics(rows: list[dict], answers: list[Answer], threshold: float | None = None) -> dict:
    def answered(a: Answer) -> bool:
        return a.answered if threshold is None else (bool(a.passages) and a.confidence >= threshold)

    ans_rows = [(r, a) for r, a in zip(rows, answers) if r["gold"]]
    un_rows = [(r, a) for r, a in zip(rows, answers) if not r["gold"]]
    r1 = r3 = mrr = 0.0
    for r, a in ans_rows:
        ranks = [i for i, p in enumerate(a.passages) if is_right(p.chunk, r["gold"])]
        r1 += bool(ranks and ranks[0] == 0)
        r3 += bool(ranks and ranks[0] < 3)
        mrr += 1.0 / (ranks[0] + 1) if ranks else 0.0
    n = max(len(ans_rows), 1)
    return {
        "answerable": len(ans_rows),
        "unanswerable": len(un_rows),
        "recall@1": r1 / n,
        "recall@3": r3 / n,
        "mrr": mrr / n,
        "abstention_rate": sum(not answered(a) for _, a in un_rows) / len(un_rows) if un_rows else None,
        "false_abstention_rate": sum(not answered(a) for _, a in ans_rows) / n if ans_rows else None,
    }


def evaluate(rows: list[dict], index: Index, embedder: Embedder, settings: Settings, modes=MODES, progress=None) -> dict:
    """Figures for each retrieval mode, per kind, with the questions the fused mode got wrong."""
    report: dict = {"settings": settings.search_params() | {"top_k": max(settings.top_k, 3)}, "modes": {}}
    fused_answers: list[Answer] = []
    for mode in modes:
        s = replace(settings, fusion=settings.fusion if mode == "fused" else mode, top_k=max(settings.top_k, 3))
        answers = []
        for r in rows:
            answers.append(answer(r["q"], index, embedder, s))
            if progress:
                progress()
        by_kind: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            by_kind[r["kind"]].append(i)
        report["modes"][mode] = {
            "all": _metrics(rows, answers),
            "by_kind": {k: _metrics([rows[i] for i in ix], [answers[i] for i in ix]) for k, ix in sorted(by_kind.items())},
        }
        if mode == "fused":
            fused_answers = answers
    if fused_answers:
        wrong = []
        for r, a in zip(rows, fused_answers):
            top = a.passages[0].chunk.paragraph if a.passages else None
            ok = (a.answered and is_right(a.passages[0].chunk, r["gold"])) if r["gold"] else not a.answered
            if not ok:
                wrong.append({
                    "q": r["q"], "kind": r["kind"], "gold": r["gold"], "answered": a.answered,
                    "confidence": round(a.confidence, 4), "got_paragraph": top,
                    "got_quote": a.passages[0].quote[:160] if a.passages else None,
                })
        report["wrong"] = wrong
        thresholds = sorted({round(settings.min_confidence + d, 3) for d in (-0.04, -0.02, -0.01, 0.0, 0.01, 0.02, 0.04)})
        report["calibration"] = [
            {"threshold": t} | {k: v for k, v in _metrics(rows, fused_answers, t).items() if k.endswith("rate")}
            for t in thresholds
        ]
    return report


def format_report(report: dict) -> str:
    """A plain table for a terminal."""
    lines = [f"{'mode':8} {'R@1':>6} {'R@3':>6} {'MRR':>6} {'abstain':>8} {'false-abst':>10}"]
    for mode, m in report["modes"].items():
        a = m["all"]
        ab = "-" if a["abstention_rate"] is None else f"{a['abstention_rate']:.2f}"
        fa = "-" if a["false_abstention_rate"] is None else f"{a['false_abstention_rate']:.2f}"
        lines.append(f"{mode:8} {a['recall@1']:6.3f} {a['recall@3']:6.3f} {a['mrr']:6.3f} {ab:>8} {fa:>10}")
    fused = report["modes"].get("fused")
    if fused:
        lines.append("")
        lines.append("fused, by kind:")
        for kind, a in fused["by_kind"].items():
            if a["answerable"]:
                lines.append(f"  {kind:14} n={a['answerable']:3}  R@1 {a['recall@1']:.3f}  R@3 {a['recall@3']:.3f}  MRR {a['mrr']:.3f}  false-abst {a['false_abstention_rate']:.2f}")
            else:
                lines.append(f"  {kind:14} n={a['unanswerable']:3}  abstention {a['abstention_rate']:.2f}")
    if report.get("calibration"):
        lines.append("")
        lines.append("calibration (fused): threshold -> abstention on unanswerable / false abstention on answerable")
        for c in report["calibration"]:
            ab, fa = c["abstention_rate"], c["false_abstention_rate"]
            mark = "  <- min_confidence" if abs(c["threshold"] - report["settings"]["min_confidence"]) < 1e-9 else ""
            lines.append(f"  {c['threshold']:.3f}   {'-' if ab is None else f'{ab:.2f}':>5} / {'-' if fa is None else f'{fa:.2f}':>5}{mark}")
    if report.get("wrong"):
        lines.append("")
        lines.append(f"wrong ({len(report['wrong'])}):")
        for w in report["wrong"]:
            lines.append(f"  [{w['kind']}] {w['q']}  gold={w['gold']} got=§{w['got_paragraph']} answered={w['answered']} conf={w['confidence']}")
            if w["got_quote"]:
                lines.append(f"      « {w['got_quote']} »")
    return "\n".join(lines)
