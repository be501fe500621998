"""The chat page (Gradio): a question in, quoted passages with their attribution out.

Every piece of document text is escaped before it reaches the page, the page loads
nothing from outside the machine (local font stack, analytics off), and the same
answer as ``verbatim ask --json`` is exposed on Gradio's API as ``/ask``.
"""
from __future__ import annotations

import html
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from chat.answer import Answer, QuestionError, answer  # noqa: E402
from chat.render import LABELS, attribution_line, where_line  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import Index  # noqa: E402

EXAMPLES = [
    "Qui a ouvert la série de rencontres ?",
    "Que fait l'algorithme de la CAF ?",
    "What is the link between ecology and social work?",
]
CSS = """
.vb-passage { border-left: 3px solid #6b7280; padding: .4rem .8rem; margin: .8rem 0; }
.vb-context { color: #6b7280; }
.vb-quote { color: inherit; background: #fef3c7; padding: 0 .1rem; }
.vb-attr { font-size: .9rem; margin-top: .3rem; }
.vb-none { font-weight: 600; }
"""


def _passage_html(p, lang: str) -> str:
    L = LABELS[lang]
    esc = html.escape
    before = p.context[: p.start - p.context_start]
    after = p.context[p.end - p.context_start :]
    parts = [
        '<div class="vb-passage">',
        f'<p><span class="vb-context">{esc(before)}</span>« <mark class="vb-quote">{esc(p.quote)}</mark> »'
        f'<span class="vb-context">{esc(after)}</span></p>',
        f'<div class="vb-attr">— {esc(attribution_line(p, lang))}<br>{esc(L["source"])} : {esc(where_line(p, lang))}',
    ]
    if p.chunk.section:
        parts.append(f'<br>{esc(L["question"])} : <i>{esc(p.chunk.section)}</i>')
    for url in (p.source.get("url"), *p.chunk.links):
        if url and url.startswith(("http://", "https://")):
            parts.append(f'<br><a href="{esc(url, quote=True)}" target="_blank" rel="noopener noreferrer">{esc(url)}</a>')
    parts.append("</div></div>")
    return "".join(parts)


def render_html(ans: Answer) -> str:
    """An answer as safe HTML: every text from a document or the user is escaped."""
    L = LABELS[ans.language]
    out = []
    if ans.notice:
        out.append(f"<p><i>{html.escape(ans.notice)}</i></p>")
    if not ans.answered:
        out.append(f'<p class="vb-none">{html.escape(L["no_answer"])}</p>')
        if ans.passages:
            out.append(f"<details><summary>{html.escape(L['closest'])}</summary>")
            out.extend(_passage_html(p, ans.language) for p in ans.passages)
            out.append("</details>")
        return "".join(out)
    out.extend(_passage_html(p, ans.language) for p in ans.passages)
    return "".join(out)


def build_app(index: Index, embedder: Embedder, settings: Settings):
    """The Gradio Blocks app over a loaded index."""
    import gradio as gr

    def ask_json(question: str) -> dict:
        try:
            return answer(question, index, embedder, settings).to_dict()
        except QuestionError as exc:
            return {"question": question, "answered": False, "passages": [], "error": str(exc), "error_code": exc.code}

    def ask_html(question: str) -> str:
        try:
            return render_html(answer(question, index, embedder, settings))
        except QuestionError as exc:
            return f'<p class="vb-none">{html.escape(str(exc))}</p>'

    with gr.Blocks(title="Verbatim", analytics_enabled=False) as app:
        gr.Markdown("# Verbatim\nPosez une question sur le corpus : la réponse n'est faite que de citations exactes, attribuées.")
        with gr.Row():
            question = gr.Textbox(label="Question", placeholder="Qui a ouvert la série de rencontres ?", scale=5, autofocus=True)
            ask = gr.Button("Demander", variant="primary", scale=1)
        result = gr.HTML(elem_id="vb-answer")
        gr.Examples(EXAMPLES, inputs=question, label="Exemples")
        ask.click(ask_html, inputs=question, outputs=result, api_name="ask_html")
        question.submit(ask_html, inputs=question, outputs=result, api_visibility="private")
        gr.api(ask_json, api_name="ask")
    return app


def serve(index: Index, embedder: Embedder, settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Start the chat page; returns the app when ``block`` is false (tests)."""
    import gradio as gr

    app = build_app(index, embedder, settings)
    theme = gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )
    app.queue(default_concurrency_limit=2)
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        theme=theme,
        css=CSS,
        footer_links=["api"],
        quiet=not block,
        show_error=False,
    )
    return app
