# Over 400 lines because the page's events share its components in one build_app closure (HTML: page.py, assets: assets.py).
"""The chat page and the HTTP API, served together: a conversation of quoted answers.

The flow of a question: the page (Gradio, mounted on a FastAPI app that also holds the
plain HTTP API of ``chat/api.py``) → follow-up resolution (``chat/conversation.py``) →
``chat.answer.answer`` over the live index (``chat/live.py``) → the answer card
(``chat/page.py``), styled and scripted by ``chat/assets.py``.

What the page does for a reader:

- a conversation: each turn shows the question and its quote cards; a short or elliptic
  question is searched with the one before, and the card says how it was understood,
  with a button to ask it alone; "Plus de passages" shows the next passages;
  "Nouvelle conversation" starts again; the example questions stay at hand;
- three looks for an answer, an uncertain answer and no answer (``chat/page.py``);
- the corpus it answers from (sources, kinds, passages, state), followed on disk: a
  ``verbatim add`` while serving is seen by the next question, and the filters follow;
- one language per page: the page follows the language of the last question;
- ``/?q=…`` opens the page on that question's answer; each card copies its own link;
- citations copied as plain text, downloads in Markdown and CSL-JSON, the full text of
  the sources with every quote in place;
- a "Vérifier une citation" tab: a pasted text comes back with each quote marked in place
  in the colour of its verdict (``chat.check``), then each verdict with its evidence.

Every piece of document or user text is escaped before it reaches the page; the page
loads nothing from outside the machine (local font stack, analytics off, and a
Content-Security-Policy that only allows the server itself).
"""
from __future__ import annotations

import errno
import html
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from chat.answer import Answer, QuestionError, detect_language  # noqa: E402
from chat.api import Answerer, api_app, error_dict, facets_dict, make_filter  # noqa: E402,F401
from chat.api import check_json, check_report  # noqa: E402
from chat.check import CheckError  # noqa: E402
from chat.assets import CSS, FONTS, MONO_FONTS, PAGE_JS, SOURCE_JS, SecurityHeaders  # noqa: E402
from chat.conversation import Context, merge_shown, next_context, resolve_in, shown_of  # noqa: E402
from chat.live import LiveIndex, corpus_rows  # noqa: E402
from chat.page import (  # noqa: E402,F401
    CHECK_UI,
    UI,
    check_error_html,
    check_result_html,
    corpus_html,
    empty_sources_html,
    error_html,
    people_choices,
    render_html,
    render_sources_html,
)
from chat.render import export_csl, export_markdown  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.settings import MAX_TOP_K, Settings  # noqa: E402
from index.store import Index  # noqa: E402
from ingest.errors import VerbatimError  # noqa: E402

EXAMPLES = [
    "Qui a ouvert la série de rencontres ?",
    "Qu'est-ce que le véganisme numérique ?",
    "Quelle est la position de la Quadrature du Net ?",
    "What is the link between ecology and social work?",
]
# The one Gradio queue every listener that answers waits in: without a shared
# concurrency_id each listener has its own, and --concurrency 1 would let one answer per
# listener run at once. (The HTTP API shares the Answerer's slots: chat/api.py.)
ANSWER_QUEUE = "answer"


class PortInUseError(VerbatimError, ValueError):
    """The port asked for is taken; the message gives the fix."""


