"""Questions about a place in a document: what they ask for, and which passages stand there."""
from pathlib import Path

import pytest

from index.fusion import Evidence, rank
from index.settings import Settings
from index.structure import Place, _describes_a_section, asked_place, document_rows, named_documents, place_rows
from ingest.model import Chunk, Source


@pytest.mark.parametrize(
    "question, place",
    [
        ("Quelle est la troisième question de l'interview ?", Place("nth", "question", 3)),
        ("Quelle question arrive en quatrième position dans l'entretien ?", Place("nth", "question", 4)),
        ("Quelle est l'avant-dernière question de l'entretien ?", Place("nth", "question", -2)),
        ("What is the second to last question?", Place("nth", "question", -2)),
        ("What does the interviewer ask last?", Place("nth", "question", -1)),
        ("Quelle est la 1ère question ?", Place("nth", "question", 1)),
        ("Que demande le journaliste en tout dernier ?", Place("nth", "question", -1)),
        ("Par quelle question l'intervieweur lance-t-il l'échange ?", Place("nth", "question", 1)),
        ("Quelle est la deuxième réponse de l'interviewé ?", Place("nth", "answer", 2)),
        ("Que dit le dernier paragraphe du rapport ?", Place("nth", "paragraph", -1)),
        ("Que trouve-t-on à la deuxième page du rapport ?", Place("nth", "page", 2)),
        ("Que contient la section « Ce que dit le droit » ?", Place("section", "heading")),
        ("Quelle question suit le passage sur le Rwanda ?", Place("after", "question")),
        ("Quelle question précède le récit de la table ronde ?", Place("before", "question")),
        ("Que dit le paragraphe qui suit celui sur le Rwanda ?", Place("after", "paragraph")),
        ("What comes right after the passage on the Rwanda deal?", Place("after", "paragraph")),
        ("Que lit-on juste avant le passage sur les droits ?", Place("before", "paragraph")),
        # next to a topic whatever its verbs ("ouvre" is Breton's, not the document's)
        ("Que dit le paragraphe qui suit celui où Breton ouvre la journée ?", Place("after", "paragraph")),
        # "juste", "right": a place in the text with no place named
        ("Que trouve-t-on juste après l'explication sur les chatbots ?", Place("after", "paragraph")),
        ("What comes right before the director's claim?", Place("before", "paragraph")),
        ("Que trouve-t-on juste ensuite ?", Place("after", "paragraph")),
        # next to an ordinal place, not the place itself
        ("Quelle question suit la deuxième réponse ?", Place("after", "question", 2, of="answer")),
        ("What comes right after the third question?", Place("after", "paragraph", 3, of="question")),
        ("Que lit-on juste avant la dernière question de l'intervieweur ?", Place("before", "paragraph", -1, of="question")),
        ("Que dit le paragraphe qui suit le deuxième intertitre ?", Place("after", "paragraph", 2, of="heading")),
        ("Comment se termine l'interview ?", Place("nth", "end", -1)),
        ("Que répond-il à la question sur les droits ?", Place("answer-to", "question")),
        ("Comment s'ouvre le rapport ?", Place("nth", "start", 1)),
        ("How does the report end?", Place("nth", "end", -1)),
        # the interviewer ends the exchange with the closing; a question word asks for the last question
        ("Par quels mots l'intervieweur clôt-il l'échange ?", Place("nth", "end", -1)),
        ("Quelle question clôt l'entretien ?", Place("nth", "question", -1)),
        # headings counted together are asked for as such ("Quelles sont les parties… ?"), not what one holds
        ("What are the section headings?", None),
        ("Quelles sont les parties du rapport ?", None),
        # places named by the number a quote shows beside it
        ("Que dit le § 22 ?", Place("number", "paragraph", 22)),
        ("Montre le §31 de l'entretien.", Place("number", "paragraph", 31)),
        ("Résume le paragraphe n° 3 de la note", Place("number", "paragraph", 3)),
        ("Cite l'alinéa 11 de l'article.", Place("number", "paragraph", 11)),
        ("para. 24 de l'interview, ça parle de quoi ?", Place("number", "paragraph", 24)),
        ("What is on p. 2 of the report?", Place("number", "page", 2)),
        ("Le rapport, qu'y a-t-il en page 3 ?", Place("number", "page", 3)),
        ("Quelle est la question n°4 ?", Place("nth", "question", 4)),
        # ordinals past the tenth, in digits or words, compound or not
        ("Que dit le 22e paragraphe de l'interview ?", Place("nth", "paragraph", 22)),
        ("Que dit le 22ème paragraphe ?", Place("nth", "paragraph", 22)),
        ("Que dit le vingt-deuxième paragraphe ?", Place("nth", "paragraph", 22)),
        ("Que dit le vingt et unième paragraphe ?", Place("nth", "paragraph", 21)),
        ("De quoi parle le dix-septième paragraphe ?", Place("nth", "paragraph", 17)),
        ("Que trouve-t-on dans le quinzième paragraphe ?", Place("nth", "paragraph", 15)),
        ("What does the 22nd paragraph say?", Place("nth", "paragraph", 22)),
        ("What does the twenty-second paragraph say?", Place("nth", "paragraph", 22)),
        ("What is in the twelfth paragraph of the report?", Place("nth", "paragraph", 12)),
        ("What does the 3rd paragraph say?", Place("nth", "paragraph", 3)),
        ("Quelle est la 2nde question ?", Place("nth", "question", 2)),
        ("Quelle est la 11e question ?", Place("nth", "question", 11)),
    ],
)
def test_asked_place_reads_the_place_a_question_points_at(question, place):
    assert asked_place(question) == place


