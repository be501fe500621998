"""Check the held-out questions against the evaluation corpus, without any retrieval.

    python tests/data/heldout/check.py            # prints counts and every offender; exit 1 if any

Five question files are checked: questions.jsonl (split into calibration and test),
fresh.jsonl (a second test split, written later and never split), calibration_more.jsonl
(more calibration questions, all calibration), calibration_structure.jsonl (calibration
questions about the structure of documents) and fresh2.jsonl (a third test split, written
with them and frozen before anything ran on it).

What is checked: ids are unique and fields well formed; every gold source exists in the
evaluation corpus (tests/data/eval_corpus.py) and every gold paragraph or page exists in it;
each kind has its minimum number of questions; at least 45 questions are answered by the
added documents, and each added format answers some; and no `paraphrase` question shares an
analysed term (``index.lexical.analyze``: lower case, French stop words dropped, Snowball
stems, accents folded) with any of its gold paragraphs (for a page: the page's text).
Only the ingest code and the analyser are used: the questions never meet the index.
"""
from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from index.lexical import analyze  # noqa: E402
from ingest.load import load_document, read_manifest  # noqa: E402
from ingest.model import Document  # noqa: E402
from tests.data.eval_corpus import ADDED, write_eval_corpus  # noqa: E402

QUESTIONS = HERE / "questions.jsonl"
FRESH = HERE / "fresh.jsonl"
MORE = HERE / "calibration_more.jsonl"
STRUCTURE = HERE / "calibration_structure.jsonl"
FRESH2 = HERE / "fresh2.jsonl"
NUMBERS = HERE / "calibration_numbers.jsonl"
FRESH3 = HERE / "fresh3.jsonl"
RELATIVE = HERE / "calibration_relative.jsonl"
SECTIONS = HERE / "calibration_sections.jsonl"
ORDINAL_NEXT = HERE / "calibration_ordinal_next.jsonl"
ORDINAL_PARAGRAPHS = HERE / "calibration_ordinal_paragraphs.jsonl"
FRESH4 = HERE / "fresh4.jsonl"
MINIMUMS = {
    "fact": 40,
    "paraphrase": 70,
    "people": 25,
    "structure": 15,
    "english": 30,
    "unanswerable-ontopic": 35,
    "unanswerable-offtopic": 20,
}
MIN_TOTAL = 240
MIN_ADDED = 45
# The fresh test split (fresh.jsonl): written later, from the texts only, and never split.
FRESH_MINIMUMS = {
    "fact": 20,
    "paraphrase": 50,
    "people": 15,
    "structure": 10,
    "english": 15,
    "unanswerable-ontopic": 15,
    "unanswerable-offtopic": 10,
}
FRESH_MIN_TOTAL = 150
# More calibration questions (calibration_more.jsonl), mostly on-topic ones the corpus does not answer.
MORE_MINIMUMS = {"unanswerable-ontopic": 40, "paraphrase": 15}
# Calibration questions about places in documents (calibration_structure.jsonl), and the
# third test split (fresh2.jsonl), whose structure questions were written the same way.
STRUCTURE_MINIMUMS = {"structure": 40}
FRESH2_MINIMUMS = {
    "structure": 30,
    "paraphrase": 20,
    "english": 10,
    "fact": 5,
    "people": 5,
    "unanswerable-ontopic": 5,
    "unanswerable-offtopic": 5,
}
# Calibration questions that ask for a paragraph or a page by its number
# (calibration_numbers.jsonl), and the fourth test split (fresh3.jsonl), written beside them.
NUMBERS_MINIMUMS = {"structure": 30, "unanswerable-ontopic": 5, "fact": 5}
FRESH3_MINIMUMS = {
    "structure": 25,
    "paraphrase": 20,
    "english": 10,
    "fact": 5,
    "people": 5,
    "unanswerable-ontopic": 8,
    "unanswerable-offtopic": 5,
}
# Calibration questions about the paragraph just after or before a topic (calibration_relative.jsonl).
RELATIVE_MINIMUMS = {"structure": 30, "fact": 10}
# Calibration questions naming a section in other words, or a section no document has
# (calibration_sections.jsonl).
SECTIONS_MINIMUMS = {"structure": 20, "unanswerable-ontopic": 10}
# Calibration questions about what stands next to an ordinal place (calibration_ordinal_next.jsonl).
ORDINAL_NEXT_MINIMUMS = {"structure": 30}
# Calibration questions asking for the n-th paragraph of a document, past the tenth too
# (calibration_ordinal_paragraphs.jsonl).
ORDINAL_PARAGRAPHS_MINIMUMS = {"structure": 30}
# The fifth test split (fresh4.jsonl), written after the ordinal-paragraph calibration
# questions: content questions first, as users ask them, with some of every place form.
FRESH4_MINIMUMS = {
    "paraphrase": 35,
    "fact": 20,
    "structure": 20,
    "english": 15,
    "people": 10,
    "unanswerable-ontopic": 12,
    "unanswerable-offtopic": 6,
}
# Calibration questions naming whom they ask about (calibration_speakers.jsonl): the
# interviewee or a document's author saying the answer, and controls where someone else does.
SPEAKERS = HERE / "calibration_speakers.jsonl"
SPEAKERS_MINIMUMS = {"fact": 15, "english": 10, "people": 8}
# Calibration questions asking in English for a part of a document by its English name (the
# interviewer's question, the commenter, the closing line, the caption…), and controls using those
# words for content (calibration_parts_en.jsonl).
PARTS_EN = HERE / "calibration_parts_en.jsonl"
PARTS_EN_MINIMUMS = {"structure": 20, "english": 8}
# Calibration questions describing a section in other words without naming its document, and
# controls using "partie", "section", "part" for content (calibration_sections_unnamed.jsonl).
SECTIONS_UNNAMED = HERE / "calibration_sections_unnamed.jsonl"
SECTIONS_UNNAMED_MINIMUMS = {"structure": 16}
# Calibration questions asking for a part of a document and nothing else, naming neither a
# document nor a topic (« Que disent les commentaires ? », "Who took the picture?"), and controls
# using those words for content (calibration_parts_alone.jsonl).
PARTS_ALONE = HERE / "calibration_parts_alone.jsonl"
PARTS_ALONE_MINIMUMS = {"structure": 20, "english": 5}
UNANSWERABLE = {"unanswerable-ontopic", "unanswerable-offtopic"}


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The questions of a JSON-lines file, in file order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_eval_documents(corpus_dir: Path) -> dict[str, Document]:
    """Every document of a corpus folder, parsed by the ingest code, by source id."""
    return {s.id: load_document(corpus_dir, s) for s in read_manifest(corpus_dir)}


