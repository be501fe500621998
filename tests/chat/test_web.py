"""The chat page without a browser: its pure renderings (citations, exports, links, marks) and its API.

The page itself, in a real browser, is tested in ``test_browser.py``.
"""
import html
import inspect
import json
from dataclasses import replace
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
)
from chat.filters import make_filter
from chat.page import people_choices, render_html, render_sources_html
from ingest.model import Chunk, Person
from index.store import Filter
from ingest.links import quote_link
from tests.conftest import ask_json

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
                  role="interviewee", reported=tuple(reported), sentences=((qs, qs + len(quote)),), links=(), part="answer")
    return Passage(quote=quote, start=qs, end=qs + len(quote), context=chunk_text, context_start=cs, context_end=cs + len(chunk_text),
                   score=1.0, confidence=1.0, chunk=chunk, source=dict(source))


BRETON_Q = "Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen."
HISTORY_Q = "Il nous a rappelé l’histoire de l’informatique."


# -- links that open a source at a quote --------------------------------------------------------


def test_a_long_quote_links_with_its_first_and_last_words_percent_encoded():
    link = quote_link(URL + "#old", "html", BRETON_Q, None)
    assert link == (URL + "#:~:text=Cette%20s%C3%A9rie%20de%20rencontres,"
                    "Thierry%20Breton%2C%20l%E2%80%99ex%2Dcommissaire%20europ%C3%A9en.")


def test_a_short_quote_links_whole_and_pdfs_link_to_their_page():
    assert quote_link("https://ex.org/a", "html", "Merci, à bientôt !", None) == "https://ex.org/a#:~:text=Merci%2C%20%C3%A0%20bient%C3%B4t%20%21"
    assert quote_link("https://ex.org/avis.pdf", None, "Un avis.", 12) == "https://ex.org/avis.pdf#page=12"
    assert quote_link("https://ex.org/avis.PDF?dl=1#x", None, "Un avis.", None) == "https://ex.org/avis.PDF?dl=1"
    assert quote_link(None, "html", "q", None) is None and quote_link("file:///etc/passwd", "html", "q", None) is None
    assert quote_link("javascript:alert(1)", "html", "q", None) is None


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=8), min_size=1, max_size=30))
def test_a_text_fragment_always_parses_back_to_the_quote_words(words):
    link = quote_link("https://ex.org/p", "html", " ".join(words), None)
    directive = link.split("#:~:text=", 1)[1]
    assert not set(directive) & set(" -&#\n\t"), directive
    parts = [unquote(x) for x in directive.split(",")]
    if len(words) <= 8:
        assert parts == [" ".join(words)]
    else:
        assert parts == [" ".join(words[:4]), " ".join(words[-4:])]


@pytest.mark.parametrize(
    ("url", "kind", "page", "expected"),
    [
        # A Word document is a download: no viewer follows a fragment.
        ("https://ex.org/charte.docx", "docx", None, "https://ex.org/charte.docx"),
        # A PDF behind a query string: known by its kind, not by its path.
        ("https://ex.org/download?id=3", "pdf", 2, "https://ex.org/download?id=3#page=2"),
        ("https://ex.org/page.html", "html", None, "https://ex.org/page.html#:~:text=Il%20nous%20a%20rappel%C3%A9%20l%E2%80%99histoire%20de%20l%E2%80%99informatique."),
    ],
)
def test_one_quote_link_for_the_json_the_page_the_citation_and_the_export(url, kind, page, expected):
    """The JSON and the page used to compute this link with two functions that disagreed."""
    src = {"id": "s", "title": "Doc", "url": url, "author": None, "kind": kind}
    p = _passage(HISTORY_Q, page=page, source=src, reported=(), speaker=None)
    ans = Answer("q", True, (p,), "fr")
    assert p.to_dict()["quote_url"] == expected
    assert citation(p, "fr").endswith(", " + expected)
    assert f'href="{html.escape(expected, quote=True)}"' in render_html(ans)
    md = export_markdown(ans)
    assert "<" + expected + ">" in md
    assert [line for line in md.splitlines() if line.startswith("Citation")][0].endswith(f", <{expected}>")


# -- citations --------------------------------------------------------------------------------


def test_a_citation_is_ready_to_paste_french_style():
    c = citation(_passage(BRETON_Q), "fr")
    assert c == (
        "« Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen. » — "
        "Olivier Griffith (rapportant Thierry Breton, ex-commissaire européen), dans Contre-sommet, "
        "Le blog de Didier Dubasque, février 2025, § 6, " + quote_link(URL, "interview", BRETON_Q, None)
    )


