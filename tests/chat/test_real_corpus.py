"""The real model on the real corpus, end to end (slow: the model loads once per session)."""
import json
import subprocess
import sys

import pytest

from chat.answer import answer
from chat.decision import SIGNALS
from ingest.model import Person
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


def test_the_breton_question_quotes_paragraph_6(real_index, real_embedder, real_settings):
    ans = answer("Qui a ouvert la série de rencontres ?", real_index, real_embedder, real_settings)
    # quotes shown (an answer, or an uncertain one: the decision's calibration)
    assert ans.level in ("answer", "uncertain") and ans.answered == (ans.level == "answer")
    top = ans.passages[0]
    assert top.chunk.paragraph == 6
    assert "ouverte par Thierry Breton" in top.quote
    assert top.chunk.speaker == "Olivier Griffith" and top.chunk.role == "interviewee"
    assert top.chunk.reported == (Person("Thierry Breton", "ex-commissaire européen"),)
    assert top.chunk.section == "Peux tu nous présenter les éléments forts de cette journée ?"


@pytest.mark.parametrize(
    ("question", "introduced"),
    [
        ("Qui est Olivier Griffith ?", "Olivier Griffith, consultant formateur"),
        ("Que fait Katia Roux ?", "Katia Roux, chargée de plaidoyer chez Amnesty France"),
        ("Who is Katia Roux?", "Katia Roux, chargée de plaidoyer chez Amnesty France"),
        ("Pour qui travaille Roux ?", "Katia Roux, chargée de plaidoyer chez Amnesty France"),
    ],
)
def test_a_question_about_a_person_quotes_the_sentence_that_introduces_them(real_index, real_embedder, real_settings,
                                                                           question, introduced):
    """The register of people puts the introducing passage first and its sentence is the
    quote; the calibrated decision still gives the answer its level."""
    ans = answer(question, real_index, real_embedder, real_settings)
    top = ans.passages[0]
    (entry, *_) = real_index.find_person(introduced.split(",")[0])
    assert (top.start, top.end) == entry.introduction and introduced in top.quote
    assert real_index.texts[top.source["id"]][top.start : top.end] == top.quote
    assert ans.level in ("answer", "uncertain", "none") and ans.to_dict()["level"] == ans.level and len(ans.signals) == len(SIGNALS)
    assert len({(p.chunk.source_id, p.chunk.paragraph) for p in ans.passages}) == len(ans.passages)


def test_a_filter_that_excludes_the_introduction_keeps_the_search(real_index, real_embedder, real_settings):
    from index.store import Filter

    where = Filter(people=frozenset({"Thierry Breton"}))
    ans = answer("Qui est Katia Roux ?", real_index, real_embedder, real_settings, where)
    assert ans.passages and all(where.admits(p.chunk) for p in ans.passages)
    assert "chargée de plaidoyer" not in ans.passages[0].quote


def test_every_dev_answer_is_verbatim(real_index, real_embedder, real_settings, dev_questions):
    assert len(dev_questions) >= 20
    for q in dev_questions:
        ans = answer(q["q"], real_index, real_embedder, real_settings).to_dict()
        assert ans["passages"], q["q"]
        for p in ans["passages"]:
            text = real_index.texts[p["source"]["id"]]
            assert text[p["start"] : p["end"]] == p["quote"]
            assert p["quote"].strip() == p["quote"] and p["quote"]
            # whole words: the quote neither starts nor ends inside a word
            assert p["start"] == 0 or not (text[p["start"] - 1].isalnum() and p["quote"][0].isalnum())
            assert p["end"] == len(text) or not (text[p["end"]].isalnum() and p["quote"][-1].isalnum())


def test_dev_recall(real_index, real_embedder, real_settings, dev_questions):
    answerable = [q for q in dev_questions if q["gold"]]
    r1 = sum(answer(q["q"], real_index, real_embedder, real_settings).passages[0].chunk.paragraph in q["gold"] for q in answerable)
    assert r1 / len(answerable) >= 0.95, f"Recall@1 {r1}/{len(answerable)}"


