"""Questions that point at a place in a document rather than at what it says.

"Quelle est la troisième question de l'interview ?", "Que contient la section « Débat » ?",
"Comment se termine le rapport ?", "Quelle question suit le passage sur le Rwanda ?": the
words of such a question say little of the passage that answers it (the third question is
about something else altogether), so no similarity finds it. :func:`asked_place` reads the
place a question asks for, and :func:`place_rows` finds the passages standing there, from
the order of a document's passages (paragraphs, parts, headings) that ingest recorded.
The vocabulary is that of documents in French and English, not of any corpus.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from ingest.model import Chunk, Source
from ingest.people import folded_words
from index.lexical import analyze, fold_accents


def _words(spec: dict[str, str]) -> dict[str, str]:
    return {w: key for key, words in spec.items() for w in words.split()}


ORDINALS: dict[str, int] = {
    **{w: 1 for w in "premier premiere first".split()},
    **{w: 2 for w in "deuxieme second seconde".split()},
    **{w: 3 for w in "troisieme third".split()},
    **{w: 4 for w in "quatrieme fourth".split()},
    **{w: 5 for w in "cinquieme fifth".split()},
    **{w: 6 for w in "sixieme sixth".split()},
    **{w: 7 for w in "septieme seventh".split()},
    **{w: 8 for w in "huitieme eighth".split()},
    **{w: 9 for w in "neuvieme ninth".split()},
    **{w: 10 for w in "dixieme tenth".split()},
    **{w: -1 for w in "dernier derniere derniers dernieres last final finale".split()},
    **{w: -2 for w in "penultieme penultimate".split()},
    **{w: n for n, words in {
        11: "onzieme eleventh", 12: "douzieme twelfth", 13: "treizieme thirteenth", 14: "quatorzieme fourteenth",
        15: "quinzieme fifteenth", 16: "seizieme sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth",
        20: "vingtieme twentieth", 30: "trentieme thirtieth", 40: "quarantieme fortieth", 50: "cinquantieme fiftieth",
        60: "soixantieme sixtieth",
    }.items() for w in words.split()},
}
# A compound ordinal ("vingt-deuxième", "twenty-second", "dix-septième"): tens and a unit;
# "le 22e", "the 22nd" are read from their digits.
_UNITS = {w: n for n, words in enumerate(["", "unieme first", "deuxieme second", "troisieme third", "quatrieme fourth",
                                           "cinquieme fifth", "sixieme sixth", "septieme seventh", "huitieme eighth",
                                           "neuvieme ninth"]) for w in words.split()}
_TENS = {"dix": 10, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
         "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
_COMPOUND = re.compile(rf"\b({'|'.join(_TENS)}) (?:et )?({'|'.join(_UNITS)})\b")
_DIGITS = re.compile(r"\b(\d{1,3})(?:e|eme|er|ere|re|nde|st|nd|rd|th)\b")


def ordinal(word: str) -> int | None:
    """The rank a folded word gives (``_place_words`` has made "vingt-deuxième" and "22e"
    one word, "ord22"): 1 for "premier", -1 for "dernier", 22 for "ord22", else None."""
    if word.startswith("ord") and word[3:].isdigit():
        return int(word[3:]) or None
    return ORDINALS.get(word)


# The kinds of places a question counts: word -> the part of a document it names.
PLACE_NOUNS = _words({
    "question": "question questions relance relances intervieweur journaliste interviewer",
    "answer": "reponse reponses answer answers",
    "paragraph": "paragraphe paragraphes paragraph paragraphs alinea passage passages",
    "heading": "section sections partie parties rubrique rubriques intertitre intertitres heading headings",
    "comment": "commentaire commentaires",  # not "comment": "Comment se termine… ?"
    "page": "page pages",
})
# Headings counted together: asked for as such, not for what stands under one of them.
_HEADINGS = frozenset("sections parties rubriques intertitres headings".split())
# The words that name the interviewer's questions themselves, not the interviewer.
_ASKED = frozenset("question questions relance relances".split())
# How a document, or a run of its parts, begins and ends.
OPENS = frozenset("ouvre ouvrent commence commencent debute debutent lance opens open opening begin begins start starts".split())
ENDS = frozenset("termine terminent acheve conclut clot finit end ends ending close closes concludes".split())
AFTER = frozenset("apres suit suivante suivant enchaine after follows following next".split())
BEFORE = frozenset("avant precede precedent precedant precedente before precedes preceding".split())
RANKS = frozenset("position place rang".split())
_RIGHT = re.compile(r"\b(?:juste|tout de suite|right|just|immediately|immediatement|directement|aussitot) "
                    r"(apres|avant|ensuite|after|before)\b(?! \d)")  # not "juste avant 2020"
ANSWERS = frozenset("repond repondu reponse reponses reagit reagi answer answers answered reply replies".split())
WHICH = frozenset("quel quelle quels quelles which what".split())
# The kind of each document, as a reader names it ("le compte rendu", "l'entretien").
KIND_WORDS = {
    "interview": "interview entretien entrevue blog",
    "report": "rapport report",
    "article": "article story",
    "minutes": "compte rendu minutes proces verbal",
    "note": "note",
    "opinion": "avis opinion",
}
KINDS = frozenset(w for words in KIND_WORDS.values() for w in words.split()) - {"compte", "verbal"}
# A question that names no document asks about a place in one of its best candidates'.
TOP_DOCUMENTS = 3
# Parts that are not paragraphs of the text itself.
NOT_TEXT = frozenset({"title", "heading", "caption", "comment-header"})


# "§ 22", "paragraphe n° 3", "alinéa 4", "page 2", "p. 3", "question 5": a place named by the
# number a reader sees beside a quote (paragraphs and pages) or counts (questions).
_NUMBERED = re.compile(
    r"(?:(§+)|\b(paragraphes?|paragraphs?|para|alineas?|pages?|p|questions?)\b\.?)"
    r"\s*(?:(?:n°|(?:n|no|nr|numero|number)\b\.?)\s*)?(\d{1,4})\b"
)
_NUMBERED_PART = {"para": "paragraph", "alinea": "paragraph", "p": "page"}


def _numbered(question: str) -> Place | None:
    m = _NUMBERED.search(fold_accents(question.lower()))
    if m is None:
        return None
    noun = "paragraph" if m.group(1) else m.group(2).rstrip("s")
    part = _NUMBERED_PART.get(noun, PLACE_NOUNS.get(noun, noun))
    n = int(m.group(3))
    if part == "question":
        return Place("nth", "question", n) if n else None
    return Place("number", part, n)


@dataclass(frozen=True)
class Place:
    """Where a question points: ``what`` is "nth" (the ``n``-th ``part``, -1 the last),
    "number" (the paragraph or page numbered ``n``, as quotes show it), "section" (the
    passages under a heading whose words the question holds), "after" / "before" (the
    ``part`` next to the passage the rest of the question is about), or "answer-to" (the
    answer to the question the rest of the question is about)."""

    what: str
    part: str = "paragraph"
    n: int = 1
    of: str | None = None  # "after" / "before" the ``n``-th ``of`` ("juste après la première réponse")


def asked_place(question: str) -> Place | None:
    """The place in a document that ``question`` asks for, or None."""
    numbered = _numbered(question)
    if numbered is not None:
        return numbered
    words = _place_words(question)
    text = " ".join(words)
    nouns = [(i, PLACE_NOUNS[w]) for i, w in enumerate(words) if w in PLACE_NOUNS]
    ordinals = [(i, n) for i, n in ((i, ordinal(w)) for i, w in enumerate(words)) if n is not None]
    said = set(words)
    # "la troisième question", "the last question": the ordinal names its place (word → place)
    bound = {i: PLACE_NOUNS[words[i + 1]] for i, _ in ordinals if i + 1 < len(words) and words[i + 1] in PLACE_NOUNS}
    if any(part == "heading" for _, part in nouns) and not bound:
        # "Quelle partie … rapporte les décisions ?" asks for a heading (index.fusion.asked_rows),
        # "Que contient la partie Décisions ?" for what stands under it
        if any(i and words[i - 1] in WHICH for i, part in nouns if part == "heading"):
            return None
        if said & WHICH and any(words[i] in _HEADINGS for i, part in nouns if part == "heading"):
            return None  # "Quelles sont les parties du rapport ?", "What are the section headings?": the headings
        return Place("section", "heading")
    for i, n in ordinals:
        if i in bound:
            # "Quelle question suit la deuxième réponse ?", "What comes right after the third
            # question?": next to the n-th place, not the place itself
            side = _side(words[:i])
            if side:
                # "la dernière question de l'intervieweur": the same part again is not what is asked
                others = [part for j, part in nouns if j != i + 1 and part != bound[i]]
                return Place(side, others[0] if others else "paragraph", n, of=bound[i])
            return Place("nth", bound[i], n)
        # "arrive en quatrième position", "demande en dernier", "asks last": the nearest place
        # noun. Not "la question débattue lors de la deuxième table ronde".
        adverb = "en" in words[max(0, i - 2):i] or (i + 1 < len(words) and words[i + 1] in RANKS) or i == len(words) - 1
        if adverb and nouns:
            return Place("nth", min(nouns, key=lambda x: abs(x[0] - i))[1], n)
    if nouns:
        part = nouns[0][1]
        if said & ANSWERS and any(p == "question" for _, p in nouns):
            # "Que répond-il à la question sur l'écologie ?": the answer, not the question
            return Place("answer-to", "question")
        # "Quelle question suit le passage sur… ?", "Que dit le paragraphe qui suit celui où
        # Breton ouvre la journée ?": next to a topic, whatever verbs the topic has
        if part in ("question", "paragraph") and said & AFTER:
            return Place("after", part)
        if part in ("question", "paragraph") and said & BEFORE:
            return Place("before", part)
        if said & OPENS:
            return Place("nth", part, 1)
        if said & ENDS:
            if part == "question" and not said & _ASKED:
                # "Par quels mots l'intervieweur clôt-il l'échange ?": the interviewer ends it
                # with the closing, not with a question
                return Place("nth", "end", -1)
            return Place("nth", part, -1)
    # "Que trouve-t-on juste après l'explication… ?", "What comes right before the claim… ?":
    # no place named, but "juste", "right" make "après", "before" a place in the text
    right = _RIGHT.search(text)
    if right:
        return Place("before" if right.group(1) in BEFORE else "after", "paragraph")
    # "Comment se termine le rapport ?", not "Qui a lancé le collectif ?": a document named by its kind
    if said & KINDS and said & OPENS:
        return Place("nth", "start", 1)
    if said & KINDS and said & ENDS:
        return Place("nth", "end", -1)
    return None


def _place_words(question: str) -> list[str]:
    """The question's folded words, with the phrases that make one place word made one."""
    text = " ".join(folded_words(question))
    # "avant-dernière", "second to last": two or three words that make one ordinal
    text = re.sub(r"\bavant (dernier|derniere)\b", "penultieme", text)
    text = re.sub(r"\bsecond (to )?last\b", "penultimate", text)
    # "vingt-deuxième", "twenty-second", "dix-septième", "22e", "22nd": one ordinal word
    text = _COMPOUND.sub(lambda m: f"ord{_TENS[m.group(1)] + _UNITS[m.group(2)]}", text)
    text = _DIGITS.sub(r"ord\1", text)
    # "the discussion part" is a section; "la part des demandes" is a share
    text = re.sub(r"\bthe ((?:\S+ ){0,3})part(s?)\b", r"the \1section\2", text)
    return text.split()


