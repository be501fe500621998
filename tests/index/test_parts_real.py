"""Parts asked for by name, with the real model over the evaluation corpus: a document's
title and headings are passages, and the question that names them gets them first."""
import pytest

from chat.answer import answer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "question, source, part",
    [
        ("Quelles rubriques compte la note sur le secret professionnel ?", "note-secret-professionnel-chatbots", "heading"),
        ("Quel est le titre de l'article sur Port-Sillac ?", "courrier-port-sillac-algorithme-caf", "title"),
        ("D'où vient la photo de l'interview ?", "contre-sommet-ia-interview", "caption"),
    ],
)
def test_a_part_asked_for_by_name_comes_first(eval_index, real_embedder, real_settings, question, source, part):
    got = answer(question, eval_index, real_embedder, real_settings)
    top = got.passages[0]
    assert (top.chunk.source_id, top.chunk.part) == (source, part)
    assert eval_index.texts[source][top.start : top.end] == top.quote


def test_the_same_words_about_content_do_not_pull_a_heading(eval_index, real_embedder, real_settings):
    """"Titre" of a round table is not the title of a document: no title or heading first."""
    got = answer("Quel était le titre de la deuxième table ronde ?", eval_index, real_embedder, real_settings)
    assert got.passages and got.passages[0].chunk.part not in ("title", "heading")


@pytest.mark.parametrize(
    "question, source, paragraphs",
    [
        ("Quelle est la troisième question de l'interview ?", "contre-sommet-ia-interview", {11}),
        ("What is the last question the interviewer asks?", "contre-sommet-ia-interview", {27}),
        ("Que contient la section « Recommandations » de la note ?", "note-secret-professionnel-chatbots", {7, 8, 9}),
        ("Comment se termine le rapport sur la dématérialisation ?", "rapport-dematerialisation-haute-verniere", {12}),
        ("Quelle question suit le passage sur l'accord avec le Rwanda ?", "contre-sommet-ia-interview", {11}),
        ("Que dit le § 22 ?", "contre-sommet-ia-interview", {22}),
        ("What is on page 2 of the report?", "rapport-dematerialisation-haute-verniere", {5, 6, 7, 8, 9}),
    ],
)
def test_a_place_asked_for_comes_first_with_a_verbatim_quote(eval_index, real_embedder, real_settings, question, source,
                                                            paragraphs):
    """Places in a document (index.structure), with the real model and the evaluation corpus:
    the passage standing there is first, and its quote is a slice of its source."""
    got = answer(question, eval_index, real_embedder, real_settings)
    top = got.passages[0]
    assert (top.chunk.source_id, top.chunk.paragraph in paragraphs) == (source, True), (top.chunk.paragraph, top.quote)
    assert eval_index.texts[source][top.start : top.end] == top.quote
    assert got.level != "none"