def page_text(doc: Document, page: int) -> str | None:
    """The text of one page of a paged document (None when it has no such page)."""
    starts = list(doc.pages)
    for i, (offset, p) in enumerate(starts):
        if p == page:
            end = starts[i + 1][0] if i + 1 < len(starts) else len(doc.text)
            return doc.text[offset:end]
    return None


def gold_text(doc: Document, item: dict) -> str | None:
    """The text a gold item points to: its paragraph or its page (None when absent)."""
    if "page" in item:
        return page_text(doc, item["page"])
    return next((p.text for p in doc.paragraphs if p.number == item["paragraph"]), None)


def structure_problems(questions: list[dict], docs: dict[str, Document], minimums: dict[str, int] = MINIMUMS,
                       min_total: int = MIN_TOTAL, min_added: int = MIN_ADDED, every_format: bool = True) -> list[str]:
    """Malformed questions, unknown gold, and minimum counts not reached (with ``every_format``,
    a question answered by each added document)."""
    out: list[str] = []
    ids = Counter(q.get("id") for q in questions)
    out += [f"duplicate id {i} ({n} times)" for i, n in ids.items() if n > 1]
    for q in questions:
        qid = q.get("id")
        if set(q) != {"id", "q", "lang", "kind", "gold"}:
            out.append(f"{qid}: fields must be id, q, lang, kind, gold (got {sorted(q)})")
            continue
        if q["kind"] not in MINIMUMS:
            out.append(f"{qid}: unknown kind {q['kind']!r}")
        if q["lang"] not in ("fr", "en"):
            out.append(f"{qid}: lang must be fr or en (got {q['lang']!r})")
        if q["kind"] == "english" and q["lang"] != "en":
            out.append(f"{qid}: an english question must have lang en")
        if (q["kind"] in UNANSWERABLE) != (q["gold"] == []):
            out.append(f"{qid}: gold must be empty exactly for unanswerable kinds")
        for item in q["gold"]:
            doc = docs.get(item.get("source"))
            if doc is None:
                out.append(f"{qid}: unknown gold source {item.get('source')!r}")
            elif ("page" in item) == ("paragraph" in item):
                out.append(f"{qid}: a gold item has either a paragraph or a page ({item})")
            elif gold_text(doc, item) is None:
                out.append(f"{qid}: {item} does not exist in {doc.source.id}")
    kinds = Counter(q.get("kind") for q in questions)
    out += [f"kind {k}: {kinds[k]} questions, at least {n} needed" for k, n in minimums.items() if kinds[k] < n]
    if len(questions) < min_total:
        out.append(f"{len(questions)} questions, at least {min_total} needed")
    added = [q for q in questions if any(i.get("source") in ADDED for i in q.get("gold", []))]
    if len(added) < min_added:
        out.append(f"{len(added)} questions answered by added documents, at least {min_added} needed")
    covered = {i["source"] for q in added for i in q["gold"] if i.get("source") in ADDED}
    if every_format:
        out += [f"no question answered by the added {ADDED[s]} document {s}" for s in ADDED if s not in covered]
    return out