@pytest.mark.parametrize(
    "question",
    [
        "Qui a lancé le collectif ?",  # "lancé", but no document named by its kind
        "Quand se termine la formation ?",
        "Quelle est la première recommandation ?",  # an ordinal, but no place named
        "Quelle question a été débattue lors de la deuxième table ronde ?",  # the ordinal counts round tables
        "What question did the first round table raise?",
        "Pour toute question, à qui s'adresser ?",  # a place named, nothing counted
        "Comment aider les personnes âgées ?",  # "comment" is not a comment
        "Quelle part des dossiers est abandonnée ?",
        "Quelle partie du compte rendu rapporte les décisions ?",  # asks for the heading itself (asked_rows)
        "Quelles rubriques compte la note ?",
        "Combien de pages compte le rapport ?",  # pages, but no number names one
        "Quelle sanction prévoit l'article 226-13 du code pénal ?",  # a number, but no place word
        "Qu'est-ce qui sera financé par les 2,3 millions d'euros prévus sur trois ans ?",
        "En 2023, quelle part des demandes passait par le portail ?",
        "Quel poids représentaient les appareils connectés juste avant 2020 ?",  # a date, not a passage
        "Qu'a décidé l'assemblée après avoir reçu le rapport ?",  # "après" about what happened
        "What will happen after the pilot session?",
        "Que deviendra le travail social au 21e siècle ?",  # a digit ordinal that counts centuries
        "Qu'a-t-on dit lors de la vingt-deuxième édition du salon ?",
        "Que montre une vidéo de thirty second ?",
    ],
)
def test_questions_about_content_point_at_no_place(question):
    assert asked_place(question) is None


def _c(source: str, paragraph: int, part: str, text: str, page: int | None = None) -> Chunk:
    return Chunk(id=f"{source}{paragraph}{text[:8]}", source_id=source, text=text, start=paragraph * 100,
                 end=paragraph * 100 + len(text), paragraph=paragraph, page=page, section=None, speaker=None, role=None,
                 part=part)


