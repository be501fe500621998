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
