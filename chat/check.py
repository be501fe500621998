"""Check quotes: were these words said, in these words, where, and by whom?

``check_text`` finds the quotes of a text (the spans in « », “ ” or " ", every sentence,
or the whole text) and gives each a verdict with its evidence:

- ``exact``: the words are in a source once typography is folded (apostrophes, quotation
  marks, spaces, dashes, punctuation, case of the first letter), with cuts marked « […] »
  or « ... » allowed inside one paragraph;
- ``altered``: a close match exists but words differ (the changes, the similarity, and
  the exact source text to quote instead);
- ``stitched``: the words come from two or more places that do not follow each other;
- ``paraphrase``: no textual match, but a passage says the same thing (dense similarity
  above ``Settings.check_paraphrase_min``): not a quote;
- ``not_found``.

When the text names a person next to a quote, the report says whether that person is
the speaker, a person whose words the sentences found relay (attribution is decided per
sentence, as at ingest), a person the passage only names, or someone else; the register of
people (``Index.people``) tells which names the corpus knows and how it introduces them. Every place
is an exact slice of its source: ``source_text[start:end] == text``.
"""
from __future__ import annotations

from dataclasses import dataclass

from chat.matcher import Alignment, Run, SourceMatcher
from chat.paraphrase import paraphrase_candidates, paraphrase_score
from chat.quotetext import (cut_segments, fold_name, key, named_person, quoted_spans, same_person,
                            sentence_spans, word_spans)
from index.embed import Embedder
from index.settings import Settings
from index.store import Index
from ingest.errors import VerbatimError
from ingest.links import quote_link
from ingest.model import Chunk, Person, RegisterEntry

VERDICTS = ("exact", "altered", "stitched", "paraphrase", "not_found")
MODES = ("auto", "quotes", "sentences", "whole")
ALTERED_MIN = 0.5  # below this share of words in common, a stretch is not a version of the quote
CLOSE = 0.8  # from this similarity on, one place explains the quote better than several
STITCH_GAP = 4  # source words that may lie between two stretches of one place (a dropped word)
MIN_PIECE = 3  # words of a stretch that counts as a place of a stitched quote
MAX_TEXT = 1_000_000  # characters of a text to check