SOURCES = {
    "itw": Source(id="itw", title="Le regard d'un formateur sur le contre-sommet", kind="interview"),
    "note": Source(id="note", title="Secret professionnel et agents conversationnels", kind="note"),
    "rap": Source(id="rap", title="Rapport sur la dématérialisation", kind="report"),
}
CHUNKS = [
    _c("itw", 1, "introduction", "Vendredi se tenait un contre-sommet."),
    _c("itw", 2, "question", "Quel lien avec le travail social ?"),
    _c("itw", 3, "answer", "Le lien avec l'écologie est ancien."),
    _c("itw", 4, "question", "Quels moments forts ?"),
    _c("itw", 5, "answer", "Thierry Breton a ouvert la journée."),
    _c("itw", 6, "answer", "Un accord sur les minerais avec le Rwanda."),
    _c("itw", 7, "question", "Et les droits fondamentaux ?"),
    _c("itw", 8, "answer", "La surveillance menace nos droits."),
    _c("itw", 9, "closing", "Merci Olivier"),
    _c("itw", 10, "comment-header", "Une réponse"),
    _c("itw", 11, "comment", "Voici le lien vers l'avis."),
    _c("note", 1, "title", "Secret professionnel et agents conversationnels"),
    _c("note", 2, "text", "Cette note accompagne un module."),
    _c("note", 3, "heading", "Ce que dit le droit"),
    _c("note", 4, "text", "Le secret interdit de révéler."),
    _c("note", 5, "text", "Saisir un récit revient à le transmettre."),
    _c("note", 6, "heading", "Recommandations"),
    _c("note", 7, "text", "Ne jamais saisir un nom."),
    _c("rap", 1, "text", "Le rapport a été remis en novembre.", page=1),
    _c("rap", 2, "text", "Les guichets ont fermé.", page=2),
    _c("rap", 3, "text", "En conclusion, la dématérialisation reste une possibilité.", page=2),
]
DOCS = document_rows(CHUNKS)


def _at(question: str, scores: dict[int, float] | None = None) -> set[tuple[str, int]]:
    place = asked_place(question)
    assert place is not None
    scores = scores if scores is not None else {r: 0.0 for r in range(len(CHUNKS))}
    rows = place_rows(place, question, lambda s: DOCS.get(s, []), SOURCES, scores, CHUNKS.__getitem__)
    return {(CHUNKS[r].source_id, CHUNKS[r].paragraph) for r in rows}


NAMED = {
    "rap": Source(id="rap", title="Rapport sur la dématérialisation des prestations sociales en Haute-Vernière", kind="report"),
    "min": Source(id="min", title="Compte rendu de l'assemblée du 23 janvier 2025", kind="minutes"),
    "art": Source(id="art", title="À Port-Sillac, l'algorithme de la caisse d'allocations familiales", kind="article"),
    "note": Source(id="note", title="Secret professionnel et agents conversationnels", kind="note"),
}


@pytest.mark.parametrize(
    "question, named",
    [
        ("Que dit le dernier paragraphe du rapport ?", {"rap"}),  # its kind
        ("Dans le compte rendu, qui a voté ?", {"min"}),
        ("Que dit la note sur le secret professionnel ?", {"note"}),  # kind and two title words
        ("Que dit le § 2 sur le secret professionnel ?", {"note"}),  # two title words
        ("Que dit le § 3 sur la Haute-Vernière ?", {"rap"}),  # a name the title holds
        ("Que dit-on à Port-Sillac ?", {"art"}),
        # one common word of a title names nothing
        ("Quel paragraphe précède celui de l'assistante sociale ?", set()),
        ("Que dit le § 23 ?", set()),
        ("Qui a dit que l'Europe compte 450 millions d'habitants ?", set()),  # "compte", not "compte rendu"
        ("Que dit le paragraphe 23 du rapport ?", {"rap"}),
    ],
)
def test_a_document_is_named_by_its_kind_two_title_words_or_a_name(question, named):
    assert named_documents(question, NAMED) == named