def _side(words: Sequence[str]) -> str | None:
    """"after" or "before" when ``words`` (those before an ordinal) end on a word that places
    what is asked next to it ("suit", "précède", "juste après la", "right before the")."""
    text = " ".join(words[-4:])
    right = _RIGHT.search(text)
    if right:
        return "before" if right.group(1) in BEFORE else "after"
    said = set(words[-4:])
    # "suivante", "next" qualify what is asked ("la question suivante"), not the place it follows
    if said & (AFTER - {"suivant", "suivante", "next"}):
        return "after"
    if said & BEFORE:
        return "before"
    return None


def named_documents(question: str, sources: Mapping[str, Source]) -> set[str]:
    """The documents ``question`` names, those sharing the most analysed words with it among
    the ones it names at all: by their kind ("le rapport", "the minutes"), by two words of
    their title, or by one name their title holds ("Vernière", "Port-Sillac"). One common
    word of a title names nothing: "l'assistante sociale" is not the report on "prestations
    sociales", nor "23" the minutes "du 23 janvier"."""
    said = set(analyze(question))
    shared: dict[str, int] = {}
    for sid, s in sources.items():
        kind = said & kind_terms(s.kind)
        title = said & set(analyze(s.title))
        if kind or len(title) >= 2 or title & title_names(s.title):
            shared[sid] = len(kind | title)
    top = max(shared.values(), default=0)
    return {sid for sid, n in shared.items() if n == top}