def check_port(host: str, port: int) -> None:
    """Raise PortInUseError when ``host:port`` cannot be bound (before any slow loading)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} on {host} is already in use ({exc.strerror}); serve on another one: "
                    f"make run PORT={port + 1} (or verbatim serve --port {port + 1})"
                ) from None
            raise PortInUseError(f"cannot listen on {host} port {port} ({exc.strerror or exc}); check --host and --port") from None


class ExportDir:
    """Where the Markdown and CSL-JSON downloads are written; folders older than an hour go."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="verbatim-export-"))
        self._lock = threading.Lock()

    def write(self, ans: Answer) -> tuple[str, str]:
        with self._lock:
            cutoff = time.time() - 3600
            for old in self.root.iterdir():
                if old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            folder = Path(tempfile.mkdtemp(dir=self.root))
        md = folder / "verbatim-citations.md"
        csl = folder / "verbatim-citations.json"
        md.write_text(export_markdown(ans), encoding="utf-8")
        csl.write_text(json.dumps(export_csl(ans), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return str(md), str(csl)


def build_app(answerer: Answerer, settings: Settings):
    """The Gradio Blocks app (the page and Gradio's API) over a live index."""
    import gradio as gr

    exports = ExportDir()
    live = answerer.live

    def facets_now() -> dict:
        return live.current().facets()

    # -- Gradio's API (kept for gradio_client users; the plain HTTP API is chat/api.py) --
    def ask_json(question: str, conversation: dict | None = None) -> dict:
        """The object of `verbatim ask --json`. ``conversation``: the one the last answer
        returned, for a follow-up (« Et la suite ? »)."""
        return answerer.ask_json(question, None, None, None, conversation)[1]

    def ask_filtered(question: str, sources: list[str] | None = None, people: list[str] | None = None,
                     conversation: dict | None = None) -> dict:
        """The same answer as /ask, restricted to some source ids and to some people (speaking or reported)."""
        return answerer.ask_json(question, None, sources, people, conversation)[1]

    def list_facets() -> dict:
        """What /ask_filtered can be restricted to: source ids with titles, speakers, reported people."""
        return facets_dict(live.current())

    def ask_html(question: str) -> str:
        try:
            ans, index = answerer.ask(question)
            return render_html(ans, index.texts)
        except QuestionError as exc:
            return error_html(exc, question)

    # -- the page --
    def chrome(lang: str, facets: dict, rows: list[dict]):
        """Every label of the page in ``lang``, and the filters and corpus panel as they are now."""
        U = UI[lang]
        return [
            gr.update(value=f"# Verbatim\n{U['intro']}"),
            gr.update(value=U["ask"]),
            gr.update(value=U["new"]),
            gr.update(value=U["more"]),
            gr.update(label=U["filters"]),
            gr.update(label=U["sources"], info=U["sources_info"], choices=[(t, i) for i, t in facets["sources"]]),
            gr.update(label=U["people"], info=U["people_info"], choices=people_choices(facets, lang)),
            gr.update(value=f"### {U['source_text']}"),
            gr.update(label=U["corpus"]),
            corpus_html(rows, lang),
            gr.update(value=f"{U['examples']} :"),
            f'<span id="vb-lang" data-lang="{lang}"></span>',
            *check_chrome(lang),
        ]

    def check_chrome(lang: str):
        """The labels of the "Check a quote" tab in ``lang``."""
        C = CHECK_UI[lang]
        return [gr.update(label=C["tab_ask"]), gr.update(label=C["tab_check"]), gr.update(value=C["intro"]),
                gr.update(label=C["text"], placeholder=C["placeholder"]), gr.update(label=C["mode"], choices=C["modes"]),
                gr.update(value=C["go"])]

    def check_on_page(text: str, mode: str, state) -> str:
        """The tab's result, in the page's language (the language of the last question)."""
        return check_page_html(answerer, text, mode, (state or {}).get("lang", "fr"))

    def check_api(text: str, mode: str = "auto") -> dict:
        """The object of `verbatim check --json` (or its error form) for a text: its quotes, verdicts and evidence."""
        return check_json(answerer, text, mode)[1]

    def question_box(lang: str, clear: bool):
        U = UI[lang]
        return gr.update(label=U["question"], placeholder=U["placeholder"], **({"value": ""} if clear else {}))

    def turn(question: str, sources, people, chat, state, alone: bool = False):
        chat = list(chat or [])
        state = dict(state or {})
        context = None if alone else context_of(state)
        raw = question if isinstance(question, str) else ""
        understood = resolve_in(raw, context, live.current())
        lang = detect_language(understood.asked) if understood.asked.strip() else state.get("lang", "fr")
        hide = gr.update(visible=False)
        try:
            ans, index = answerer.ask(understood.searched, None, sources, people, understood.skip, understood.language,
                                      understood.about)
        except QuestionError as exc:
            chat += [{"role": "user", "content": html.escape(raw)}, {"role": "assistant", "content": error_html(exc, raw, lang)}]
            rows = corpus_rows(live, settings)
            return [question_box(lang, True), chat, state, kept(chat, state), empty_sources_html(lang), hide, hide,
                    *chrome(lang, facets_now(), rows)]
        n = state.get("turns", 0) + 1
        titles = dict(index.facets()["sources"])
        note = ", ".join([titles.get(s, s) for s in sources or []] + list(people or [])) or None
        card = render_html(ans, index.texts, note, understood, turn=n)
        changed = state.get("version") is not None and state["version"] != live.version
        if changed:
            card = card.replace('<p class="vb-asked">', f'<p class="vb-note vb-updated">{UI[ans.language]["updated"]}</p><p class="vb-asked">', 1)
        # The chat shows messages as HTML (the cards are built escaped): the question is escaped too.
        chat += [{"role": "user", "content": html.escape(understood.asked)}, {"role": "assistant", "content": card}]
        hold(state, next_context(understood, ans))
        state.update(turns=n, lang=ans.language, version=live.version,
                     last={"searched": understood.searched, "asked": understood.asked, "shown": len(ans.passages),
                           "sources": list(sources or []), "people": list(people or []), "turn": n,
                           "skip": [list(x) for x in sorted(understood.skip)], "about": list(understood.about)})
        md, csl = exports.write(ans)
        rows = corpus_rows(live, settings)
        U = UI[ans.language]
        return [question_box(ans.language, True), chat, state, kept(chat, state), render_sources_html(ans, index.texts, turn=n), gr.update(value=md, visible=True, label=U["export_md"]),
                gr.update(value=csl, visible=True, label=U["export_csl"]), *chrome(ans.language, index.facets(), rows)]

    def ask_alone(question, sources, people, chat, state):
        return turn(question, sources, people, chat, state, alone=True)

    def more(chat, state):
        chat = list(chat or [])
        state = dict(state or {})
        last = state.get("last")
        if not last:
            return [chat, state, kept(chat, state), gr.update(), gr.update(), gr.update()]
        lang = state.get("lang", "fr")
        top = min(MAX_TOP_K, last["shown"] + settings.top_k)
        try:
            skip = frozenset((str(sid), int(n)) for sid, n in last.get("skip", ()))
            full, index = answerer.ask(last["searched"], top, last["sources"], last["people"], skip, None,
                                       tuple(str(n) for n in last.get("about", ())))
        except QuestionError as exc:
            chat.append({"role": "assistant", "content": error_html(exc, last["searched"], lang)})
            return [chat, state, kept(chat, state), gr.update(), gr.update(), gr.update()]
        n = state.get("turns", 0) + 1
        extra = replace(full, passages=full.passages[last["shown"]:], notice=None)
        card = render_html(extra, index.texts, None, None, first=last["shown"] + 1, turn=n, more=True)
        chat.append({"role": "assistant", "content": card})
        last = dict(last, shown=len(full.passages), turn=n)
        state.update(turns=n, last=last)
        context = context_of(state)
        if context is not None:  # the passages shown since count as quoted: "d'autre" next goes past them too
            hold(state, replace(context, shown=merge_shown(context.shown, shown_of(extra))))
        md, csl = exports.write(full)
        return [chat, state, kept(chat, state), render_sources_html(full, index.texts, turn=n), gr.update(value=md, visible=True), gr.update(value=csl, visible=True)]

    def new_conversation():
        rows = corpus_rows(live, settings)
        hide = gr.update(visible=False)
        return [question_box("fr", False), [], {}, {}, empty_sources_html("fr"), hide, hide, *chrome("fr", facets_now(), rows)]

    def on_load(saved, request: gr.Request):
        # The conversation kept in this browser comes back; a permalink's answer follows it.
        chat, state = restore(saved)
        q = (request.query_params.get("q") if request is not None else None) or ""
        if q.strip() and state.get("opened") != q:
            # Noted as opened: a reload of the same link shows the conversation without asking it again.
            return turn(q, [], [], chat, dict(state, opened=q), alone=True)
        rows = corpus_rows(live, settings)
        lang = state.get("lang", "fr")
        return [question_box(lang, False), chat, state, kept(chat, state), gr.update(), gr.update(), gr.update(),
                *chrome(lang, facets_now(), rows)]

    on_load.__annotations__["request"] = gr.Request  # Gradio finds the request by its type, not a string

    rows0 = corpus_rows(live, settings)
    facets0 = facets_now()
    U, C = UI["fr"], CHECK_UI["fr"]
    with gr.Blocks(title="Verbatim", analytics_enabled=False) as app:
        intro = gr.Markdown(f"# Verbatim\n{U['intro']}", elem_id="vb-intro")
        lang_marker = gr.HTML('<span id="vb-lang" data-lang="fr"></span>', elem_classes=["vb-helper"])
        state = gr.State({})
        # The conversation, kept in this browser's localStorage so that a reload shows it again.
        saved = gr.BrowserState({}, storage_key=SAVED_KEY, secret=SAVED_KEY)
        with gr.Tabs(elem_id="vb-tabs"):
            with gr.Tab(C["tab_ask"], id="ask", elem_id="vb-tab-ask") as ask_tab:
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            value=[], label=U["chat"], elem_id="vb-chat", height="65vh", min_height=320, sanitize_html=False,
                            render_markdown=False, buttons=[], feedback_options=None, placeholder=_placeholder("fr", rows0),
                            group_consecutive_messages=False, autoscroll=True,
                        )
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(label=U["question"], placeholder=U["placeholder"], scale=5, autofocus=True,
                                                  elem_id="vb-question", lines=1, max_lines=4)
                            ask = gr.Button(U["ask"], variant="primary", scale=1, elem_id="vb-ask")
                        with gr.Row():
                            more_button = gr.Button(U["more"], size="sm", elem_id="vb-more")
                            new_button = gr.Button(U["new"], size="sm", elem_id="vb-new")
                            export_md = gr.DownloadButton(U["export_md"], visible=False, size="sm", elem_id="vb-export-md")
                            export_csl_button = gr.DownloadButton(U["export_csl"], visible=False, size="sm", elem_id="vb-export-csl")
                        with gr.Row(elem_id="vb-examples"):
                            examples_label = gr.Markdown(f"{U['examples']} :", elem_classes=["vb-examples-label"])
                            example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes=["vb-example"]) for q in EXAMPLES]
                        with gr.Accordion(U["filters"], open=False, elem_id="vb-filters") as filters:
                            with gr.Row():
                                sources = gr.Dropdown(choices=[(t, i) for i, t in facets0["sources"]], multiselect=True, label=U["sources"],
                                                      info=U["sources_info"], elem_id="vb-filter-sources")
                                people = gr.Dropdown(choices=people_choices(facets0), multiselect=True, label=U["people"],
                                                     info=U["people_info"], elem_id="vb-filter-people")
                        # Where a card's "ask it alone" button puts its question (hidden; see chat/assets.py).
                        helper_q = gr.Textbox(elem_id="vb-helper-q", elem_classes=["vb-helper"], show_label=False, container=False)
                        helper_go = gr.Button("go", elem_id="vb-helper-go", elem_classes=["vb-helper"])
                    with gr.Column(scale=2):
                        with gr.Accordion(U["corpus"], open=False, elem_id="vb-corpus") as corpus_box:
                            corpus_view = gr.HTML(corpus_html(rows0), elem_id="vb-corpus-view")
                        source_title = gr.Markdown(f"### {U['source_text']}")
                        source_view = gr.HTML(empty_sources_html(), elem_id="vb-source", js_on_load=SOURCE_JS)
            with gr.Tab(C["tab_check"], id="check", elem_id="vb-tab-check") as check_tab:
                check_intro = gr.Markdown(C["intro"], elem_id="vb-check-intro")
                check_box = gr.Textbox(label=C["text"], placeholder=C["placeholder"], lines=8, max_lines=30, elem_id="vb-check-text")
                with gr.Row(equal_height=True):
                    check_mode = gr.Radio(choices=C["modes"], value="auto", label=C["mode"], scale=4, elem_id="vb-check-mode")
                    check_go = gr.Button(C["go"], variant="primary", scale=1, elem_id="vb-check-go")
                check_view = gr.HTML("", elem_id="vb-check-result")

        chrome_outputs = [intro, ask, new_button, more_button, filters, sources, people, source_title, corpus_box, corpus_view,
                          examples_label, lang_marker, ask_tab, check_tab, check_intro, check_box, check_mode, check_go]
        turn_outputs = [question, chat, state, saved, source_view, export_md, export_csl_button, *chrome_outputs]
        inputs = [question, sources, people, chat, state]
        common = dict(api_visibility="private", show_progress="minimal")
        answering = dict(common, concurrency_id=ANSWER_QUEUE)
        ask.click(turn, inputs=inputs, outputs=turn_outputs, **answering)
        question.submit(turn, inputs=inputs, outputs=turn_outputs, **answering)
        helper_go.click(ask_alone, inputs=[helper_q, sources, people, chat, state], outputs=turn_outputs, **answering)
        more_button.click(more, inputs=[chat, state], outputs=[chat, state, saved, source_view, export_md, export_csl_button], **answering)
        new_button.click(new_conversation, None, [question, chat, state, saved, source_view, export_md, export_csl_button, *chrome_outputs], **common)
        for button, q in zip(example_buttons, EXAMPLES):
            button.click(lambda q=q: q, None, question, queue=False, api_visibility="private").then(turn, inputs=inputs, outputs=turn_outputs, **answering)
        app.load(on_load, inputs=[saved], outputs=turn_outputs, **answering)  # restores the conversation, answers a ?q= link
        gr.api(ask_json, api_name="ask", concurrency_id=ANSWER_QUEUE)
        gr.api(ask_filtered, api_name="ask_filtered", concurrency_id=ANSWER_QUEUE)
        gr.api(list_facets, api_name="facets")
        gr.api(ask_html, api_name="ask_html", concurrency_id=ANSWER_QUEUE)
        # A check embeds sentences with the same model: it waits in the same queue.
        check_go.click(check_on_page, inputs=[check_box, check_mode, state], outputs=[check_view], **answering)
        gr.api(check_api, api_name="check", concurrency_id=ANSWER_QUEUE)
    app.verbatim_exports = exports
    app.verbatim_answerer = answerer
    return app


