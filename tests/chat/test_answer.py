import pytest

from chat.answer import QuestionError, answer, clean_question, detect_language
from chat.render import render_text
from index.build import build_index
from index.settings import Settings
from ingest.model import Person
from tests.conftest import use_decision


@pytest.fixture(scope="module")
def fake_setup(tmp_path_factory):
    from tests.conftest import FakeEmbedder, copy_corpus, fake_model_dir

    tmp = tmp_path_factory.mktemp("fake")
    corpus = copy_corpus(tmp)
    settings = Settings(model_dir=fake_model_dir(tmp), min_confidence=0.0)
    emb = FakeEmbedder()
    index = build_index(corpus, tmp / "idx", settings, emb, quiet=True)
    return index, emb, settings


def test_quotes_are_exact_slices_and_carry_attribution(fake_setup):
    index, emb, settings = fake_setup
    ans = answer("Thierry Breton ex-commissaire européen série de rencontres ouverte", index, emb, settings)
    assert ans.passages
    for p in ans.passages:
        assert index.texts[p.source["id"]][p.start : p.end] == p.quote
        assert p.context_start <= p.start < p.end <= p.context_end
        assert p.quote in p.context
    top = ans.passages[0]
    assert top.chunk.paragraph == 6
    assert "Thierry Breton" in top.quote
    assert top.chunk.speaker == "Olivier Griffith"
    assert top.chunk.reported == (Person("Thierry Breton", "ex-commissaire européen"),)
    d = ans.to_dict()
    assert set(d["passages"][0]) >= {"quote", "start", "end", "context", "score", "source", "paragraph", "page", "section", "speaker", "role", "part", "reported", "reported_people"}
    assert d["passages"][0]["part"] == "answer"
    assert d["passages"][0]["reported"] == ["Thierry Breton, ex-commissaire européen"]
    assert d["passages"][0]["reported_people"] == [{"name": "Thierry Breton", "affiliation": "ex-commissaire européen"}]
    assert d["passages"][0]["source"]["url"].startswith("https://dubasque.org/")


def test_no_passage_or_paragraph_is_quoted_twice(fake_setup):
    index, emb, settings = fake_setup
    ans = answer("numérique travail social", index, emb, Settings(model_dir=settings.model_dir, top_k=10, min_confidence=0.0))
    assert len(ans.passages) == 10
    paragraphs = [(p.source["id"], p.chunk.paragraph) for p in ans.passages]
    assert len(set(paragraphs)) == len(paragraphs)
    spans = [(p.source["id"], p.start, p.end) for p in ans.passages]
    for i, (s1, a1, b1) in enumerate(spans):
        for s2, a2, b2 in spans[i + 1 :]:
            assert not (s1 == s2 and a1 < b2 and a2 < b1)


def fixed_decision(monkeypatch, answer_at: float, uncertain_at: float, topic_at: float = 0.0) -> None:
    """Make every answer use these thresholds (the probabilities stay the model's); the
    topic gate is off unless ``topic_at`` is given."""
    use_decision(monkeypatch, answer_at=answer_at, uncertain_at=uncertain_at, topic_at=topic_at)


def test_below_both_thresholds_the_answer_is_no_answer(fake_setup, monkeypatch):
    index, emb, settings = fake_setup
    fixed_decision(monkeypatch, 1.0, 1.0)
    ans = answer("Thierry Breton", index, emb, Settings(model_dir=settings.model_dir))
    assert ans.level == "none" and not ans.answered and ans.passages  # closest passages are still offered
    assert ans.to_dict()["level"] == "none" and 0 < ans.confidence < 1
    assert "ne contient pas de réponse" in render_text(ans)


def test_below_the_topic_gate_the_answer_is_no_answer_whatever_its_probability(fake_setup, monkeypatch):
    index, emb, settings = fake_setup
    fixed_decision(monkeypatch, 0.0, 0.0, topic_at=1.0)
    ans = answer("Thierry Breton", index, emb, Settings(model_dir=settings.model_dir))
    assert ans.level == "none" and not ans.answered and ans.passages and 0 < ans.confidence < 1