def test_a_citation_names_the_page_in_english_and_does_without_missing_fields():
    src = {"id": "r", "title": "Rapport", "url": "https://ex.org/r.pdf", "author": None, "kind": "pdf"}
    c = citation(_passage(HISTORY_Q, page=4, source=src, reported=(), speaker=None), "en")
    assert c == "« Il nous a rappelé l’histoire de l’informatique. », in Rapport, p. 4, https://ex.org/r.pdf#page=4"
    assert "*" not in c  # plain text: pasted into mails and word processors


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
    from chat.page import error_html

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
    assert "<" + quote_link(URL, "interview", BRETON_Q, None) + ">" in md
    assert "Citation : « Cette série" in md
    # The citation line keeps its link clickable: never escaped into \#:\~:text.
    assert f"dans *Contre-sommet*, Le blog de Didier Dubasque, février 2025, § 6, <{quote_link(URL, 'interview', BRETON_Q, None)}>" in md
    assert "\\#:\\~:text" not in md
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
    assert data == ask_json(q, real_index, real_embedder, real_settings)
    assert data["level"] in ("answer", "uncertain") and data["passages"][0]["paragraph"] == 6
    nxt = client.predict("Et la suite ?", data["conversation"], api_name="/ask")  # a program's conversation
    assert [p["paragraph"] for p in nxt["passages"]] == [7] and nxt["understood_as"].startswith("§ 7 — ")
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
    assert data == ask_json(q, real_index, real_embedder, real_settings, Filter(people=frozenset({reader})))
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


# -- three answer states: answer, uncertain, none ------------------------------------------------------


from chat.render import level_of, render_text  # noqa: E402


def _three():
    p = _passage(BRETON_Q, chunk_text=BRETON_Q + " " + HISTORY_Q)
    return {
        "answer": Answer("Qui a ouvert ?", True, (p,), "fr"),
        "uncertain": Answer("Qui a ouvert ?", False, (p,), "fr", level="uncertain"),
        "none": Answer("Qui a ouvert ?", False, (p,), "fr"),
    }


def test_the_level_is_read_from_the_answer_or_from_answered():
    three = _three()
    assert {k: level_of(a) for k, a in three.items()} == {"answer": "answer", "uncertain": "uncertain", "none": "none"}
    assert level_of(Answer("q", False, (), "fr", level="none")) == "none"


def test_each_state_has_its_own_look_on_the_page():
    pages = {k: render_html(a, {"itw": TEXT}) for k, a in _three().items()}
    assert 'data-level="answer"' in pages["answer"] and '<mark class="vb-quote"' in pages["answer"]
    assert "incertaine" not in pages["answer"] and "vb-none" not in pages["answer"]
    assert 'data-level="uncertain"' in pages["uncertain"] and "Réponse incertaine" in pages["uncertain"]
    assert '<mark class="vb-quote"' in pages["uncertain"]  # quotes shown, in the uncertain frame (vb-level-uncertain)
    none = pages["none"]
    assert "Le corpus ne contient pas de réponse" in none and "<details>" in none
    assert "<mark" not in none and 'class="vb-near"' in none and "« </span>" not in none  # never marked as quotes
    panel = render_sources_html(_three()["none"], {"itw": TEXT})
    assert "<mark" not in panel and 'class="vb-near" id="vb-q-1"' in panel


def test_each_state_has_its_own_look_in_the_terminal_and_the_exports():
    three = _three()
    text = {k: render_text(a) for k, a in three.items()}
    assert f"1. « {BRETON_Q} »" in text["answer"] and "incertaine" not in text["answer"]
    assert text["uncertain"].startswith("Réponse incertaine") and f"« {BRETON_Q} »" in text["uncertain"]
    assert text["none"].startswith("Le corpus ne contient pas") and f"1. ({BRETON_Q})" in text["none"] and "«" not in text["none"].split("\n", 2)[2].split("—")[0]
    md = {k: export_markdown(a) for k, a in three.items()}
    assert f"> {BRETON_Q}" in md["answer"] and "**Réponse incertaine" in md["uncertain"] and f"> {BRETON_Q}" in md["uncertain"]
    assert f"> {BRETON_Q}" not in md["none"] and f"({BRETON_Q})" in md["none"]
    notes = {k: export_csl(a)[0]["note"] for k, a in three.items()}
    assert notes["answer"].startswith("«") and notes["uncertain"].startswith("[Réponse incertaine]")
    assert notes["none"].startswith("[Passages les plus proches")


