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
        ("What headline did Mathilde Kervern's story on the family allowance fund run under?", "courrier-port-sillac-algorithme-caf",
         "title"),
        ("What does the interviewer want to know about AI as a danger to our democracies?", "contre-sommet-ia-interview",
         "question"),
        # a part asked for alone, no document or topic named
        ("Que disent les commentaires ?", "contre-sommet-ia-interview", "comment"),
        ("What did the commenter say?", "contre-sommet-ia-interview", "comment"),
        ("Quelles questions pose le journaliste ?", "contre-sommet-ia-interview", "question"),
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
        # a section described in other words, its document not named
        ("Que contient la partie sur le cadre juridique ?", "note-secret-professionnel-chatbots", {4, 5}),
        ("What does the part on the legal framework say?", "note-secret-professionnel-chatbots", {4, 5}),
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


def test_a_paragraph_asked_for_by_number_is_quoted_whole_and_alone(eval_index, real_embedder, real_settings):
    got = answer("Cite le § 30 de l'interview", eval_index, real_embedder, real_settings)
    assert [p.chunk.paragraph for p in got.passages] == [30] and got.level == "answer"
    p = got.passages[0]
    assert (p.start, p.end) == (p.chunk.start, p.chunk.end)  # the passage, not one sentence of it
    assert eval_index.texts[p.chunk.source_id][p.start : p.end] == p.quote == p.chunk.text


def test_a_page_asked_for_by_number_is_quoted_in_reading_order(eval_index, real_embedder, real_settings):
    got = answer("Montre la page 2 du rapport", eval_index, real_embedder, real_settings)
    assert got.passages and {p.chunk.page for p in got.passages} == {2}
    assert [p.start for p in got.passages] == sorted(p.start for p in got.passages)


@pytest.mark.parametrize(
    "question, said",
    [
        ("Que contient le § 48 de l'entretien avec Olivier Griffith ?", "n'a pas de § 48 : ses paragraphes vont du § 1 au §"),
        ("Show page 5 of the report", "has no page 5: its pages run from 1 to 3"),
        ("Que dit la page 2 de l'interview ?", "n'a pas de page 2 : ce document n'a pas de pages numérotées"),
        ("Que dit le § 80 ?", "aucun des documents trouvés n'a de § 80"),
        ("What does paragraph 80 say?", "none of the documents found has a § 80"),
    ],
)
def test_a_number_the_document_named_does_not_have_is_said_so(eval_index, real_embedder, real_settings, question, said):
    got = answer(question, eval_index, real_embedder, real_settings)
    assert got.level == "none" and not got.passages
    assert said in got.notice


def test_a_number_several_documents_have_gives_each_ones_when_none_is_named(eval_index, real_embedder, real_settings):
    got = answer("Que dit le § 3 ?", eval_index, real_embedder, real_settings)
    assert len(got.passages) == 3 and {p.chunk.paragraph for p in got.passages} == {3}
    assert len({p.chunk.source_id for p in got.passages}) == 3  # one per document, not one document's three


def test_a_number_left_out_by_a_filter_is_not_said_missing(eval_index, real_embedder, real_settings):
    from index.store import Filter

    note = Filter(sources=frozenset({"note-secret-professionnel-chatbots"}))
    got = answer("Que dit le § 30 ?", eval_index, real_embedder, real_settings, note)  # the interview's, filtered out
    assert got.notice is None or "§ 30" not in got.notice
    assert all(p.chunk.source_id == "note-secret-professionnel-chatbots" for p in got.passages)
