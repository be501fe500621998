"""The ingest benchmark runs end to end and reports what it measured (not how fast)."""
import json

import pytest

import bench.common
from bench.ingest import generate_corpus, run

pytestmark = pytest.mark.slow


def test_generated_corpus_is_recombined_interview_text(tmp_path):
    corpus = generate_corpus(tmp_path / "c", 1200)
    docs = sorted(corpus.glob("doc*.txt"))
    assert len(docs) == 3  # 500 paragraphs a document
    lines = [line for d in docs for line in d.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1200 and all(len(line) > 80 for line in lines)
    assert "[[source]]" in (corpus / "sources.toml").read_text(encoding="utf-8")


def test_ingest_benchmark_reports_its_figures(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)
    result = run(paragraphs=40, quiet=True)
    saved = json.loads((tmp_path / "ingest.json").read_text(encoding="utf-8"))
    assert saved["paragraphs"] == result["paragraphs"] == 40
    assert saved["passages"] >= 40 and saved["sentences"] >= saved["passages"]
    assert 0 < saved["distinct_tagged_sentences"] <= saved["tagged_sentences"]
    assert saved["build_s"] > 0 and saved["raw_encode_s"] > 0
    assert saved["ratio"] == pytest.approx(saved["raw_encode_s"] / saved["build_s"])
    # Only passages are embedded: sentence vectors come from the same pass.
    assert saved["embedded_texts_per_paragraph"] == pytest.approx(saved["passages"] / 40)
    out = capsys.readouterr().out
    assert "build / raw throughput" in out and "people tagger" in out
