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

    parts = {0: "answer", 1: "question", 2: "closing", 3: "caption", 4: "comment-header", 5: "comment", 6: "introduction",
             7: "title", 8: "heading", 9: "text"}
    assert frame_rows(parts, parts.__getitem__) == {1, 2, 3, 4, 7, 8}


@pytest.mark.parametrize(
    "question, parts",
    [
        ("Quelle question l'intervieweur pose-t-il sur l'environnement ?", {"question"}),
        ("D'où vient la photo qui accompagne l'interview ?", {"caption"}),
        ("Que dit l'introduction de l'interview ?", {"introduction"}),
        ("Comment se termine l'interview ?", {"closing"}),
        ("Quel est le titre du compte rendu ?", {"title"}),
        ("Quelles rubriques compte la note ?", {"heading"}),
        ("Quelles sont les parties du rapport ?", {"heading"}),
        ("Que disent les commentaires ?", {"comment", "comment-header"}),
        ("Qu'a écrit l'internaute ?", {"comment"}),  # the readers of a web page, as French names them
        ("Que dit la commentatrice ?", {"comment"}),
        # the English names of parts
        ("What does the interviewer ask about the environment?", {"question"}),
        ("What did the commenter share?", {"comment"}),
        ("How many replies does the comment thread show?", {"comment", "comment-header"}),
        ("What is the closing line of the interview?", {"closing"}),
        ("What does the caption under the picture say?", {"caption"}),
        ("What does the standfirst of the article sum up?", {"introduction"}),
        ("What headline did the story run under?", {"title"}),
        ("How can the fund comment on its score?", set()),  # "comment" is French for "how": not a cue
        # the interviewer named as the one who says another part: not their questions
        ("What are the interviewer's closing words?", {"closing"}),
        ("Comment le journaliste prend-il congé de son invité ?", {"closing"}),
        ("Quelle question l'intervieweur pose-t-il en conclusion ?", {"question", "closing"}),
        # content questions that share a form with the cues, not the word
        ("Comment aider les pères et mères sans les accuser ?", set()),
        ("Quelle part des dossiers transitait par internet ?", set()),
        ("Sur quoi la journée a-t-elle pris fin ?", set()),
        ("Les bénéficiaires auront-ils voix au chapitre ?", set()),
        ("", set()),
    ],
)
def test_asked_parts_reads_the_words_that_name_a_part(question, parts):
    from index.fusion import asked_parts

    assert asked_parts(question) == parts


def test_a_document_is_named_by_its_kind_as_readers_say_it():
    from types import SimpleNamespace

    from index.structure import kind_terms, named_documents

    sources = {"itw": SimpleNamespace(kind="interview", title="Contre-sommet : réinventer l’IA"),
               "art": SimpleNamespace(kind="article", title="À Port-Sillac, l'algorithme passé au crible")}
    assert named_documents("What does the caption under the blog post say?", sources) == {"itw"}
    assert named_documents("What does the intro of the newspaper story sum up?", sources) == {"art"}
    assert named_documents("Que dit l'entretien ?", sources) == {"itw"}
    assert named_documents("Who does the blogger interview?", sources) == {"itw"}
    assert not kind_terms("minutes") & kind_terms("interview")  # "compte" alone names no minutes


def _chunk(source_id: str, part: str, text: str):
    from ingest.model import Chunk

    return Chunk(id=text, source_id=source_id, text=text, start=0, end=len(text), paragraph=1, page=None, section=None,
                 speaker=None, role=None, part=part)


def test_asked_rows_needs_the_question_to_name_the_passage_or_its_document():
    """A part asked for by name gets its bonus only in a passage the question names: by the
    passage's words, its document's title or its kind. "Le titre de la table ronde" is not
    the title of a report on another subject."""
    from index.fusion import asked_rows
    from ingest.model import Source

    sources = {
        "cr": Source(id="cr", title="Compte rendu de l'assemblée du 23 janvier 2025", kind="minutes"),
        "itw": Source(id="itw", title="Le regard d'un formateur", kind="interview"),
    }
    chunks = {
        0: _chunk("cr", "title", "Compte rendu de l'assemblée du 23 janvier 2025"),
        1: _chunk("cr", "heading", "Décisions"),
        2: _chunk("cr", "text", "L'assemblée a décidé de créer un groupe de travail."),
        3: _chunk("itw", "closing", "Merci Olivier"),
        4: _chunk("itw", "question", "Que retenez-vous de la table ronde sur l'environnement ?"),
    }
    rows = set(chunks)

    def asked(q: str) -> set[int]:
        return asked_rows(q, rows, chunks.__getitem__, sources)

    assert asked("Quel est le titre du compte rendu de l'assemblée ?") == {0}
    assert asked("Quelles sont les parties du compte rendu ?") == {1}
    assert asked("Quel était le titre de la deuxième table ronde ?") == set()
    assert asked("Comment se termine l'interview ?") == {3}  # named by its document's kind
    assert asked("Sur quoi la journée s'est-elle terminée ?") == set()  # "terminée", but nothing names the closing
    assert asked("Quelle question l'intervieweur pose-t-il sur l'environnement ?") == {4}
    assert asked("Que dit le compte rendu des décisions ?") == set()  # no part named


def test_asked_rows_win_over_the_content_and_are_not_framed():
    """The weighted fusion adds part_weight to a passage whose part is asked for, and does not
    scale it as a frame; RRF, a baseline, ignores the rule."""
    dense = {1: 0.90, 2: 0.80, 3: 0.70}
    s = Settings(model_dir=Path("m"), frame_weight=0.5, part_weight=2.0, word_match_weight=0.0, latent_weight=0.0)
    plain = fuse(dense, {}, [], 0.0, s, frames={3})
    asked = fuse(dense, {}, [], 0.0, s, frames={3}, asked={3})
    assert best(plain, 1) == [1] and best(asked, 1) == [3]
    assert asked[3] == pytest.approx((0.70 - 0.70) / 0.2 + 2.0)
    assert asked[1] == plain[1] and asked[2] == plain[2]
    none = fuse(dense, {}, [], 0.0, replace(s, part_weight=0.0), frames={3}, asked={3})
    assert none[3] == pytest.approx(0.0) and none[1] == plain[1]  # not framed, no bonus
    rrf = replace(s, fusion="rrf")
    assert fuse(dense, {}, [], 0.0, rrf, frames={3}, asked={3}) == fuse(dense, {}, [], 0.0, rrf, frames={3})


@pytest.mark.parametrize("question, alone", [
    ("Que disent les commentaires ?", True),
    ("Qu'a écrit l'internaute ?", True),
    ("Qui a pris la photo ?", True),
    ("Who is the picture credited to?", True),
    ("What does the standfirst say?", True),
    ("Quelles questions le journaliste pose-t-il à son invité ?", True),
    ("Quel est le titre du document ?", True),
    # a document or a topic named besides the part
    ("Que disent les commentaires sur l'avis du HCTS ?", False),
    ("Quel est le titre de la deuxième table ronde ?", False),
    ("Quel commentaire Thierry Breton fait-il sur l'Europe ?", False),
    ("What picture does the mission paint of internet access?", False),
    # no part named
    ("Que dit-il ?", False),
    ("", False),
])
def test_a_part_asked_for_alone_names_nothing_else(question, alone):
    from index.fusion import parts_asked_alone

    assert bool(parts_asked_alone(question)) is alone