def test_a_place_next_to_a_topic_is_not_looked_for_in_a_document_one_common_word_recalls():
    sources = dict(SOURCES, rap=Source(id="rap", title="Rapport sur les prestations sociales", kind="report"))
    # "sociale" is in the report's title, but the question is about the interview's § 3
    scores = {r: (1.0 if (c.source_id, c.paragraph) == ("itw", 3) else 0.0) for r, c in enumerate(CHUNKS)}
    place = asked_place("Quel paragraphe précède celui sur l'écologie et l'action sociale ?")
    rows = place_rows(place, "Quel paragraphe précède celui sur l'écologie et l'action sociale ?",
                      lambda s: DOCS.get(s, []), sources, scores, CHUNKS.__getitem__)
    assert {(CHUNKS[r].source_id, CHUNKS[r].paragraph) for r in rows} == {("itw", 2)}


@pytest.mark.parametrize(
    "question, described",
    [
        ("What does the legal background section of the note explain?", True),
        ("What came out of the discussion part of the minutes?", True),
        ("Que contient la partie consacrée au cadre légal dans la note ?", True),
        # a heading's name given as such, which no heading has
        ("What does the 'Board elections' part of the minutes report?", False),
        ("What does the 'Editor's note' section of the article say?", False),
        ("Que contient la partie Bibliographie de la note ?", False),
        ("Que contient l'intertitre « Glossaire » de l'article ?", False),
        # the list of sections, and a share
        ("Quelles sont les parties du compte rendu ?", False),
        ("Quelle part des demandes est déposée en ligne ?", False),
    ],
)
def test_a_section_described_in_other_words_is_told_from_a_name_no_heading_has(question, described):
    assert _describes_a_section(question) is described


def test_english_part_after_the_is_a_section_and_french_part_a_share():
    assert asked_place("What came out of the discussion part of the minutes?") == Place("section", "heading")
    assert asked_place("What is in the part of the note that sets out the law?") == Place("section", "heading")
    assert asked_place("Quelle part des demandes est déposée en ligne ?") is None
    assert asked_place("What part did Katia Roux play?") is None


def test_a_section_described_in_other_words_gives_the_heading_the_search_ranks_first_in_the_named_note():
    recommendations = next(r for r, c in enumerate(CHUNKS) if c.text == "Recommandations")
    law = next(r for r, c in enumerate(CHUNKS) if c.text == "Ce que dit le droit")
    scores = {r: 0.0 for r in range(len(CHUNKS))}
    assert _at("What does the advice section of the note say?", {**scores, recommendations: 1.0}) == {("note", 7)}
    assert _at("What does the legal background section of the note say?", {**scores, law: 1.0}) == {("note", 4), ("note", 5)}
    # a name no heading has, and a document named that has no heading, give no place
    assert _at("What does the 'Budget' section of the note say?", {**scores, law: 1.0}) == set()
    assert _at("What does the methods section of the report say?", {**scores, law: 1.0}) == set()


def test_a_section_described_without_naming_its_document_gives_the_heading_the_search_ranks_first():
    recommendations = next(r for r, c in enumerate(CHUNKS) if c.text == "Recommandations")
    law = next(r for r, c in enumerate(CHUNKS) if c.text == "Ce que dit le droit")
    scores = {r: 0.0 for r in range(len(CHUNKS))}
    assert _at("Que dit la section consacrée aux règles légales ?", {**scores, law: 1.0, recommendations: 0.5}) == {("note", 4), ("note", 5)}
    assert _at("What does the advice part say?", {**scores, recommendations: 1.0, law: 0.5}) == {("note", 7)}
    # a heading that is no candidate of the search is not a place; nor is a name no heading has
    assert _at("Que dit la section consacrée aux règles légales ?", {r: 0.0 for r in scores if r not in (law, recommendations)}) == set()
    assert _at("Que contient la partie Bibliographie ?", {**scores, law: 1.0}) == set()


