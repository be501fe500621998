"""Fusion on its own: every mode on empty and one-sided candidates (index.fusion, both backends)."""
from dataclasses import replace
from pathlib import Path

import pytest

from index.fusion import best, fuse, word_match
from index.settings import Settings

MODES = ("weighted", "rrf", "dense", "lexical")


def _settings(fusion: str) -> Settings:
    return Settings(model_dir=Path("m"), fusion=fusion)


@pytest.mark.parametrize("fusion", MODES)
def test_no_candidate_on_either_side_fuses_to_nothing(fusion):
    assert fuse({}, {}, [], 0.0, _settings(fusion)) == {}
    assert best({}, 3) == []


@pytest.mark.parametrize("fusion", MODES)
def test_lexical_candidates_alone_are_ranked_by_their_scores(fusion):
    """No dense candidate (an IVF search whose probed lists hold none of a filter's passages)
    used to reach min() over nothing in the weighted mode."""
    lexical = {4: 2.0, 9: 5.0, 1: 0.5}
    # with a lexical weight: by default BM25's score weighs 0 in the fusion (it brings candidates)
    fused = fuse({}, lexical, [9, 4, 1], 5.0, replace(_settings(fusion), lexical_weight=0.6))
    assert set(fused) == {1, 4, 9}
    if fusion == "dense":  # no dense evidence: every one ties, and ties go to the first in the corpus
        assert best(fused, 3) == [1, 4, 9]
    else:
        assert best(fused, 3) == [9, 4, 1]


@pytest.mark.parametrize("fusion", MODES)
def test_dense_candidates_alone_are_ranked_by_their_cosines(fusion):
    dense = {7: 0.9, 2: 0.8, 5: 0.3}  # best first, as searches return them
    fused = fuse(dense, {}, [], 0.0, _settings(fusion))
    assert set(fused) == {2, 5, 7}
    if fusion == "lexical":  # no lexical evidence: ties, first in the corpus first
        assert best(fused, 3) == [2, 5, 7]
    else:
        assert best(fused, 3) == [7, 2, 5]


@pytest.mark.parametrize("fusion", MODES)
def test_one_candidate_on_each_side(fusion):
    fused = fuse({3: 0.5}, {3: 0.0, 8: 1.0}, [8], 1.0, _settings(fusion))
    assert set(fused) == {3, 8} and len(best(fused, 5)) == 2


def test_ties_go_to_the_first_in_the_corpus_by_position():
    fused = {10: 1.0, 20: 1.0, 30: 0.5}
    assert best(fused, 2) == [10, 20]
    assert best(fused, 2, {10: (1, 0), 20: (0, 5), 30: (0, 0)}.__getitem__) == [20, 10]


def test_word_match_moves_the_weighted_fusion_only():
    dense = {1: 0.80, 2: 0.79, 3: 0.30}
    lexical = {1: 0.0, 2: 0.0, 3: 0.0}
    matched = {1: 0.2, 2: 0.9, 3: 0.0}
    on = Settings(model_dir=Path("m"), word_match_weight=0.3)
    assert best(fuse(dense, lexical, [], 0.0, on), 2) == [1, 2]  # no match given: dense alone
    assert best(fuse(dense, lexical, [], 0.0, on, True, word_match=matched), 2) == [2, 1]
    off = Settings(model_dir=Path("m"), word_match_weight=0.0)
    assert best(fuse(dense, lexical, [], 0.0, off, True, word_match=matched), 2) == [1, 2]
    for fusion in ("rrf", "dense"):
        s = Settings(model_dir=Path("m"), fusion=fusion, word_match_weight=0.3)
        assert best(fuse(dense, lexical, [], 0.0, s, True, word_match=matched), 2) == [1, 2]


@pytest.mark.slow
def test_word_match_is_asked_only_for_french_questions_in_the_weighted_mode():
    texts = {0: "Il nous a alerté sur les 3.000 morts récents du côté de Goma.", 1: "Le budget de la journée."}
    on = Settings(model_dir=Path("m"), word_match_weight=0.3)
    got = word_match("Combien de personnes ont péri à Goma ?", texts, on, french=True)
    assert set(got) == {0, 1} and got[0] > got[1]
    assert word_match("Combien de personnes ont péri ?", texts, on, french=False) == {}
    assert word_match("Combien de personnes ont péri ?", texts, Settings(model_dir=Path("m"), fusion="rrf", word_match_weight=0.3), True) == {}
    assert word_match("Combien de personnes ont péri ?", texts, Settings(model_dir=Path("m"), word_match_weight=0.0), True) == {}


@pytest.mark.parametrize("fusion", ["weighted", "rrf"])
def test_framing_passages_are_scaled_by_frame_weight(fusion):
    """The framing weight lives in the shared fusion: both backends rank framing passages alike."""
    dense = {3: 0.9, 8: 0.85, 1: 0.2}
    lexical = {3: 4.0, 8: 3.9, 1: 0.0}
    plain = fuse(dense, lexical, [3, 8], 4.0, Settings(model_dir=Path("m"), fusion=fusion, frame_weight=1.0))
    framed = fuse(dense, lexical, [3, 8], 4.0, Settings(model_dir=Path("m"), fusion=fusion, frame_weight=0.5), frames={3})
    assert framed[3] == pytest.approx(plain[3] * 0.5)
    assert framed[8] == plain[8] and framed[1] == plain[1]
    assert best(plain, 1) == [3] and best(framed, 1) == [8]


@pytest.mark.parametrize("fusion", ["dense", "lexical"])
def test_single_side_fusions_are_not_framed(fusion):
    """Raw cosines may be negative: scaling them would raise a framing passage, so the one-side
    modes (the evaluation's baselines) rank by their own evidence alone."""
    dense = {3: -0.2, 8: -0.3}
    s = Settings(model_dir=Path("m"), fusion=fusion, frame_weight=0.5)
    assert fuse(dense, {3: 1.0}, [3], 1.0, s, frames={3}) == fuse(dense, {3: 1.0}, [3], 1.0, s)


def test_frame_rows_picks_the_framing_parts():
    from index.fusion import frame_rows

    parts = {0: "answer", 1: "question", 2: "closing", 3: "caption", 4: "comment-header", 5: "comment", 6: "introduction"}
    assert frame_rows(parts, parts.__getitem__) == {1, 2, 3, 4}
