"""The answer decision: the logistic fit, the folds, the thresholds, the parameter file."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from chat.decision import PARAMS_FILE, SIGNALS, Decision, asks_for_number, holds_number, fit_logistic, folds, load_decision, thresholds, wilson_upper


def decision(**kw) -> Decision:
    n = len(SIGNALS)
    base = Decision(weights=(1.0,) + (0.0,) * (n - 1), bias=0.0, mean=(0.0,) * n, scale=(1.0,) * n, answer_at=0.8, uncertain_at=0.2)
    return replace(base, **kw)


def test_logistic_fit_finds_the_signal_that_separates():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    w, b, mean, scale = fit_logistic(x, y, l2=1.0)
    assert abs(w[1]) > 5 * max(abs(w[0]), abs(w[2]))
    p = 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))
    assert np.mean((p > 0.5) == (y == 1)) >= 0.85


def test_a_constant_signal_does_not_break_the_fit():
    x = np.column_stack([np.linspace(-1, 1, 50), np.ones(50)])
    y = (x[:, 0] > 0).astype(float)
    w, _, _, scale = fit_logistic(x, y)
    assert np.all(np.isfinite(w)) and scale[1] == 1.0


def test_folds_partition_and_stratify():
    strata = ["a"] * 20 + ["b"] * 10
    fs = folds(30, 5, strata, seed=1)
    assert sorted(np.concatenate(fs).tolist()) == list(range(30))
    assert all(sum(strata[i] == "b" for i in f) == 2 for f in fs)
    assert [f.tolist() for f in fs] != [f.tolist() for f in folds(30, 5, strata, seed=2)]


def test_thresholds_meet_their_limits():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0.3, 1.0, 100), rng.uniform(0.0, 0.9, 40), rng.uniform(0.0, 0.4, 20)])
    answerable = np.array([True] * 100 + [False] * 60)
    ontopic = np.array([True] * 140 + [False] * 20)
    answer_at, uncertain_at = thresholds(p, answerable, ontopic, 0.03, 0.2, 0.03)
    assert uncertain_at <= answer_at
    assert np.mean(p[answerable] < uncertain_at) <= 0.03
    assert np.mean(p[~answerable & ontopic] >= answer_at) <= 0.2
    assert np.mean(p[~answerable & ~ontopic] >= answer_at) <= 0.03
    # the lowest such threshold: one step lower breaks a limit
    lower = p[p < answer_at]
    if len(lower) and lower.max() >= uncertain_at:
        t = lower.max()
        assert np.mean(p[~answerable & ontopic] >= t) > 0.2 or np.mean(p[~answerable & ~ontopic] >= t) > 0.03


def test_a_share_given_as_a_count_over_n_is_read_exactly():
    # 2/148 * 148 is not exactly 2 in floating point; the cut must still allow 2
    p = np.linspace(0.01, 1.0, 148)
    answerable = np.ones(148, dtype=bool)
    _, uncertain_at = thresholds(p, answerable, answerable, 2 / 148, 0.1, 0.03)
    assert np.sum(p < uncertain_at) == 2


@pytest.mark.parametrize("k, n, want", [(0, 10, 0.2775), (5, 100, 0.1118), (1, 148, 0.0373), (50, 100, 0.5961)])
def test_wilson_upper_bound(k, n, want):
    assert wilson_upper(k, n) == pytest.approx(want, abs=1e-4)


def test_wilson_upper_bound_grows_with_the_count_and_refuses_nonsense():
    ups = [wilson_upper(k, 150) for k in range(10)]
    assert all(a < b for a, b in zip(ups, ups[1:]))
    with pytest.raises(ValueError, match="0 ≤ k ≤ n"):
        wilson_upper(3, 2)


def test_the_topic_gate_refuses_whatever_the_answer_model_says():
    gated = decision(topic_weights=(0.0,) * len(SIGNALS), topic_bias=0.0, topic_at=0.6)
    # topic probability sigmoid(0) = 0.5 < 0.6: refused even at probability 0.99
    assert gated.topic_probability(np.zeros(len(SIGNALS)))[0] == pytest.approx(0.5)
    assert gated.level(0.99, topic=0.5) == "none"
    assert gated.level(0.99, topic=0.7) == "answer"
    assert gated.level(0.5, topic=0.7) == "uncertain"
    # without a gate, every question is on topic
    assert decision().topic_probability(np.zeros((3, len(SIGNALS)))).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="topic gate needs"):
        decision(topic_weights=(1.0, 2.0))
    with pytest.raises(ValueError, match="topic gate needs"):
        decision(topic_at=1.5)


def test_three_levels_and_the_override():
    d = decision()
    assert [d.level(p) for p in (0.9, 0.5, 0.1)] == ["answer", "uncertain", "none"]
    assert d.level(0.5, answer_at=0.4) == "answer"
    assert d.level(0.99, answer_at=1.01) == "uncertain"
    assert d.level(0.1, answer_at=0.0) == "answer"


def test_parameters_round_trip_and_refuse_other_signals(tmp_path):
    d = decision(fitted_on=(("a.jsonl", "00"),), test_splits=(("t.jsonl", "ff"),), report=json.dumps({"questions": 3}),
                 topic_weights=tuple(float(i) for i in range(len(SIGNALS))), topic_bias=-0.5, topic_at=0.25)
    path = tmp_path / "decision.json"
    d.save(path)
    assert load_decision(path) == d
    raw = json.loads(path.read_text())
    raw["signals"] = ["lift"]
    path.write_text(json.dumps(raw))
    load_decision.cache_clear()
    with pytest.raises(RuntimeError, match="verbatim calibrate"):
        load_decision(path)
    with pytest.raises(ValueError, match="uncertain_at"):
        decision(answer_at=0.1, uncertain_at=0.5)


def test_shipped_parameters_load_and_give_probabilities():
    d = load_decision(PARAMS_FILE)
    p = d.probability(np.zeros((2, len(SIGNALS))))
    assert p.shape == (2,) and np.all((0 < p) & (p < 1))
    assert 0 <= d.uncertain_at <= d.answer_at <= 1
    # the shipped decision has its topic gate
    assert len(d.topic_weights) == len(SIGNALS) and 0 < d.topic_at < 1


@pytest.mark.parametrize("q,want", [
    ("Combien de personnes ont assisté au contre-sommet ?", True),
    ("Quel était le budget du contre-sommet ?", True),
    ("En quelle année la loi a-t-elle été votée ?", True),
    ("How many people attended?", True),
    ("Qui est Katia Roux ?", False),
    ("Pourquoi les gens renoncent-ils à manifester ?", False),
])
def test_questions_asking_for_a_figure(q, want):
    assert asks_for_number(q) is want


@pytest.mark.parametrize("text,want", [
    ("Il faut former quatre mille deux cents travailleurs sociaux.", True),
    ("La journée du 7 février 2025.", True),
    ("Le contre-sommet s'est tenu en février.", True),
    ("Cette série de rencontres a été ouverte par Thierry Breton.", False),
])
def test_quotes_holding_a_figure(text, want):
    assert holds_number(text) is want
