"""Text renderings of an answer for people: labels in the question's language.

Besides the terminal rendering, this module holds the pure functions behind the chat
page: the ready-to-paste citation of a passage, the Markdown and CSL-JSON exports of an
answer, and the cutting of a text into plain and quoted segments (for the highlight in
context and the full-text view). The link that opens a source at a quote is
``Passage.quote_url``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from chat.answer import Answer, Passage
from chat.conversation import Understood

LABELS = {
    "fr": {
        "no_answer": "Le corpus ne contient pas de réponse à cette question.",
        "nothing_more": "Le corpus ne cite rien d'autre de {people}.",
        "closest": "Passages les plus proches (ils ne répondent pas) :",
        "uncertain": "Réponse incertaine : ces passages sont les plus proches, mais peut-être pas une réponse.",
        "uncertain_short": "Réponse incertaine",
        "understood": "Compris comme",
        "left_out": "sans les passages déjà cités",
        "among": "parmi ceux de",
        "reporting": "rapportant",
        "question": "Question",
        "source": "Source",
        "link": "Lien",
        "paragraph": "§",
        "page": "p.",
        "roles": {"interviewee": "interviewé", "interviewer": "intervieweur", "commenter": "commentaire", "publisher": "éditeur", "author": "auteur"},
        "in": "dans",
        "asked": "Question posée",
        "answers_question": "En réponse à la question",
        "heading": "Rubrique",
        "in_heading": "Dans la rubrique",
        "open_at_quote": "Ouvrir la source à la citation",
        "open_source": "Ouvrir la source",
        "show_in_text": "Voir dans le texte",
        "copy": "Copier la citation",
        "copied": "Citation copiée",
        "copy_failed": "Copie impossible : sélectionnez le texte ci-dessous",
        "cited_links": "Liens cités",
        "citation": "Citation",
        "filtered": "Recherche restreinte à",
        "full_text": "Texte complet de la source",
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
        "errors": {
            "empty": "La question est vide : tapez une question, par exemple « Qui a ouvert la série de rencontres ? »",
            "no_words": "La question ne contient ni lettre ni chiffre : tapez des mots.",
            "not_text": "La question doit être du texte.",
        },
    },
    "en": {
        "no_answer": "The corpus does not answer this question.",
        "nothing_more": "The corpus quotes nothing else of {people}.",
        "closest": "Closest passages (they do not answer):",
        "uncertain": "Uncertain answer: these are the closest passages, but they may not answer.",
        "uncertain_short": "Uncertain answer",
        "understood": "Understood as",
        "left_out": "without the passages already quoted",
        "among": "among those of",
        "reporting": "reporting",
        "question": "Question",
        "source": "Source",
        "link": "Link",
        "paragraph": "§",
        "page": "p.",
        "roles": {"interviewee": "interviewee", "interviewer": "interviewer", "commenter": "comment", "publisher": "publisher", "author": "author"},
        "in": "in",
        "asked": "Question asked",
        "answers_question": "Answering the question",
        "heading": "Section",
        "in_heading": "In the section",
        "open_at_quote": "Open the source at the quote",
        "open_source": "Open the source",
        "show_in_text": "Show in the text",
        "copy": "Copy citation",
        "copied": "Citation copied",
        "copy_failed": "Cannot copy: select the text below",
        "cited_links": "Links cited",
        "citation": "Citation",
        "filtered": "Search restricted to",
        "full_text": "Full text of the source",
        "months": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
        "errors": {
            "empty": "The question is empty: type a question, e.g. “Who opened the series of meetings?”",
            "no_words": "The question has no letter or digit: type words.",
            "not_text": "The question must be text.",
        },
    },
}


LEVELS = ("answer", "uncertain", "none")


def section_label(part: str, language: str, long: bool = False) -> str:
    """How a passage's section is introduced: an interview's answer (or question) stands under
    the interviewer's question, another document's paragraph under a heading."""
    L = LABELS[language]
    if part in ("answer", "question"):
        return L["answers_question"] if long else L["question"]
    return L["in_heading"] if long else L["heading"]


def level_of(ans: Answer) -> str:
    """How sure the answer is: ``"answer"``, ``"uncertain"`` or ``"none"``.

    The one place that reads it: an answer without a ``level`` field has only
    ``answered`` (true: an answer; false: none).
    """
    level = getattr(ans, "level", None)
    if level in LEVELS:
        return level
    return "answer" if ans.answered else "none"


def attribution_line(p: Passage, lang: str) -> str:
    """"Olivier Griffith (interviewé), rapportant Thierry Breton, ex-commissaire européen"."""
    L = LABELS[lang]
    c = p.chunk
    who = c.speaker or "?"
    # A speaker named by their role ("Un lecteur (commentaire)") already says it.
    if c.role and not who.rstrip().endswith(")"):
        who += f" ({L['roles'].get(c.role, c.role)})"
    if c.reported:
        who += f", {L['reporting']} " + " ; ".join(r.label() for r in c.reported)
    return who


def where_line(p: Passage, lang: str) -> str:
    """Source, publisher, date and where in it: ``Title, Publisher, 2025-02, § 6``."""
    s = p.source
    parts = [s["title"]]
    if s.get("publisher"):
        parts.append(s["publisher"])
    if s.get("date"):
        parts.append(s["date"])
    parts.append(location(p, lang))
    return ", ".join(parts)


def narrowed(understood: Understood, lang: str) -> str:
    """What a follow-up left out of its search, after how it was understood (the terminal
    and the page alike): ", sans les passages déjà cités, parmi ceux de Katia Roux"."""
    L = LABELS[lang]
    out = f", {L['left_out']}" if understood.skip else ""
    return out + (f", {L['among']} {', '.join(understood.about)}" if understood.about else "")


def no_answer(understood: Understood | None, lang: str) -> str:
    """What an answer with no quote says: that the corpus does not answer, or, after « Qu'a-t-elle
    dit d'autre ? » searched among one person's passages, that it quotes nothing else of her."""
    L = LABELS[lang]
    if understood is not None and understood.about and understood.skip:
        return L["nothing_more"].format(people=", ".join(understood.about))
    return L["no_answer"]


def render_text(ans: Answer, understood: Understood | None = None) -> str:
    """The answer as a terminal reader wants it: quote first, then who, where, which
    question. A follow-up (``understood``) first says how it was searched."""
    L = LABELS[ans.language]
    level = level_of(ans)
    lines: list[str] = []
    if understood is not None and understood.followup:
        lines.append(f"({L['understood']}{' :' if ans.language == 'fr' else ':'} « {ans.question} »{narrowed(understood, ans.language)})")
    if ans.notice:
        lines.append(f"({ans.notice})")
    if level == "none":
        lines.append(no_answer(understood, ans.language))
        if ans.passages:
            lines.append(L["closest"])
    elif level == "uncertain":
        lines.append(L["uncertain"])
    for i, p in enumerate(ans.passages, 1):
        lines.append("")
        # Only an answer's quotes are shown as quotes; closest passages are shown as text.
        lines.append(f"{i}. « {p.quote} »" if level != "none" else f"{i}. ({p.quote})")
        lines.append(f"   — {attribution_line(p, ans.language)}")
        lines.append(f"   {L['source']} : {where_line(p, ans.language)}")
        if p.chunk.section:
            lines.append(f"   {section_label(p.chunk.part, ans.language)} : {p.chunk.section}")
        for url in (p.source.get("url"), *p.chunk.links):
            if url:
                lines.append(f"   {L['link']} : {url}")
    return "\n".join(lines)


# -- the chat page's pure functions ----------------------------------------------------

def is_web_url(url: str | None) -> bool:
    return bool(url) and url.startswith(("http://", "https://"))


def is_pdf_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".pdf")


def human_date(date: str | None, lang: str) -> str | None:
    """``2025-02`` -> ``février 2025``; ``2025-02-07`` -> ``7 février 2025``; anything else as is."""
    if not date:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", date.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        return date
    month = LABELS[lang]["months"][int(m.group(2)) - 1]
    day = f"{int(m.group(3))} " if m.group(3) else ""
    return f"{day}{month} {m.group(1)}"


def location(p: Passage, lang: str) -> str:
    """``p. 12`` when the page is known, else ``§ 6``."""
    return location_label(p.chunk.page, p.chunk.paragraph, lang)


def location_label(page: int | None, paragraph: int, lang: str) -> str:
    """Where in a source: ``p. 12`` when the page is known, else ``§ 6`` (the one label of
    answers, citations, exports and checked quotes)."""
    L = LABELS[lang]
    return f"{L['page']} {page}" if page else f"{L['paragraph']} {paragraph}"


def speaker_line(p: Passage, lang: str) -> str | None:
    """Who says it and whom they report: ``Olivier Griffith (rapportant Thierry Breton, …)``."""
    who = p.chunk.speaker or p.source.get("author")
    reported = " ; ".join(r.label() for r in p.chunk.reported)
    if who and reported:
        return f"{who} ({LABELS[lang]['reporting']} {reported})"
    return who or reported or None


def citation(p: Passage, lang: str = "fr") -> str:
    """A ready-to-paste citation, French style.

    « quote » — speaker (rapportant X), dans Title, publisher, date, § N (or p. N), URL
    Plain text (no Markdown): it is pasted into mails and word processors. The URL
    opens the source at the quote when the source is on the web.
    """
    L = LABELS[lang]
    parts = [f"« {' '.join(p.quote.split())} »"]
    who = speaker_line(p, lang)
    head = f"{parts[0]} — {who}" if who else parts[0]
    tail = [f"{L['in']} {p.source.get('title') or p.source.get('id', '?')}"]
    if p.source.get("publisher"):
        tail.append(p.source["publisher"])
    if p.source.get("date"):
        tail.append(human_date(p.source["date"], lang))
    tail.append(location(p, lang))
    if p.quote_url:
        tail.append(p.quote_url)
    return f"{head}, " + ", ".join(tail)


def group_by_paragraph(passages: Iterable[Passage]) -> list[list[Passage]]:
    """Passages gathered by (source, paragraph), in the order their first passage comes.

    The chat shows a paragraph once, with every quote of the answer marked in it.
    """
    groups: dict[tuple[str, int], list[Passage]] = {}
    for p in passages:
        groups.setdefault((p.source.get("id", ""), p.chunk.paragraph), []).append(p)
    return list(groups.values())


def merged_context(group: Sequence[Passage], source_text: str | None = None) -> tuple[str, int]:
    """The context shared by passages of one paragraph, and its offset in the source text.

    With the source text it is an exact slice; without, contexts are joined on their
    offsets (a gap between two passages of a paragraph is whitespace).
    """
    lo = min(p.context_start for p in group)
    hi = max(p.context_end for p in group)
    if source_text is not None:
        return source_text[lo:hi], lo
    out = ""
    for p in sorted(group, key=lambda p: p.context_start):
        end = lo + len(out)
        if p.context_end <= end:
            continue
        if p.context_start > end:
            out += " " * (p.context_start - end)
            end = p.context_start
        out += p.context[end - p.context_start :]
    return out, lo


def mark_segments(text: str, offset: int, spans: Iterable[tuple[int, int, object]]) -> list[tuple[str, object | None]]:
    """Cut ``text`` (which starts at ``offset`` in its source) into plain and marked segments.

    ``spans`` are absolute ``(start, end, label)``; a segment is ``(text, label)``, with
    ``None`` for plain text. Spans outside the text are clipped; overlaps keep the first.
    """
    out: list[tuple[str, object | None]] = []
    pos = 0
    for start, end, label in sorted(spans, key=lambda s: (s[0], s[1])):
        s, e = max(start - offset, pos), min(end - offset, len(text))
        if e <= s:
            continue
        if s > pos:
            out.append((text[pos:s], None))
        out.append((text[s:e], label))
        pos = e
    if pos < len(text):
        out.append((text[pos:], None))
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def md_escape(text: str) -> str:
    """Text that Markdown shows as typed (no emphasis, link or HTML made from a document)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_citation(p: Passage, lang: str) -> str:
    """The citation in Markdown: the text escaped, the title in italics, the link left as is."""
    text = citation(p, lang)
    link = p.quote_url
    if link and text.endswith(", " + link):
        text = text[: -len(link) - 2]
    title = p.source.get("title") or p.source.get("id", "?")
    marker = f"{LABELS[lang]['in']} {title}"
    escaped = md_escape(text).replace(md_escape(marker), f"{LABELS[lang]['in']} *{md_escape(title)}*", 1)
    return escaped + (f", <{link}>" if link else "")