def test_what_stands_next_to_an_ordinal_place():
    # the interview: questions at 2, 4, 7; answers 3, 5-6, 8; the note's headings at 3 and 6
    assert _at("Quelle question suit la première réponse de l'interview ?") == {("itw", 4)}
    assert _at("Que dit le paragraphe qui suit la deuxième réponse de l'interview ?") == {("itw", 7)}  # after its last paragraph
    assert _at("Que lit-on juste avant la deuxième réponse de l'interview ?") == {("itw", 4)}  # before its first
    assert _at("What comes right after the last question of the interview?") == {("itw", 8)}
    assert _at("Que lit-on juste avant la dernière question de l'intervieweur dans l'interview ?") == {("itw", 6)}
    assert _at("Que dit le paragraphe qui suit le deuxième intertitre de la note ?") == {("note", 7)}  # the heading, not its section
    assert _at("Quelle question suit la troisième réponse de l'interview ?") == set()  # none after it


def test_ordinals_count_the_questions_of_the_document_named():
    assert _at("Quelle est la première question de l'interview ?") == {("itw", 2)}
    assert _at("Quelle est la deuxième question de l'entretien ?") == {("itw", 4)}
    assert _at("Quelle est la dernière question de l'interview ?") == {("itw", 7)}
    assert _at("Quelle est l'avant-dernière question de l'interview ?") == {("itw", 4)}
    assert _at("Quelle est la dixième question de l'interview ?") == set()  # there are three
    assert _at("Quelle est la deuxième réponse de l'interview ?") == {("itw", 5), ("itw", 6)}


def test_paragraphs_are_counted_as_a_reader_counts_them_questions_included_title_and_headings_not():
    # the interview: its questions are paragraphs of the page, so the n-th paragraph is § n
    assert _at("Que dit le deuxième paragraphe de l'interview ?") == {("itw", 2)}
    assert _at("Que dit le 4e paragraphe de l'interview ?") == {("itw", 4)}
    assert _at("What does the 8th paragraph of the interview say?") == {("itw", 8)}
    assert _at("Que dit le 12e paragraphe de l'interview ?") == set()  # it has nine (the comments are not its text)
    # the note: its title and headings are not paragraphs
    assert _at("Que dit le troisième paragraphe de la note ?") == {("note", 5)}
    assert _at("Que dit le dernier paragraphe de la note ?") == {("note", 7)}


def test_a_named_section_gives_the_passages_under_its_heading_not_the_heading():
    assert _at("Que contient la section « Ce que dit le droit » de la note ?") == {("note", 4), ("note", 5)}
    assert _at("Que dit la partie Recommandations ?") == {("note", 7)}
    assert _at("Que dit la partie Conclusions ?") == set()  # no such heading
    # a heading named by its cognate, in another language or another number
    assert _at("What does the 'Recommendations' section of the note say?") == {("note", 7)}
    assert _at("Que dit la partie Recommandation ?") == {("note", 7)}
    assert _at("What does the 'Conclusions' section say?") == set()
    assert _at("Que contient la deuxième partie de la note ?") == {("note", 7)}


def test_beginnings_and_ends_of_documents():
    assert _at("Comment se termine l'interview ?") == {("itw", 9)}  # the closing line, not the comment
    assert _at("Comment s'ouvre le rapport ?") == {("rap", 1)}
    assert _at("Sur quoi se conclut le rapport ?") == {("rap", 3)}
    assert _at("Que dit le premier paragraphe de la note ?") == {("note", 2)}  # the title is not a paragraph
    assert _at("Que dit la deuxième page du rapport ?") == {("rap", 2), ("rap", 3)}
    assert _at("Quel est le dernier commentaire de l'interview ?") == {("itw", 11)}