class CheckError(VerbatimError, ValueError):
    """A text that cannot be checked as given; the message says why and what to do."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Place:
    """A stretch of a source that (part of) a quote comes from: an exact slice of it."""

    source_id: str
    start: int
    end: int
    text: str
    quote_start: int  # the part of the quote found here, in the checked text
    quote_end: int
    word_for_word: bool
    paragraph: int | None
    page: int | None
    section: str | None
    speaker: str | None
    role: str | None
    reported: tuple[Person, ...]  # people whose words the sentences of this stretch relay
    source: dict
    link: str | None
    mentioned: tuple[Person, ...] = ()  # named in this paragraph, their words not relayed by these sentences
    part: str | None = None  # the passage's part: what its section is (a question, a heading)

    def to_dict(self) -> dict:
        return {
            "source_id": self.source_id, "start": self.start, "end": self.end, "text": self.text,
            "quote_start": self.quote_start, "quote_end": self.quote_end, "word_for_word": self.word_for_word,
            "paragraph": self.paragraph, "page": self.page, "section": self.section,
            "speaker": self.speaker, "role": self.role, "reported": [r.label() for r in self.reported],
            "reported_people": [r.to_dict() for r in self.reported],
            "source": self.source, "link": self.link,
        }


@dataclass(frozen=True)
class Change:
    """A word-level difference: ``added`` (only in the quote), ``removed`` (only in the
    source) or ``changed`` (other words in the quote than in the source)."""

    kind: str
    quote: str
    source: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "quote": self.quote, "source": self.source}


@dataclass(frozen=True)
class Attribution:
    """Whom the checked text credits with a quote, against the passage found.

    ``status``: ``speaker`` (the person says it), ``reported`` (a sentence found relays
    that person's words), ``mentioned`` (the paragraph found names them, but the sentences
    found do not relay their words), ``other`` (neither: ``speakers`` and ``reported`` say who),
    ``unverified`` (no passage found to compare with). ``person`` is the named person's
    entry in the register of people, when the corpus introduces them.
    """

    named: str
    start: int
    end: int
    status: str
    speakers: tuple[str, ...]
    reported: tuple[Person, ...]
    person: RegisterEntry | None = None

    def to_dict(self) -> dict:
        p = self.person
        return {"named": self.named, "start": self.start, "end": self.end, "status": self.status,
                "speakers": list(self.speakers), "reported": [r.label() for r in self.reported],
                "reported_people": [r.to_dict() for r in self.reported],
                "person": {"name": p.name, "affiliation": p.affiliation, "description": p.description,
                           "source_id": p.source_id, "paragraph": p.paragraph, "page": p.page} if p else None}


@dataclass(frozen=True)
class QuoteCheck:
    """One quote of the checked text (``text[start:end]``) and its verdict."""

    start: int
    end: int
    quote: str
    verdict: str
    similarity: float
    places: tuple[Place, ...] = ()
    changes: tuple[Change, ...] = ()
    instead: str | None = None  # for ``altered``: the source's own words, to quote instead
    attribution: Attribution | None = None

    def to_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "quote": self.quote, "verdict": self.verdict,
            "similarity": round(self.similarity, 4), "places": [p.to_dict() for p in self.places],
            "changes": [c.to_dict() for c in self.changes], "instead": self.instead,
            "attribution": self.attribution.to_dict() if self.attribution else None,
        }


@dataclass(frozen=True)
class CheckReport:
    """Every quote of a checked text, in text order."""

    text: str
    mode: str
    quotes: tuple[QuoteCheck, ...]

    def counts(self) -> dict[str, int]:
        return {v: sum(q.verdict == v for q in self.quotes) for v in VERDICTS}

    def to_dict(self) -> dict:
        return {"text": self.text, "mode": self.mode, "counts": self.counts(), "quotes": [q.to_dict() for q in self.quotes]}


# -- finding the quotes -------------------------------------------------------------------


def quote_spans(text: str, mode: str) -> list[tuple[int, int]]:
    """Where the quotes of ``text`` are: spans in quotation marks (``quotes``), every
    sentence (``sentences``), the whole text (``whole``), or (``auto``) the quoted spans
    when there are any and the whole text otherwise."""
    if mode not in MODES:
        raise CheckError(f"mode must be one of {', '.join(MODES)} (got {mode!r})", "bad_mode")
    if mode == "sentences":
        return sentence_spans(text)
    spans = quoted_spans(text) if mode in ("auto", "quotes") else []
    if mode == "whole" or (mode == "auto" and not spans):
        words = word_spans(text)
        lead = len(text) - len(text.lstrip())
        spans = [(lead, len(text.rstrip()))] if words else []
    return spans


def check_text(text: str, index: Index, embedder: Embedder, settings: Settings, matcher: SourceMatcher, mode: str = "auto") -> CheckReport:
    """Check every quote of ``text`` against the sources of ``index``.

    ``matcher`` is ``SourceMatcher.from_index(index)``, built once and reused. The
    embedder is called once, for the quotes without a textual match.
    """
    if not isinstance(text, str):
        raise CheckError(f"the text must be a string (got {type(text).__name__})", "not_text")
    if not text.strip():
        raise CheckError("the text is empty: paste a quote, e.g. « Cette série de rencontres a été ouverte par Thierry Breton »", "empty")
    if len(text) > MAX_TEXT:
        raise CheckError(f"the text has {len(text):,} characters and at most {MAX_TEXT:,} are checked at once; split it", "too_long")
    if not word_spans(text):
        raise CheckError(f"the text has no word to check (got {text[:40]!r}); paste the quote's words", "no_words")
    known = _known_people(index)
    checks = [_check_quote(text, s, e, matcher) for s, e in quote_spans(text, mode)]
    dense = _paraphrases([text[q.start : q.end] for q in checks if q.verdict == "not_found"], index, embedder, matcher, settings)
    out = []
    for q in checks:
        if q.verdict == "not_found" and dense:
            place, score = dense.pop(0)
            if place is not None and score >= settings.check_paraphrase_min:
                q = QuoteCheck(q.start, q.end, q.quote, "paraphrase", score, (_shift(place, q),))
        named = named_person(text, q.start, q.end, known)
        out.append(_with_attribution(q, named, index) if named else q)
    return CheckReport(text, mode, tuple(out))


# -- one quote --------------------------------------------------------------------------


def _check_quote(text: str, start: int, end: int, m: SourceMatcher) -> QuoteCheck:
    quote = text[start:end]
    segments = [word_spans(text, s, e) for s, e in cut_segments(text, start, end)]
    segments = [w for w in segments if w]
    words = [w for seg in segments for w in seg]
    keys = [key(text[s:e]) for s, e in words]
    chained = _exact_chain(text, segments, m)
    if chained is not None:
        places, changes = chained
        verdict = "altered" if changes else "exact"
        return QuoteCheck(start, end, quote, verdict, 1.0, places, changes, _instead(places) if changes else None)
    runs = m.runs(keys)
    best = m.align(keys, runs)
    single = best.similarity if best else 0.0
    # Where the quote's own sentences end: a stitched quote's places start there.
    breaks = {i for i in range(1, len(words)) if any(ch in ".!?…\n" for ch in text[words[i - 1][1] : words[i][0]])}
    pieces = _stitched(_split(runs, breaks), len(keys), m)
    covered = sum(q1 - q0 for q0, q1, _, _ in pieces) / len(keys) if len(pieces) >= 2 else 0.0
    if len(pieces) >= 2 and covered >= CLOSE and covered >= single + 0.1:
        places = tuple(_place(m, p0, p1, text, words[q0][0], words[q1 - 1][1], exact) for q0, q1, (p0, p1), exact in pieces)
        return QuoteCheck(start, end, quote, "stitched", covered, places)
    if best is not None and single >= ALTERED_MIN:
        place = _place(m, best.p0, best.p1, text, words[0][0], words[-1][1], False)
        return QuoteCheck(start, end, quote, "altered", single, (place,), _changes(best, words, text, m), place.text)
    return QuoteCheck(start, end, quote, "not_found", single)


def _exact_chain(text: str, segments: list[list[tuple[int, int]]], m: SourceMatcher):
    """Places for quote parts (split at « […] ») found word for word, in order, in one
    paragraph, with the case changes beyond each part's first letter; or None."""
    found: list[list[int]] = []
    for seg in segments:
        keys = [key(text[s:e]) for s, e in seg]
        found.append(sorted(r.p0 for r in m.runs(keys) if r.q0 == 0 and r.q1 == len(keys)))
        if not found[-1]:
            return None
    for first in found[0]:
        chain, end = [first], first + len(segments[0])
        for seg, positions in zip(segments[1:], found[1:]):
            nxt = next((p for p in positions if p >= end and m.same_paragraph(first, p)), None)
            if nxt is None:
                break
            chain.append(nxt)
            end = nxt + len(seg)
        if len(chain) < len(segments):
            continue
        places, changes = [], []
        for seg, p0 in zip(segments, chain):
            places.append(_place(m, p0, p0 + len(seg), text, seg[0][0], seg[-1][1], True))
            src = m.texts[m.source_ids[m.source_of(p0)]]
            for i, (s, e) in enumerate(seg[1:], 1):
                theirs = src[m.starts[p0 + i] : m.ends[p0 + i]]
                if text[s:e] != theirs and key(text[s:e]) == key(theirs):
                    changes.append(Change("changed", text[s:e], theirs))
        return tuple(places), tuple(changes)
    return None


