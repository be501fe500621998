"""The held-out questions are well formed, their gold exists in the evaluation corpus as the
ingest code reads it, and their paraphrases share no analysed term with their answers."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.eval_corpus import ADDED, ARTICLE_ID, INTERVIEW, REPORT_ID, write_eval_corpus
from tests.data.heldout import check
from tests.data.heldout.split import HELDOUT, split_questions

SPLITS = ("calibration.jsonl", "test.jsonl")


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


def test_committed_split_is_the_split_of_the_questions(questions):
    calibration, test = split_questions(questions)
    for name, part in zip(SPLITS, (calibration, test)):
        assert check.load_questions(HELDOUT / name) == part, name
    ids = [q["id"] for q in questions]
    assert sorted(q["id"] for q in calibration + test) == sorted(ids)
    assert not {q["id"] for q in calibration} & {q["id"] for q in test}


def test_split_does_not_depend_on_line_order(questions):
    calibration, test = split_questions(questions)
    again = split_questions(list(reversed(questions)))
    assert ({q["id"] for q in again[0]}, {q["id"] for q in again[1]}) == (
        {q["id"] for q in calibration},
        {q["id"] for q in test},
    )


def test_split_is_about_half_of_each_kind(questions):
    calibration, test = split_questions(questions)
    for kind in check.MINIMUMS:
        a = sum(q["kind"] == kind for q in calibration)
        b = sum(q["kind"] == kind for q in test)
        assert abs(a - b) <= 2, (kind, a, b)


@pytest.fixture(scope="module")
def fresh():
    return check.load_questions(check.FRESH)


def test_fresh_split_is_well_formed_new_and_its_gold_exists(fresh, questions, docs):
    assert check.later_problems("fresh.jsonl", fresh, questions, docs) == []


def test_fresh_paraphrases_share_no_analysed_term_with_their_gold(fresh, docs):
    assert check.paraphrase_overlaps(fresh, docs) == []


def test_the_fresh_check_catches_a_question_of_the_first_set(fresh, questions, docs):
    again = {**questions[0], "id": "f999", "q": "  " + questions[0]["q"].upper()}
    assert any("f999: already in questions.jsonl" in p
               for p in check.later_problems("fresh.jsonl", [*fresh, again], questions, docs))


def test_added_calibration_questions_are_well_formed_and_new(fresh, questions, docs):
    more = check.load_questions(check.MORE)
    assert check.later_problems("calibration_more.jsonl", more, questions + fresh, docs) == []
    assert check.paraphrase_overlaps(more, docs) == []
    # a question of a test split is caught
    again = {**fresh[0], "id": "c999"}
    assert any("c999: already in an earlier file" in p
               for p in check.later_problems("calibration_more.jsonl", [*more, again], questions + fresh, docs))


def test_structure_calibration_questions_are_well_formed_and_new(fresh, questions, docs):
    more, structure = check.load_questions(check.MORE), check.load_questions(check.STRUCTURE)
    assert check.later_problems("calibration_structure.jsonl", structure, questions + fresh + more, docs) == []
    assert {q["kind"] for q in structure} == {"structure"}
    again = {**fresh[0], "id": "s999"}
    assert any("s999: already in an earlier file" in p
               for p in check.later_problems("calibration_structure.jsonl", [*structure, again], questions + fresh + more, docs))


def test_third_test_split_is_well_formed_and_shares_no_question_with_any_file(fresh, questions, docs):
    more, structure, fresh2 = (check.load_questions(p) for p in (check.MORE, check.STRUCTURE, check.FRESH2))
    earlier = questions + fresh + more + structure
    assert check.later_problems("fresh2.jsonl", fresh2, earlier, docs) == []
    assert check.paraphrase_overlaps(fresh2, docs) == []
    # a calibration question slipped into the test split is caught
    again = {**structure[0], "id": "g999"}
    assert any("g999: already in another file" in p
               for p in check.later_problems("fresh2.jsonl", [*fresh2, again], earlier, docs))


def test_number_calibration_questions_and_the_fourth_test_split_are_well_formed_and_new(fresh, questions, docs):
    more, structure, fresh2, numbers, fresh3 = (check.load_questions(p) for p in (
        check.MORE, check.STRUCTURE, check.FRESH2, check.NUMBERS, check.FRESH3))
    earlier = questions + fresh + more + structure + fresh2
    assert check.later_problems("calibration_numbers.jsonl", numbers, earlier, docs) == []
    assert check.later_problems("fresh3.jsonl", fresh3, earlier + numbers, docs) == []
    assert check.paraphrase_overlaps(fresh3, docs) == []
    # a calibration question slipped into the test split is caught, and the other way round
    again = {**numbers[0], "id": "h999"}
    assert any("h999: already in another file" in p
               for p in check.later_problems("fresh3.jsonl", [*fresh3, again], earlier + numbers, docs))
    back = {**fresh2[0], "id": "n999"}
    assert any("n999: already in an earlier file" in p
               for p in check.later_problems("calibration_numbers.jsonl", [*numbers, back], earlier, docs))


def test_the_fifth_test_split_is_well_formed_and_shares_no_question_with_any_earlier_file(questions, docs):
    names = list(check.LATER)
    earlier = questions + [q for n in names[: names.index("fresh4.jsonl")] for q in check.load_questions(check.LATER[n].path)]
    fresh4 = check.load_questions(check.FRESH4)
    assert check.later_problems("fresh4.jsonl", fresh4, earlier, docs) == []
    assert check.paraphrase_overlaps(fresh4, docs) == []
    again = {**check.load_questions(check.ORDINAL_PARAGRAPHS)[0], "id": "h999"}  # a calibration question slipped in
    assert any("h999: already in another file" in p
               for p in check.later_problems("fresh4.jsonl", [*fresh4, again], earlier, docs))


@pytest.mark.parametrize("name, prefix", [
    ("calibration_relative.jsonl", "r"),  # the paragraph just after or before a topic
    ("calibration_sections.jsonl", "x"),  # a section named in other words, or one no document has
    ("calibration_ordinal_next.jsonl", "o"),  # what stands next to an ordinal place
    ("calibration_ordinal_paragraphs.jsonl", "p"),  # the n-th paragraph, past the tenth too
    ("calibration_speakers.jsonl", "v"),  # what the interviewee or an author says, named
    ("calibration_parts_en.jsonl", "e"),  # parts of documents asked for by their English names
    ("calibration_sections_unnamed.jsonl", "u"),  # a section described in other words, its document unnamed
    ("calibration_parts_alone.jsonl", "a"),  # a part asked for alone: no document, no topic
])
def test_calibration_files_written_after_the_fourth_split_are_well_formed_and_new(questions, docs, name, prefix):
    names = list(check.LATER)
    before = [check.load_questions(check.LATER[n].path) for n in names[: names.index(name)]]
    earlier = questions + [q for qs in before for q in qs]
    mine = check.load_questions(check.LATER[name].path)
    assert check.later_problems(name, mine, earlier, docs) == []
    again = {**check.load_questions(check.FRESH3)[0], "id": f"{prefix}999"}  # a question of the fourth test split
    assert any(f"{prefix}999: already in an earlier file" in p
               for p in check.later_problems(name, [*mine, again], earlier, docs))