@lru_cache(maxsize=64)
def kind_terms(kind: str) -> frozenset[str]:
    """The analysed words by which a reader names a document of this kind (``KIND_WORDS``)."""
    # "compte" alone is a verb ("l'association compte 142 adhérents"), not "compte rendu"
    return frozenset(analyze(" ".join(w for w in KIND_WORDS.get(kind, kind).split() if w not in ("compte", "verbal"))))


@lru_cache(maxsize=256)
def title_names(title: str) -> frozenset[str]:
    """The analysed words of the names a title holds: its capitalised words but the first."""
    words = re.findall(r"[\w-]+", title)[1:]
    return frozenset(t for w in words if w[:1].isupper() for t in analyze(w))


def _runs(rows: Sequence[tuple[int, Chunk]], keep: Callable[[Chunk], bool]) -> list[list[int]]:
    """The rows of each paragraph whose passages ``keep`` admits, paragraph by paragraph."""
    runs: dict[int, list[int]] = {}
    for r, c in rows:
        if keep(c):
            runs.setdefault(c.paragraph, []).append(r)
    return [runs[p] for p in sorted(runs)]


def _pick(runs: list[list[int]], n: int) -> list[int]:
    if n > 0 and n <= len(runs):
        return runs[n - 1]
    if n < 0 and -n <= len(runs):
        return runs[n]
    return []