def paraphrase_overlaps(questions: list[dict], docs: dict[str, Document]) -> list[tuple[str, str, list[str]]]:
    """(id, question, shared terms) for every paraphrase sharing a term with a gold text."""
    out = []
    for q in questions:
        if q.get("kind") != "paraphrase":
            continue
        terms = set(analyze(q["q"]))
        shared: set[str] = set()
        for item in q["gold"]:
            doc = docs.get(item["source"])
            text = gold_text(doc, item) if doc else None
            if text is not None:
                shared |= terms & set(analyze(text))
        if shared:
            out.append((q["id"], q["q"], sorted(shared)))
    return out


def counts(questions: list[dict]) -> dict[str, int]:
    """Questions per kind, with the number answered by added documents."""
    c = Counter(q["kind"] for q in questions)
    out = {k: c[k] for k in MINIMUMS}
    out["total"] = len(questions)
    out["answered by added documents"] = sum(any(i["source"] in ADDED for i in q["gold"]) for q in questions)
    return out


def repeats(later: list[dict], earlier: list[dict], where: str) -> list[str]:
    """Every question of ``later`` that repeats one of ``earlier`` (lower case, single
    spaces) or reuses its id; ``where`` names the earlier files in the message."""
    seen = {" ".join(q["q"].lower().split()) for q in earlier}
    ids = {q["id"] for q in earlier}
    out = [f"{q['id']}: already in {where}: {q['q']}" for q in later if " ".join(q["q"].lower().split()) in seen]
    return out + [f"{q['id']}: id already in {where}" for q in later if q["id"] in ids]


@dataclass(frozen=True)
class Later:
    """A question file written after questions.jsonl: its own minimums, and no question or
    id of the files written before it (``earlier`` names them in the messages)."""

    path: Path
    minimums: dict[str, int]
    min_total: int
    min_added: int
    earlier: str
    every_format: bool = True  # False where only some documents have what is asked (headings)