def check_page_html(answerer: Answerer, text: object, mode: str, lang: str) -> str:
    """The "Check a quote" tab's result for ``text``: the quotes marked in place with their
    verdicts and evidence, or one short message in ``lang`` for a text that cannot be checked."""
    try:
        report = check_report(answerer, text if isinstance(text, str) else "", mode or "auto")
    except CheckError as exc:
        return check_error_html(exc, text, lang)
    return check_result_html(report, lang)


# Where the page keeps the conversation in the browser (localStorage). Gradio encrypts it with
# this key; it is no secret (the page holds it): the conversation is the reader's own, in
# the reader's browser. A fixed key and name keep it across restarts of the server.
SAVED_KEY = "verbatim-conversation"
MAX_SAVED_MESSAGES = 80  # the last 40 turns or so: localStorage holds about 5 MB per site


def _text_of(content) -> str | None:
    """A chat message's HTML, whether Gradio gives it as a string or as a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    return None


# The keys a page's state held the conversation in before it held ``Context.to_dict()``.
_OLD_CONTEXT_KEYS = ("topic", "people", "reported", "at", "shown")


def context_of(state: dict) -> Context | None:
    """The conversation a page's state holds (``Context.to_dict()`` under ``conversation``),
    or None when it holds none or something that is not one (a new conversation starts).

    Conversations kept in a browser before that key existed spread it over separate keys
    (topic, people, reported, at, shown, lang); they are still read.
    """
    data = state.get("conversation")
    if data is None and state.get("topic"):
        at, shown = state.get("at"), state.get("shown") or ()
        try:
            data = {"topic": state["topic"], "people": state.get("people", []), "reported": state.get("reported", []),
                    "at": {"title": at[0], "paragraph": at[1]} if at else None,
                    "shown": [{"source": s, "paragraph": n} for s, n in shown], "language": state.get("lang")}
        except (TypeError, ValueError, IndexError, KeyError):
            return None
    if data is None:
        return None
    try:
        return Context.from_dict(data)
    except ValueError:
        return None


def hold(state: dict, context: Context) -> None:
    """Keep ``context`` in a page's state as :func:`context_of` reads it, dropping the
    separate keys an older page held it in."""
    for key in _OLD_CONTEXT_KEYS:
        state.pop(key, None)
    state["conversation"] = context.to_dict()


def kept(chat: list, state: dict) -> dict:
    """What the browser keeps of a conversation: its last messages (role and HTML) and the page's state."""
    messages = []
    for m in chat[-MAX_SAVED_MESSAGES:]:
        text = _text_of(m.get("content")) if isinstance(m, dict) else None
        if text is not None and m.get("role") in ("user", "assistant"):
            messages.append({"role": m["role"], "content": text})
    return {"chat": messages, "state": state}