def test_a_speaker_named_by_a_role_gets_no_second_role_label():
    from chat.render import attribution_line

    p = _passage(HISTORY_Q, speaker="Un lecteur (commentaire)", reported=())
    object.__setattr__(p.chunk, "role", "commenter")
    assert attribution_line(p, "fr") == "Un lecteur (commentaire)" and attribution_line(p, "en") == "Un lecteur (commentaire)"
    assert attribution_line(_passage(HISTORY_Q, reported=()), "en") == "Olivier Griffith (interviewee)"


def test_a_follow_up_card_says_how_it_was_understood_and_offers_to_ask_it_alone():
    from chat.conversation import Context, resolve

    u = resolve("Et sur l'histoire ?", Context("Qui a ouvert la série de rencontres ?", ("Thierry Breton",)))
    page = render_html(Answer(u.searched, True, (_passage(HISTORY_Q),), "fr"), None, None, u, turn=2)
    assert "Question posée : <q>Et sur l&#x27;histoire ?</q>" in page
    assert "Compris comme : « Qui a ouvert la série de rencontres ? (Thierry Breton) — Et sur l&#x27;histoire ? »" in page
    assert 'class="vb-ask-alone" data-question="Et sur l&#x27;histoire ?"' in page
    assert 'href="#vb-q-2-1"' in page  # anchors unique per turn
    assert 'data-query="?q=Qui+a+ouvert' in page  # the card's link reproduces what was searched
    assert "déjà cités" not in page
    other = resolve("Qu'a-t-il dit d'autre ?", Context("Qui a ouvert ?", ("Thierry Breton",), ("Titre", 6), (("itw", 6),)))
    page = render_html(Answer(other.searched, True, (_passage(HISTORY_Q),), "fr"), None, None, other, turn=3)
    assert "— Qu&#x27;a-t-il dit d&#x27;autre ? », sans les passages déjà cités" in page
    text = render_text(Answer(other.searched, True, (_passage(HISTORY_Q),), "fr"), other)
    assert text.splitlines()[0].endswith("— Qu'a-t-il dit d'autre ? », sans les passages déjà cités)")
    about = resolve("Qu'a-t-il dit d'autre ?", Context("Que dit Thierry Breton ?", ("Thierry Breton",), ("Titre", 6), (("itw", 6),)))
    page = render_html(Answer(about.searched, True, (_passage(HISTORY_Q),), "fr"), None, None, about, turn=4)
    assert "sans les passages déjà cités, parmi ceux de Thierry Breton" in page
    text = render_text(Answer(about.searched, True, (_passage(HISTORY_Q),), "en"), about)
    assert text.splitlines()[0].endswith("without the passages already quoted, among those of Thierry Breton)")


def test_the_corpus_panel_lists_sources_with_kind_passages_and_state():
    rows = [{"id": "itw", "title": "Contre-sommet", "kind": "interview", "chunks": 40, "state": "indexed"},
            {"id": "w", "title": "<b>Page</b>", "kind": "web", "chunks": 0, "state": "waiting"}]
    fr = corpus_html(rows, "fr")
    assert "Le corpus : 1 sources, 40 passages" in fr and "entretien" in fr and "à télécharger" in fr
    assert "&lt;b&gt;Page&lt;/b&gt;" in fr and "<b>Page" not in fr
    assert "to download" in corpus_html(rows, "en") and "interview" in corpus_html(rows, "en")


from chat.page import corpus_html  # noqa: E402


# -- the HTTP API (in process) ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api():
    from fastapi.testclient import TestClient

    from chat.api import Answerer, api_app
    from chat.live import LiveIndex
    from tests.conftest import small_interview_index

    index, emb, settings = small_interview_index()
    answerer = Answerer(LiveIndex(index), emb, settings)
    with TestClient(api_app(answerer)) as client:
        yield client, answerer
    

def test_the_http_api_returns_the_ask_json_object_by_get_and_post(api):
    client, answerer = api
    q = "Qui a ouvert la série de rencontres ?"
    expected = answer(q, answerer.live.current(), answerer.embedder, answerer.settings).to_dict()
    r = client.get("/api/ask", params={"q": q})
    body = r.json()
    conversation = body.pop("conversation")
    assert r.status_code == 200 and body == expected
    top = expected["passages"][0]
    assert conversation == {"topic": q, "people": conversation["people"], "reported": [r["name"] for r in top["reported_people"]],
                            "at": {"title": top["source"]["title"], "paragraph": top["paragraph"]},
                            "shown": [{"source": p["source"]["id"], "paragraph": p["paragraph"]} for p in expected["passages"]],
                            "language": "fr"}
    r = client.post("/api/ask", json={"q": q, "top_k": 2})
    assert r.status_code == 200 and r.json()["passages"] == expected["passages"][:2]
    only = client.get("/api/ask", params=[("q", q), ("source", "itw"), ("speaker", "Olivier Griffith")]).json()
    assert only["passages"] and all(p["speaker"] == "Olivier Griffith" for p in only["passages"])


