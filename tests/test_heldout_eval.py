"""Held-out figures: the five frozen test splits, which no parameter was chosen on.

The decision's parameters record the sha256 of the test splits they were fitted without,
and of each calibration file they were fitted on; these tests check both, then hold the
system to floors on each split.
"""
from __future__ import annotations

import pytest

from chat.decision import PARAMS_FILE, load_decision
from ingest.files import file_sha256
from chat.evaluate import evaluate, evidence_path, format_report, read_evidence, read_questions
from tests.conftest import CORPUS, ROOT

HELDOUT = ROOT / "tests" / "data" / "heldout"
TEST_SPLIT = HELDOUT / "test.jsonl"
FRESH_SPLIT = HELDOUT / "fresh.jsonl"  # the second test split, written later from the texts only
FRESH2_SPLIT = HELDOUT / "fresh2.jsonl"  # the third, written with the structure calibration questions
FRESH3_SPLIT = HELDOUT / "fresh3.jsonl"  # the fourth, written with the number calibration questions
FRESH4_SPLIT = HELDOUT / "fresh4.jsonl"  # the fifth, written after the ordinal-paragraph calibration questions
SPLITS = [TEST_SPLIT, FRESH_SPLIT, FRESH2_SPLIT, FRESH3_SPLIT, FRESH4_SPLIT]
CALIBRATION = {
    "dev_questions.jsonl": CORPUS / "dev_questions.jsonl",
    "extra_questions.jsonl": ROOT / "tests" / "data" / "extra_questions.jsonl",
    "calibration.jsonl": HELDOUT / "calibration.jsonl",
    "calibration_more.jsonl": HELDOUT / "calibration_more.jsonl",
    "calibration_structure.jsonl": HELDOUT / "calibration_structure.jsonl",
    "calibration_numbers.jsonl": HELDOUT / "calibration_numbers.jsonl",
    "calibration_relative.jsonl": HELDOUT / "calibration_relative.jsonl",
    "calibration_sections.jsonl": HELDOUT / "calibration_sections.jsonl",
    "calibration_ordinal_next.jsonl": HELDOUT / "calibration_ordinal_next.jsonl",
    "calibration_ordinal_paragraphs.jsonl": HELDOUT / "calibration_ordinal_paragraphs.jsonl",
    "calibration_speakers.jsonl": HELDOUT / "calibration_speakers.jsonl",
    "calibration_parts_en.jsonl": HELDOUT / "calibration_parts_en.jsonl",
    "calibration_sections_unnamed.jsonl": HELDOUT / "calibration_sections_unnamed.jsonl",
    "calibration_parts_alone.jsonl": HELDOUT / "calibration_parts_alone.jsonl",
}


