from dataclasses import replace

from chat.answer import Answer, Passage
from chat.web import render_html
from ingest.model import Chunk, Person


def _passage(text: str) -> Passage:
    chunk = Chunk(id="x", source_id="s", text=text, start=0, end=len(text), paragraph=1, page=None,
                  section="<b>Q</b> ?", speaker="<img src=x onerror=alert(1)>", role="interviewee",
                  reported=(Person("<script>alert(2)</script>"),), sentences=((0, len(text)),), links=("javascript:alert(3)",))
    return Passage(quote=text, start=0, end=len(text), context=text, context_start=0, context_end=len(text), score=1.0,
                   confidence=1.0, chunk=chunk, source={"id": "s", "title": "<i>T</i>", "url": "https://ex.org/?a=<b>", "author": None})


def test_document_text_is_shown_as_text_never_as_html():
    p = _passage('Texte <script>alert("x")</script> et <iframe src="https://evil"></iframe>.')
    page = render_html(Answer("q", True, (p,), "fr"))
    assert "<script>" not in page and "<iframe" not in page and "<img" not in page and "<b>Q" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page  # only http(s) links become links


def test_no_answer_is_said_in_the_question_language():
    p = _passage("Un passage.")
    fr = render_html(Answer("q", False, (p,), "fr"))
    en = render_html(Answer("q", False, (p,), "en"))
    assert "Le corpus ne contient pas de réponse à cette question." in fr and "<details>" in fr
    assert "The corpus does not answer this question." in en


def test_what_else_of_someone_that_finds_nothing_says_the_corpus_quotes_nothing_else_of_them():
    from chat.conversation import Understood
    from chat.render import render_text

    asked = Understood("Qu'a-t-elle dit d'autre ?", "Que dit Katia Roux ? — Qu'a-t-elle dit d'autre ?", True, "Que dit Katia Roux ?",
                       skip=frozenset({("itw", 23)}), about=("Katia Roux",))
    nothing = Answer(asked.searched, False, (), "fr", level="none")
    import html

    for shown in (render_text(nothing, asked), html.unescape(render_html(nothing, None, None, asked))):
        assert "Le corpus ne cite rien d'autre de Katia Roux." in shown and "ne contient pas de réponse" not in shown
    assert "The corpus quotes nothing else of Katia Roux." in render_text(replace(nothing, language="en"), asked)
    # not restricted to someone, or nothing left out: the corpus does not answer
    for plain in (replace(asked, about=()), replace(asked, skip=frozenset()), None):
        assert "Le corpus ne contient pas de réponse à cette question." in render_text(nothing, plain)


def test_a_passage_is_shown_under_its_question_or_under_its_heading():
    """An interview's answer stands under the interviewer's question; a report's paragraph
    under its section's heading, which is no question."""
    from chat.render import export_markdown, render_text

    answer_part = replace(_passage("Une réponse."), chunk=replace(_passage("Une réponse.").chunk, section="Que retenez-vous ?", part="answer"))
    text_part = replace(answer_part, chunk=replace(answer_part.chunk, section="Recommandations", part="text", role="author"))
    for lang, question, heading in (("fr", "Question : Que retenez-vous ?", "Rubrique : Recommandations"),
                                    ("en", "Question : Que retenez-vous ?", "Section : Recommandations")):
        assert question in render_text(Answer("q", True, (answer_part,), lang))
        shown = render_text(Answer("q", True, (text_part,), lang))
        assert heading in shown and "Question :" not in shown
    assert "Dans la rubrique : *Recommandations*" in export_markdown(Answer("q", True, (text_part,), "fr"))
    assert "En réponse à la question : <i>Recommandations" not in render_html(Answer("q", True, (text_part,), "fr"))
    assert "Dans la rubrique : <i>Recommandations</i>" in render_html(Answer("q", True, (text_part,), "fr"))
