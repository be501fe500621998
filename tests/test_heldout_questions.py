"""The held-out questions are well formed, their gold exists in the evaluation corpus as the
ingest code reads it, and their paraphrases share no analysed term with their answers."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.eval_corpus import ADDED, ARTICLE_ID, INTERVIEW, REPORT_ID, write_eval_corpus
from tests.data.heldout import check


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    return check.load_eval_documents(write_eval_corpus(tmp_path_factory.mktemp("eval") / "corpus"))


@pytest.fixture(scope="module")
def questions():
    return check.load_questions()


def test_eval_corpus_has_the_interview_and_every_added_format(docs):
    assert set(docs) == {"contre-sommet-ia-interview", *ADDED}
    interview = docs["contre-sommet-ia-interview"]
    lines = INTERVIEW.read_text(encoding="utf-8").splitlines()
    # The interview's paragraph numbers are its line numbers.
    assert [(p.number, p.text) for p in interview.paragraphs] == [(n, t) for n, t in enumerate(lines, 1) if t.strip()]
    assert {docs[s].source.kind for s in ADDED} == {"report", "article", "minutes", "note"}
    for source_id in ADDED:
        assert 8 <= sum(p.role == "text" for p in docs[source_id].paragraphs) <= 20, source_id
    assert [page for _, page in docs[REPORT_ID].pages] == [1, 2, 3]


def test_web_page_noise_is_not_in_the_article(docs):
    text = docs[ARTICLE_ID].text
    assert "Transparence Allocs" in text
    for noise in ("Faits divers", "derby", "Mentions légales", "Horoscope", "analytics"):
        assert noise not in text


def test_questions_are_well_formed_and_their_gold_exists(questions, docs):
    assert check.structure_problems(questions, docs) == []


def test_paraphrases_share_no_analysed_term_with_their_gold(questions, docs):
    assert check.paraphrase_overlaps(questions, docs) == []


def test_the_check_catches_a_paraphrase_that_reuses_its_answer_words(questions, docs):
    bad = {"id": "x1", "q": "Qui a ouvert la série de rencontres ?", "lang": "fr", "kind": "paraphrase",
           "gold": [{"source": "contre-sommet-ia-interview", "paragraph": 6}]}
    assert [o[0] for o in check.paraphrase_overlaps([bad], docs)] == ["x1"]
    unknown = {**bad, "id": "x2", "gold": [{"source": REPORT_ID, "page": 9}]}
    assert any("x2" in p for p in check.structure_problems([*questions, unknown], docs))
