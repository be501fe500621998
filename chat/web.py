"""The chat page (Gradio): a question in, quoted passages in their context with their attribution out.

What the page does for a reader:

- each passage shows the quoted sentence(s) in « », marked inside their context (the
  context lighter), then who says it (and whom they report), the question it answers,
  the source with its publisher and date, the paragraph or page, and a link that opens
  the source at the quote; passages of one paragraph are shown once, all quotes marked;
- a button per passage copies a ready-to-paste citation; the whole answer downloads as
  Markdown or CSL-JSON (for reference managers);
- filters restrict the search to sources and to people (speaking or reported);
- a side panel shows the full text of the sources, each quote marked in place;
- when the corpus has no answer, the page says so in the question's language and folds
  the closest passages away.

Every piece of document or user text is escaped before it reaches the page; the page
loads nothing from outside the machine (local font stack, analytics off, and a
Content-Security-Policy that only allows the server itself); the same answer as
``verbatim ask --json`` is on Gradio's API as ``/ask``.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from chat.answer import Answer, Passage, QuestionError, answer  # noqa: E402
from chat.render import (  # noqa: E402
    LABELS,
    attribution_line,
    citation,
    export_csl,
    export_markdown,
    group_by_paragraph,
    human_date,
    is_web_url,
    location,
    mark_segments,
    merged_context,
)
from index.embed import Embedder  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import Filter, Index  # noqa: E402

EXAMPLES = [
    "Qui a ouvert la série de rencontres ?",
    "Qu'est-ce que le véganisme numérique ?",
    "Quelle est la position de la Quadrature du Net ?",
    "What is the link between ecology and social work?",
]
ANSWER_QUEUE = "answer"  # the one Gradio queue every answering listener waits in
FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

CSS = """
.vb-answer { line-height: 1.55; }
.vb-asked { color: #6b7280; margin: 0 0 .6rem; }
.vb-passage { border-left: 3px solid #9ca3af; padding: .5rem .9rem; margin: .9rem 0; }
.vb-context { color: #6b7280; margin: 0 0 .4rem; }
.vb-quote { color: #111827; background: #fde68a; padding: 0 .15rem; border-radius: 2px; }
.vb-guil { color: inherit; font-weight: 600; }
.vb-attr { font-size: .92rem; overflow-wrap: anywhere; }
.vb-attr > div { margin: .1rem 0; }
.vb-actions { display: flex; flex-wrap: wrap; gap: .4rem .9rem; align-items: center; margin-top: .35rem; }
.vb-copy { border: 1px solid #9ca3af; border-radius: 6px; padding: .1rem .6rem; background: transparent; color: inherit; cursor: pointer; font: inherit; }
.vb-copy:hover { background: rgba(156, 163, 175, .2); }
.vb-copied { display: block; font-size: .85rem; white-space: pre-wrap; overflow-wrap: anywhere; border: 1px dashed #9ca3af; padding: .3rem .5rem; margin-top: .3rem; user-select: all; }
.vb-copied[hidden] { display: none; }
.vb-none { font-weight: 600; }
.vb-error { font-weight: 600; color: #b91c1c; }
.vb-note { font-size: .9rem; color: #6b7280; }
.vb-fulltext { white-space: pre-wrap; max-height: 75vh; overflow-y: auto; padding-right: .5rem; line-height: 1.55; }
.vb-fulltext .vb-quote.vb-focus, .vb-fulltext .vb-quote:target { outline: 3px solid #f59e0b; }
.vb-source-head { margin: .2rem 0 .5rem; }
.vb-gap { display: block; height: .5em; }
.vb-empty { color: #6b7280; }
"""

# Runs once when the answer area loads; the listener sees every later answer too.
# The citation is read from a data attribute (text, never HTML) and also shown in an
# <output> as plain text, so a reader can select it when the clipboard is refused.
ANSWER_JS = """
const copyText = async (text) => {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
  } catch (e) {}
  const ta = document.createElement('textarea');
  ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
  document.body.appendChild(ta); ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) {}
  ta.remove();
  return ok;
};
element.addEventListener('click', async (ev) => {
  const copy = ev.target.closest('.vb-copy');
  if (copy) {
    const text = copy.dataset.citation;
    const ok = await copyText(text);
    const out = copy.parentElement.querySelector('.vb-copied');
    if (out) { out.textContent = text; out.hidden = false; out.dataset.status = ok ? 'copied' : 'shown'; }
    copy.textContent = ok ? copy.dataset.done : copy.dataset.fail;
    return;
  }
  const browse = ev.target.closest('.vb-browse');
  if (browse) {
    const mark = document.getElementById(browse.getAttribute('href').slice(1));
    const box = mark && mark.closest('.vb-fulltext');
    if (!box) return;
    ev.preventDefault();
    document.querySelectorAll('.vb-fulltext .vb-focus').forEach((m) => m.classList.remove('vb-focus'));
    mark.classList.add('vb-focus');
    box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
    const r = box.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) box.scrollIntoView({block: 'start'});
  }
});
"""

# When a new answer arrives, the full-text panel scrolls to its first quote.
SOURCE_JS = """
watch('value', () => {
  const box = element.querySelector('.vb-fulltext');
  const mark = box && box.querySelector('.vb-quote');
  if (mark) box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
});
"""

# Only the server itself: no font, script, image or connection elsewhere, even by mistake.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
    "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeaders:
    """ASGI middleware adding the Content-Security-Policy and no-referrer headers to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- rendering ---------------------------------------------------------------------------

esc = html.escape


def _link(url: str, text: str, cls: str) -> str:
    return f'<a class="{cls}" href="{esc(url, quote=True)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'


def _actions_html(p: Passage, n: int, lang: str, numbered: bool) -> str:
    L = LABELS[lang]
    parts = ['<div class="vb-actions">']
    if numbered:
        parts.append(f"<span>{esc(L['citation'])} {n}</span>")
    if p.quote_url:
        parts.append(_link(p.quote_url, L["open_at_quote"] + " ↗", "vb-open"))
    parts.append(f'<a class="vb-browse" href="#vb-q-{n}">{esc(L["show_in_text"])}</a>')
    parts.append(
        f'<button type="button" class="vb-copy" data-citation="{esc(citation(p, lang), quote=True)}" '
        f'data-done="{esc(L["copied"], quote=True)}" data-fail="{esc(L["copy_failed"], quote=True)}">{esc(L["copy"])}</button>'
    )
    parts.append('<output class="vb-copied" hidden></output></div>')
    return "".join(parts)


def _group_html(group: list[tuple[int, Passage]], lang: str, texts: dict[str, str] | None) -> str:
    """One card for the passages of one paragraph: the context once, every quote marked."""
    L = LABELS[lang]
    first = group[0][1]
    text = texts.get(first.source.get("id")) if texts else None
    context, offset = merged_context([p for _, p in group], text)
    body = []
    for seg, n in mark_segments(context, offset, [(p.start, p.end, n) for n, p in group]):
        if n is None:
            body.append(esc(seg))
        else:
            body.append(f'<span class="vb-guil">« </span><mark class="vb-quote" data-n="{n}">{esc(seg)}</mark><span class="vb-guil"> »</span>')
    s = first.source
    where = [f"<i>{esc(s.get('title') or s.get('id', '?'))}</i>"]
    where += [esc(x) for x in (s.get("publisher"), human_date(s.get("date"), lang)) if x]
    where.append(esc(location(first, lang)))
    parts = [
        f'<article class="vb-passage" id="vb-p-{group[0][0]}">',
        f'<p class="vb-context">{"".join(body)}</p>',
        '<div class="vb-attr">',
        f'<div class="vb-who">— {esc(attribution_line(first, lang))}</div>',
    ]
    if first.chunk.section:
        parts.append(f'<div class="vb-section">{esc(L["answers_question"])} : <i>{esc(first.chunk.section)}</i></div>')
    parts.append(f'<div class="vb-where">{esc(L["source"])} : {", ".join(where)}</div>')
    for n, p in group:
        parts.append(_actions_html(p, n, lang, numbered=len(group) > 1))
    links = [u for u in dict.fromkeys(u for _, p in group for u in p.chunk.links) if is_web_url(u)]
    if links:
        parts.append(f'<div class="vb-links">{esc(L["cited_links"])} : ' + " ".join(_link(u, u, "vb-cited") for u in links) + "</div>")
    parts.append("</div></article>")
    return "".join(parts)


def _passages_html(ans: Answer, texts: dict[str, str] | None) -> str:
    numbered = list(enumerate(ans.passages, 1))
    out = []
    for group in group_by_paragraph(p for _, p in numbered):
        ids = {id(p) for p in group}
        out.append(_group_html([(n, p) for n, p in numbered if id(p) in ids], ans.language, texts))
    return "".join(out)


def render_html(ans: Answer, texts: dict[str, str] | None = None, filter_note: str | None = None) -> str:
    """An answer as safe HTML: every text from a document or the user is escaped.

    ``texts`` (source id -> full text) lets passages of one paragraph share one exact context.
    """
    L = LABELS[ans.language]
    out = [f'<div class="vb-answer" lang="{ans.language}">', f'<p class="vb-asked">{esc(L["asked"])} : <q>{esc(ans.question)}</q></p>']
    if ans.notice:
        out.append(f'<p class="vb-note"><i>{esc(ans.notice)}</i></p>')
    if filter_note:
        out.append(f'<p class="vb-note vb-filter-note">{esc(L["filtered"])} : {esc(filter_note)}</p>')
    if not ans.answered:
        out.append(f'<p class="vb-none">{esc(L["no_answer"])}</p>')
        if ans.passages:
            out.append(f"<details><summary>{esc(L['closest'])}</summary>")
            out.append(_passages_html(ans, texts))
            out.append("</details>")
    else:
        out.append(_passages_html(ans, texts))
    out.append("</div>")
    return "".join(out)


def render_sources_html(ans: Answer, texts: dict[str, str]) -> str:
    """The full text of each source of an answer, every quote marked in place (``#vb-q-N``)."""
    L = LABELS[ans.language]
    by_source: dict[str, list[tuple[int, Passage]]] = {}
    for n, p in enumerate(ans.passages, 1):
        by_source.setdefault(p.source.get("id", ""), []).append((n, p))
    if not by_source:
        return empty_sources_html()
    out = [f'<div class="vb-sources" lang="{ans.language}"><div class="vb-fulltext">']
    for sid, items in by_source.items():
        s = items[0][1].source
        meta = [esc(x) for x in (s.get("publisher"), human_date(s.get("date"), ans.language)) if x]
        head = f"<b>{esc(s.get('title') or sid)}</b>" + (f" — {', '.join(meta)}" if meta else "")
        if is_web_url(s.get("url")):
            head += " " + _link(s["url"], L["open_source"] + " ↗", "vb-open")
        out.append(f'<p class="vb-source-head">{head}</p>')
        text = texts.get(sid, "")
        for seg, n in mark_segments(text, 0, [(p.start, p.end, n) for n, p in items]):
            # A paragraph break gets a little air; the spacer is empty, so the text stays the source's.
            out.append(esc(seg).replace("\n", '\n<span class="vb-gap"></span>') if n is None else f'<mark class="vb-quote" id="vb-q-{n}">{esc(seg)}</mark>')
        out.append("\n\n")
    out.append("</div></div>")
    return "".join(out)


def empty_sources_html() -> str:
    return f'<p class="vb-empty">{esc(LABELS["fr"]["full_text"])} : elle s\'affiche ici après une question, chaque citation surlignée à sa place.</p>'


def error_html(exc: QuestionError, question: object) -> str:
    lang = "fr"
    msg = LABELS[lang]["errors"].get(exc.code, str(exc))
    return f'<div class="vb-answer" lang="{lang}"><p class="vb-error">{esc(msg)}</p></div>'


# -- the app ---------------------------------------------------------------------------------


def people_choices(facets: dict) -> list[tuple[str, str]]:
    """Dropdown choices for people: who speaks, then who is reported (labels in French)."""
    return [(f"{name} — parle", name) for name in facets["speakers"]] + [(f"{name} — rapporté·e", name) for name in facets["reported"]]


def make_filter(index: Index, sources, people) -> Filter | None:
    """A Filter from the lists the page or the API gives; unknown names raise QuestionError."""
    sources = [s for s in (sources or []) if s]
    people = [p for p in (people or []) if p]
    if not sources and not people:
        return None
    facets = index.facets()
    known_sources = {sid for sid, _ in facets["sources"]}
    known_people = set(facets["speakers"]) | set(facets["reported"])
    bad = [s for s in sources if s not in known_sources]
    if bad:
        raise QuestionError(f"unknown source id(s): {', '.join(map(repr, bad))}; known: {', '.join(sorted(known_sources))}", "unknown_source")
    bad = [p for p in people if p not in known_people]
    if bad:
        raise QuestionError(f"unknown person(s): {', '.join(map(repr, bad))}; see /facets for the names", "unknown_person")
    return Filter(sources=frozenset(sources), people=frozenset(people))


def _error_dict(question, exc: QuestionError) -> dict:
    return {"question": question, "answered": False, "passages": [], "error": str(exc), "error_code": exc.code}


class ExportDir:
    """Where the Markdown and CSL-JSON downloads are written; folders older than an hour go."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="verbatim-export-"))
        self._clearing = threading.Lock()  # answers may write at once (--concurrency N)

    def write(self, ans: Answer) -> tuple[str, str]:
        cutoff = time.time() - 3600
        with self._clearing:
            for old in self.root.iterdir():
                try:
                    expired = old.stat().st_mtime < cutoff
                except FileNotFoundError:  # removed meanwhile by another process
                    continue
                if expired:
                    shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=self.root))
        md = folder / "verbatim-citations.md"
        csl = folder / "verbatim-citations.json"
        md.write_text(export_markdown(ans), encoding="utf-8")
        csl.write_text(json.dumps(export_csl(ans), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return str(md), str(csl)


def build_app(index: Index, embedder: Embedder, settings: Settings):
    """The Gradio Blocks app over a loaded index."""
    import gradio as gr

    facets = index.facets()
    source_titles = dict(facets["sources"])
    exports = ExportDir()

    def ask_json(question: str) -> dict:
        try:
            return answer(question, index, embedder, settings).to_dict()
        except QuestionError as exc:
            return _error_dict(question, exc)

    def ask_filtered(question: str, sources: list[str] | None = None, people: list[str] | None = None) -> dict:
        """The same answer as /ask, restricted to some source ids and to some people (speaking or reported)."""
        try:
            return answer(question, index, embedder, settings, make_filter(index, sources, people)).to_dict()
        except QuestionError as exc:
            return _error_dict(question, exc)

    def list_facets() -> dict:
        """What /ask_filtered can be restricted to: source ids with titles, speakers, reported people."""
        return {"sources": [{"id": i, "title": t} for i, t in facets["sources"]], "speakers": facets["speakers"], "reported": facets["reported"]}

    def ask_html(question: str) -> str:
        try:
            return render_html(answer(question, index, embedder, settings), index.texts)
        except QuestionError as exc:
            return error_html(exc, question)

    def ask_page(question: str, sources: list[str] | None, people: list[str] | None):
        hide = gr.DownloadButton(visible=False)
        try:
            where = make_filter(index, sources, people)
            ans = answer(question, index, embedder, settings, where)
        except QuestionError as exc:
            return error_html(exc, question), empty_sources_html(), hide, hide, gr.Row(visible=False)
        note = ", ".join([source_titles.get(s, s) for s in sources or []] + list(people or [])) or None
        md, csl = exports.write(ans)
        return (
            render_html(ans, index.texts, note),
            render_sources_html(ans, index.texts),
            gr.DownloadButton(value=md, visible=True),
            gr.DownloadButton(value=csl, visible=True),
            gr.Row(visible=False),
        )

    with gr.Blocks(title="Verbatim", analytics_enabled=False) as app:
        gr.Markdown(
            "# Verbatim\nPosez une question sur le corpus : la réponse n'est faite que de citations exactes, "
            "attribuées, montrées dans leur contexte."
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                label="Question", placeholder="Qui a ouvert la série de rencontres ?", scale=5, autofocus=True, elem_id="vb-question", lines=1, max_lines=4
            )
            ask = gr.Button("Demander", variant="primary", scale=1, elem_id="vb-ask")
        with gr.Accordion("Filtres : sources et personnes", open=False, elem_id="vb-filters"):
            with gr.Row():
                sources = gr.Dropdown(
                    choices=[(title, sid) for sid, title in facets["sources"]], multiselect=True, label="Sources",
                    info="Ne chercher que dans ces sources (vide : toutes).", elem_id="vb-filter-sources",
                )
                people = gr.Dropdown(
                    choices=people_choices(facets), multiselect=True, label="Personnes",
                    info="Ne garder que les passages dits ou rapportés par l'une de ces personnes (vide : toutes).",
                    elem_id="vb-filter-people",
                )
        with gr.Row(elem_id="vb-examples") as examples_row:
            gr.Markdown("Exemples :")
            example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes=["vb-example"]) for q in EXAMPLES]
        with gr.Row():
            with gr.Column(scale=3):
                result = gr.HTML(
                    '<p class="vb-empty">La réponse s\'affiche ici : des citations exactes, dans leur contexte, '
                    "avec qui parle, dans quelle source, à quel paragraphe. Essayez un exemple ci-dessus.</p>",
                    elem_id="vb-answer",
                    js_on_load=ANSWER_JS,
                )
                with gr.Row():
                    export_md = gr.DownloadButton("Exporter en Markdown", visible=False, size="sm", elem_id="vb-export-md")
                    export_csl_button = gr.DownloadButton("Exporter en CSL-JSON (Zotero…)", visible=False, size="sm", elem_id="vb-export-csl")
            with gr.Column(scale=2):
                gr.Markdown("### Texte de la source")
                source_view = gr.HTML(empty_sources_html(), elem_id="vb-source", js_on_load=SOURCE_JS)

        outputs = [result, source_view, export_md, export_csl_button, examples_row]
        inputs = [question, sources, people]
        # Every listener that answers shares one queue: without a shared concurrency_id each
        # has its own, and --concurrency 1 would let one answer per listener run at once.
        ask.click(ask_page, inputs=inputs, outputs=outputs, api_visibility="private", concurrency_id=ANSWER_QUEUE)
        question.submit(ask_page, inputs=inputs, outputs=outputs, api_visibility="private", concurrency_id=ANSWER_QUEUE)
        for button, q in zip(example_buttons, EXAMPLES):
            button.click(lambda q=q: q, None, question, queue=False, api_visibility="private").then(
                ask_page, inputs=inputs, outputs=outputs, api_visibility="private", concurrency_id=ANSWER_QUEUE
            )
        gr.api(ask_json, api_name="ask", concurrency_id=ANSWER_QUEUE)
        gr.api(ask_filtered, api_name="ask_filtered", concurrency_id=ANSWER_QUEUE)
        gr.api(list_facets, api_name="facets")
        gr.api(ask_html, api_name="ask_html", concurrency_id=ANSWER_QUEUE)
    app.verbatim_exports = exports
    return app


def serve(
    index: Index,
    embedder: Embedder,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    auth: tuple[str, str] | None = None,
    concurrency: int = 1,
):
    """Start the chat page; returns the app when ``block`` is false (tests).

    ``auth`` (user, password) puts the page and its API behind a login; ``concurrency`` is
    how many questions are answered at once (the others wait in Gradio's queue): one, since
    the question's embedding already uses every core and more at once did not lower the
    p99 with 20 clients (``python -m bench.load``; README, "Limits and safety").
    """
    import gradio as gr
    from starlette.middleware import Middleware

    app = build_app(index, embedder, settings)
    theme = gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)
    app.queue(default_concurrency_limit=concurrency)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        prevent_thread_lock=not block,
        theme=theme,
        css=CSS,
        footer_links=["api"],
        quiet=not block,
        show_error=False,
        app_kwargs={"middleware": [Middleware(SecurityHeaders)]},
    )
    return app