def _cli(*args, stdin=None, model=None, index=None):
    cmd = [sys.executable, "-m", "chat.cli", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def cli_paths(real_index, real_model_dir, tmp_path_factory):
    # The CLI reads the session's index (already built) and model folder.
    from index.store import Index

    path = tmp_path_factory.mktemp("cli") / "idx"
    real_index.save(path)
    assert Index.load(path)
    return ["--corpus", str(CORPUS), "--index", str(path), "--model", str(real_model_dir)]


def test_cli_json_contract(cli_paths):
    out = _cli("ask", "--json", "Qui a ouvert la série de rencontres ?", *cli_paths)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["level"] in ("answer", "uncertain") and data["answered"] == (data["level"] == "answer")
    assert 0.0 < data["confidence"] < 1.0 and data["question"] == "Qui a ouvert la série de rencontres ?"
    p = data["passages"][0]
    assert p["paragraph"] == 6 and p["page"] is None and p["speaker"] == "Olivier Griffith"
    assert p["source"]["id"] == "contre-sommet-ia-interview"
    assert p["reported"] == ["Thierry Breton, ex-commissaire européen"]
    assert p["reported_people"] == [{"name": "Thierry Breton", "affiliation": "ex-commissaire européen"}]
    assert p["part"] == "answer"
    assert len(data["passages"]) == 3


def test_cli_json_lines_from_stdin_in_order(cli_paths, dev_questions):
    qs = [q["q"] for q in dev_questions[:5]] + [""]
    out = _cli("ask", "--json", "-", "--top-k", "2", *cli_paths, stdin="\n".join(qs) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows[:5]] == qs[:5]
    assert all(len(r["passages"]) == 2 for r in rows[:5])
    assert rows[5]["error_code"] == "empty" and rows[5]["passages"] == []


def test_cli_human_output(cli_paths):
    out = _cli("ask", "Qui a ouvert la série de rencontres ?", *cli_paths)
    assert out.returncode == 0, out.stderr
    assert "« Cette série de rencontres a été ouverte par Thierry Breton" in out.stdout
    assert "Olivier Griffith (interviewé), rapportant Thierry Breton" in out.stdout
    assert "§ 6" in out.stdout and "https://dubasque.org/" in out.stdout


@pytest.mark.parametrize("question", ["", "   "])
def test_cli_user_mistakes_exit_2_without_traceback(cli_paths, question):
    out = _cli("ask", question, *cli_paths)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.startswith("verbatim: error:")
    assert len(out.stderr.strip().splitlines()) == 1


def test_cli_missing_corpus_and_model_are_clear(cli_paths, tmp_path):
    out = _cli("ask", "test", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"), "--model", cli_paths[-1])
    assert out.returncode == 2 and "corpus folder not found" in out.stderr and "Traceback" not in out.stderr
    assert "Building the index" not in out.stderr and len(out.stderr.strip().splitlines()) == 1  # the one line that matters
    out = _cli("ask", "test", "--corpus", str(CORPUS), "--index", str(tmp_path / "i"), "--model", str(tmp_path / "no-model"))
    assert out.returncode == 2 and "no sentence-transformers model" in out.stderr and "Traceback" not in out.stderr


def test_the_topic_gate_and_the_levels_agree_on_the_dev_questions(real_index, real_embedder, real_settings, dev_questions):
    """Every level follows from the two probabilities the JSON reports, and the off-topic
    dev questions ("Quel temps fera-t-il demain à Lyon ?") get no plain answer, while no
    answerable one is turned away by the gate."""
    from chat.decision import load_decision
    from chat.evaluate import is_offtopic

    d = load_decision()
    for q in dev_questions:
        ans = answer(q["q"], real_index, real_embedder, real_settings)
        data = ans.to_dict()
        assert 0.0 < data["on_topic"] < 1.0
        gated = ans.on_topic < d.topic_at
        assert (ans.level == "none") == (gated or ans.confidence < d.uncertain_at), q["q"]
        if q["gold"]:
            assert not gated, q["q"]
        if not q["gold"] and is_offtopic(q["kind"]):
            assert ans.level != "answer", q["q"]
