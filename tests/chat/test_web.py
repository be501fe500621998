"""The chat page without a browser: its pure renderings (citations, exports, links, marks) and its API.

The page itself, in a real browser, is tested in ``test_browser.py``.
"""
import html
import inspect
import json
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.answer import Answer, Passage, answer
from chat.render import (
    citation,
    export_csl,
    export_markdown,
    group_by_paragraph,
    human_date,
    mark_segments,
    md_escape,
    merged_context,
    quote_link,
)
from chat.web import make_filter, people_choices, render_html, render_sources_html
from ingest.model import Chunk, Person
from index.store import Filter

URL = "https://dubasque.org/contre-sommet/"
TEXT = (
    "Peux tu nous présenter les éléments forts de cette journée ?\n"
    "Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen. "
    "Il nous a rappelé l’histoire de l’informatique. Nous avons réussi à stocker toutes les traces."
)
SOURCE = {"id": "itw", "title": "Contre-sommet", "url": URL, "author": "Didier Dubasque",
          "publisher": "Le blog de Didier Dubasque", "date": "2025-02", "kind": "interview"}


def _passage(quote: str, text: str = TEXT, *, chunk_text: str | None = None, page=None, paragraph=6, source=SOURCE,
             reported=(Person("Thierry Breton", "ex-commissaire européen"),), speaker="Olivier Griffith") -> Passage:
    chunk_text = chunk_text or quote
    cs = text.index(chunk_text)
    qs = text.index(quote, cs)
    chunk = Chunk(id=f"c{cs}", source_id=source["id"], text=chunk_text, start=cs, end=cs + len(chunk_text), paragraph=paragraph,
                  page=page, section="Peux tu nous présenter les éléments forts de cette journée ?", speaker=speaker,
                  role="interviewee", reported=tuple(reported), sentences=((qs, qs + len(quote)),), links=())
    return Passage(quote=quote, start=qs, end=qs + len(quote), context=chunk_text, context_start=cs, context_end=cs + len(chunk_text),
                   score=1.0, confidence=1.0, chunk=chunk, source=dict(source))


BRETON_Q = "Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen."
HISTORY_Q = "Il nous a rappelé l’histoire de l’informatique."


# -- links that open a source at a quote --------------------------------------------------------


def test_a_long_quote_links_with_its_first_and_last_words_percent_encoded():
    link = quote_link(URL + "#old", BRETON_Q)
    assert link == (URL + "#:~:text=Cette%20s%C3%A9rie%20de%20rencontres,"
                    "Thierry%20Breton%2C%20l%E2%80%99ex%2Dcommissaire%20europ%C3%A9en.")


def test_a_short_quote_links_whole_and_pdfs_link_to_their_page():
    assert quote_link("https://ex.org/a", "Merci, à bientôt !") == "https://ex.org/a#:~:text=Merci%2C%20%C3%A0%20bient%C3%B4t%20%21"
    assert quote_link("https://ex.org/avis.pdf", "Un avis.", page=12) == "https://ex.org/avis.pdf#page=12"
    assert quote_link("https://ex.org/avis.PDF?dl=1#x", "Un avis.") == "https://ex.org/avis.PDF?dl=1"
    assert quote_link(None, "q") is None and quote_link("file:///etc/passwd", "q") is None
    assert quote_link("javascript:alert(1)", "q") is None


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=8), min_size=1, max_size=30))
def test_a_text_fragment_always_parses_back_to_the_quote_words(words):
    link = quote_link("https://ex.org/p", " ".join(words))
    directive = link.split("#:~:text=", 1)[1]
    assert not set(directive) & set(" -&#\n\t"), directive
    parts = [unquote(x) for x in directive.split(",")]
    if len(words) <= 8:
        assert parts == [" ".join(words)]
    else:
        assert parts == [" ".join(words[:4]), " ".join(words[-4:])]


# -- citations --------------------------------------------------------------------------------


def test_a_citation_is_ready_to_paste_french_style():
    c = citation(_passage(BRETON_Q), "fr")
    assert c == (
        "« Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen. » — "
        "Olivier Griffith (rapportant Thierry Breton, ex-commissaire européen), dans *Contre-sommet*, "
        "Le blog de Didier Dubasque, février 2025, § 6, " + quote_link(URL, BRETON_Q)
    )


def test_a_citation_names_the_page_in_english_and_does_without_missing_fields():
    src = {"id": "r", "title": "Rapport", "url": "https://ex.org/r.pdf", "author": None, "kind": "pdf"}
    c = citation(_passage(HISTORY_Q, page=4, source=src, reported=(), speaker=None), "en")
    assert c == "« Il nous a rappelé l’histoire de l’informatique. », in *Rapport*, p. 4, https://ex.org/r.pdf#page=4"


