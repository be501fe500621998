"""The chat page's HTML: an answer card, the full-text panel, the corpus panel, messages.

Pure functions from records to safe HTML strings: every text from a document or from a
question is escaped here. The app (``chat/web.py``) puts them on the page; the assets
(``chat/assets.py``) style them and handle their buttons.

An answer has one of three looks (``chat.render.level_of``): an **answer** marks its
quotes in yellow inside their context; an **uncertain** answer shows its quotes in a
dashed, paler frame under « Réponse incertaine »; **none** says the corpus does not
answer and folds the closest passages away, underlined (never marked as quotes).
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

from chat.answer import Answer, Passage, QuestionError
from chat.check import MAX_TEXT, CheckError, CheckReport
from chat.check_render import CHECK_LABELS, check_html
from chat.conversation import Understood
from chat.render import (
    LABELS,
    attribution_line,
    citation,
    group_by_paragraph,
    human_date,
    is_web_url,
    level_of,
    location,
    mark_segments,
    merged_context,
    narrowed,
    no_answer,
    section_label,
)

esc = html.escape

# The page's own words (buttons, panels), in the page's language.
UI = {
    "fr": {
        "intro": "Posez une question sur le corpus : la réponse n'est faite que de citations exactes, attribuées, montrées dans leur contexte.",
        "question": "Question",
        "placeholder": "Qui a ouvert la série de rencontres ?",
        "ask": "Demander",
        "new": "Nouvelle conversation",
        "more": "Plus de passages",
        "examples": "Exemples",
        "filters": "Filtres : sources et personnes",
        "sources": "Sources",
        "sources_info": "Ne chercher que dans ces sources (vide : toutes).",
        "people": "Personnes",
        "people_info": "Ne garder que les passages dits ou rapportés par l'une de ces personnes (vide : toutes).",
        "speaks": "parle",
        "reported": "rapporté·e",
        "source_text": "Texte de la source",
        "corpus": "Le corpus",
        "export_md": "Exporter en Markdown",
        "export_csl": "Exporter en CSL-JSON (Zotero…)",
        "chat": "Conversation",
        "ask_alone": "Poser seule",
        "copy_link": "Copier le lien",
        "link_copied": "Lien copié",
        "link_failed": "Copie impossible : sélectionnez le lien ci-dessous",
        "no_more": "Pas d'autre passage.",
        "more_of": "Plus de passages pour",
        "empty_source": "Texte complet de la source : il s'affiche ici après une question, chaque citation surlignée à sa place.",
        "corpus_line": "{sources} sources, {passages} passages",
        "col_source": "Source", "col_kind": "Type", "col_passages": "Passages", "col_state": "État",
        "states": {"indexed": "indexée", "stale": "à indexer", "waiting": "à télécharger", "fetch-failed": "téléchargement impossible", "failed": "illisible"},
        "kinds": {"interview": "entretien", "web": "page web", "html": "page web", "pdf": "PDF", "docx": "Word", "markdown": "Markdown", "text": "texte"},
        "updated": "Le corpus a changé depuis la dernière question : il est à jour.",
    },
    "en": {
        "intro": "Ask a question about the corpus: the answer is made only of exact, attributed quotes, shown in their context.",
        "question": "Question",
        "placeholder": "Who opened the series of meetings?",
        "ask": "Ask",
        "new": "New conversation",
        "more": "More passages",
        "examples": "Examples",
        "filters": "Filters: sources and people",
        "sources": "Sources",
        "sources_info": "Search only these sources (empty: all).",
        "people": "People",
        "people_info": "Keep only passages said or reported by one of these people (empty: all).",
        "speaks": "speaks",
        "reported": "reported",
        "source_text": "Text of the source",
        "corpus": "The corpus",
        "export_md": "Export as Markdown",
        "export_csl": "Export as CSL-JSON (Zotero…)",
        "chat": "Conversation",
        "ask_alone": "Ask it alone",
        "copy_link": "Copy the link",
        "link_copied": "Link copied",
        "link_failed": "Cannot copy: select the link below",
        "no_more": "No other passage.",
        "more_of": "More passages for",
        "empty_source": "Full text of the source: it shows here after a question, each quote marked in place.",
        "corpus_line": "{sources} sources, {passages} passages",
        "col_source": "Source", "col_kind": "Kind", "col_passages": "Passages", "col_state": "State",
        "states": {"indexed": "indexed", "stale": "to index", "waiting": "to download", "fetch-failed": "download failed", "failed": "unreadable"},
        "kinds": {"interview": "interview", "web": "web page", "html": "web page", "pdf": "PDF", "docx": "Word", "markdown": "Markdown", "text": "text"},
        "updated": "The corpus changed since the last question: it is up to date.",
    },
}


def _c(lang: str) -> str:
    """A colon as the language writes it: French puts a space before it."""
    return " :" if lang == "fr" else ":"


def _link(url: str, text: str, cls: str) -> str:
    return f'<a class="{cls}" href="{esc(url, quote=True)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'


def permalink_query(question: str) -> str:
    """The part of the page's address that opens it on this question: ``?q=…``."""
    return "?" + urlencode({"q": question})