def test_the_http_api_reads_a_question_as_the_follow_up_of_the_conversation_sent_back(api):
    client, answerer = api
    first = client.get("/api/ask", params={"q": "Qui a ouvert la série de rencontres ?"}).json()
    at = first["conversation"]["at"]
    by_get = client.get("/api/ask", params={"q": "Et la suite ?", "conversation": json.dumps(first["conversation"])}).json()
    by_post = client.post("/api/ask", json={"q": "Et la suite ?", "conversation": first["conversation"]}).json()
    assert by_get == by_post
    assert by_get["question"] == "Et la suite ?" and by_get["understood_as"] == f"§ {at['paragraph'] + 1} — {at['title']}"
    assert [p["paragraph"] for p in by_get["passages"]] == [at["paragraph"] + 1]
    assert by_get["conversation"]["at"]["paragraph"] == at["paragraph"] + 1  # the next « Et la suite ? » goes on
    assert by_get["conversation"]["topic"] == first["conversation"]["topic"]
    alone = client.get("/api/ask", params={"q": "Et la suite ?"}).json()
    assert "understood_as" not in alone and alone["conversation"]["topic"] == "Et la suite ?"
    other = client.post("/api/ask", json={"q": "Qu'a-t-il dit d'autre ?", "conversation": first["conversation"]}).json()
    quoted = {(p["source"]["id"], p["paragraph"]) for p in first["passages"]}
    assert {(x["source"], x["paragraph"]) for x in other["left_out"]} == quoted
    assert other["passages"] and not quoted & {(p["source"]["id"], p["paragraph"]) for p in other["passages"]}
    reader = "Un lecteur (commentaire)"
    topic = {"topic": "Que dit un lecteur en commentaire ?", "people": [reader], "at": None, "shown": []}
    his = client.post("/api/ask", json={"q": "Qu'a-t-il dit d'autre ?", "conversation": topic}).json()
    assert his["about"] == [reader] and his["passages"] and all(p["speaker"] == reader for p in his["passages"])
    loose = client.post("/api/ask", json={"q": "Que dit un lecteur en commentaire ? — Qu'a-t-il dit d'autre ?"}).json()
    assert any(p["speaker"] != reader for p in loose["passages"])  # the restriction is what kept the others out


@pytest.mark.parametrize("conversation, says", [
    ("{not json", "not JSON"),
    ('["topic"]', "must be an object"),
    ('{"people": []}', "topic"),
    ('{"topic": "q", "people": "Katia Roux"}', "people"),
    ('{"topic": "q", "at": {"title": "t", "paragraph": "7"}}', "at must be"),
    ('{"topic": "q", "at": {"title": "t", "paragraph": -1}}', "at must be"),
])
def test_a_conversation_that_is_not_one_an_answer_returned_is_refused_with_the_fix(api, conversation, says):
    client, _ = api
    r = client.get("/api/ask", params={"q": "Et la suite ?", "conversation": conversation})
    body = r.json()
    assert r.status_code == 400 and body["error_code"] == "bad_conversation" and says in body["error"]
    assert "last answer" in body["error"] and body["passages"] == []
    r = client.post("/api/ask", json={"q": "Et la suite ?", "conversation": [1]})
    assert r.status_code == 400 and r.json()["error_code"] in ("bad_conversation", "bad_request")


@pytest.mark.parametrize("params, status, code", [
    ({"q": "   "}, 400, "empty"),
    ({"q": "?!"}, 400, "no_words"),
    ({"q": "Qui ?", "top_k": 0}, 400, "bad_top_k"),
    ({"q": "Qui ?", "top_k": "deux"}, 400, "bad_request"),
    ({}, 400, "bad_request"),
    ({"q": "Qui ?", "source": "nope"}, 404, "unknown_source"),
    ({"q": "Qui ?", "speaker": "Personne Inconnue"}, 404, "unknown_person"),
])
def test_http_api_errors_are_json_with_a_status_code(api, params, status, code):
    client, _ = api
    r = client.get("/api/ask", params=params)
    assert r.status_code == status and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error_code"] == code and body["error"] and body["passages"] == [] and body["answered"] is False