def test_between_the_thresholds_the_answer_is_uncertain(fake_setup, monkeypatch):
    index, emb, settings = fake_setup
    fixed_decision(monkeypatch, 1.0, 0.0)
    ans = answer("Thierry Breton", index, emb, Settings(model_dir=settings.model_dir))
    assert ans.level == "uncertain" and not ans.answered and ans.passages
    text = render_text(ans)
    assert "Réponse incertaine" in text and ans.passages[0].quote in text


def test_min_confidence_overrides_the_answer_threshold(fake_setup, monkeypatch):
    index, emb, settings = fake_setup
    # the fake embedder's signals look off-topic to the shipped gate, which no override lifts
    fixed_decision(monkeypatch, 0.9, 0.2)
    assert answer("Thierry Breton", index, emb, Settings(model_dir=settings.model_dir, min_confidence=0.0)).level == "answer"
    assert answer("Thierry Breton", index, emb, Settings(model_dir=settings.model_dir, min_confidence=1.01)).level != "answer"


@pytest.mark.parametrize("q,code", [("", "empty"), ("   \n\t ", "empty"), ("?!… ", "no_words"), ("\x00\x01", "empty")])
def test_bad_questions_raise_a_clear_error(q, code):
    with pytest.raises(QuestionError) as err:
        clean_question(q, Settings(model_dir="x"))
    assert err.value.code == code


def test_huge_questions_are_shortened_with_a_notice_in_their_language():
    text, notice = clean_question("Qui a ouvert la série de rencontres ? " * 3000, Settings(model_dir="x"))
    assert len(text) <= 2000 and notice == "la question dépassait 2000 caractères : elle a été raccourcie"
    text, notice = clean_question("Who opened the series of meetings? " * 3000, Settings(model_dir="x"))
    assert len(text) <= 2000 and notice == "the question was longer than 2000 characters and was shortened"


def test_control_characters_are_dropped_and_unicode_normalised():
    text, _ = clean_question("Qui\x07 a ouvert\u200b la se\u0301rie ?", Settings(model_dir="x"))
    assert "\x07" not in text and "série" in text


@pytest.mark.parametrize(
    "q,lang",
    [("Qui a ouvert la série de rencontres ?", "fr"), ("Who organised the counter-summit?", "en"), ("Pharmakon", "fr"), ("What is the CAF algorithm?", "en")],
)
def test_language_detection(q, lang):
    assert detect_language(q) == lang


def test_english_labels_for_english_questions(fake_setup, monkeypatch):
    index, emb, settings = fake_setup
    fixed_decision(monkeypatch, 1.0, 1.0)
    ans = answer("What did Thierry Breton say?", index, emb, Settings(model_dir=settings.model_dir))
    assert "The corpus does not answer this question." in render_text(ans)


def test_filters_restrict_to_sources_and_people(fake_setup):
    from index.store import Filter

    index, emb, settings = fake_setup
    facets = index.facets()
    assert "Olivier Griffith" in facets["speakers"]
    assert "Katia Roux" in facets["reported"] and "Thierry Breton" in facets["reported"]
    assert facets["sources"][0][0] == "contre-sommet-ia-interview"
    q = "numérique surveillance algorithmes droits"
    only_katia = answer(q, index, emb, settings, Filter(people=frozenset({"Katia Roux"})))
    assert only_katia.passages
    assert all(any(r.name == "Katia Roux" for r in p.chunk.reported) for p in only_katia.passages)
    commenter = answer(q, index, emb, settings, Filter(people=frozenset({"Un lecteur (commentaire)"})))
    assert commenter.passages and all(p.chunk.role == "commenter" for p in commenter.passages)
    none = answer(q, index, emb, settings, Filter(sources=frozenset({"no-such-source"})))
    assert none.passages == () and not none.answered


