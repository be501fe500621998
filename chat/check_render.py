"""A checked text for people: in a terminal (``render_check``) and as HTML for the page
(``check_html``: the text with each quote marked in place, then each verdict with its
evidence). Every piece of document or user text is escaped."""
from __future__ import annotations

import html

from chat.check import CheckReport, Place, QuoteCheck
from chat.render import location_label, mark_segments, section_label
from ingest.people import grammatical_gender

CHECK_LABELS = {
    "fr": {
        "verdicts": {
            "exact": "exacte", "altered": "modifiée", "stitched": "recousue",
            "paraphrase": "paraphrase seulement — pas une citation", "not_found": "introuvable",
        },
        "explain": {
            "exact": "Ces mots sont dans la source.",
            "altered": "Un passage proche existe, mais des mots diffèrent.",
            "stitched": "Ces mots viennent de plusieurs endroits qui ne se suivent pas.",
            "paraphrase": "Aucun passage ne contient ces mots, mais un passage dit la même chose.",
            "not_found": "Aucune source ne contient ces mots ni ne dit la même chose.",
        },
        "kinds": {"added": "ajouté", "removed": "supprimé", "changed": "remplacé"},
        "instead": "Citer plutôt", "similarity": "similarité", "chars": "caractères",
        "said_by": "dit par", "reporting": "rapportant", "open": "Ouvrir la source à la citation",
        "attribution": {
            "speaker": "{named} est bien la personne qui parle.",
            "reported": "{named} est rapporté(e) par {speakers}, qui parle.",
            "mentioned": "{named} est nommé(e) dans ce paragraphe, mais ces mots ne sont pas rapportés comme les siens : c'est {speakers}{reported}.",
            "other": "{named} ne parle pas ici : c'est {speakers}{reported}.",
            "unverified": "{named} : aucune source pour le vérifier.",
        },
        "none": "Aucune citation trouvée (pas de texte entre « », “ ” ou \" \" ; essayez --sentences).",
        "summary": "citation(s)", "source": "Source",
    },
    "en": {
        "verdicts": {
            "exact": "exact", "altered": "altered", "stitched": "stitched",
            "paraphrase": "paraphrase only — not a quote", "not_found": "not found",
        },
        "explain": {
            "exact": "These words are in the source.",
            "altered": "A close passage exists, but words differ.",
            "stitched": "These words come from places that do not follow each other.",
            "paraphrase": "No passage holds these words, but one says the same thing.",
            "not_found": "No source holds these words or says the same thing.",
        },
        "kinds": {"added": "added", "removed": "removed", "changed": "changed"},
        "instead": "Quote instead", "similarity": "similarity", "chars": "characters",
        "said_by": "said by", "reporting": "reporting", "open": "Open the source at the quote",
        "attribution": {
            "speaker": "{named} is indeed the person speaking.",
            "reported": "{named} is reported by {speakers}, who is speaking.",
            "mentioned": "{named} is named in this paragraph, but these words are not given as theirs: it is {speakers}{reported}.",
            "other": "{named} does not speak here: it is {speakers}{reported}.",
            "unverified": "{named}: no source to check it against.",
        },
        "none": "No quote found (no text in « », “ ” or \" \"; try --sentences).",
        "summary": "quote(s)", "source": "Source",
    },
}


def _where(p: Place, lang: str) -> str:
    title = p.source.get("title") or p.source_id
    return f"{title}, {location_label(p.page, p.paragraph, lang)} [{p.start}:{p.end}]"


def _who(p: Place, lang: str) -> str | None:
    if not p.speaker:
        return None
    L = CHECK_LABELS[lang]
    return p.speaker + (f", {L['reporting']} " + " ; ".join(r.label() for r in p.reported) if p.reported else "")


def attribution_sentence(q: QuoteCheck, lang: str) -> str | None:
    """One sentence on whom the text credits with the quote, against the source."""
    a = q.attribution
    if a is None:
        return None
    L = CHECK_LABELS[lang]
    speakers = " ; ".join(a.speakers) or "?"
    reported = f" ({L['reporting']} {' ; '.join(r.label() for r in a.reported)})" if a.reported else ""
    said = L["attribution"][a.status].format(named=a.named, speakers=speakers, reported=reported)
    # « nommée », « rapporté » when the role the corpus gives them agrees in one gender
    gender = grammatical_gender(a.person.description) if a.person else ""
    said = said.replace("(e)", {"f": "e", "m": ""}.get(gender, "(e)"))
    if a.person and a.person.description and a.status in ("other", "mentioned"):
        # How the corpus introduces them: who they are, to see why the words are not theirs.
        where = location_label(a.person.page, a.person.paragraph, lang)
        said += (f" Dans le corpus : {a.person.name}, « {a.person.description} » ({where})." if lang == "fr"
                 else f" In the corpus: {a.person.name}, “{a.person.description}” ({where}).")
    return said