def restore(saved) -> tuple[list[dict], dict]:
    """The conversation a browser kept (``kept``), or an empty one when what it holds is not one.

    The messages are the cards this server rendered (every document and user text escaped);
    only scripts of this page's own origin can write to its localStorage.
    """
    if not isinstance(saved, dict) or not isinstance(saved.get("chat"), list) or not isinstance(saved.get("state"), dict):
        return [], {}
    chat = [{"role": m["role"], "content": m["content"]} for m in saved["chat"]
            if isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)]
    return chat[-MAX_SAVED_MESSAGES:], dict(saved["state"])


def _placeholder(lang: str, rows: list[dict]) -> str:
    """The empty chat: what the corpus holds, and what to do."""
    U = UI[lang]
    indexed = [r for r in rows if r.get("state") == "indexed"]
    line = U["corpus_line"].format(sources=len(indexed), passages=sum(r.get("chunks") or 0 for r in indexed))
    names = "; ".join((r.get("title") or r["id"]) for r in indexed[:6]) + (" …" if len(indexed) > 6 else "")
    return f"{U['corpus']} : {line}. {names}\n\n{U['intro']}"


class Running:
    """A server started by ``serve(block=False)``: its address, and ``close()``."""

    def __init__(self, server, thread: threading.Thread, url: str, blocks, fastapi_app) -> None:
        self.server, self.thread, self.url, self.blocks, self.fastapi = server, thread, url, blocks, fastapi_app
        self.verbatim_exports = blocks.verbatim_exports

    def close(self) -> None:
        # Open event streams (the page's queue) would hold a graceful shutdown: cut them.
        import logging

        log = logging.getLogger("uvicorn.error")
        level = log.level
        log.setLevel(logging.CRITICAL)  # the cut streams would each log a CancelledError
        try:
            self.server.should_exit = True
            self.server.force_exit = True
            self.thread.join(timeout=15)
        finally:
            log.setLevel(level)
            self.blocks.verbatim_answerer.batcher.close()