def test_after_and_before_a_topic_read_the_passage_the_search_ranks_first():
    rwanda = {r: (1.0 if CHUNKS[r].paragraph == 6 and CHUNKS[r].source_id == "itw" else 0.1) for r in range(len(CHUNKS))}
    assert _at("Quelle question suit le passage sur le Rwanda ?", rwanda) == {("itw", 7)}
    assert _at("Quelle question précède le passage sur le Rwanda ?", rwanda) == {("itw", 4)}
    rights = {r: (1.0 if CHUNKS[r].paragraph == 7 and CHUNKS[r].source_id == "itw" else 0.1) for r in range(len(CHUNKS))}
    assert _at("Que répond l'invité à la question sur les droits ?", rights) == {("itw", 8)}
    # the paragraph next to it, whatever its part: here the next question, and the answer before
    assert _at("Que dit le paragraphe qui suit celui sur le Rwanda ?", rwanda) == {("itw", 7)}
    assert _at("What comes right before the passage on the Rwanda deal?", rwanda) == {("itw", 5)}
    law = {r: (1.0 if CHUNKS[r].paragraph == 5 and CHUNKS[r].source_id == "note" else 0.1) for r in range(len(CHUNKS))}
    assert _at("Quel passage suit celui sur la saisie d'un récit ?", law) == {("note", 6)}  # a heading is a paragraph
    moments = {r: (1.0 if CHUNKS[r].paragraph == 4 and CHUNKS[r].source_id == "itw" else 0.1) for r in range(len(CHUNKS))}
    assert _at("Quelle réponse donne-t-il à la question sur les moments forts ?", moments) == {("itw", 5), ("itw", 6)}


def test_without_a_document_named_a_document_of_the_best_candidates_that_has_the_place_answers():
    low = {r: 0.1 for r in range(len(CHUNKS))}
    report = [r for r, c in enumerate(CHUNKS) if c.source_id == "rap"]
    # the report's first two passages rank first but it has no questions; the interview is third
    scores = {**low, report[0]: 1.0, report[1]: 0.9, 3: 0.8}
    assert _at("Quelle est la deuxième question ?", scores) == {("itw", 4)}
    # the interview is not among the best candidates: no place, rather than another document's
    only_report = {**low, **{r: 1.0 for r in report}}
    assert _at("Quelle est la deuxième question ?", only_report) == set()
    assert named_documents("Quelle est la deuxième question ?", SOURCES) == set()
    assert named_documents("Comment se termine le rapport ?", SOURCES) == {"rap"}
    # a document named that has no such place gives none, not another document's
    assert _at("Quelle est la deuxième partie de l'interview ?") == set()


def test_a_number_names_the_paragraph_or_page_a_quote_shows():
    assert _at("Que dit le § 5 de l'interview ?") == {("itw", 5)}
    assert _at("Que dit le paragraphe 2 de l'interview ?") == {("itw", 2)}  # a question is a paragraph too
    assert _at("Que dit le § 3 de la note ?") == {("note", 3)}
    assert _at("Que dit la page 2 du rapport ?") == {("rap", 2), ("rap", 3)}
    assert _at("Que dit le § 40 de l'interview ?") == set()  # it has eleven
    assert _at("Que dit la page 2 de l'interview ?") == set()  # it has no pages
    # No document named: the one that has the number, wherever its passages rank
    low = {r: 0.1 for r in range(len(CHUNKS))}
    note_first = {**low, **{r: 1.0 for r, c in enumerate(CHUNKS) if c.source_id == "note"}}
    assert _at("Que dit le § 10 ?", note_first) == {("itw", 10)}
    assert _at("What is on page 2?", note_first) == {("rap", 2), ("rap", 3)}
    # several documents have a § 3: each one's, since none is named
    assert _at("Que dit le § 3 ?", note_first) == {("itw", 3), ("note", 3), ("rap", 3)}
    assert _at("Que dit le § 3 de la note ?", note_first) == {("note", 3)}


class _Fake:
    """The smallest index the ranking reads (index.fusion.Searched)."""

    sources = SOURCES
    language = "fr"
    latent_encoder = None

    def chunk(self, row: int) -> Chunk:
        return CHUNKS[row]

    def latent_scores(self, query, rows):
        return {}

    def document(self, source_id: str):
        return DOCS.get(source_id, [])