def test_someone_who_only_signs_a_source_is_said_to_sign_it_and_never_answered_plainly():
    """« Qui est Didier Dubasque ? »: no passage introduces him; the source's record says he
    signs it, in a notice (not a quote), and whatever the passages, the answer is not plain."""
    from dataclasses import replace as swap

    from chat.answer import signed_only
    from tests.conftest import small_interview_index

    index, emb, settings = small_interview_index()
    index.sources["itw"] = swap(index.sources["itw"], author="Didier Dubasque")
    assert signed_only("Qui est Didier Dubasque ?", index, "fr") == (
        "« Contre-sommet » est signé Didier Dubasque ; aucun passage du corpus ne présente cette personne")
    assert signed_only("Who is Dubasque?", index, "en") == "“Contre-sommet” is by Didier Dubasque; no passage of the corpus introduces this person"
    assert signed_only("Qui est Katia Roux ?", index, "fr") is None  # not an author
    assert signed_only("Que dit Didier Dubasque sur l'Europe ?", index, "fr") is None  # not asking who he is
    got = answer("Qui est Didier Dubasque ?", index, emb, swap(settings, min_confidence=0.0))
    assert "est signé Didier Dubasque" in got.notice and got.level != "answer" and not got.answered
    for p in got.passages:
        assert index.texts[p.source["id"]][p.start:p.end] == p.quote


def test_who_wrote_a_document_is_said_from_its_record():
    """« Qui a écrit cet article ? »: the record's author, in a notice, for the document
    the question names (the only one here); not for a question that asks nothing of the kind."""
    from dataclasses import replace as swap

    from chat.answer import written_by
    from tests.conftest import small_interview_index

    index, emb, settings = small_interview_index()
    index.sources["itw"] = swap(index.sources["itw"], author="Didier Dubasque")
    said = "« Contre-sommet » est signé Didier Dubasque"
    for q in ("Qui a écrit cet article ?", "Qui est l'auteur de l'interview ?", "Qui a réalisé cet entretien ?"):
        assert written_by(q, index, "fr") == said, q
    assert written_by("Who wrote the interview?", index, "en") == "“Contre-sommet” is by Didier Dubasque"
    assert written_by("Qui a ouvert la série de rencontres ?", index, "fr") is None
    got = answer("Qui a écrit cet article ?", index, emb, settings)
    assert got.notice == said and got.passages
    for p in got.passages:
        assert index.texts[p.source["id"]][p.start:p.end] == p.quote


def test_a_linked_document_is_said_absent_only_while_the_index_does_not_hold_it():
    from dataclasses import replace as swap

    from chat.answer import not_indexed
    from index.report import IngestReport, LinkedSource
    from ingest.corpus import LinkedRef
    from tests.conftest import small_interview_index

    index, emb, settings = small_interview_index()
    url = "https://example.org/avis.pdf"
    index.meta["ingest"] = IngestReport(
        linked={"avis": LinkedSource(url, "itw")}, waiting={"avis": "not fetched yet"},
        titles={"avis": "Avis de la Commission éthique du HCTS : travail social et intelligence artificielle"},
        links=(LinkedRef(url, "itw", "Voici le lien vers l’avis de la Commission éthique du HCTS sur ce sujet.", 41),),
    ).to_dict()
    assert "n'est pas encore dans le corpus" in not_indexed("Qui préside la Commission éthique du HCTS ?", index, "fr")
    assert not_indexed("Quel avis éthique le HCTS a-t-il rendu ?", index, "fr")
    # one word of the citing sentence, or the corpus's own subject, names nothing
    assert not_indexed("Quel est ton avis sur le numérique ?", index, "fr") is None
    assert not_indexed("Le travail social face à l'intelligence artificielle ?", index, "fr") is None
    got = answer("Que recommande le HCTS ?", index, emb, settings)
    assert "verbatim fetch" in got.notice and got.passages
    index.sources["avis"] = swap(index.sources["itw"], id="avis", title="Avis", url=url)  # fetched and indexed
    assert not_indexed("Que recommande le HCTS ?", index, "fr") is None


@pytest.mark.slow
def test_who_wrote_names_the_author_of_the_document_named_among_several(eval_index, real_embedder, real_settings):
    got = answer("Who wrote the minutes?", eval_index, real_embedder, real_settings)
    assert got.notice == "“Compte rendu de l'assemblée du 23 janvier 2025” is by Claire Fontanel"
    assert answer("Qui a écrit ?", eval_index, real_embedder, real_settings).notice is None  # which document: none named