def _split(runs: list[Run], breaks: set[int]) -> list[Run]:
    """Runs cut where the quote's sentences end (longest first): the first word of the
    next sentence may follow in the source too, by chance."""
    out = []
    for r in runs:
        cuts = [r.q0, *sorted(b for b in breaks if r.q0 < b < r.q1), r.q1]
        out += [Run(a, b, r.p0 + a - r.q0, r.p0 + b - r.q0) for a, b in zip(cuts, cuts[1:])]
    out.sort(key=lambda r: (-(r.q1 - r.q0), r.p0))
    return out


def _stitched(runs: list[Run], n: int, m: SourceMatcher) -> list[tuple[int, int, tuple[int, int], bool]]:
    """The quote covered by its longest shared stretches, joined into places: stretches in
    one source no more than ``STITCH_GAP`` words apart are one place. Returns
    ``(q0, q1, (p0, p1), word_for_word)`` for each place, in quote order."""
    taken: list[Run] = []
    used = [False] * n
    for r in runs:  # longest first
        if r.q1 - r.q0 < MIN_PIECE:
            continue
        free = [i for i in range(r.q0, r.q1) if not used[i]]
        if len(free) < MIN_PIECE:
            continue
        a, b = free[0], free[-1] + 1
        if b - a != len(free):
            continue  # it would cross a stretch already taken
        shift = a - r.q0
        taken.append(Run(a, b, r.p0 + shift, r.p0 + shift + (b - a)))
        for i in range(a, b):
            used[i] = True
    taken.sort(key=lambda r: r.q0)
    places: list[list] = []
    for r in taken:
        if places:
            q0, q1, (p0, p1), exact = places[-1]
            if 0 <= r.p0 - p1 <= STITCH_GAP and r.q0 - q1 <= STITCH_GAP and m.source_of(r.p0) == m.source_of(p0):
                places[-1] = [q0, r.q1, (p0, r.p1), exact and r.q0 == q1 and r.p0 == p1]
                continue
        places.append([r.q0, r.q1, (r.p0, r.p1), True])
    return [tuple(p) for p in places]