def test_the_passage_at_the_place_asked_ranks_first_and_replaces_the_parts_named():
    # dense favours the first question; the third is asked for
    dense = {r: (0.9 if c.paragraph == 2 and c.source_id == "itw" else 0.5) for r, c in enumerate(CHUNKS)}
    found = Evidence(dense, {r: 0.0 for r in dense}, [], 0.0)
    s = Settings(model_dir=Path("m"), word_match_weight=0.0, latent_weight=0.0)
    got = rank("Quelle est la troisième question de l'interview ?", found, s, True, _Fake())
    top = max(got.scores, key=got.scores.__getitem__)
    assert (CHUNKS[top].source_id, CHUNKS[top].paragraph) == ("itw", 7)
    assert got.asked == {top}  # the other questions are not asked for
    plain = rank("Quelles questions l'intervieweur pose-t-il dans l'interview ?", found, s, True, _Fake())
    assert {CHUNKS[r].paragraph for r in plain.asked} == {2, 4, 7}  # a part named, no place: every question
    off = rank("Quelle est la troisième question de l'interview ?", found, Settings(model_dir=Path("m"), part_weight=0.0,
               word_match_weight=0.0, latent_weight=0.0), True, _Fake())
    assert max(off.scores, key=off.scores.__getitem__) != top  # part_weight 0 turns the rule off


def test_a_place_outside_the_candidates_is_ranked_unless_the_filter_refuses_it():
    # neither search found the interview's § 8; the question asks for it by number
    rows = [r for r, c in enumerate(CHUNKS) if not (c.source_id == "itw" and c.paragraph == 8)]
    found = Evidence({r: 0.5 for r in rows}, {r: 0.0 for r in rows}, [], 0.0)
    s = Settings(model_dir=Path("m"), word_match_weight=0.0, latent_weight=0.0)
    got = rank("Que dit le § 8 de l'interview ?", found, s, True, _Fake())
    top = max(got.scores, key=got.scores.__getitem__)
    assert (CHUNKS[top].source_id, CHUNKS[top].paragraph) == ("itw", 8) and got.asked == {top}
    only_note = rank("Que dit le § 8 de l'interview ?", found, s, True, _Fake(), lambda c: c.source_id == "note")
    assert not only_note.asked and set(only_note.scores) == set(rows)


def test_a_part_asked_for_alone_is_ranked_wherever_it_is():
    """« Que disent les commentaires ? » names no passage: every comment is asked for, found by
    the searches or not, as far as the filter lets it through. A question that also names a
    topic gets the part only where it shares a word with it (index.fusion.asked_rows)."""
    rows = [r for r, c in enumerate(CHUNKS) if c.part not in ("comment", "comment-header", "question")]
    found = Evidence({r: 0.5 for r in rows}, {r: 0.0 for r in rows}, [], 0.0)
    s = Settings(model_dir=Path("m"), word_match_weight=0.0, latent_weight=0.0)

    def asked(question: str, admits=None) -> set[tuple[str, int]]:
        return {(CHUNKS[r].source_id, CHUNKS[r].paragraph) for r in rank(question, found, s, True, _Fake(), admits).asked}

    assert asked("Que disent les commentaires ?") == {("itw", 11)}  # not their header, « Une réponse »
    assert asked("How many comments are there?") == {("itw", 10), ("itw", 11)}  # the header says how many
    assert asked("What did the commenter write?") == {("itw", 11)}
    assert asked("Quelles questions le journaliste pose-t-il ?") == {("itw", 2), ("itw", 4), ("itw", 7)}
    assert asked("What are the interviewer's closing words?") == {("itw", 9)}  # said by the interviewer, not a question
    assert asked("Quel est le titre du document ?") == {("note", 1)}
    assert asked("Que disent les commentaires ?", lambda c: c.source_id == "note") == set()
    # a topic named besides the part: not the part alone
    assert asked("Quel commentaire fait-on sur les minerais ?") == set()
    assert asked("Quelle question pose le travail social ?") == set()  # not a candidate, not alone