def export_markdown(ans: Answer) -> str:
    """All the passages of an answer as a Markdown document, each with its citation."""
    L = LABELS[ans.language]
    level = level_of(ans)
    lines = [f"# {md_escape(ans.question)}", ""]
    if level == "none":
        lines += [f"**{L['no_answer']}**", ""]
        if ans.passages:
            lines += [f"*{L['closest']}*", ""]
    elif level == "uncertain":
        lines += [f"**{L['uncertain']}**", ""]
    for i, p in enumerate(ans.passages, 1):
        lines.append(f"## {i}. {md_escape(speaker_line(p, ans.language) or '?')} — {location(p, ans.language)}")
        lines.append("")
        # Closest passages of an unanswered question are not quotes of an answer: no blockquote.
        quoted = md_escape(" ".join(p.quote.split()))
        lines.append(f"> {quoted}" if level != "none" else f"({quoted})")
        lines.append("")
        lines.append(f"— {md_escape(attribution_line(p, ans.language))}  ")
        if p.chunk.section:
            lines.append(f"{section_label(p.chunk.part, ans.language, long=True)} : *{md_escape(p.chunk.section)}*  ")
        where = [f"*{md_escape(p.source.get('title') or '?')}*"]
        where += [md_escape(x) for x in (p.source.get("publisher"), human_date(p.source.get("date"), ans.language)) if x]
        where.append(location(p, ans.language))
        lines.append(f"{L['source']} : " + ", ".join(where) + "  ")
        if p.quote_url:
            lines.append(f"<{p.quote_url}>  ")
        lines.append("")
        lines.append(f"{L['citation']} : {_md_citation(p, ans.language)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _csl_name(name: str) -> dict:
    parts = name.split()
    if len(parts) == 2 and all(w[:1].isupper() for w in parts):
        return {"given": parts[0], "family": parts[1]}
    return {"literal": name}


def _csl_type(source: dict) -> str:
    url = source.get("url") or ""
    if source.get("kind") == "interview":
        return "interview"
    if source.get("kind") == "pdf" or (is_web_url(url) and is_pdf_url(url)):
        return "report"
    return "webpage" if is_web_url(url) else "document"


def export_csl(ans: Answer) -> list[dict]:
    """The passages of an answer as CSL-JSON items, for reference managers (Zotero, Pandoc…).

    One item per passage: the source's bibliographic record, with the quote, who says it
    and where (paragraph or page) in ``note``, and the page in ``page`` when known.
    """
    items = []
    level = level_of(ans)
    for p in ans.passages:
        s = p.source
        item: dict = {"id": f"{s.get('id', 'source')}-{p.start}-{p.end}", "type": _csl_type(s), "title": s.get("title") or s.get("id", "?")}
        author = s.get("author")
        if item["type"] == "interview" and p.chunk.role == "interviewee" and p.chunk.speaker:
            item["author"] = [_csl_name(p.chunk.speaker)]
            if author:
                item["interviewer"] = [_csl_name(author)]
        elif author:
            item["author"] = [_csl_name(author)]
        if s.get("publisher"):
            item["container-title" if item["type"] in ("interview", "webpage") and is_web_url(s.get("url")) else "publisher"] = s["publisher"]
        date = s.get("date") or ""
        m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", date.strip())
        if m:
            item["issued"] = {"date-parts": [[int(x) for x in m.groups() if x]]}
        elif date:
            item["issued"] = {"raw": date}
        if is_web_url(s.get("url")):
            item["URL"] = s["url"]
        if p.chunk.page:
            item["page"] = str(p.chunk.page)
        who = speaker_line(p, "fr")
        item["note"] = f"« {' '.join(p.quote.split())} »" + (f" — {who}" if who else "") + f", {location(p, 'fr')}"
        if level != "answer":
            # A reference manager keeps the note: it must say the passage is not a sure answer.
            item["note"] = f"[{LABELS['fr']['uncertain_short'] if level == 'uncertain' else LABELS['fr']['closest'].rstrip(' :')}] " + item["note"]
        items.append(item)
    return items