def test_the_http_api_describes_itself(api):
    client, _ = api
    spec = client.get("/api/openapi.json").json()
    assert {"/api/ask", "/api/facets"} <= set(spec["paths"]) and {"get", "post"} <= set(spec["paths"]["/api/ask"])
    docs = client.get("/api/docs").text
    assert "GET /api/ask" in docs and "POST /api/ask" in docs and "<script" not in docs
    assert client.get("/api/facets").json()["sources"] == [{"id": "itw", "title": "Contre-sommet"}]


def test_the_http_api_asks_for_the_password_when_the_page_does():
    from fastapi.testclient import TestClient

    from chat.api import Answerer, api_app
    from chat.live import LiveIndex
    from tests.conftest import small_interview_index

    index, emb, settings = small_interview_index()
    client = TestClient(api_app(Answerer(LiveIndex(index), emb, settings), auth=("team", "pass phrase")))
    assert client.get("/api/ask", params={"q": "Qui ?"}).status_code == 401
    assert client.get("/api/ask", params={"q": "Qui ?"}, auth=("team", "wrong")).status_code == 401
    assert client.get("/api/ask", params={"q": "Qui a ouvert ?"}, auth=("team", "pass phrase")).status_code == 200


# -- the live index, the port -------------------------------------------------------------------------


def test_a_new_index_version_on_disk_is_answered_from_at_the_next_question(tmp_path):
    from chat.live import LiveIndex, corpus_rows
    from index.build import build_index
    from index.settings import Settings
    from tests.conftest import FakeEmbedder, fake_model_dir

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("La cantine scolaire sert des repas bio le mardi.\n", encoding="utf-8")
    manifest = '[[source]]\nid = "a"\nfile = "a.txt"\ntitle = "Cantine"\nkind = "text"\n'
    (corpus / "sources.toml").write_text(manifest, encoding="utf-8")
    settings = Settings(model_dir=fake_model_dir(tmp_path), min_confidence=0.0)
    emb = FakeEmbedder()
    live = LiveIndex(build_index(corpus, tmp_path / "idx", settings, emb, quiet=True), tmp_path / "idx", corpus)
    first = live.current()
    assert live.current() is first and [r["id"] for r in corpus_rows(live, settings)] == ["a"]
    (corpus / "b.txt").write_text("Le vélo du facteur roule vite dans la rue.\n", encoding="utf-8")
    (corpus / "sources.toml").write_text(manifest + '\n[[source]]\nid = "b"\nfile = "b.txt"\ntitle = "Vélo"\nkind = "text"\n', encoding="utf-8")
    build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    now = live.current()
    assert now is not first and set(now.sources) == {"a", "b"} and live.version == 1
    assert {r["id"]: r["state"] for r in corpus_rows(live, settings)} == {"a": "indexed", "b": "indexed"}
    assert live.current() is now  # loaded once


def test_a_port_in_use_is_one_line_with_the_fix_and_exit_code_2(capsys):
    import socket

    from chat.cli import main
    from chat.web import PortInUseError, check_port

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"make run PORT={port + 1}"):
            check_port("127.0.0.1", port)
        assert main(["serve", "--port", str(port), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port} on 127.0.0.1 is already in use" in err and f"make run PORT={port + 1}" in err


def test_the_page_keeps_its_conversation_as_the_api_sends_it_and_still_reads_the_old_keys():
    from chat.conversation import Context
    from chat.web import context_of, hold

    context = Context("Que dit Katia Roux ?", ("Olivier Griffith", "Katia Roux"), ("Contre-sommet", 23),
                      (("itw", 23), ("itw", 24)), "fr", ("Katia Roux",))
    assert context_of({"conversation": context.to_dict(), "lang": "fr"}) == context
    state = {"topic": "old", "shown": [["itw", 3]], "lang": "fr"}
    hold(state, context)  # an older page's keys give way to the one object
    assert state == {"conversation": context.to_dict(), "lang": "fr"} and context_of(state) == context
    # a conversation a browser kept before the page held it under one key
    old = {"topic": context.topic, "people": list(context.people), "reported": ["Katia Roux"], "at": ["Contre-sommet", 23],
           "shown": [["itw", 23], ["itw", 24]], "lang": "fr"}
    assert context_of(old) == context
    assert context_of({key: value for key, value in old.items() if key != "reported"}) == replace(context, reported=())
    # nothing, or something that is not a conversation: a new one starts
    assert context_of({}) is None and context_of({"lang": "en"}) is None
    for bad in ({"conversation": {"people": []}}, {"conversation": "q"}, {"topic": "q", "at": 7},
                {"topic": "q", "shown": [["itw"]]}, {"topic": "q", "people": "Katia Roux"}):
        assert context_of(bad) is None, bad
