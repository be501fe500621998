"""`verbatim calibrate` fits on calibration questions only, and never on the frozen test split."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from chat.calibrate import MAX_FALSE_ABSTENTION, calibrate, fit_thresholds, fit_topic_gate, normalised, out_of_fold, shares
from chat.decision import SIGNALS, wilson_upper
from ingest.files import file_sha256
from tests.conftest import CORPUS, ROOT, small_interview_index

TEST_SPLIT = ROOT / "tests" / "data" / "heldout" / "test.jsonl"
FRESH_SPLIT = ROOT / "tests" / "data" / "heldout" / "fresh.jsonl"
FRESH2_SPLIT = ROOT / "tests" / "data" / "heldout" / "fresh2.jsonl"
FRESH3_SPLIT = ROOT / "tests" / "data" / "heldout" / "fresh3.jsonl"
FRESH4_SPLIT = ROOT / "tests" / "data" / "heldout" / "fresh4.jsonl"


@pytest.fixture(scope="module")
def small():
    return small_interview_index()


def test_the_test_split_is_refused_by_path_and_by_content(small, tmp_path):
    index, emb, settings = small
    splits = [TEST_SPLIT, FRESH_SPLIT, FRESH2_SPLIT, FRESH3_SPLIT, FRESH4_SPLIT]
    for split in splits:
        with pytest.raises(ValueError, match="frozen test split"):
            calibrate([(CORPUS / "dev_questions.jsonl", index), (split, index)], emb, settings, test_files=splits)
        copy = tmp_path / f"renamed-{split.name}"
        shutil.copy(split, copy)
        with pytest.raises(ValueError, match="frozen test split"):
            calibrate([(copy, index)], emb, settings, test_files=splits)


def test_fit_leaves_out_test_questions_and_records_hashes(small, tmp_path):
    index, emb, settings = small
    shared = json.loads(TEST_SPLIT.read_text(encoding="utf-8").splitlines()[0])
    fresh = json.loads(FRESH_SPLIT.read_text(encoding="utf-8").splitlines()[-1])
    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps({"q": q["q"].upper(), "gold": [], "kind": "unanswerable-offtopic"}) + "\n" for q in (shared, fresh)),
                     encoding="utf-8")
    dev = CORPUS / "dev_questions.jsonl"
    d = calibrate([(dev, index), (extra, index)], emb, settings, test_files=[TEST_SPLIT, FRESH_SPLIT])
    report = json.loads(d.report)
    in_test = {normalised(json.loads(line)["q"]) for split in (TEST_SPLIT, FRESH_SPLIT)
               for line in split.read_text(encoding="utf-8").splitlines() if line.strip()}
    dev_qs = [json.loads(line)["q"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    shared_dev = sum(normalised(q) in in_test for q in dev_qs)
    assert report["left_out_in_test_splits"] == 2 + shared_dev
    assert report["questions"] == len(dev_qs) - shared_dev
    assert dict(d.fitted_on) == {"dev_questions.jsonl": file_sha256(dev), "more.jsonl": file_sha256(extra)}
    assert dict(d.test_splits) == {"test.jsonl": file_sha256(TEST_SPLIT), "fresh.jsonl": file_sha256(FRESH_SPLIT)}
    assert len(d.weights) == len(SIGNALS) and np.all(np.isfinite(d.weights))
    assert 0 <= d.uncertain_at <= d.answer_at <= 1
    # out of fold, the 95 % interval on false abstention stays under its limit (or, with too
    # few answerable questions for any to be refused, none is)
    n = sum(1 for line in dev.read_text(encoding="utf-8").splitlines()
            if line.strip() and json.loads(line)["gold"] and normalised(json.loads(line)["q"]) not in in_test)
    refused = round(report["out_of_fold"]["false_abstention"] * n)
    assert refused == 0 or wilson_upper(refused, n) <= MAX_FALSE_ABSTENTION
    assert report["out_of_fold"]["ontopic_not_answered"] is None or report["out_of_fold"]["ontopic_not_answered"] >= 0.9 - 1e-9
    # the nested estimate: every figure a share
    assert set(report["nested"]) == set(report["out_of_fold"])
    assert all(v is None or 0.0 <= v <= 1.0 for v in report["nested"].values())


def test_too_few_questions_is_a_clear_error(small, tmp_path):
    index, emb, settings = small
    few = tmp_path / "few.jsonl"
    few.write_text(json.dumps({"q": "Qui a ouvert les rencontres ?", "gold": [3]}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="at least 20 questions"):
        calibrate([(few, index)], emb, settings, test_files=[TEST_SPLIT])


def _synthetic(n: int = 120, seed: int = 0):
    """Signals where the first column tells answerable from unanswerable, with noise."""
    rng = np.random.default_rng(seed)
    kinds = ["fact"] * (n // 2) + ["unanswerable-ontopic"] * (n // 4) + ["unanswerable-offtopic"] * (n - n // 2 - n // 4)
    answerable = np.array([k == "fact" for k in kinds])
    ontopic = np.array([k != "unanswerable-offtopic" for k in kinds])
    x = np.zeros((n, len(SIGNALS)))  # as wide as the real signals; asked_part 0: no place asked for
    x[:, 0] = answerable + rng.normal(0, 0.6, n)
    x[:, 1] = rng.normal(size=n)
    y = answerable.astype(float) * (rng.uniform(size=n) < 0.9)
    return x, y, kinds, answerable, ontopic


def test_out_of_fold_probabilities_average_over_shuffles():
    x, y, kinds, _, _ = _synthetic()
    one = out_of_fold(x, y, kinds, repeats=1)
    many = out_of_fold(x, y, kinds, repeats=8)
    assert np.all((many > 0) & (many < 1))
    # the same call gives the same probabilities; more shuffles give other (averaged) ones
    np.testing.assert_array_equal(many, out_of_fold(x, y, kinds, repeats=8))
    assert not np.allclose(one, many)


def test_fitted_thresholds_bound_false_abstention_by_its_interval():
    x, y, kinds, answerable, ontopic = _synthetic(200, seed=4)
    answer_at, uncertain_at, oof = fit_thresholds(x, y, kinds, answerable, ontopic)
    refused = int(np.sum(oof[answerable] < uncertain_at))
    assert wilson_upper(refused, int(answerable.sum())) <= MAX_FALSE_ABSTENTION
    # as many as the bound allows: one more would break it, or none was refused
    assert wilson_upper(refused + 1, int(answerable.sum())) > MAX_FALSE_ABSTENTION
    assert uncertain_at <= answer_at


def test_questions_asked_for_a_place_do_not_loosen_the_bound_on_the_others():
    x, y, kinds, answerable, ontopic = _synthetic(200, seed=4)
    # 300 more answerable questions, found at the place they ask for: high signal, never refused
    rng = np.random.default_rng(9)
    placed = np.zeros((300, len(SIGNALS)))
    placed[:, 0] = 2.0 + rng.normal(0, 0.2, 300)
    placed[:, SIGNALS.index("asked_part")] = 1.0
    x2 = np.vstack([x, placed])
    y2, kinds2 = np.concatenate([y, np.ones(300)]), kinds + ["structure"] * 300
    answerable2, ontopic2 = np.concatenate([answerable, np.ones(300, bool)]), np.concatenate([ontopic, np.ones(300, bool)])
    _, uncertain_at, oof = fit_thresholds(x2, y2, kinds2, answerable2, ontopic2)
    ordinary = answerable2.copy()
    ordinary[200:] = False
    refused = int(np.sum(oof[ordinary] < uncertain_at))
    # pooled, the 300 would let the ordinary questions fall below uncertain_at more often
    assert wilson_upper(refused, int(ordinary.sum())) <= MAX_FALSE_ABSTENTION
    pooled_allowed = max(k for k in range(int(answerable2.sum())) if wilson_upper(k, int(answerable2.sum())) <= MAX_FALSE_ABSTENTION)
    assert refused < pooled_allowed


def test_the_topic_gate_refuses_no_answerable_question_out_of_fold_and_most_off_topic_ones():
    rng = np.random.default_rng(5)
    x, y, kinds, answerable, ontopic = _synthetic(200, seed=5)
    # a signal that tells off-topic questions apart (as the share of known words does)
    x = np.column_stack([x, ontopic + rng.normal(0, 0.4, len(y))])
    topic_at, oof = fit_topic_gate(x, kinds, answerable, ontopic)
    assert oof is not None and 0 < topic_at < 1
    assert not np.any(oof[answerable] < topic_at)
    assert np.mean(oof[~ontopic] < topic_at) >= 0.5
    # the figures count a gated question as refused: neither answered nor shown
    gated = oof < topic_at
    both = shares(np.ones(len(y)), answerable, ontopic, 0.5, 0.2, gated)
    assert both["offtopic_none"] == round(float(np.mean(gated[~ontopic])), 4)
    assert both["false_abstention"] == 0.0
    # no off-topic question (or no on-topic one): no gate
    assert fit_topic_gate(x, kinds, answerable, np.ones(len(y), dtype=bool)) == (0.0, None)
