"""Evidence files: the excerpts that answer each question, and the quote scored against them."""
import json
from types import SimpleNamespace

import pytest

from chat.answer import answer
from chat.evaluate import (QuestionFileError, evaluate, evidence_path, evidence_spans, format_report, gold_of, quote_f1,
                           read_evidence, read_questions, shows)
from index.report import IngestReport
from tests.conftest import CORPUS, ROOT, small_interview_index, use_decision

Q = "Qui a ouvert la série de rencontres ?"


def quoted(source: str, start: int, end: int):
    return SimpleNamespace(chunk=SimpleNamespace(source_id=source), start=start, end=end)


def test_a_quote_shows_the_answer_when_it_holds_half_an_excerpt_of_the_same_source():
    spans = (("itw", 100, 200),)
    assert shows(quoted("itw", 90, 160), spans)  # 60 of 100 characters
    assert not shows(quoted("itw", 160, 300), spans)  # 40
    assert not shows(quoted("other", 100, 200), spans)
    assert shows(quoted("itw", 0, 40), (("itw", 500, 510), ("itw", 10, 30)))  # any excerpt


def test_quote_f1_rewards_the_answer_alone_over_a_long_quote_that_holds_it():
    spans = (("itw", 100, 200),)
    assert quote_f1(quoted("itw", 100, 200), spans) == 1.0
    long = quote_f1(quoted("itw", 0, 400), spans)
    assert 0 < long < 0.5 and shows(quoted("itw", 0, 400), spans)
    assert quote_f1(quoted("itw", 300, 400), spans) == 0.0 and quote_f1(quoted("x", 100, 200), spans) == 0.0


def test_read_evidence_names_the_line_that_is_not_evidence(tmp_path):
    good = tmp_path / "q.evidence.jsonl"
    good.write_text(json.dumps({"q": Q, "evidence": ["ouverte par Thierry Breton"]}, ensure_ascii=False) + "\n\n")
    assert read_evidence(good) == {Q: ("ouverte par Thierry Breton",)}
    assert evidence_path(tmp_path / "q.jsonl") == good
    for bad in ('{"q": "x", "evidence": []}', '{"q": "x", "evidence": "a"}', '{"evidence": ["a"]}', "not json", "[1]"):
        (tmp_path / "bad.jsonl").write_text('{"q": "y", "evidence": ["b"]}\n' + bad + "\n")
        with pytest.raises(QuestionFileError, match="line 2 of"):
            read_evidence(tmp_path / "bad.jsonl")


def test_an_excerpt_is_found_in_the_gold_paragraph_only():
    index, _, _ = small_interview_index()
    row = {"q": Q, "gold": [6], "kind": "fact"}
    gold = gold_of(row, index)
    records = IngestReport.of(index.meta).sources
    spans = evidence_spans(row, ("ouverte par Thierry Breton",), gold, index, records)
    ((sid, s, e),) = spans
    assert index.texts[sid][s:e] == "ouverte par Thierry Breton"
    # the words of § 7, or words typed differently, are not evidence of § 6
    for wrong in ("450 millions d’habitants", "ouverte par Thierry  Breton"):
        with pytest.raises(QuestionFileError, match="none of its gold paragraphs"):
            evidence_spans(row, (wrong,), gold, index, records)


def test_evaluate_scores_the_first_quote_against_the_evidence(monkeypatch):
    use_decision(monkeypatch, topic_at=0.0)
    index, emb, settings = small_interview_index()
    first = answer(Q, index, emb, settings).passages[0]
    assert first.chunk.paragraph == 6
    paragraph = [c for c in index.chunks if c.paragraph == 6]
    text = index.texts[first.chunk.source_id]
    # a sentence of § 6 that the first quote does not hold
    elsewhere = next(text[s:e] for c in paragraph for s, e in c.sentences if e <= first.start or s >= first.end)
    rows = [{"q": Q, "gold": [6], "kind": "fact"}, {"q": Q + " ", "gold": [6], "kind": "fact"},
            {"q": "Comment soigner un rhume ?", "gold": [], "kind": "unanswerable"}]
    evidence = {Q: (first.quote,), Q + " ": (elsewhere,)}
    report = evaluate(rows, index, emb, settings, modes=("fused",), evidence=evidence)
    a = report["modes"]["fused"]["all"]
    assert a["quote_shows_answer"]["n"] == 2 and a["quote_shows_answer"]["value"] == 0.5
    assert a["quote_shows_answer_when_right"]["value"] == 0.5 and 0.5 <= a["quote_f1"]["value"] < 0.75
    assert a["quote_chars"] == len(first.quote)
    assert report["modes"]["fused"]["by_kind"]["fact"]["quote_shows_answer"]["value"] == 0.5
    assert "first quote shows the answer" in format_report(report)
    # without evidence, no quote figure
    plain = evaluate(rows, index, emb, settings, modes=("fused",))
    assert "quote_shows_answer" not in plain["modes"]["fused"]["all"] and "first quote" not in format_report(plain)


EVIDENCE_FILES = sorted((ROOT / "tests" / "data").rglob("*.evidence.jsonl")) + [CORPUS / "dev_questions.evidence.jsonl"]


@pytest.mark.parametrize("path", EVIDENCE_FILES, ids=lambda p: p.name)
def test_every_answerable_content_question_has_evidence_and_only_those(path):
    questions = {r["q"]: r for r in read_questions(path.with_name(path.name.replace(".evidence", "")))}
    evidence = read_evidence(path)
    assert set(evidence) <= set(questions)
    content = {q for q, r in questions.items() if r["gold"] and r["kind"] in ("fact", "paraphrase", "people", "english")}
    assert content <= set(evidence), sorted(content - set(evidence))[:5]
    assert all(len(e) <= 350 for ex in evidence.values() for e in ex)


@pytest.mark.slow
@pytest.mark.parametrize("path", EVIDENCE_FILES, ids=lambda p: p.name)
def test_every_excerpt_stands_in_a_gold_paragraph_of_its_corpus(path, real_index, eval_index):
    index = real_index if path.parent != ROOT / "tests" / "data" / "heldout" else eval_index
    questions = {r["q"]: r for r in read_questions(path.with_name(path.name.replace(".evidence", "")))}
    records = IngestReport.of(index.meta).sources
    for q, excerpts in read_evidence(path).items():
        spans = evidence_spans(questions[q], excerpts, gold_of(questions[q], index), index, records)
        assert len(spans) >= len(excerpts)
        assert all(index.texts[sid][s:e] in excerpts for sid, s, e in spans)