def _changes(a: Alignment, words: list[tuple[int, int]], text: str, m: SourceMatcher) -> tuple[Change, ...]:
    src = m.texts[m.source_ids[m.source_of(a.p0)]]
    out = []
    for tag, i1, i2, j1, j2 in a.ops:
        if tag == "equal":
            continue
        q = text[words[i1][0] : words[i2 - 1][1]] if i2 > i1 else ""
        s = src[m.starts[j1] : m.ends[j2 - 1]] if j2 > j1 else ""
        out.append(Change({"replace": "changed", "delete": "added", "insert": "removed"}[tag], q, s))
    return tuple(out)


def _instead(places: tuple[Place, ...]) -> str:
    return " […] ".join(p.text for p in places)


# -- where, and who speaks ------------------------------------------------------------------


def _place(m: SourceMatcher, p0: int, p1: int, text: str, qs: int, qe: int, exact: bool) -> Place:
    sid, start, end = m.span(p0, p1)
    return _place_at(m, sid, start, end, qs, qe, exact)


def _place_at(m: SourceMatcher, sid: str, start: int, end: int, qs: int, qe: int, exact: bool) -> Place:
    src_text = m.texts[sid]
    passages = m.passages_at(sid, start, end)
    paragraph, page = (passages[0].paragraph, passages[0].page) if passages else m.paragraph_at(sid, start)
    speakers = list(dict.fromkeys(c.speaker for c in passages if c.speaker))
    reported = tuple(dict.fromkeys(r for c in passages for r in reported_between(c, start, end)))
    # Whoever the paragraph names (relayed by another sentence, or only named): "a dit
    # Katia Roux" of a sentence next to hers is not hers, but is not a stranger's either.
    around = m.paragraph_passages(sid, paragraph, page) or passages
    named = (r for c in around for r in (*c.reported, *c.mentioned))
    mentioned = tuple(dict.fromkeys(r for r in named if r not in reported))
    source = m.source_records.get(sid, {"id": sid})
    return Place(
        sid, start, end, src_text[start:end], qs, qe, exact, paragraph, page,
        passages[0].section if passages else None, " ; ".join(speakers) or None,
        passages[0].role if passages else None, reported, source,
        quote_link(source.get("url"), source.get("kind"), src_text[start:end], page), mentioned,
        passages[0].part if passages else None,
    )