def make_server_app(
    index: Index,
    embedder: Embedder,
    settings: Settings,
    auth: tuple[str, str] | None = None,
    concurrency: int = 1,
    index_dir: Path | None = None,
    corpus_dir: Path | None = None,
):
    """The whole ASGI app: the HTTP API, and the page mounted at ``/``; returns (app, blocks)."""
    import gradio as gr

    live = LiveIndex(index, index_dir, corpus_dir)
    answerer = Answerer(live, embedder, settings, concurrency)
    fast = api_app(answerer, auth)
    fast.add_middleware(SecurityHeaders)
    blocks = build_app(answerer, settings)
    blocks.queue(default_concurrency_limit=concurrency)
    theme = gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)
    fast = gr.mount_gradio_app(fast, blocks, path="/", auth=auth, footer_links=[], theme=theme, css=CSS, js=PAGE_JS,
                               show_error=False, ssr_mode=False)
    return fast, blocks


def serve(
    index: Index,
    embedder: Embedder,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    auth: tuple[str, str] | None = None,
    concurrency: int = 1,
    index_dir: Path | None = None,
    corpus_dir: Path | None = None,
    quiet: bool = False,
):
    """Serve the page and the HTTP API; returns a ``Running`` server when ``block`` is false (tests).

    ``auth`` (user, password) puts the page and both APIs behind a login; ``concurrency``
    is how many questions are searched and quoted at once (the others wait): one by
    default. Questions are embedded before they wait, the ones waiting together in one call
    (``chat/batcher.py``; ``python -m bench.http``, ``python -m bench.load``; README, "HTTP
    API" and "Limits and safety"). With ``index_dir``, a new index version written there
    while serving is picked up by the next question.
    """
    import uvicorn

    check_port(host, port)
    fast, blocks = make_server_app(index, embedder, settings, auth, concurrency, index_dir, corpus_dir)
    config = uvicorn.Config(fast, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    if block:
        if not quiet:
            print(f"Verbatim is serving on {url}  (HTTP API: {url}api/docs; Ctrl+C to stop)", file=sys.stderr)
        server.run()
        return None
    thread = threading.Thread(target=server.run, name="verbatim-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on {url} did not start")
        time.sleep(0.05)
    return Running(server, thread, url, blocks, fast)