# A little below the figures measured on each test split (README, "Quality"): a regression
# fails CI. They are far from the targets; they guard what is there.
# test.jsonl: the on-topic floor went from 0.6 to 0.45 when the word match made the decision
# answer more questions (measured 0.70, then 0.55); floors raised with the latent match
# (R@1 0.589, R@3 0.696, on-topic 0.60), with parts asked for by name (R@1 0.625, R@3 0.723,
# structure 0.70), then with thresholds bounding false abstention by its interval (false
# abstention 0.018, on-topic 0.65).
# fresh.jsonl, first scoring: R@1 0.556, R@3 0.704, false abstention 0.030, on-topic 0.667.
# Then, with 80 more calibration questions and the topic gate: false abstention 0.036 and
# 0.037, on-topic 1.00 and 0.944, off-topic given no quote 0.64 and 0.75, answerable
# questions answered plainly 0.134 and 0.148 (test, fresh).
# Then with places in documents (index.structure) and the decision refitted with the
# structure calibration questions: R@1 0.634 / 0.615 / 0.693, R@3 0.732 / 0.756 / 0.807,
# structure R@1 0.80 / 0.85 / 0.82, false abstention 0.036 / 0.044 / 0.011, off-topic given
# no quote 0.55 / 0.75 / 0.83, answered plainly 0.15 / 0.19 / 0.42 (test, fresh, fresh2;
# fresh2's first scoring). With answers asked for by their question and the decision
# refitted: R@1 0.634 / 0.615 / 0.727, R@3 0.732 / 0.756 / 0.830, structure 0.80 / 0.85 /
# 0.89, false abstention 0.036 / 0.052 / 0.023, answered plainly 0.12 / 0.19 / 0.41.
# Then with passages of text read with their heading or title: R@1 0.634 / 0.644 / 0.761,
# R@3 0.759 / 0.793 / 0.830, structure 0.80 / 0.85 / 0.87, false abstention 0.027 / 0.030 /
# 0.000, off-topic given no quote 0.64 / 0.75 / 0.83, answered plainly 0.16 / 0.19 / 0.44.
# Places looked for only in the document named or among the best candidates': fresh2 R@1
# 0.750, structure 0.84; nothing else changed.
# Paragraphs and pages asked for by their number, and the decision refitted with the number
# calibration questions: R@1 0.634 / 0.644 / 0.773 / 0.783, R@3 0.759 / 0.793 / 0.852 / 0.855,
# false abstention 0.027 / 0.037 / 0.023 / 0.024, on-topic 1.00 / 0.944 / 1.00 / 0.833,
# off-topic given no quote 0.545 / 0.75 / 0.667 / 1.00, answered plainly 0.18 / 0.19 / 0.48 /
# 0.40, structure 0.80 / 0.85 / 0.89 / 0.87 (test, fresh, fresh2, fresh3; fresh3's first scoring).
# Then with the paragraph next to a topic and the false-abstention bound held apart for
# questions asking for a place: R@1 0.634 / 0.644 / 0.761 / 0.771, R@3 0.759 / 0.793 /
# 0.852 / 0.843, false abstention 0.027 / 0.037 / 0.000 / 0.024, off-topic given no quote
# 0.727 / 0.75 / 0.667 / 1.00, answered plainly 0.21 / 0.24 / 0.48 / 0.42, structure 0.80 /
# 0.85 / 0.87 / 0.83. With headings found by their cognate (the decision refitted on one more
# right calibration question): answered plainly 0.17 / 0.19 / 0.48 / 0.40, false abstention
# 0.027 / 0.037 / 0.000 / 0.012; nothing else changed.
# fresh4.jsonl, first scoring (ordinal paragraphs read, decision fitted on 525 calibration
# questions): R@1 0.699, R@3 0.854, false abstention 0.029, on-topic 0.929, off-topic given
# no quote 1.00, answered plainly 0.223, structure 0.80.
# Quotes scored on the evidence (first scoring, the quote chosen as before): the first quote shows
# the answer for 0.59 / 0.74 / 0.66 / 0.56 / 0.57 of the answerable content questions of fresh4 /
# fresh3 / fresh2 / fresh / test. With English part names and unnamed sections read, fresh lost
# one paraphrase (R@1 0.637, R@3 0.785, quotes 0.55); nothing else moved.
# Parts asked for alone, and the decision refitted on 649 calibration questions (the four later
# files joined): fresh3 R@1 0.783, R@3 0.855, structure 0.87; false abstention 0.029 / 0.012 /
# 0.023 / 0.030 / 0.027, on-topic 0.93 / 0.92 / 1.00 / 0.89 / 1.00, answered plainly 0.24 /
# 0.39 / 0.43 / 0.20 / 0.19 (fresh4 / fresh3 / fresh2 / fresh / test); nothing else moved.
QUOTE_FLOORS = {"fresh4.jsonl": 0.52, "fresh3.jsonl": 0.65, "fresh2.jsonl": 0.58, "fresh.jsonl": 0.50, "test.jsonl": 0.50}
FLOORS = {
    "test.jsonl": {"recall@1": 0.60, "recall@3": 0.72, "false_abstention": 0.06, "ontopic_not_answered": 0.8,
                   "offtopic_not_answered": 0.95, "offtopic_none": 0.5, "answered_answerable": 0.12, "structure": 0.7},
    "fresh.jsonl": {"recall@1": 0.60, "recall@3": 0.75, "false_abstention": 0.05, "ontopic_not_answered": 0.8,
                    "offtopic_not_answered": 0.95, "offtopic_none": 0.5, "answered_answerable": 0.14, "structure": 0.75},
    "fresh2.jsonl": {"recall@1": 0.72, "recall@3": 0.78, "false_abstention": 0.04, "ontopic_not_answered": 0.8,
                     "offtopic_not_answered": 0.95, "offtopic_none": 0.5, "answered_answerable": 0.38, "structure": 0.8},
    "fresh3.jsonl": {"recall@1": 0.75, "recall@3": 0.82, "false_abstention": 0.05, "ontopic_not_answered": 0.75,
                     "offtopic_not_answered": 0.95, "offtopic_none": 0.8, "answered_answerable": 0.35, "structure": 0.8},
    "fresh4.jsonl": {"recall@1": 0.66, "recall@3": 0.82, "false_abstention": 0.05, "ontopic_not_answered": 0.8,
                     "offtopic_not_answered": 0.95, "offtopic_none": 0.8, "answered_answerable": 0.18, "structure": 0.75},
}