# In the order they were written: each is checked against questions.jsonl and those before it.
LATER = {
    "fresh.jsonl": Later(FRESH, FRESH_MINIMUMS, FRESH_MIN_TOTAL, MIN_ADDED, "questions.jsonl"),
    "calibration_more.jsonl": Later(MORE, MORE_MINIMUMS, 60, 15, "an earlier file"),
    "calibration_structure.jsonl": Later(STRUCTURE, STRUCTURE_MINIMUMS, 45, 10, "an earlier file"),
    "fresh2.jsonl": Later(FRESH2, FRESH2_MINIMUMS, 100, MIN_ADDED, "another file"),
    "calibration_numbers.jsonl": Later(NUMBERS, NUMBERS_MINIMUMS, 45, 15, "an earlier file"),
    "fresh3.jsonl": Later(FRESH3, FRESH3_MINIMUMS, 100, MIN_ADDED, "another file"),
    "calibration_relative.jsonl": Later(RELATIVE, RELATIVE_MINIMUMS, 40, 10, "an earlier file"),
    "calibration_sections.jsonl": Later(SECTIONS, SECTIONS_MINIMUMS, 30, 10, "an earlier file", every_format=False),
    "calibration_ordinal_next.jsonl": Later(ORDINAL_NEXT, ORDINAL_NEXT_MINIMUMS, 30, 5, "an earlier file", every_format=False),
    "calibration_ordinal_paragraphs.jsonl": Later(ORDINAL_PARAGRAPHS, ORDINAL_PARAGRAPHS_MINIMUMS, 30, 5, "an earlier file"),
    "fresh4.jsonl": Later(FRESH4, FRESH4_MINIMUMS, 120, MIN_ADDED, "another file"),
    "calibration_speakers.jsonl": Later(SPEAKERS, SPEAKERS_MINIMUMS, 40, 8, "an earlier file"),
    "calibration_parts_en.jsonl": Later(PARTS_EN, PARTS_EN_MINIMUMS, 30, 8, "an earlier file", every_format=False),
    "calibration_sections_unnamed.jsonl": Later(SECTIONS_UNNAMED, SECTIONS_UNNAMED_MINIMUMS, 24, 16, "an earlier file",
                                                every_format=False),
    "calibration_parts_alone.jsonl": Later(PARTS_ALONE, PARTS_ALONE_MINIMUMS, 30, 10, "an earlier file", every_format=False),
}


def later_problems(name: str, questions: list[dict], earlier: list[dict], docs: dict[str, Document]) -> list[str]:
    """What is wrong with the later file ``name`` (``LATER``): malformed, unknown gold, too
    few of a kind, or a question (or id) of an ``earlier`` file, test splits included."""
    spec = LATER[name]
    return (structure_problems(questions, docs, spec.minimums, spec.min_total, spec.min_added, spec.every_format)
            + repeats(questions, earlier, spec.earlier))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        docs = load_eval_documents(write_eval_corpus(Path(tmp) / "corpus"))
    earlier = load_questions()
    checked = [("questions.jsonl", earlier, structure_problems(earlier, docs))]
    for name, spec in LATER.items():
        questions = load_questions(spec.path)
        checked.append((name, questions, later_problems(name, questions, earlier, docs)))
        earlier = earlier + questions
    failed = 0
    for name, qs, problems in checked:
        print(f"# {name}")
        for kind, n in counts(qs).items():
            print(f"{kind:30} {n}")
        overlaps = paraphrase_overlaps(qs, docs)
        for p in problems:
            print("PROBLEM", p)
        for qid, text, shared in overlaps:
            print(f"PARAPHRASE {qid} shares {shared} with its gold: {text}")
        print(f"{len(problems)} problems, {len(overlaps)} paraphrases sharing terms with their gold")
        failed += len(problems) + len(overlaps)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