def _actions_html(p: Passage, n: int, lang: str, numbered: bool, ref: str) -> str:
    L = LABELS[lang]
    parts = ['<div class="vb-actions">']
    if numbered:
        parts.append(f"<span>{esc(L['citation'])} {n}</span>")
    if p.quote_url:
        parts.append(_link(p.quote_url, L["open_at_quote"] + " ↗", "vb-open"))
    parts.append(f'<a class="vb-browse" href="#vb-q-{ref}{n}">{esc(L["show_in_text"])}</a>')
    parts.append(
        f'<button type="button" class="vb-copy" data-citation="{esc(citation(p, lang), quote=True)}" '
        f'data-done="{esc(L["copied"], quote=True)}" data-fail="{esc(L["copy_failed"], quote=True)}">{esc(L["copy"])}</button>'
    )
    parts.append('<output class="vb-copied" hidden></output></div>')
    return "".join(parts)


def _group_html(group: list[tuple[int, Passage]], lang: str, texts: dict[str, str] | None, level: str, ref: str) -> str:
    """One card for the passages of one paragraph: the context once, every quote marked."""
    L = LABELS[lang]
    first = group[0][1]
    text = texts.get(first.source.get("id")) if texts else None
    context, offset = merged_context([p for _, p in group], text)
    body = []
    for seg, n in mark_segments(context, offset, [(p.start, p.end, n) for n, p in group]):
        if n is None:
            body.append(esc(seg))
        elif level == "none":
            body.append(f'<span class="vb-near" data-n="{n}">{esc(seg)}</span>')
        else:
            body.append(f'<span class="vb-guil">« </span><mark class="vb-quote" data-n="{n}">{esc(seg)}</mark><span class="vb-guil"> »</span>')
    s = first.source
    where = [f"<i>{esc(s.get('title') or s.get('id', '?'))}</i>"]
    where += [esc(x) for x in (s.get("publisher"), human_date(s.get("date"), lang)) if x]
    where.append(esc(location(first, lang)))
    parts = [
        f'<article class="vb-passage" id="vb-p-{ref}{group[0][0]}">',
        f'<p class="vb-context">{"".join(body)}</p>',
        '<div class="vb-attr">',
        f'<div class="vb-who">— {esc(attribution_line(first, lang))}</div>',
    ]
    if first.chunk.section:
        label = section_label(first.chunk.part, lang, long=True)
        parts.append(f'<div class="vb-section">{esc(label)}{_c(lang)} <i>{esc(first.chunk.section)}</i></div>')
    parts.append(f'<div class="vb-where">{esc(L["source"])}{_c(lang)} {", ".join(where)}</div>')
    for n, p in group:
        parts.append(_actions_html(p, n, lang, len(group) > 1, ref))
    links = [u for u in dict.fromkeys(u for _, p in group for u in p.chunk.links) if is_web_url(u)]
    if links:
        parts.append(f'<div class="vb-links">{esc(L["cited_links"])}{_c(lang)} ' + " ".join(_link(u, u, "vb-cited") for u in links) + "</div>")
    parts.append("</div></article>")
    return "".join(parts)


def _passages_html(ans: Answer, texts: dict[str, str] | None, level: str, first: int, ref: str) -> str:
    numbered = list(enumerate(ans.passages, first))
    out = []
    for group in group_by_paragraph(p for _, p in numbered):
        ids = {id(p) for p in group}
        out.append(_group_html([(n, p) for n, p in numbered if id(p) in ids], ans.language, texts, level, ref))
    return "".join(out)


