"""The chat page in a real browser: Debian's headless Chromium, driven by Playwright.

Every test starts from a page served on 127.0.0.1 by a server this module starts, and
records every request the page makes: one to any other host fails the test. Chromium
must be at /usr/bin/chromium (``make test`` installs it when run as root); when it is
missing these tests fail and say how to install it, they do not skip.

The helpers at the top (``launch_browser``, ``open_page``, ``ask``…) are also used by
``tests/chat/screenshot.py`` and ``bench/browser_latency.py``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import free_port

CHROMIUM = Path(os.environ.get("VERBATIM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BRETON = "Qui a ouvert la série de rencontres ?"
BLANQUETTE = "Quelle est la recette de la blanquette de veau ?"
EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


# -- helpers (also used by the screenshot script and the latency bench) ------------------




def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium. "
            "Install it with `make test` as root (it runs `apt-get install -y chromium`) "
            "or `sudo apt-get install chromium`, or point VERBATIM_CHROMIUM at a Chromium binary."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: `pip install -e '.[test]'` (only the package; never `playwright install`)."
    return None


def launch_browser(playwright):
    """Debian's Chromium, headless, with every background connection switched off."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


class Recorder:
    """Every request, websocket and CSP complaint of a browser context."""

    def __init__(self, context, base_url: str) -> None:
        self.origin = urlsplit(base_url).netloc
        self.requests: list[str] = []
        self.csp: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))

    def watch(self, page) -> None:
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("console", lambda m: self.csp.append(m.text) if "Content Security Policy" in m.text else None)

    def foreign(self) -> list[str]:
        """Requests to any host but the server's (data: and blob: URLs stay in the page)."""
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != self.origin]


CARD = "#vb-chat .vb-answer"


