"""Split questions.jsonl into calibration.jsonl and test.jsonl, once and for all.

    python tests/data/heldout/split.py        # (re)writes both files beside this script

The rule: questions are grouped by kind, and within a kind by where their answer is (the
interview, an added document, or nowhere for unanswerable questions). Each group is sorted
by id and shuffled with a fixed seed, then dealt alternately to calibration and test, the
alternation going on from one group to the next so that each kind is split in half (an odd
one out goes to calibration). A question's side depends only on the ids in its group and
the seed, never on the order of the lines.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HELDOUT = Path(__file__).resolve().parent
INTERVIEW_ID = "contre-sommet-ia-interview"
SEED = 20250207  # the day of the counter-summit


def _place(question: dict) -> str:
    """Where a question's answer is: "interview", "added" (any added document) or "none"."""
    sources = {g["source"] for g in question["gold"]}
    if not sources:
        return "none"
    return "interview" if sources == {INTERVIEW_ID} else "added"


def split_questions(questions: list[dict]) -> tuple[list[dict], list[dict]]:
    """(calibration, test), each sorted by id."""
    calibration: list[dict] = []
    test: list[dict] = []
    for kind in sorted({q["kind"] for q in questions}):
        dealt = 0
        for place in ("interview", "added", "none"):
            group = sorted((q for q in questions if q["kind"] == kind and _place(q) == place), key=lambda q: q["id"])
            random.Random(f"{SEED}:{kind}:{place}").shuffle(group)
            for q in group:
                (calibration if dealt % 2 == 0 else test).append(q)
                dealt += 1
    return sorted(calibration, key=lambda q: q["id"]), sorted(test, key=lambda q: q["id"])


def _write(path: Path, questions: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")


def main() -> int:
    with open(HELDOUT / "questions.jsonl", encoding="utf-8") as f:
        questions = [json.loads(line) for line in f if line.strip()]
    calibration, test = split_questions(questions)
    _write(HELDOUT / "calibration.jsonl", calibration)
    _write(HELDOUT / "test.jsonl", test)
    for name, part in (("calibration", calibration), ("test", test)):
        kinds: dict[str, int] = {}
        for q in part:
            kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
        print(f"{name}: {len(part)} questions", dict(sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