def render_html(
    ans: Answer,
    texts: dict[str, str] | None = None,
    filter_note: str | None = None,
    understood: Understood | None = None,
    first: int = 1,
    turn: int | None = None,
    more: bool = False,
) -> str:
    """An answer as safe HTML: every text from a document or the user is escaped.

    ``texts`` (source id -> full text) lets passages of one paragraph share one exact
    context; ``understood`` says how a follow-up was searched; ``first`` numbers the
    passages (a "more passages" card goes on from the last one); ``turn`` makes the
    anchors of a card in a conversation unique; ``more`` heads it "Plus de passages pour".
    """
    lang = ans.language
    L, U = LABELS[lang], UI[lang]
    level = level_of(ans)
    ref = f"{turn}-" if turn is not None else ""
    asked = understood.asked if understood else ans.question
    out = [f'<div class="vb-answer vb-level-{level}" lang="{lang}" data-level="{level}">',
           f'<p class="vb-asked">{esc(U["more_of"] if more else L["asked"])}{_c(lang)} <q>{esc(asked)}</q></p>']
    if understood and understood.followup:
        out.append(
            f'<p class="vb-understood">{esc(L["understood"])}{_c(lang)} « {esc(understood.searched)} »'
            f'{esc(narrowed(understood, lang))} '
            f'<button type="button" class="vb-ask-alone" data-question="{esc(understood.asked, quote=True)}">'
            f"{esc(U['ask_alone'])}{_c(lang)} « {esc(understood.asked)} »</button></p>"
        )
    if ans.notice:
        out.append(f'<p class="vb-note"><i>{esc(ans.notice)}</i></p>')
    if filter_note:
        out.append(f'<p class="vb-note vb-filter-note">{esc(L["filtered"])}{_c(lang)} {esc(filter_note)}</p>')
    if level == "none":
        out.append(f'<p class="vb-none">{esc(no_answer(understood, lang))}</p>')
        if ans.passages:
            out.append(f"<details><summary>{esc(L['closest'])}</summary>")
            out.append(_passages_html(ans, texts, level, first, ref))
            out.append("</details>")
    else:
        if level == "uncertain":
            out.append(f'<p class="vb-uncertain">{esc(L["uncertain"])}</p>')
        out.append(_passages_html(ans, texts, level, first, ref))
    if first > 1 and not ans.passages:
        out.append(f'<p class="vb-note">{esc(U["no_more"])}</p>')
    searched = understood.searched if understood else ans.question
    out.append(
        f'<div class="vb-turn-actions"><button type="button" class="vb-copy-link" data-query="{esc(permalink_query(searched), quote=True)}" '
        f'data-done="{esc(U["link_copied"], quote=True)}" data-fail="{esc(U["link_failed"], quote=True)}">{esc(U["copy_link"])}</button>'
        '<output class="vb-copied" hidden></output></div>'
    )
    out.append("</div>")
    return "".join(out)


def render_sources_html(ans: Answer, texts: dict[str, str], turn: int | None = None) -> str:
    """The full text of each source of an answer, every quote marked in place (``#vb-q-N``).

    The closest passages of an unanswered question are underlined, not marked as quotes.
    """
    L = LABELS[ans.language]
    level = level_of(ans)
    ref = f"{turn}-" if turn is not None else ""
    by_source: dict[str, list[tuple[int, Passage]]] = {}
    for n, p in enumerate(ans.passages, 1):
        by_source.setdefault(p.source.get("id", ""), []).append((n, p))
    if not by_source:
        return empty_sources_html(ans.language)
    mark = "span" if level == "none" else "mark"
    cls = "vb-near" if level == "none" else "vb-quote"
    out = [f'<div class="vb-sources vb-level-{level}" lang="{ans.language}"><div class="vb-fulltext">']
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
            out.append(esc(seg).replace("\n", '\n<span class="vb-gap"></span>') if n is None else f'<{mark} class="{cls}" id="vb-q-{ref}{n}">{esc(seg)}</{mark}>')
        out.append("\n\n")
    out.append("</div></div>")
    return "".join(out)


def empty_sources_html(lang: str = "fr") -> str:
    return f'<p class="vb-empty">{esc(UI[lang]["empty_source"])}</p>'


def error_html(exc: QuestionError, question: object, lang: str = "fr") -> str:
    """A question that cannot be asked: the rule and the fix, in the page's language."""
    msg = LABELS[lang]["errors"].get(exc.code, str(exc))
    return f'<div class="vb-answer" lang="{lang}"><p class="vb-error">{esc(msg)}</p></div>'


def people_choices(facets: dict, lang: str = "fr") -> list[tuple[str, str]]:
    """Dropdown choices for people: who speaks, then who is reported."""
    U = UI[lang]
    return [(f"{name} — {U['speaks']}", name) for name in facets["speakers"]] + [(f"{name} — {U['reported']}", name) for name in facets["reported"]]