@pytest.mark.parametrize("split", SPLITS, ids=lambda p: p.name)
def test_the_decision_was_not_fitted_on_a_test_split(split):
    d = load_decision(PARAMS_FILE)
    test_hash = file_sha256(split)
    assert dict(d.test_splits).get(split.name) == test_hash, \
        f"{split.name} changed since the decision was fitted, or the decision was fitted without it recorded"
    assert test_hash not in dict(d.fitted_on).values()
    assert split.name not in dict(d.fitted_on)


def test_the_decision_was_fitted_on_the_current_calibration_files():
    fitted = dict(load_decision(PARAMS_FILE).fitted_on)
    assert fitted == {name: file_sha256(path) for name, path in CALIBRATION.items()}, "run `make calibrate` again"


@pytest.fixture(scope="module", params=SPLITS, ids=lambda p: p.name)
def split(request):
    return request.param


@pytest.fixture(scope="module")
def report(split, eval_index, real_embedder, real_settings):
    return evaluate(read_questions(split), eval_index, real_embedder, real_settings, evidence=read_evidence(evidence_path(split)))


def fig(report: dict, name: str, mode: str = "fused") -> float:
    return report["modes"][mode]["all"][name]["value"]


@pytest.mark.slow
def test_heldout_floors(split, report):
    text = format_report(report)
    floors = FLOORS[split.name]
    assert report["questions"] == len(read_questions(split))
    assert fig(report, "recall@1") >= floors["recall@1"], text
    assert fig(report, "recall@3") >= floors["recall@3"], text
    assert fig(report, "false_abstention") <= floors["false_abstention"], text
    assert fig(report, "ontopic_not_answered") >= floors["ontopic_not_answered"], text
    assert fig(report, "offtopic_not_answered") >= floors["offtopic_not_answered"], text
    assert fig(report, "offtopic_none") >= floors["offtopic_none"], text
    assert fig(report, "answered_answerable") >= floors["answered_answerable"], text
    assert report["modes"]["fused"]["by_kind"]["structure"]["recall@1"]["value"] >= floors["structure"], text
    # every answerable content question has its evidence, and the first quote shows it often enough
    shown = report["modes"]["fused"]["all"]["quote_shows_answer"]
    assert shown["n"] == sum(1 for r in read_questions(split) if r["gold"] and r["kind"] != "structure")
    assert shown["value"] >= QUOTE_FLOORS[split.name], text


@pytest.mark.slow
def test_every_level_occurs_and_the_report_has_its_intervals(report):
    assert all(report["levels"][lvl] > 0 for lvl in ("answer", "uncertain", "none")), report["levels"]
    for mode in report["modes"].values():
        lo, hi = mode["all"]["recall@1"]["ci95"]
        assert lo <= mode["all"]["recall@1"]["value"] <= hi and hi - lo > 0


@pytest.mark.slow
def test_verbatim_ranks_ahead_of_dense_only_and_of_the_rrf_hybrid(report):
    """The issue's bar: the fused ranking ahead of both baselines of the same run, on every measure."""
    text = format_report(report)
    for name in ("recall@1", "recall@3", "mrr"):
        for baseline in ("dense", "rrf"):
            assert fig(report, name) > fig(report, name, baseline), (name, baseline, text)
