"""The Milvus benchmark runs both backends end to end and reports consistent figures (not how fast)."""
import json

import pytest

import bench.common
from bench.milvus import corpus, run

pytestmark = pytest.mark.slow


def test_generated_passages_are_exact_slices_of_their_sources():
    chunks, docs, vectors, qv, qt = corpus(300, 5)
    texts = {d.source.id: d.text for d in docs}
    assert len(chunks) == 300 and len({c.id for c in chunks}) == 300 and vectors.shape == (300, 384)
    assert all(texts[c.source_id][c.start : c.end] == c.text for c in chunks)
    assert qv.shape == (5, 384) and len(qt) == 5 and all(len(q.split()) == 4 for q in qt)


def test_milvus_benchmark_reports_both_backends(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)
    result = run(n=2000, queries=10, quiet=True)
    saved = json.loads((tmp_path / "milvus.json").read_text(encoding="utf-8"))
    assert saved["passages"] == result["passages"] == 2000
    for backend in ("local", "milvus"):
        r = saved[backend]
        assert r["ingest_s"] > 0 and r["open_s"] > 0 and r["search"]["n"] == r["dense"]["n"] == 10
        assert r["search"]["median_ms"] <= r["search"]["p99_ms"]
        assert r["recall@10"] == pytest.approx(1.0)  # both search exactly at this size
        assert r["rss_mb"] > r["rss_before_open_mb"] > 0 and r["disk_mb"] > 0
    assert saved["same_top_passage"] >= 0.9
    assert "Milvus Lite ÷ local" in capsys.readouterr().out