def test_dates_read_as_people_write_them():
    assert human_date("2025-02", "fr") == "février 2025" and human_date("2025-02-07", "en") == "7 February 2025"
    assert human_date("printemps 2024", "fr") == "printemps 2024" and human_date(None, "fr") is None


# -- passages of one paragraph, marks ------------------------------------------------------------


def test_passages_of_one_paragraph_are_shown_once_with_every_quote_marked():
    chunk1 = BRETON_Q + " " + HISTORY_Q
    p1 = _passage(BRETON_Q, chunk_text=chunk1)
    p2 = _passage("Nous avons réussi à stocker toutes les traces.")
    other = _passage(HISTORY_Q, paragraph=7)
    assert [len(g) for g in group_by_paragraph([p1, other, p2])] == [2, 1]
    text, offset = merged_context([p1, p2], TEXT)
    assert text == TEXT[p1.context_start : p2.context_end] and offset == p1.context_start
    assert merged_context([p1, p2]) == (text, offset)  # without the source, the gap is the space it is
    page = render_html(Answer("q", True, (p1, p2), "fr"), {"itw": TEXT})
    assert page.count('class="vb-passage"') == 1 and page.count("<mark") == 2
    assert page.count("Il nous a rappelé") == 1 and page.count('class="vb-copy"') == 2


def test_mark_segments_cut_a_text_without_losing_a_character():
    segs = mark_segments("abcdefghij", 10, [(18, 30, "b"), (13, 15, "a"), (14, 16, "overlap")])
    assert segs == [("abc", None), ("de", "a"), ("f", "overlap"), ("gh", None), ("ij", "b")]


@given(st.text(max_size=60), st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70)), max_size=5))
def test_marked_segments_always_rebuild_the_text(text, spans):
    segs = mark_segments(text, 0, [(a, b, i) for i, (a, b) in enumerate(spans)])
    assert "".join(s for s, _ in segs) == text


# -- the answer and the full text as HTML -----------------------------------------------------------


def test_an_answer_marks_the_quote_in_its_context_with_attribution_and_actions():
    p = _passage(BRETON_Q, chunk_text=BRETON_Q + " " + HISTORY_Q)
    page = render_html(Answer("Qui a ouvert ?", True, (p,), "fr"))
    assert f'<span class="vb-guil">« </span><mark class="vb-quote" data-n="1">{BRETON_Q}</mark><span class="vb-guil"> »</span> {HISTORY_Q}' in page
    assert "— Olivier Griffith (interviewé), rapportant Thierry Breton, ex-commissaire européen" in page
    assert "En réponse à la question : <i>Peux tu nous présenter" in page
    assert "<i>Contre-sommet</i>, Le blog de Didier Dubasque, février 2025, § 6" in page
    assert 'href="#vb-q-1"' in page and "Copier la citation" in page
    assert f'data-citation="{html.escape(citation(p, "fr"), quote=True)}"' in page


def test_the_full_text_panel_escapes_the_source_and_marks_every_quote():
    evil = "Avant <script>alert(1)</script>. " + BRETON_Q + " Après <b>gras</b>."
    p = _passage(BRETON_Q, evil)
    html = render_sources_html(Answer("q", True, (p,), "fr"), {"itw": evil})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;gras&lt;/b&gt;" in html
    assert f'<mark class="vb-quote" id="vb-q-1">{BRETON_Q}</mark>' in html


def test_a_bad_question_gets_a_french_message_on_the_page():
    from chat.answer import QuestionError
    from chat.web import error_html

    assert "La question est vide" in error_html(QuestionError("the question is empty", "empty"), "  ")


# -- exports ------------------------------------------------------------------------------------


def test_the_markdown_export_holds_every_passage_with_its_citation_and_escapes_documents():
    p1 = _passage(BRETON_Q)
    p2 = _passage(HISTORY_Q, paragraph=7, reported=())
    md = export_markdown(Answer("Qui a *ouvert* ?", True, (p1, p2), "fr"))
    assert md.startswith("# Qui a \\*ouvert\\* ?\n")
    assert f"> {BRETON_Q}" in md and f"> {HISTORY_Q}" in md
    assert "## 2. Olivier Griffith — § 7" in md
    assert "Source : *Contre\\-sommet*" not in md and "Source : *Contre-sommet*, Le blog de Didier Dubasque, février 2025, § 6" in md
    assert f"<{quote_link(URL, BRETON_Q)}>" in md
    assert "Citation : « Cette série" in md
    assert md_escape("<script>*x*</script>") == "\\<script\\>\\*x\\*\\</script\\>"
    no = export_markdown(Answer("q", False, (p1,), "en"))
    assert "**The corpus does not answer this question.**" in no and "*Closest passages (they do not answer):*" in no