def _between(rows: Sequence[tuple[int, Chunk]], after: int, until: int | None, keep: Callable[[Chunk], bool]) -> list[int]:
    """The rows of paragraphs after ``after`` and before ``until`` that ``keep`` admits."""
    return [r for r, c in rows if c.paragraph > after and (until is None or c.paragraph < until) and keep(c)]


def _under(rows: Sequence[tuple[int, Chunk]], start: int, part: str, keep: Callable[[Chunk], bool]) -> list[int]:
    """The rows ``keep`` admits from paragraph ``start`` to the next passage of ``part`` (the
    paragraphs under a heading, the answer to a question)."""
    later = [c.paragraph for _, c in rows if c.part == part and c.paragraph > start]
    return _between(rows, start, min(later, default=None), keep)


def _cognates(heading: list[str], said: set[str]) -> bool:
    """Whether every word of a heading stands in ``said`` as itself or as a near spelling of
    five letters or more ("recommendations" for "recommandations", "debate" for "debat")."""
    return bool(heading) and all(
        w in said or (len(w) >= 5 and any(SequenceMatcher(None, w, s).ratio() >= 0.85 for s in said if len(s) >= 5))
        for w in heading
    )


def _content(c: Chunk) -> bool:
    return c.part not in NOT_TEXT and c.part != "question"


def place_rows(
    place: Place,
    question: str,
    document: Callable[[str], Sequence[tuple[int, Chunk]]],
    sources: Mapping[str, Source],
    scores: Mapping[int, float],
    chunk_of: Callable[[int], Chunk],
) -> set[int]:
    """The rows of the passages standing at ``place``, in the document the question names,
    or else in the first of the documents of the best ``TOP_DOCUMENTS`` candidates
    (``scores``) that has such a place (of any candidate for a heading given by its words;
    for a number, in every candidate's document that has it); ``document(source_id)``
    lists a document's (row, passage) in reading order."""
    named = named_documents(question, sources)
    ranked = sorted(scores, key=lambda r: -scores[r])
    if named:
        # that document and no other: "la deuxième partie de l'interview" is not the note's
        order = [s for s in dict.fromkeys(chunk_of(r).source_id for r in ranked) if s in named] or sorted(named)
    else:
        # A heading's words name its document ("la partie Recommandations"); otherwise
        # "Dans la deuxième partie de son intervention, que dit X ?" is about the documents
        # the search finds, not about the first one that has parts.
        # A number names its place only in the documents that have it ("le § 30": the interview).
        top = ranked if place.what in ("section", "number") else ranked[:TOP_DOCUMENTS]
        order = list(dict.fromkeys(chunk_of(r).source_id for r in top))
    out: set[int] = set()
    for sid in order:
        found = _resolve(place, question, document(sid), scores)
        if found and (place.what != "number" or named):
            return set(found)
        # "Que dit le § 5 ?" of several documents that have one: each document's, best first
        out.update(found)
    if not out and place.what == "section" and _describes_a_section(question):
        # A heading described in other words ("the legal background section" for « Ce que dit
        # le droit »): the heading the search ranks first, in the named document, or in any
        # when none is named ("la section consacrée aux règles légales").
        heads = [r for r in ranked if chunk_of(r).part == "heading" and (not named or chunk_of(r).source_id in named)]
        if heads:
            head = chunk_of(heads[0])
            return set(_under(document(head.source_id), head.paragraph, "heading", _content))
    return out


# One section, not the list of them ("Quelles sont les parties… ?").
_SECTION = frozenset(w for w, part in PLACE_NOUNS.items() if part == "heading" and not w.endswith("s"))
# A name given as such: « Glossaire », "the 'Board elections' part", "la partie Bibliographie".
_QUOTED = re.compile(r"«[^»]+»|“[^”]+”|\"[^\"]+\"|(?:^|\s)['‘]\w.*?['’](?=[\s?.,!;:]|$)")
_NAME_AFTER = re.compile(rf"\b(?:{'|'.join(sorted(_SECTION | {'part'}))})\s+[A-ZÀ-Ý]")