def open_page(browser, base_url: str, width: int = 1400, height: int = 1000, query: str = ""):
    """A fresh context and page on the chat, with clipboard rights and a request recorder."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
    recorder = Recorder(context, base_url)
    page = context.new_page()
    recorder.watch(page)
    page.goto(base_url + query)
    page.wait_for_selector("#vb-question textarea")
    page.wait_for_selector("#vb-chat")
    return context, page, recorder


def last_card(page):
    """The newest answer card of the conversation."""
    return page.locator(CARD).last


def ask(page, question: str, timeout: float = 60_000) -> None:
    """Type a question, press Enter, and wait until its answer is on the page."""
    before = page.locator(CARD).count()
    box = page.locator("#vb-question textarea")
    box.fill(question)
    box.press("Enter")
    wait_for_answer(page, question, timeout, after=before)


def wait_for_answer(page, question: str, timeout: float = 60_000, heading: str = ".vb-asked q", after: int = 0) -> None:
    """Wait until a new card (more than ``after`` on the page) answers ``question`` (or is an error)."""
    page.wait_for_function(
        """([q, h, n]) => { const cards = document.querySelectorAll('#vb-chat .vb-answer'); const a = cards[cards.length - 1];
                    const asked = a && a.querySelector(h);
                    return cards.length > n && ((asked && asked.textContent === q) || (a && a.querySelector('.vb-error'))); }""",
        arg=[question, heading, after],
        timeout=timeout,
    )
    page.wait_for_timeout(100)  # the rest of the turn's outputs (panel, labels) land in the same update


def pick_option(page, dropdown: str, label: str) -> None:
    """Choose ``label`` in a Gradio multiselect dropdown (``dropdown`` is its elem_id selector)."""
    page.click(f"{dropdown} input")
    page.keyboard.type(label.split(" — ")[0])
    page.get_by_role("option", name=label).click()
    page.keyboard.press("Escape")


def check_in_tab(page, text: str, mode: int | None = None, timeout: float = 60_000) -> None:
    """Open the "Check a quote" tab, paste ``text``, choose the ``mode``-th option (None: as it
    is), press the button and wait for the new result (it must differ from the one shown)."""
    page.locator("#vb-tabs button[role=tab]").nth(1).click()
    box = page.locator("#vb-check-text textarea")
    box.wait_for()
    page.evaluate("document.querySelectorAll('#vb-check-result .vb-check-result').forEach((r) => r.dataset.old = '1')")
    box.fill(text)
    if mode is not None:
        page.locator("#vb-check-mode input[type=radio]").nth(mode).check()
    page.click("#vb-check-go")
    page.wait_for_selector("#vb-check-result .vb-check-result:not([data-old])", timeout=timeout)


def serve_corpus(corpus: str | Path = "corpus", *cli_args: str):
    """Serve a corpus as ``verbatim serve`` does (model prepared, index built if stale); returns (url, app)."""
    from chat.cli import _index_dir, _open, _settings, build_parser
    from chat.web import serve

    args = build_parser().parse_args(["serve", "--corpus", str(corpus), "--quiet", *cli_args])
    settings = _settings(args)
    index, embedder = _open(args, settings, quiet=True)
    port = free_port()
    app = serve(index, embedder, settings, host="127.0.0.1", port=port, block=False, index_dir=_index_dir(args), corpus_dir=Path(corpus))
    return f"http://127.0.0.1:{port}/", app


# -- fixtures ----------------------------------------------------------------------------------

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    reason = missing_browser()
    if reason:
        pytest.fail(reason, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_browser(pw)
        yield b
        b.close()


@pytest.fixture
def server(real_server):
    return real_server


@pytest.fixture
def page(browser, server):
    context, page, recorder = open_page(browser, server)
    page.recorder = recorder
    yield page
    context.close()
    assert recorder.requests, "no request was recorded: the recorder is broken"
    assert not recorder.foreign(), f"the page made requests to other hosts than {recorder.origin}: {recorder.foreign()}"
    assert not recorder.csp, f"the page tried to load something the Content-Security-Policy blocks: {recorder.csp}"


def _answer(real_index, real_embedder, real_settings, question, where=None):
    from chat.answer import answer

    return answer(question, real_index, real_embedder, real_settings, where)


# -- the tests ---------------------------------------------------------------------------------


def test_a_french_question_shows_the_quote_highlighted_in_context_with_its_attribution(page, real_index, real_embedder, real_settings):
    ans = _answer(real_index, real_embedder, real_settings, BRETON)
    ask(page, BRETON)
    card = last_card(page)
    # the page shows the level the answer has (an answer or, as calibrated, an uncertain one: quotes shown either way)
    assert card.get_attribute("data-level") == ans.level and ans.level in ("answer", "uncertain")
    first = card.locator(".vb-passage").first
    quote = first.locator("mark.vb-quote").first
    assert quote.text_content() == ans.passages[0].quote
    assert "Cette série de rencontres a été ouverte par Thierry Breton" in quote.text_content()
    context = first.locator(".vb-context")
    assert f"« {ans.passages[0].quote} »" in context.text_content()
    assert "Il nous a rappelé l’histoire de l’informatique" in context.text_content()  # the sentence after, as context
    # The quote is marked (a background), the context is lighter than the quote.
    style = page.evaluate(
        """() => { const m = document.querySelector('#vb-chat mark.vb-quote'), c = m.closest('.vb-context');
                   const s = getComputedStyle(m), t = getComputedStyle(c);
                   return {bg: s.backgroundColor, quote: s.color, context: t.color}; }"""
    )
    assert style["bg"] not in ("rgba(0, 0, 0, 0)", "transparent") and style["quote"] != style["context"]
    attr = first.locator(".vb-attr").inner_text()
    assert "Olivier Griffith (interviewé), rapportant Thierry Breton, ex-commissaire européen" in attr
    assert "Peux tu nous présenter les éléments forts de cette journée ?" in attr
    assert "Le blog de Didier Dubasque, février 2025, § 6" in attr
    link = first.locator("a.vb-open").get_attribute("href")
    assert link.startswith("https://dubasque.org/") and "#:~:text=Cette%20s%C3%A9rie%20de%20rencontres," in link
    assert first.locator("a.vb-open").get_attribute("rel") == "noopener noreferrer"
    assert page.locator("#vb-examples button").first.is_visible()  # examples stay at hand
    assert page.evaluate("document.documentElement.lang") == "fr"


def test_the_full_text_panel_shows_the_quote_in_place(page, real_index, real_embedder, real_settings):
    ans = _answer(real_index, real_embedder, real_settings, BRETON)
    ask(page, BRETON)
    last_card(page).locator(".vb-browse").first.click()
    mark = page.locator("#vb-source mark.vb-quote").first
    assert mark.text_content() == ans.passages[0].quote
    page.wait_for_function("document.querySelector('#vb-source mark.vb-quote').classList.contains('vb-focus')")
    panel = page.locator("#vb-source .vb-fulltext")
    box, m = panel.bounding_box(), mark.bounding_box()
    assert box["y"] <= m["y"] and m["y"] + m["height"] <= box["y"] + box["height"], "the quote is scrolled into the panel's view"
    assert real_index.texts[ans.passages[0].source["id"]] in panel.text_content()  # the whole source, unaltered


def test_an_unanswerable_question_says_so_and_never_marks_the_closest_passages_as_quotes(page):
    ask(page, BLANQUETTE)
    card = last_card(page)
    assert card.get_attribute("data-level") == "none"
    assert card.locator(".vb-none").inner_text() == "Le corpus ne contient pas de réponse à cette question."
    details = card.locator("details")
    assert details.count() == 1 and details.get_attribute("open") is None
    assert "Passages les plus proches" in details.locator("summary").inner_text()
    assert details.locator(".vb-passage").count() >= 1 and not details.locator(".vb-passage").first.is_visible()
    # Neither the card nor the full-text panel marks them like the quotes of an answer.
    assert card.locator("mark").count() == 0 and page.locator("#vb-source mark").count() == 0
    assert page.locator("#vb-source .vb-near").count() >= 1
    bg = page.evaluate("getComputedStyle(document.querySelector('#vb-source .vb-near')).backgroundColor")
    assert bg in ("rgba(0, 0, 0, 0)", "transparent")


def test_the_three_states_look_different(page):
    """An answer, an uncertain answer and none, as the page draws them (the uncertain card injected as the server renders it)."""
    from chat.answer import Answer
    from chat.page import render_html
    from tests.chat.test_web import BRETON_Q, HISTORY_Q, TEXT, _passage

    p = _passage(BRETON_Q, chunk_text=BRETON_Q + " " + HISTORY_Q)
    cards = [render_html(a, {"itw": TEXT}) for a in (Answer("q", True, (p,), "fr"), Answer("q", False, (p,), "fr", level="uncertain"),
                                                     Answer("q", False, (p,), "fr"))]
    looks = page.evaluate(
        """(cards) => { const box = document.createElement('div'); box.id = 'vb-probe'; document.querySelector('#vb-chat').appendChild(box);
                        return cards.map((html) => { box.innerHTML = html; box.querySelector('details')?.setAttribute('open', '');
                          const a = box.querySelector('.vb-passage'), m = box.querySelector('mark, .vb-near');
                          const sa = getComputedStyle(a), sm = getComputedStyle(m);
                          return {border: sa.borderLeftStyle + ' ' + sa.borderLeftColor, mark: sm.backgroundColor,
                                  note: (box.querySelector('.vb-uncertain, .vb-none') || {}).textContent || ''}; }); }""",
        cards,
    )
    answer, uncertain, none = looks
    assert len({answer["border"], uncertain["border"], none["border"]}) == 3, looks
    assert answer["mark"] != uncertain["mark"] and none["mark"] in ("rgba(0, 0, 0, 0)", "transparent"), looks
    assert answer["note"] == "" and uncertain["note"].startswith("Réponse incertaine") and none["note"].startswith("Le corpus ne contient pas")


def test_a_three_turn_conversation_with_a_follow_up(page, real_index, real_embedder, real_settings):
    ask(page, BRETON)
    follow = "Et sur l'histoire de l'informatique ?"
    ask(page, follow)
    card = last_card(page)
    understood = card.locator(".vb-understood").inner_text()
    assert understood.startswith("Compris comme : « Qui a ouvert la série de rencontres ?") and follow in understood
    searched = understood.split("« ", 1)[1].rsplit(" »", 1)[0].split(" »")[0]
    expected = _answer(real_index, real_embedder, real_settings, searched)
    assert card.locator(".vb-quote, .vb-near").first.text_content() == expected.passages[0].quote
    third = "Qu'est-ce que le véganisme numérique ?"
    ask(page, third)
    assert page.locator(CARD).count() == 3 and last_card(page).locator(".vb-understood").count() == 0  # it stands alone
    users = page.locator('#vb-chat [data-testid="user"]').all_text_contents()
    assert [u.strip() for u in users] == [BRETON, follow, third]
    # "Ask it alone" on the follow-up card asks it as typed, with no context.
    page.locator(CARD).nth(1).locator(".vb-ask-alone").click()
    wait_for_answer(page, follow, after=3)
    assert page.locator(CARD).count() == 4 and last_card(page).locator(".vb-understood").count() == 0
    # "More passages" goes on from the last passage shown; "New conversation" empties the chat.
    page.click("#vb-more")
    page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer').length === 5")
    more = last_card(page)
    assert "Plus de passages pour" in more.locator(".vb-asked").inner_text()
    alone = _answer(real_index, real_embedder, real_settings, follow)
    shown = len(alone.passages)
    if more.locator(".vb-passage").count():
        assert more.locator(".vb-passage").first.get_attribute("id").endswith(f"-{shown + 1}")
    assert page.locator("#vb-examples button").first.is_visible()
    page.click("#vb-new")
    page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer').length === 0")


def test_et_la_suite_reads_on_from_the_last_quote(page, real_index, real_embedder, real_settings):
    ask(page, BRETON)
    first = _answer(real_index, real_embedder, real_settings, BRETON).passages[0]
    ask(page, "Et la suite ?")
    card = last_card(page)
    understood = card.locator(".vb-understood").inner_text()
    assert f"« § {first.chunk.paragraph + 1} — {first.source['title']} »" in understood
    nxt = first.chunk.paragraph + 1
    want = [p for p in _answer(real_index, real_embedder, real_settings, f"§ {nxt} — {first.source['title']}").passages]
    assert want and want[0].chunk.paragraph == nxt
    assert card.locator(".vb-quote").first.text_content() == want[0].quote
    ask(page, "Et la suite ?")  # and on again, from the quote just shown
    assert f"« § {nxt + 1} — " in last_card(page).locator(".vb-understood").inner_text()


def test_the_conversation_stays_in_the_browser_across_a_reload_until_a_new_one(page):
    ask(page, BRETON)
    follow = "Et sur l'histoire de l'informatique ?"
    ask(page, follow)
    before = page.locator(CARD).all_inner_texts()
    page.reload()
    page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer').length === 2")
    users = page.locator('#vb-chat [data-testid="user"]').all_text_contents()
    assert [u.strip() for u in users] == [BRETON, follow]
    assert page.locator(CARD).all_inner_texts() == before  # the same cards, follow-up note included
    # The conversation goes on from where it was: a follow-up still joins the turn before.
    ask(page, "Et sur les supercalculateurs ?")
    assert last_card(page).locator(".vb-understood").count() == 1
    page.click("#vb-new")
    page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer').length === 0")
    page.reload()
    page.wait_for_selector("#vb-question textarea")
    page.wait_for_timeout(1500)  # the load event has run: nothing comes back
    assert page.locator(CARD).count() == 0 and page.locator('#vb-chat [data-testid="user"]').count() == 0


def test_a_permalink_adds_its_answer_to_the_kept_conversation_once(browser, server):
    from urllib.parse import quote

    context, page, recorder = open_page(browser, server)
    try:
        ask(page, BLANQUETTE)
        page.goto(server + "?q=" + quote(BRETON))
        wait_for_answer(page, BRETON, after=1)
        page.reload()
        page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer').length === 2")
        page.wait_for_timeout(1500)
        users = page.locator('#vb-chat [data-testid="user"]').all_text_contents()
        assert [u.strip() for u in users] == [BLANQUETTE, BRETON]  # the link's answer once, after the kept turn
    finally:
        context.close()
    assert not recorder.foreign()


def test_a_permalink_opens_the_page_on_its_answer_and_each_card_copies_its_link(browser, server, real_index, real_embedder, real_settings):
    from urllib.parse import quote

    ans = _answer(real_index, real_embedder, real_settings, BRETON)
    context, page, recorder = open_page(browser, server, query="?q=" + quote(BRETON))
    try:
        wait_for_answer(page, BRETON)
        assert last_card(page).locator("mark.vb-quote").first.text_content() == ans.passages[0].quote
        last_card(page).locator(".vb-copy-link").click()
        page.wait_for_function("document.querySelector('#vb-chat .vb-turn-actions .vb-copied').textContent.length > 0")
        link = page.evaluate("navigator.clipboard.readText()")
        assert link.startswith(server) and "?q=Qui+a+ouvert+la+s%C3%A9rie+de+rencontres+%3F" in link
        page.goto(link)
        page.wait_for_selector(CARD)
        wait_for_answer(page, BRETON)
    finally:
        context.close()
    assert not recorder.foreign()


def test_an_english_question_turns_the_whole_page_english(page):
    q = "Who opened the series of meetings?"
    ask(page, q)
    card = last_card(page)
    assert card.get_attribute("lang") == "en"
    text = card.text_content()
    assert "Question asked" in text and "Question posée" not in text
    assert "Copy citation" in text or "The corpus does not answer this question." in text
    assert "Copier la citation" not in text
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("#vb-ask").inner_text() == "Ask" and page.locator("#vb-new").inner_text() == "New conversation"
    body = page.locator("body").inner_text()
    for french in ("Demander", "Filtres", "Texte de la source", "Nouvelle conversation", "Posez une question", "Exemples",
                   "Vérifier une citation"):
        assert french not in body, french
    assert page.locator("#vb-tabs button[role=tab]").all_inner_texts() == ["Questions", "Check a quote"]
    # The check tab speaks the page's language, its mistakes too.
    check_in_tab(page, "   ")
    assert page.locator("#vb-check-result .vb-error").inner_text() == "The text is empty: paste a quote, or a text that holds quotes."
    assert page.locator("#vb-check-go").inner_text() == "Check" and "Every sentence" in page.locator("#vb-check-mode").inner_text()
    for gradio in ("Use via API", "Built with Gradio", "Settings"):
        assert gradio not in body, gradio


def test_the_speaker_filter_restricts_the_answer(page, real_index, real_embedder, real_settings):
    from index.store import Filter

    reader = "Un lecteur (commentaire)"
    page.locator("#vb-filters").get_by_text("Filtres").click()
    pick_option(page, "#vb-filter-people", f"{reader} — parle")
    ask(page, BRETON)
    card = last_card(page)
    who = card.locator(".vb-who").all_text_contents()
    assert who and all(w == f"— {reader}" for w in who), who  # no doubled role label
    assert "Thierry Breton, l’ex-commissaire" not in card.text_content()
    assert reader in card.locator(".vb-filter-note").inner_text()
    expected = _answer(real_index, real_embedder, real_settings, BRETON, Filter(people=frozenset({reader})))
    assert card.locator(".vb-quote, .vb-near").first.text_content() == expected.passages[0].quote


def test_copy_citation_puts_a_plain_text_citation_in_the_clipboard(page, real_index, real_embedder, real_settings):
    from chat.render import citation

    ans = _answer(real_index, real_embedder, real_settings, BRETON)
    expected = citation(ans.passages[0], "fr")
    ask(page, BRETON)
    button = last_card(page).locator(".vb-copy").first
    button.click()
    page.wait_for_function("document.querySelector('#vb-chat .vb-actions .vb-copied').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == expected
    shown = last_card(page).locator(".vb-actions .vb-copied").first
    assert shown.text_content() == expected and shown.get_attribute("data-status") == "copied"
    assert button.inner_text() == "Citation copiée"
    assert expected.startswith("« Cette série de rencontres a été ouverte par Thierry Breton")
    assert "— Olivier Griffith (rapportant Thierry Breton, ex-commissaire européen), dans Contre-sommet" in expected
    assert "*" not in expected and ", Le blog de Didier Dubasque, février 2025, § 6, https://dubasque.org/" in expected


def test_the_answer_downloads_as_markdown_and_csl_json(page, real_index, real_embedder, real_settings):
    ans = _answer(real_index, real_embedder, real_settings, BRETON)
    ask(page, BRETON)
    with page.expect_download() as md:
        page.click("#vb-export-md")
    with page.expect_download() as csl:
        page.click("#vb-export-csl")
    text = Path(md.value.path()).read_text(encoding="utf-8")
    assert md.value.suggested_filename.endswith(".md") and ans.passages[0].quote in text
    assert "\\#:\\~:text" not in text and "#:~:text=" in text
    items = json.loads(Path(csl.value.path()).read_text(encoding="utf-8"))
    assert len(items) == len(ans.passages) and items[0]["URL"].startswith("https://dubasque.org/")
    assert ans.passages[0].quote in items[0]["note"]


def test_an_example_question_runs_from_the_empty_chat_and_the_page_says_what_it_knows(page, real_index):
    from chat.web import EXAMPLES

    placeholder = page.locator("#vb-chat").inner_text()
    assert f"{len(real_index.sources)} sources" in placeholder
    page.locator("#vb-corpus").get_by_text("Le corpus").click()
    rows = page.locator("#vb-corpus-view tr[data-source]")
    rows.first.wait_for()
    assert rows.count() >= len(real_index.sources) and "entretien" in page.locator("#vb-corpus-view").inner_text()
    examples = page.locator("#vb-examples button")
    assert examples.count() == len(EXAMPLES) and examples.first.is_visible()
    examples.first.click()
    wait_for_answer(page, EXAMPLES[0])


def test_a_script_in_the_question_is_shown_as_text_and_never_runs(page):
    ask(page, EVIL)
    assert last_card(page).locator(".vb-asked q").text_content() == EVIL
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#vb-chat .vb-answer script, #vb-chat .vb-answer img").count() == 0


def test_the_page_loads_nothing_from_outside_and_uses_local_fonts(page, server):
    ask(page, BRETON)
    last_card(page).locator(".vb-copy").first.click()
    last_card(page).locator(".vb-browse").first.click()
    rec = page.recorder
    assert rec.requests and all(urlsplit(u).netloc == "127.0.0.1:" + str(urlsplit(server).port) for u in rec.requests if u.startswith("http"))
    fonts = page.evaluate("getComputedStyle(document.querySelector('#vb-chat .vb-answer')).fontFamily")
    assert "system-ui" in fonts


def test_a_phone_width_shows_the_conversation_without_sideways_scrolling(browser, server):
    context, page, recorder = open_page(browser, server, width=390, height=844)
    try:
        ask(page, BRETON)
        card = last_card(page)
        assert card.locator("mark.vb-quote").first.is_visible() or card.locator("mark.vb-quote").first.bounding_box()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.locator("#vb-question textarea").is_visible()
        tabs = page.locator("#vb-tabs button[role=tab]")
        assert tabs.count() == 2 and all(t.is_visible() for t in tabs.all()), "both tabs fit, none hidden in an overflow menu"
    finally:
        context.close()
    assert not recorder.foreign()


# -- the "Check a quote" tab --------------------------------------------------------------------------

EXACT = "Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen"
ALTERED = "Il nous a rappelé l’histoire de la technologie"  # the source says « de l’informatique »
TRAP = "<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=2>"  # no quoted span: nothing to check in it
CHECKED = (f"Dans son entretien, Olivier Griffith raconte : « {EXACT} ». Plus loin, « {ALTERED} », selon Katia Roux.\n"
           f"Un piège : {TRAP}")


def test_the_check_tab_marks_an_exact_and_an_altered_quote_with_their_verdicts(page, real_index, real_embedder, real_settings):
    from chat.check import check_text
    from chat.matcher import SourceMatcher

    report = check_text(CHECKED, real_index, real_embedder, real_settings, SourceMatcher.from_index(real_index))
    assert [(q.quote, q.verdict) for q in report.quotes] == [(EXACT, "exact"), (ALTERED, "altered")]
    check_in_tab(page, CHECKED)
    result = page.locator("#vb-check-result")
    marks = page.evaluate("""() => [...document.querySelectorAll('#vb-check-result mark.vb-check')].map((m) => {
        const c = m.cloneNode(true); c.querySelector('sup').remove();
        const s = getComputedStyle(m);
        return {cls: m.className, text: c.textContent, bg: s.backgroundColor, line: s.borderBottomColor}; })""")
    assert [(m["cls"], m["text"]) for m in marks] == [("vb-check vb-exact", EXACT), ("vb-check vb-altered", ALTERED)]
    assert marks[0]["bg"] != marks[1]["bg"] and "rgba(0, 0, 0, 0)" not in (marks[0]["bg"], marks[1]["bg"]), marks
    # The text around the quotes is the pasted text, the trap shown as text and never run.
    assert result.locator(".vb-text").text_content().startswith("Dans son entretien, Olivier Griffith raconte : « ")
    assert TRAP in result.locator(".vb-text").text_content()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert result.locator("script, img").count() == 0
    # Each verdict with its evidence.
    assert result.locator(".vb-check-summary").inner_text() == "2 citation(s) : 1 exacte 1 modifiée"
    exact, altered = result.locator(".vb-card").all()
    assert "exacte" in exact.locator(".vb-verdict").inner_text() and "§ 6" in exact.locator(".vb-where").inner_text()
    # Attribution per sentence: this sentence names Thierry Breton but relays none of his words.
    assert exact.locator(".vb-who").inner_text() == "dit par : Olivier Griffith"
    assert altered.locator(".vb-who").inner_text() == "dit par : Olivier Griffith, rapportant Thierry Breton, ex-commissaire européen"
    assert exact.locator(".vb-attribution").inner_text() == "Olivier Griffith est bien la personne qui parle."
    link = exact.locator("a.vb-link").get_attribute("href")
    assert link.startswith("https://dubasque.org/") and "#:~:text=Cette%20s%C3%A9rie%20de%20rencontres," in link
    assert "modifiée" in altered.locator(".vb-verdict").inner_text()
    assert altered.locator(".vb-diff").inner_text() == "remplacé : la technologie → l’informatique"
    instead = report.quotes[1].instead
    assert instead == "Il nous a rappelé l’histoire de l’informatique" and altered.locator(".vb-instead").inner_text() == f"Citer plutôt : « {instead} »"
    assert real_index.texts[report.quotes[1].places[0].source_id][report.quotes[1].places[0].start : report.quotes[1].places[0].end] == instead
    assert "Katia Roux ne parle pas ici : c'est Olivier Griffith" in altered.locator(".vb-attribution").inner_text()
    # A mistake is one short message on the page, in its language.
    check_in_tab(page, "  \n ")
    assert result.locator(".vb-error").inner_text() == "Le texte est vide : collez une citation, ou un texte qui en contient."
    # Every sentence: the text around the quotes is checked too.
    check_in_tab(page, "Cette série de rencontres a été ouverte par Thierry Breton. La cuisine française est la meilleure du monde.", mode=1)
    assert [m.get_attribute("class") for m in result.locator("mark.vb-check").all()] == ["vb-check vb-exact", "vb-check vb-not_found"]


# -- a corpus that grows while it is served -------------------------------------------------------


def test_a_document_added_while_serving_is_answered_from_without_a_restart(browser, tmp_path):
    from chat.web import serve
    from index.build import build_index
    from index.settings import Settings
    from ingest.manifest import add_entry
    from tests.conftest import FakeEmbedder, fake_model_dir

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "cantine.txt").write_text("La cantine scolaire sert des repas bio le mardi.\n", encoding="utf-8")
    (corpus / "sources.toml").write_text('[[source]]\nid = "cantine"\nfile = "cantine.txt"\ntitle = "La cantine"\nkind = "text"\n',
                                         encoding="utf-8")
    settings = Settings(model_dir=fake_model_dir(tmp_path), min_confidence=0.0)
    emb = FakeEmbedder()
    index_dir = tmp_path / "idx"
    index = build_index(corpus, index_dir, settings, emb, quiet=True)
    app = serve(index, emb, settings, host="127.0.0.1", port=free_port(), block=False, index_dir=index_dir, corpus_dir=corpus)
    context, page, recorder = open_page(browser, app.url)
    try:
        q = "Que fait le facteur à vélo ?"
        ask(page, q)
        assert "facteur" not in last_card(page).text_content().split("Question posée")[1].split(q)[1]
        # What `verbatim add` does: a file and its manifest entry, then the index rebuilt and swapped.
        (corpus / "velo.txt").write_text("Le facteur roule à vélo dans la rue chaque matin.\n", encoding="utf-8")
        add_entry(corpus, {"id": "velo", "file": "velo.txt", "title": "Le vélo du facteur", "kind": "text"})
        build_index(corpus, index_dir, settings, emb, quiet=True)
        ask(page, q)
        card = last_card(page)
        assert "Le facteur roule à vélo" in card.text_content() and "Le vélo du facteur" in card.text_content()
        page.locator("#vb-corpus").get_by_text("Le corpus").click()
        page.locator('#vb-corpus-view tr[data-source="velo"]').wait_for()
        assert "Le vélo du facteur" in page.locator("#vb-corpus-view").inner_text()
        page.locator("#vb-filters").get_by_text("Filtres").click()
        pick_option(page, "#vb-filter-sources", "Le vélo du facteur")
        ask(page, "la cantine")
        assert all("vélo" in t for t in last_card(page).locator(".vb-where").all_text_contents())
    finally:
        context.close()
        app.close()
    assert not recorder.foreign()


# -- a corpus whose documents hold HTML and scripts ------------------------------------------

HOSTILE_TEXT = (
    "Un texte piégé <script>window.__pwned = 3</script> sur la cantine scolaire.\n"
    'La cantine scolaire sert <img src=x onerror="window.__pwned = 4"> des repas <b>bio</b> le mardi.\n'
    "Le menu de la cantine affiche ${window.__pwned = 5} et {{constructor.constructor('window.__pwned = 6')()}} sans rien exécuter.\n"
    # Paragraphs no cantine question quotes: they reach the page only through the full-text panel.
    "Le vélo du facteur <script>window.__pwned = 9</script> roule vite.\n"
    'La bibliothèque prête des romans <img src=x onerror="window.__pwned = 10"> aux lecteurs.\n'
    'Le jardin partagé <iframe srcdoc="<script>parent.__pwned = 11</script>"></iframe> fleurit <style>body { display: none }</style> au printemps.\n'
)


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    from chat.web import serve
    from index.build import build_index
    from index.settings import Settings
    from tests.conftest import FakeEmbedder

    tmp = tmp_path_factory.mktemp("hostile")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "piege.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (corpus / "sources.toml").write_text(
        '[[source]]\nid = "piege"\nfile = "piege.txt"\ntitle = "<i>Piège</i> <script>window.__pwned = 7</script>"\n'
        'kind = "text"\nauthor = "<b>Mallory</b>"\npublisher = "<img src=x onerror=\\"window.__pwned = 8\\">"\n'
        'url = "https://example.org/piege?a=<b>"\nlanguage = "fr"\ndate = "2025-03"\n',
        encoding="utf-8",
    )
    model = tmp / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    settings = Settings(model_dir=model, min_confidence=0.0)
    emb = FakeEmbedder()
    index = build_index(corpus, tmp / "idx", settings, emb, quiet=True)
    port = free_port()
    app = serve(index, emb, settings, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_html_and_scripts_in_a_source_show_as_text_and_never_run(browser, hostile_server):
    context, page, recorder = open_page(browser, hostile_server)
    try:
        q = "Que sert la cantine scolaire ?"
        ask(page, q)
        answer_text = last_card(page).text_content()
        assert "<script>window.__pwned = 3</script>" in answer_text or '<img src=x onerror="window.__pwned = 4">' in answer_text
        assert "<i>Piège</i> <script>window.__pwned = 7</script>" in answer_text
        source = page.locator("#vb-source .vb-fulltext").text_content()
        for needle in ("<script>window.__pwned = 3</script>", '<img src=x onerror="window.__pwned = 4">', "<b>bio</b>",
                       "${window.__pwned = 5}", "{{constructor.constructor('window.__pwned = 6')()}}",
                       "<script>window.__pwned = 9</script>", '<img src=x onerror="window.__pwned = 10">',
                       '<iframe srcdoc="<script>parent.__pwned = 11</script>"></iframe>', "<style>body { display: none }</style>"):
            assert needle in source, needle
        ask(page, "menu de la cantine")
        assert "${window.__pwned = 5}" in page.locator("#vb-source .vb-fulltext").text_content()
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert "vélo" not in answer_text  # so the paragraphs after it reach the page through the panel alone
        assert page.locator(":is(#vb-chat .vb-answer, #vb-source) :is(script, img, iframe, style)").count() == 0
        made = page.evaluate("[...document.querySelectorAll('#vb-chat .vb-answer b, #vb-chat .vb-answer i, #vb-source b, #vb-source i')].map(e => e.textContent)")
        assert "bio" not in made and "Mallory" not in made and "Piège" not in made, made
    finally:
        context.close()
    assert not recorder.foreign(), recorder.foreign()


def test_the_recorder_catches_a_load_from_another_host(browser, server):
    """The guard of the other tests works: an image from another origin (on loopback) is seen."""
    context, page, recorder = open_page(browser, server)
    other = f"http://localhost:{urlsplit(server).port}/favicon.ico"
    page.evaluate("(u) => new Promise((done) => { const i = new Image(); i.onload = i.onerror = done; i.src = u; })", other)
    page.wait_for_timeout(200)
    context.close()
    assert recorder.csp or other in recorder.foreign(), (recorder.requests, recorder.csp)


def test_a_missing_chromium_fails_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    reason = missing_browser()
    assert reason and "apt-get install" in reason and "make test" in reason and "no-chromium" in reason
