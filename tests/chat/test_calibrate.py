"""`verbatim calibrate` fits on calibration questions only, and never on the frozen test split."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from chat.calibrate import calibrate, normalised
from chat.decision import SIGNALS
from ingest.files import file_sha256
from tests.conftest import CORPUS, ROOT, small_interview_index

TEST_SPLIT = ROOT / "tests" / "data" / "heldout" / "test.jsonl"


@pytest.fixture(scope="module")
def small():
    return small_interview_index()


def test_the_test_split_is_refused_by_path_and_by_content(small, tmp_path):
    index, emb, settings = small
    with pytest.raises(ValueError, match="frozen test split"):
        calibrate([(CORPUS / "dev_questions.jsonl", index), (TEST_SPLIT, index)], emb, settings, test_file=TEST_SPLIT)
    copy = tmp_path / "renamed.jsonl"
    shutil.copy(TEST_SPLIT, copy)
    with pytest.raises(ValueError, match="frozen test split"):
        calibrate([(copy, index)], emb, settings, test_file=TEST_SPLIT)


def test_fit_leaves_out_test_questions_and_records_hashes(small, tmp_path):
    index, emb, settings = small
    shared = json.loads(TEST_SPLIT.read_text(encoding="utf-8").splitlines()[0])
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"q": shared["q"].upper(), "gold": [], "kind": "unanswerable-offtopic"}) + "\n", encoding="utf-8")
    dev = CORPUS / "dev_questions.jsonl"
    d = calibrate([(dev, index), (extra, index)], emb, settings, test_file=TEST_SPLIT)
    report = json.loads(d.report)
    in_test = {normalised(json.loads(line)["q"]) for line in TEST_SPLIT.read_text(encoding="utf-8").splitlines() if line.strip()}
    dev_qs = [json.loads(line)["q"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    shared_dev = sum(normalised(q) in in_test for q in dev_qs)
    assert report["left_out_in_test_split"] == 1 + shared_dev
    assert report["questions"] == len(dev_qs) - shared_dev
    assert dict(d.fitted_on) == {"dev_questions.jsonl": file_sha256(dev), "more.jsonl": file_sha256(extra)}
    assert d.test_split == file_sha256(TEST_SPLIT)
    assert len(d.weights) == len(SIGNALS) and np.all(np.isfinite(d.weights))
    assert 0 <= d.uncertain_at <= d.answer_at <= 1
    # the out-of-fold limits the thresholds were read against
    assert report["out_of_fold"]["false_abstention"] <= 0.03 + 1e-9


def test_too_few_questions_is_a_clear_error(small, tmp_path):
    index, emb, settings = small
    few = tmp_path / "few.jsonl"
    few.write_text(json.dumps({"q": "Qui a ouvert les rencontres ?", "gold": [3]}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="at least 20 questions"):
        calibrate([(few, index)], emb, settings, test_file=TEST_SPLIT)