def reported_between(c: Chunk, start: int, end: int) -> tuple[Person, ...]:
    """The people whose words the sentences of passage ``c`` overlapping ``start:end`` relay.

    Attribution is per sentence: a quote from the second sentence of a passage whose first
    sentence relays Thierry Breton is not Thierry Breton's. A passage without per-sentence
    attribution counts as a whole."""
    if len(c.reported_in) != len(c.sentences):
        return c.reported
    idx = dict.fromkeys(i for (s, e), ids in zip(c.sentences, c.reported_in) if s < end and e > start for i in ids)
    return tuple(c.reported[i] for i in idx)


def _shift(place: Place, q: QuoteCheck) -> Place:
    from dataclasses import replace

    return replace(place, quote_start=q.start, quote_end=q.end)


def _known_people(index: Index) -> dict[str, str]:
    """Folded full names and surnames of everyone who speaks or is named → the name.

    The register holds everyone the corpus names (reported or only mentioned), and the
    facets who speaks: neither needs a pass over the passages (a Milvus index reads them
    one query at a time)."""
    facets = index.facets()
    names = set(facets["speakers"]) | set(facets["reported"]) | {e.name for e in index.people}
    names |= {s.interviewee for s in index.sources.values() if s.interviewee}
    out: dict[str, str] = {}
    for n in sorted(names):
        out[fold_name(n)] = n
        if len(n.split()) >= 2:
            out.setdefault(fold_name(n.split()[-1]), n)
    return out


def _register_entry(index: Index, name: str) -> RegisterEntry | None:
    """The register's entry for a name as the text writes it ("Roux", "Katia Roux"), when
    exactly one person of the register has that name (a shared surname stays unresolved)."""
    found = index.find_person(name)
    people = {e.name for e in found}
    return found[0] if len(people) == 1 else None


def _with_attribution(q: QuoteCheck, named, index: Index) -> QuoteCheck:
    from dataclasses import replace

    speakers = tuple(dict.fromkeys(s for p in q.places for s in (p.speaker or "").split(" ; ") if s))
    reported = tuple(dict.fromkeys(r for p in q.places for r in p.reported))
    mentioned = tuple(dict.fromkeys(r for p in q.places for r in p.mentioned))
    entry = _register_entry(index, named.name)
    # The register resolves a surname to the one person it names ("Roux" -> Katia Roux).
    claimed = [named.name, entry.name] if entry else [named.name]
    if not q.places:
        status = "unverified"
    elif any(same_person(c, s) for c in claimed for s in speakers):
        status = "speaker"
    elif any(same_person(c, r.name) for c in claimed for r in reported):
        status = "reported"
    elif any(same_person(c, r.name) for c in claimed for r in mentioned):
        status = "mentioned"
    else:
        status = "other"
    return replace(q, attribution=Attribution(named.name, named.start, named.end, status, speakers, reported, entry))


# -- paraphrases ------------------------------------------------------------------------------


def _paraphrases(texts: list[str], index: Index, embedder: Embedder, m: SourceMatcher, settings: Settings) -> list[tuple[Place | None, float]]:
    out = []
    for cands in paraphrase_candidates(texts, index, embedder):
        if not cands:
            out.append((None, 0.0))
            continue
        row, j, score = max(((r, j, paraphrase_score(cos, share, settings)) for r, j, cos, share in cands), key=lambda x: x[2])
        c = index.chunks[row]
        s, e = c.sentences[j]
        out.append((_place_at(m, c.source_id, s, e, 0, 0, False), score))
    return out