def corpus_html(rows: list[dict], lang: str = "fr") -> str:
    """What the page knows: each source with its kind, passages and state, and the totals.

    ``rows`` are ``{id, title, kind, chunks, state}`` (``index.incremental.source_states``
    or the index alone).
    """
    U = UI[lang]
    indexed = [r for r in rows if r.get("state") == "indexed"]
    line = U["corpus_line"].format(sources=len(indexed), passages=sum(r.get("chunks") or 0 for r in indexed))
    out = [f'<div class="vb-corpus" lang="{lang}"><p class="vb-corpus-line">{esc(U["corpus"])}{_c(lang)} {esc(line)}</p><table>',
           f"<tr><th>{esc(U['col_source'])}</th><th>{esc(U['col_kind'])}</th><th>{esc(U['col_passages'])}</th><th>{esc(U['col_state'])}</th></tr>"]
    for r in rows:
        kind = U["kinds"].get(r.get("kind") or "", r.get("kind") or "")
        state = U["states"].get(r.get("state") or "", r.get("state") or "")
        out.append(f'<tr data-source="{esc(r["id"], quote=True)}" data-state="{esc(r.get("state") or "", quote=True)}">'
                   f"<td>{esc(r.get('title') or r['id'])}</td><td>{esc(kind)}</td><td>{int(r.get('chunks') or 0)}</td><td>{esc(state)}</td></tr>")
    out.append("</table></div>")
    return "".join(out)


# -- the "Check a quote" tab ------------------------------------------------------------------

# The tab's own words, in the page's language (the verdicts and evidence: chat.check_render).
CHECK_UI = {
    "fr": {
        "tab_ask": "Questions",
        "tab_check": "Vérifier une citation",
        "intro": ("Collez un texte (un article, un message, une diapositive) ou une seule citation : chaque citation est "
                  "cherchée dans les sources, marquée à sa place de la couleur de son verdict, puis montrée avec ses preuves."),
        "text": "Texte à vérifier",
        "placeholder": "« Cette série de rencontres a été lancée par Thierry Breton », rappelle Katia Roux.",
        "mode": "Que vérifier ?",
        "modes": [("Les passages entre guillemets (le texte entier s'il n'en a pas)", "auto"), ("Chaque phrase", "sentences")],
        "go": "Vérifier",
        "none": "Aucune citation trouvée : le texte n'a pas de passage entre « », “ ” ou \" \". Choisissez « Chaque phrase » pour vérifier tout le texte.",
        "errors": {
            "empty": "Le texte est vide : collez une citation, ou un texte qui en contient.",
            "no_words": "Le texte ne contient aucun mot à vérifier : collez les mots de la citation.",
            "too_long": "Le texte est trop long ({n} caractères ; au plus {max} à la fois) : vérifiez-le en plusieurs parties.",
        },
        "error": "Ce texte ne peut pas être vérifié.",
    },
    "en": {
        "tab_ask": "Questions",
        "tab_check": "Check a quote",
        "intro": ("Paste a text (an article, a post, a slide) or a single quote: each quote is looked for in the sources, "
                  "marked in place in the colour of its verdict, then shown with its evidence."),
        "text": "Text to check",
        "placeholder": "“This series of meetings was launched by Thierry Breton,” Katia Roux recalls.",
        "mode": "What to check?",
        "modes": [("The spans in quotation marks (the whole text if it has none)", "auto"), ("Every sentence", "sentences")],
        "go": "Check",
        "none": "No quote found: the text has no span in « », “ ” or \" \". Choose “Every sentence” to check the whole text.",
        "errors": {
            "empty": "The text is empty: paste a quote, or a text that holds quotes.",
            "no_words": "The text has no word to check: paste the quote's words.",
            "too_long": "The text is too long ({n} characters; at most {max} at once): check it in several parts.",
        },
        "error": "This text cannot be checked.",
    },
}


def _number(n: int, lang: str) -> str:
    return f"{n:,}".replace(",", "\u202f" if lang == "fr" else ",")


def check_result_html(report: CheckReport, lang: str = "fr") -> str:
    """The tab's result: how many quotes of each verdict, then the text with each quote
    marked in place and each verdict with its evidence (``check_render.check_html``)."""
    C, L = CHECK_UI[lang], CHECK_LABELS[lang]
    if not report.quotes:
        return f'<div class="vb-check-result" lang="{lang}"><p class="vb-none">{esc(C["none"])}</p></div>'
    chips = " ".join(f'<span class="vb-chip vb-{v}" data-verdict="{v}">{n} {esc(L["verdicts"][v])}</span>'
                    for v, n in report.counts().items() if n)
    head = f'<p class="vb-check-summary">{len(report.quotes)} {esc(L["summary"])}{_c(lang)} {chips}</p>'
    return f'<div class="vb-check-result" lang="{lang}">{head}{check_html(report, lang)}</div>'


def check_error_html(exc: CheckError, text: object, lang: str = "fr") -> str:
    """A text that cannot be checked: one short message in the page's language."""
    C = CHECK_UI[lang]
    n = len(text) if isinstance(text, str) else 0
    msg = C["errors"].get(exc.code, C["error"]).format(n=_number(n, lang), max=_number(MAX_TEXT, lang))
    return f'<div class="vb-check-result" lang="{lang}"><p class="vb-error">{esc(msg)}</p></div>'