def _describes_a_section(question: str) -> bool:
    """Whether ``question`` describes one section in its own words, rather than giving a
    heading's name (quoted, or capitalised after "partie") that no heading has, or asking
    for the list of sections ("Quelles sont les parties… ?")."""
    return (bool(_SECTION.intersection(_place_words(question))) and not _QUOTED.search(question)
            and not _NAME_AFTER.search(question))


def _resolve(place: Place, question: str, rows: Sequence[tuple[int, Chunk]], scores: Mapping[int, float]) -> list[int]:
    if place.what == "number":
        if place.part == "page":
            return [r for r, c in rows if c.page == place.n and _content(c)]
        return [r for r, c in rows if c.paragraph == place.n]
    if place.what == "section":
        said = set(folded_words(question))
        headings = [c for _, c in rows if c.part == "heading" and set(folded_words(c.text)) <= said]
        if not headings:
            # a heading named in another language by its cognate: "the 'Recommendations'
            # section" of a French note, "Débat" as "Debate"
            headings = [c for _, c in rows if c.part == "heading" and _cognates(folded_words(c.text), said)]
        if not headings:
            return []
        # the longest heading the question holds ("Ce que dit le droit" over a one-word one)
        head = max(headings, key=lambda c: len(folded_words(c.text)))
        return _under(rows, head.paragraph, "heading", _content)
    if place.what in ("after", "before"):
        if place.of is not None:
            # the n-th place itself: a heading, not what stands under it
            anchor = set(_pick(_runs(rows, lambda c: c.part == "heading"), place.n) if place.of == "heading"
                         else _resolve(Place("nth", place.of, place.n), question, rows, scores))
            spans = [c.paragraph for r, c in rows if r in anchor]
            if not spans:
                return []
            first, last = min(spans), max(spans)
        else:
            content = [(r, c) for r, c in rows if _content(c) and r in scores]
            if not content:
                return []
            first = last = max(content, key=lambda rc: scores[rc[0]])[1].paragraph
        # the next question, or the next paragraph whatever it is (a heading, a question…)
        counted = (lambda c: c.part == "question") if place.part == "question" else (lambda c: c.part != "title")
        near = sorted({c.paragraph for _, c in rows if counted(c)})
        if place.what == "after":
            target = min((p for p in near if p > last), default=None)
        else:
            target = max((p for p in near if p < first), default=None)
        return [r for r, c in rows if counted(c) and c.paragraph == target]
    if place.what == "answer-to":
        asked = [(r, c) for r, c in rows if c.part == "question" and r in scores]
        if not asked:
            return []
        start = max(asked, key=lambda rc: scores[rc[0]])[1].paragraph
        return _under(rows, start, "question", lambda c: c.part == "answer")
    # "nth"
    if place.part in ("question", "answer", "heading"):
        counted = "heading" if place.part == "heading" else "question"
        picked = _pick(_runs(rows, lambda c: c.part == counted), place.n)
        if not picked or place.part == "question":
            return picked
        start = min(c.paragraph for r, c in rows if r in picked)
        return _under(rows, start, counted, (lambda c: c.part == "answer") if place.part == "answer" else _content)
    if place.part == "comment":
        return _pick(_runs(rows, lambda c: c.part == "comment"), place.n)
    if place.part == "page":
        pages = sorted({c.page for _, c in rows if c.page is not None})
        page = _pick([[p] for p in pages], place.n)
        return [r for r, c in rows if c.page == page[0] and _content(c)] if page else []
    if place.part == "end":
        closing = [r for r, c in rows if c.part == "closing"]
        if closing:
            return closing
    # a paragraph of the text as a reader counts them on the page: the interviewer's
    # questions too (not the title, headings or caption); its comments are not the document's own end
    return _pick(_runs(rows, lambda c: c.part not in NOT_TEXT and c.part != "comment"), place.n)


def document_rows(chunks: Sequence[Chunk]) -> dict[str, list[tuple[int, Chunk]]]:
    """Each document's (row, passage) in reading order, from a list of passages (row = index)."""
    out: dict[str, list[tuple[int, Chunk]]] = {}
    for r, c in enumerate(chunks):
        out.setdefault(c.source_id, []).append((r, c))
    for v in out.values():
        v.sort(key=lambda rc: (rc[1].paragraph, rc[1].start))
    return out