def test_the_csl_json_export_is_what_reference_managers_read():
    p1 = _passage(BRETON_Q)
    p2 = _passage(HISTORY_Q, page=3, source={"id": "r", "title": "Rapport", "url": "https://ex.org/r.pdf", "author": "CNIL",
                                               "publisher": "CNIL", "date": "2023-08-30", "kind": "pdf"}, speaker=None, reported=())
    items = json.loads(json.dumps(export_csl(Answer("q", True, (p1, p2), "fr"))))
    itw, pdf = items
    assert itw["type"] == "interview" and itw["title"] == "Contre-sommet" and itw["URL"] == URL
    assert itw["author"] == [{"given": "Olivier", "family": "Griffith"}]
    assert itw["interviewer"] == [{"given": "Didier", "family": "Dubasque"}]
    assert itw["container-title"] == "Le blog de Didier Dubasque" and itw["issued"] == {"date-parts": [[2025, 2]]}
    assert itw["note"].startswith(f"« {BRETON_Q} » — Olivier Griffith (rapportant Thierry Breton") and itw["note"].endswith("§ 6")
    assert pdf["type"] == "report" and pdf["author"] == [{"literal": "CNIL"}] and pdf["publisher"] == "CNIL"
    assert pdf["page"] == "3" and pdf["issued"] == {"date-parts": [[2023, 8, 30]]}
    assert len({i["id"] for i in items}) == 2


# -- filters ----------------------------------------------------------------------------------------


class _Facets:
    def facets(self):
        return {"sources": [("itw", "Contre-sommet")], "speakers": ["Olivier Griffith"], "reported": ["Thierry Breton"]}


def test_filters_come_from_the_index_facets_and_unknown_names_are_refused():
    from chat.answer import QuestionError

    assert people_choices(_Facets().facets()) == [("Olivier Griffith — parle", "Olivier Griffith"), ("Thierry Breton — rapporté·e", "Thierry Breton")]
    assert make_filter(_Facets(), [], None) is None
    assert make_filter(_Facets(), ["itw"], ["Thierry Breton"]) == Filter(frozenset({"itw"}), frozenset({"Thierry Breton"}))
    with pytest.raises(QuestionError) as err:
        make_filter(_Facets(), ["nope"], [])
    assert err.value.code == "unknown_source"
    with pytest.raises(QuestionError) as err:
        make_filter(_Facets(), [], ["Personne"])
    assert err.value.code == "unknown_person"


def test_the_page_binds_to_loopback_unless_told_otherwise():
    from chat.cli import build_parser
    from chat.web import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


# -- the running server and its API ------------------------------------------------------------------




@pytest.fixture
def server(real_server):
    return real_server


@pytest.mark.slow
def test_the_chat_answers_through_gradio_client(server, real_index, real_embedder, real_settings):
    from gradio_client import Client

    client = Client(server, verbose=False)
    q = "Qui a ouvert la série de rencontres ?"
    data = client.predict(q, api_name="/ask")
    assert data == answer(q, real_index, real_embedder, real_settings).to_dict()
    assert data["answered"] and data["passages"][0]["paragraph"] == 6
    page = client.predict(q, api_name="/ask_html")
    assert "Thierry Breton" in page and "vb-quote" in page
    assert "Peux tu nous présenter les éléments forts de cette journée ?" in page
    bad = client.predict("   ", api_name="/ask")
    assert bad["error_code"] == "empty" and bad["passages"] == []


@pytest.mark.slow
def test_the_api_answers_with_filters_and_lists_them(server, real_index, real_embedder, real_settings):
    from gradio_client import Client

    client = Client(server, verbose=False)
    facets = client.predict(api_name="/facets")
    f = real_index.facets()
    assert facets == {"sources": [{"id": i, "title": t} for i, t in f["sources"]], "speakers": f["speakers"], "reported": f["reported"]}
    q = "Qui a ouvert la série de rencontres ?"
    reader = "Un lecteur (commentaire)"
    data = client.predict(q, [], [reader], api_name="/ask_filtered")
    assert data == answer(q, real_index, real_embedder, real_settings, Filter(people=frozenset({reader}))).to_dict()
    assert data["passages"] and all(p["speaker"] == reader for p in data["passages"])
    assert client.predict(q, api_name="/ask_filtered") == client.predict(q, api_name="/ask")
    bad = client.predict(q, ["no-such-source"], None, api_name="/ask_filtered")
    assert bad["error_code"] == "unknown_source" and bad["passages"] == []


@pytest.mark.slow
def test_the_page_loads_nothing_from_outside(server):
    import httpx

    r = httpx.get(server, timeout=30)
    html = r.text
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "font-src 'self' data:" in csp
    assert r.headers["referrer-policy"] == "no-referrer"
