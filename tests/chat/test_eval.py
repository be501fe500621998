"""Retrieval quality floors on both question files: a regression fails CI."""
import json
import subprocess
import sys

import pytest

from chat.evaluate import evaluate, format_report, read_questions
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow
EXTRA = ROOT / "tests" / "data" / "extra_questions.jsonl"


@pytest.fixture(scope="module")
def reports(real_index, real_embedder, real_settings):
    return {
        name: evaluate(read_questions(path), real_index, real_embedder, real_settings)
        for name, path in (("dev", CORPUS / "dev_questions.jsonl"), ("extra", EXTRA))
    }


@pytest.mark.parametrize(
    "name,r1,r3,abstain,false_abstain",
    [("dev", 0.95, 0.95, 0.90, 0.05), ("extra", 0.90, 0.97, 0.90, 0.05)],
)
def test_fused_retrieval_floors(reports, name, r1, r3, abstain, false_abstain):
    m = reports[name]["modes"]["fused"]["all"]
    assert m["recall@1"] >= r1, format_report(reports[name])
    assert m["recall@3"] >= r3, format_report(reports[name])
    assert m["abstention_rate"] >= abstain, format_report(reports[name])
    assert m["false_abstention_rate"] <= false_abstain, format_report(reports[name])


def test_fusion_beats_each_side_alone(reports):
    for name in ("dev", "extra"):
        modes = reports[name]["modes"]
        assert modes["fused"]["all"]["mrr"] >= modes["dense"]["all"]["mrr"]
        assert modes["fused"]["all"]["mrr"] >= modes["lexical"]["all"]["mrr"]


def test_english_questions_find_french_passages(reports):
    english = reports["extra"]["modes"]["fused"]["by_kind"]["english"]
    assert english["answerable"] >= 5 and english["recall@3"] == 1.0 and english["recall@1"] >= 0.85


def test_the_extra_file_is_large_and_varied():
    rows = read_questions(EXTRA)
    kinds = {r["kind"] for r in rows}
    assert len(rows) >= 40 and {"fact", "paraphrase", "english", "unanswerable"} <= kinds
    assert sum(not r["gold"] for r in rows) >= 10


def test_report_lists_wrong_questions_and_calibration(reports):
    text = format_report(reports["extra"])
    assert "R@1" in text and "calibration" in text and "<- min_confidence" in text
    assert isinstance(reports["extra"]["wrong"], list)


def test_eval_command_json(real_index, real_model_dir, tmp_path):
    path = tmp_path / "idx"
    real_index.save(path)
    qs = tmp_path / "q.jsonl"
    qs.write_text('{"q": "Qui a ouvert la série de rencontres ?", "gold": [6], "kind": "fact"}\n{"q": "Comment soigner un rhume ?", "gold": []}\n')
    out = subprocess.run(
        [sys.executable, "-m", "chat.cli", "eval", str(qs), "--json", "--corpus", str(CORPUS), "--index", str(path), "--model", str(real_model_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report["modes"]) == {"fused", "dense", "lexical"}
    fused = report["modes"]["fused"]["all"]
    assert fused["recall@1"] == 1.0 and fused["abstention_rate"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    out = subprocess.run([sys.executable, "-m", "chat.cli", "eval", str(bad), "--corpus", str(CORPUS), "--index", str(path), "--model", str(real_model_dir)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 2 and "line 1" in out.stderr and "Traceback" not in out.stderr
