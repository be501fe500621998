"""The held-out questions (tests/data/heldout/) asked of the evaluation corpus built on both
backends: the same top passage on at least 95 % of them, ties aside, and the same evaluation
figures within 0.02. This compares backends and chooses nothing, so both splits are used."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chat.answer import answer_embedded, detect_language
from chat.evaluate import Asked, ask_all, evaluate, read_questions
from index.build import build_index
from index.milvus import MilvusIndex
from tests.conftest import ROOT

HELDOUT = ROOT / "tests" / "data" / "heldout"

# Two passages are tied when their fused scores differ by less than TIE. Both backends
# compute cosines in float32 (FAISS here, Milvus there, summing in another order) and BM25
# in float32 (bm25s here, Milvus there), and each side's scores are rescaled over its
# candidates before they are mixed: the same passage gets fused scores that differ by a few
# 1e-6. Which of two passages closer than that comes first is decided by rounding, not by
# retrieval, so such a pair is set aside rather than counted as agreement or disagreement.
TIE = 1e-4


def local_fused_scores(index, q: Asked, settings) -> dict[str, float]:
    """The fused score of each of the local index's 50 best passages, by chunk id, for the
    question as ``answer`` searches it (cleaned, with its language)."""
    same_language = detect_language(q.text) == index.language
    hits = index.search(q.text, q.vector, 50, settings, same_language=same_language)
    return {h.chunk.id: h.score for h in hits}


@pytest.mark.slow
def test_held_out_questions_agree_with_the_local_backend(eval_corpus, eval_index, real_embedder, real_settings, tmp_path):
    local = eval_index
    settings = replace(real_settings, backend="milvus", milvus_uri=str(tmp_path / "heldout.db"))
    remote = build_index(eval_corpus, tmp_path / "unused", settings, real_embedder, quiet=True)
    assert isinstance(remote, MilvusIndex) and not (tmp_path / "unused").exists()
    assert remote.meta["counts"] == local.meta["counts"] and len(local.sources) == 5

    rows = [*read_questions(HELDOUT / "calibration.jsonl"), *read_questions(HELDOUT / "test.jsonl"),
            *read_questions(HELDOUT / "calibration_structure.jsonl"),  # places in documents: one more query each
            *read_questions(HELDOUT / "calibration_numbers.jsonl")]  # places by number, often outside the candidates
    assert len(rows) == 384
    asked = ask_all(rows, real_embedder, real_settings)  # one vector per question, read by both backends
    same, ties, differ = 0, [], []
    for r, q in zip(rows, asked):
        a = answer_embedded(q.text, q.notice, q.vector, local, real_settings)
        b = answer_embedded(q.text, q.notice, q.vector, remote, settings)
        if not a.passages or not b.passages:
            # a number the document named does not have ("le § 48 de l'entretien"): both say so
            assert not a.passages and not b.passages and a.notice == b.notice and a.notice, r["id"]
            same += 1
            continue
        top_a, top_b = a.passages[0], b.passages[0]
        if top_a.chunk.id == top_b.chunk.id:
            same += 1
            assert top_b.score == pytest.approx(top_a.score, abs=TIE), r["id"]
            continue
        scores = local_fused_scores(local, q, real_settings)
        if top_b.chunk.id in scores and abs(scores[top_b.chunk.id] - scores[top_a.chunk.id]) < TIE:
            ties.append(r["id"])
        else:
            differ.append((r["id"], r["q"], top_a.quote[:60], top_b.quote[:60]))
    assert same / (len(rows) - len(ties)) >= 0.95, (same, ties, differ)

    # The figures of the answers as given (fused retrieval): recall@1, recall@3, MRR, the
    # abstention rate on unanswerable questions and the false abstention rate, scored by
    # (source, paragraph or page). The dense-only and lexical-only modes are diagnostics,
    # left out to keep the test short (they agree too: see the README).
    want = evaluate(rows, local, real_embedder, real_settings, modes=("fused",), asked=asked)["modes"]["fused"]["all"]
    got = evaluate(rows, remote, real_embedder, settings, modes=("fused",), asked=asked)["modes"]["fused"]["all"]
    assert want["answerable"] == got["answerable"] == sum(bool(r["gold"]) for r in rows) == 384 - 69
    assert want["recall@3"]["value"] > 0.25  # gold (source, paragraph or page) is matched: not two zeros compared
    for key, value in want.items():
        if isinstance(value, dict):
            assert got[key]["value"] == pytest.approx(value["value"], abs=0.02), (key, want, got)
        else:
            assert got[key] == value, (key, want, got)