def render_check(report: CheckReport, lang: str = "fr") -> str:
    """The report as a terminal reader wants it: each quote, its verdict, its evidence."""
    L = CHECK_LABELS[lang]
    if not report.quotes:
        return L["none"]
    lines = []
    for i, q in enumerate(report.quotes, 1):
        head = f"{i}. [{L['verdicts'][q.verdict]}] « {' '.join(q.quote.split())} »"
        lines += ["", head, f"   {L['explain'][q.verdict]} ({L['chars']} {q.start}–{q.end}"
                  + (f", {L['similarity']} {q.similarity:.2f})" if q.verdict in ("altered", "stitched", "paraphrase") else ")")]
        for c in q.changes:
            lines.append(f"   {L['kinds'][c.kind]} : " + {"added": f"« {c.quote} »", "removed": f"« {c.source} »",
                                                         "changed": f"« {c.quote} » → « {c.source} »"}[c.kind])
        if q.instead is not None:
            lines.append(f"   {L['instead']} : « {q.instead} »")
        for p in q.places:
            if q.verdict in ("stitched", "paraphrase"):
                lines.append(f"   — « {p.text} »")
            lines.append(f"   {L['source']} : {_where(p, lang)}")
            who = _who(p, lang)
            if who:
                lines.append(f"   {L['said_by']} : {who}")
            if p.link:
                lines.append(f"   {p.link}")
        att = attribution_sentence(q, lang)
        if att:
            lines.append(f"   ⚑ {att}")
    counts = report.counts()
    summary = ", ".join(f"{n} {L['verdicts'][v]}" for v, n in counts.items() if n)
    lines += ["", f"{len(report.quotes)} {L['summary']} : {summary}"]
    return "\n".join(lines).lstrip("\n")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _diff_html(q: QuoteCheck, lang: str = "fr") -> str:
    kinds = CHECK_LABELS[lang]["kinds"]
    parts = []
    for c in q.changes:
        label = f'<span class="vb-kind">{_e(kinds[c.kind])}</span>{" :" if lang == "fr" else ":"} '
        if c.kind == "added":
            parts.append(f'<li class="vb-added">{label}<ins>{_e(c.quote)}</ins></li>')
        elif c.kind == "removed":
            parts.append(f'<li class="vb-removed">{label}<del>{_e(c.source)}</del></li>')
        else:
            parts.append(f'<li class="vb-changed">{label}<ins>{_e(c.quote)}</ins> → <del>{_e(c.source)}</del></li>')
    return f'<ul class="vb-diff">{"".join(parts)}</ul>' if parts else ""


def _place_html(p: Place, q: QuoteCheck, lang: str) -> str:
    L = CHECK_LABELS[lang]
    out = [f'<blockquote class="vb-source-text">« {_e(p.text)} »</blockquote>'] if q.verdict in ("stitched", "paraphrase", "altered") else []
    out.append(f'<div class="vb-where">{_e(_where(p, lang))}</div>')
    who = _who(p, lang)
    if who:
        out.append(f'<div class="vb-who">{_e(L["said_by"])} : {_e(who)}</div>')
    if p.section:
        out.append(f'<div class="vb-section">{_e(section_label(p.part or "", lang))} : {_e(p.section)}</div>')
    if p.link:
        out.append(f'<a class="vb-link" href="{_e(p.link)}" target="_blank" rel="noopener noreferrer">{_e(L["open"])}</a>')
    return '<div class="vb-place">' + "".join(out) + "</div>"


def check_html(report: CheckReport, language: str = "fr") -> str:
    """The checked text with each quote marked in place (``<mark>`` with its verdict as a
    class, numbered, linked to its card), then one card per quote with its verdict and
    evidence. Pure: every text is escaped, nothing is fetched."""
    L = CHECK_LABELS["en" if language == "en" else "fr"]
    lang = "en" if language == "en" else "fr"
    spans = [(q.start, q.end, i) for i, q in enumerate(report.quotes, 1)]
    body = []
    for segment, label in mark_segments(report.text, 0, spans):
        if label is None:
            body.append(_e(segment).replace("\n", "<br>"))
            continue
        q = report.quotes[label - 1]
        body.append(f'<mark id="vb-q{label}" class="vb-check vb-{q.verdict}" title="{_e(L["verdicts"][q.verdict])}">'
                    f'{_e(segment).replace(chr(10), "<br>")}<sup><a href="#vb-c{label}">{label}</a></sup></mark>')
    cards = []
    for i, q in enumerate(report.quotes, 1):
        sim = f' <span class="vb-similarity">{_e(L["similarity"])} {q.similarity:.2f}</span>' if q.verdict in ("altered", "stitched", "paraphrase") else ""
        inner = [f'<div class="vb-verdict vb-{q.verdict}"><a href="#vb-q{i}">{i}</a>. {_e(L["verdicts"][q.verdict])}{sim}</div>',
                 f'<div class="vb-quote">« {_e(" ".join(q.quote.split()))} »</div>',
                 f'<div class="vb-explain">{_e(L["explain"][q.verdict])}</div>', _diff_html(q, lang)]
        if q.instead is not None:
            inner.append(f'<div class="vb-instead">{_e(L["instead"])} : « {_e(q.instead)} »</div>')
        inner += [_place_html(p, q, lang) for p in q.places]
        att = attribution_sentence(q, lang)
        if att:
            inner.append(f'<div class="vb-attribution vb-{q.attribution.status}">{_e(att)}</div>')
        cards.append(f'<li id="vb-c{i}" class="vb-card">{"".join(inner)}</li>')
    cards_html = f'<ol class="vb-cards">{"".join(cards)}</ol>' if cards else f'<p class="vb-none">{_e(L["none"])}</p>'
    return f'<div class="vb-checked"><div class="vb-text">{"".join(body)}</div>{cards_html}</div>'
