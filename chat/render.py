"""Text renderings of an answer for people: labels in the question's language."""
from __future__ import annotations

from chat.answer import Answer, Passage

LABELS = {
    "fr": {
        "no_answer": "Le corpus ne contient pas de réponse à cette question.",
        "closest": "Passages les plus proches (ils ne répondent pas) :",
        "reporting": "rapportant",
        "question": "Question",
        "source": "Source",
        "link": "Lien",
        "paragraph": "§",
        "page": "p.",
        "roles": {"interviewee": "interviewé", "interviewer": "intervieweur", "commenter": "commentaire", "publisher": "éditeur", "author": "auteur"},
    },
    "en": {
        "no_answer": "The corpus does not answer this question.",
        "closest": "Closest passages (they do not answer):",
        "reporting": "reporting",
        "question": "Question",
        "source": "Source",
        "link": "Link",
        "paragraph": "§",
        "page": "p.",
        "roles": {"interviewee": "interviewee", "interviewer": "interviewer", "commenter": "comment", "publisher": "publisher", "author": "author"},
    },
}


def attribution_line(p: Passage, lang: str) -> str:
    """"Olivier Griffith (interviewé), rapportant Thierry Breton, ex-commissaire européen"."""
    L = LABELS[lang]
    c = p.chunk
    who = c.speaker or "?"
    if c.role:
        who += f" ({L['roles'].get(c.role, c.role)})"
    if c.reported:
        who += f", {L['reporting']} " + " ; ".join(c.reported)
    return who


def where_line(p: Passage, lang: str) -> str:
    L = LABELS[lang]
    s = p.source
    parts = [s["title"]]
    if s.get("publisher"):
        parts.append(s["publisher"])
    if s.get("date"):
        parts.append(s["date"])
    loc = f"{L['page']} {p.chunk.page}" if p.chunk.page else f"{L['paragraph']} {p.chunk.paragraph}"
    parts.append(loc)
    return ", ".join(parts)


def render_text(ans: Answer) -> str:
    """The answer as a terminal reader wants it: quote first, then who, where, which question."""
    L = LABELS[ans.language]
    lines: list[str] = []
    if ans.notice:
        lines.append(f"({ans.notice})")
    if not ans.answered:
        lines.append(L["no_answer"])
        if ans.passages:
            lines.append(L["closest"])
    for i, p in enumerate(ans.passages, 1):
        lines.append("")
        lines.append(f"{i}. « {p.quote} »")
        lines.append(f"   — {attribution_line(p, ans.language)}")
        lines.append(f"   {L['source']} : {where_line(p, ans.language)}")
        if p.chunk.section:
            lines.append(f"   {L['question']} : {p.chunk.section}")
        for url in (p.source.get("url"), *p.chunk.links):
            if url:
                lines.append(f"   {L['link']} : {url}")
    return "\n".join(lines)
