"""Answers made only of quotes: the exact sentences that answer, with their attribution."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from ingest.errors import VerbatimError
from ingest.links import quote_link
from ingest.model import Chunk
from index.embed import Embedder
from index.lexical import analyze
from index.settings import Settings
from index.store import Filter, Hit, Index
from index.texts import lexical_text
from index.fusion import word_vectors_apply
from index.report import IngestReport
from index.structure import Place, asked_place, named_documents, title_names
from index.latent import cover
from index.wordvectors import load_word_vectors
from ingest.people import person_question
from chat.decision import LEVELS, SIGNAL_PASSAGES, asks_for_number, holds_number, load_decision

_FR_HINTS = frozenset(
    "le la les un une des du de et est que qui quoi quel quelle quels quelles pourquoi comment combien où "
    "ce cette ces il elle ils elles nous vous sur dans pour avec sont était a-t-il qu'est-ce".split()
)
_EN_HINTS = frozenset(
    "the a an of and is are was were what who whom which why how when where does do did in on for with "
    "about to from this that".split()
)


# The model reads at most 512 tokens, its prompt and special tokens included.
MAX_QUESTION_TOKENS = 500


class QuestionError(VerbatimError, ValueError):
    """The question cannot be asked as given; the message says why and what to do."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def error_dict(question, exc: QuestionError) -> dict:
    """The ``ask --json`` object of a question that cannot be asked (the CLI's and the APIs')."""
    return {"question": question, "answered": False, "passages": [], "error": str(exc), "error_code": exc.code}


def detect_language(text: str, default: str = "fr") -> str:
    """``"fr"`` or ``"en"``: a vote of common words, ``default`` on a tie (French: the
    corpus is French)."""
    words = re.findall(r"[\w'’-]+", text.lower())
    fr = sum(w in _FR_HINTS for w in words) + 2 * bool(re.search(r"[éèêàçùœ«»]", text.lower()))
    en = sum(w in _EN_HINTS for w in words)
    return "en" if en > fr else "fr" if fr > en else default


def plain_text(question: object) -> str:
    """The question in NFC, on one line, without control characters or lone surrogates.
    Raises QuestionError (``not_text``) for anything but text."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text (got {type(question).__name__})", "not_text")
    text = unicodedata.normalize("NFC", question)
    text = "".join(c if (c.isprintable() or c in "\t\n") else " " for c in text)
    return " ".join(text.split())


def clean_question(question: str, settings: Settings, embedder: Embedder | None = None) -> tuple[str, str | None]:
    """Normalise a question; return it with a notice, in the question's language, when it had
    to be shortened.

    Control characters are dropped and Unicode is put in NFC form so that a pasted
    question matches the corpus the way a typed one does. A question is cut to
    ``settings.max_question_chars`` characters and, when the embedder counts tokens, to
    ``MAX_QUESTION_TOKENS`` tokens (the model reads no further), at a word boundary.
    """
    text = plain_text(question)
    if not text:
        raise QuestionError("the question is empty: type a question, e.g. « Qui a ouvert la série de rencontres ? »", "empty")
    if not any(c.isalnum() for c in text):
        raise QuestionError(f"the question has no letter or digit (got {question[:40]!r}): type words", "no_words")
    notice = None
    french = detect_language(text) == "fr"
    if len(text) > settings.max_question_chars:
        text = _cut_at_word(text, settings.max_question_chars)
        notice = (f"la question dépassait {settings.max_question_chars} caractères : elle a été raccourcie" if french
                  else f"the question was longer than {settings.max_question_chars} characters and was shortened")
    count = getattr(embedder, "count_tokens", None)
    if count is not None and count(text) > MAX_QUESTION_TOKENS:
        # The largest prefix within the limit, by bisection: a dozen cheap tokenizer calls.
        lo, hi = 1, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[:mid]) <= MAX_QUESTION_TOKENS:
                lo = mid
            else:
                hi = mid - 1
        text = _cut_at_word(text, lo)
        notice = (f"la question dépassait ce que le modèle lit ({MAX_QUESTION_TOKENS} unités) : elle a été raccourcie"
                  if french else f"the question was longer than the model reads ({MAX_QUESTION_TOKENS} tokens) and was shortened")
    return text, notice


def _cut_at_word(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last space when there is one near the end."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space >= limit * 0.8 else cut


@dataclass(frozen=True)
class Passage:
    """One quoted passage of an answer."""

    quote: str
    start: int
    end: int
    context: str
    context_start: int
    context_end: int
    score: float
    confidence: float
    chunk: Chunk
    source: dict

    @property
    def quote_url(self) -> str | None:
        """The link that opens the source at the quote, or None: the one link the JSON, the
        page, copied citations and the exports give (``ingest.links.quote_link``)."""
        return quote_link(self.source.get("url"), self.source.get("kind"), self.quote, self.chunk.page)

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "context": self.context,
            "context_start": self.context_start,
            "context_end": self.context_end,
            "score": round(self.score, 6),
            "confidence": round(self.confidence, 4),
            "source": self.source,
            "paragraph": c.paragraph,
            "page": c.page,
            "section": c.section,
            "speaker": c.speaker,
            "role": c.role,
            "part": c.part,
            "reported": [r.label() for r in c.reported],
            "reported_people": [r.to_dict() for r in c.reported],
            "links": list(c.links),
            "quote_url": self.quote_url,
        }


@dataclass(frozen=True)
class Answer:
    """What Verbatim says to a question: quotes, or that the corpus does not answer."""

    question: str
    answered: bool
    passages: tuple[Passage, ...]
    language: str
    notice: str | None = None
    confidence: float = 0.0  # the calibrated probability that the quotes answer
    extra: dict = field(default_factory=dict)
    level: str | None = None  # "answer", "uncertain" (quotes shown, marked) or "none"; by default from answered
    signals: tuple[float, ...] = ()  # what the decision read (chat/decision.py SIGNALS)
    on_topic: float = 1.0  # the calibrated probability that the question is on the corpus's topics

    def __post_init__(self) -> None:
        if self.level is None:
            object.__setattr__(self, "level", "answer" if self.answered else "none")
        if self.level not in LEVELS or self.answered != (self.level == "answer"):
            raise ValueError(f"an answer's level is one of {', '.join(LEVELS)} and is 'answer' exactly when answered "
                             f"(got level={self.level!r}, answered={self.answered})")

    def to_dict(self) -> dict:
        out = {
            "question": self.question,
            "answered": self.answered,
            "level": self.level,
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "on_topic": round(self.on_topic, 4),
            "passages": [p.to_dict() for p in self.passages],
        }
        if self.notice:
            out["notice"] = self.notice
        return out


def _choose_quote(index: Index, hit: Hit, qvec: np.ndarray, qterms: set[str]) -> tuple[int, int, float]:
    """The sentence, or run of adjacent sentences, of a passage that best answers."""
    spans = hit.chunk.sentences
    text = index.texts[hit.chunk.source_id]
    sims = index.sentence_vectors_of(hit.row) @ qvec
    scores = []
    for (s, e), sim in zip(spans, sims):
        terms = set(analyze(text[s:e]))
        overlap = len(terms & qterms) / len(qterms) if qterms else 0.0
        scores.append(float(sim) + 0.05 * overlap)
    best = int(np.argmax(scores))
    lo = hi = best
    # Take a neighbour in when it answers almost as well: the answer spans both.
    for j in (best - 1, best + 1):
        if 0 <= j < len(spans) and scores[j] >= scores[best] - 0.01:
            lo, hi = min(lo, j), max(hi, j)
    return spans[lo][0], spans[hi][1], float(max(sims))


def source_record(index: Index, source_id: str) -> dict:
    s = index.sources[source_id]
    return {"id": s.id, "title": s.title, "url": s.url, "author": s.author, "publisher": s.publisher, "date": s.date, "kind": s.kind,
            "linked_from": getattr(s, "linked_from", None)}


@dataclass(frozen=True)
class Retrieved:
    """A question as searched, with its passages and the signals the decision reads."""

    text: str
    notice: str | None
    language: str
    passages: tuple[Passage, ...]
    signals: tuple[float, ...]
    place: Place | None = None  # the place in a document the question asks for (index.structure)
    at_place: bool = False  # the first passage stands at the place the question asks for


def answer(question: str, index: Index, embedder: Embedder, settings: Settings, where: Filter | None = None,
           skip: frozenset[tuple[str, int]] = frozenset(), language: str | None = None) -> Answer:
    """Answer a question with the best quoted passages of the index (optionally filtered).

    The flow: the question cleaned and embedded → :func:`retrieve_embedded` (candidates,
    fusion, one quote per paragraph) → the calibrated decision (``chat/decision.py``) →
    answer, uncertain answer, or none. ``skip``: (source id, paragraph) already quoted,
    left out ("Qu'a-t-elle dit d'autre ?"). ``language``: the language to answer in (its
    labels and notices) when it is not the question's: "What comes next?" is searched as
    « § 7 — » and a French title.
    """
    text, notice = clean_question(question, settings, embedder)
    return answer_embedded(text, notice, embedder.encode([text], query=True)[0], index, settings, where, skip, language)


def answer_embedded(text: str, notice: str | None, qvec: np.ndarray, index: Index, settings: Settings,
                    where: Filter | None = None, skip: frozenset[tuple[str, int]] = frozenset(),
                    language: str | None = None) -> Answer:
    """``answer`` for a question already cleaned (``clean_question``) and embedded (``qvec``).

    A server embeds the questions of many clients together (``chat/batcher.py``), then
    answers each one here.
    """
    r = retrieve_embedded(text, notice, qvec, index, settings, where, skip)
    said_in = language or r.language  # the search and the decision read the question's own
    missing = None if r.at_place else missing_place(r.place, text, index, said_in, filtered=bool(where))
    if missing:
        # "Que dit le § 48 de l'entretien ?" of a 40-paragraph interview: say so, rather than
        # quote passages that stand nowhere near.
        return Answer(r.text, False, (), said_in, "; ".join(m for m in (r.notice, missing) if m), 0.0, level="none")
    absent = not_indexed(text, index, said_in)
    if not r.passages:
        return Answer(r.text, False, (), said_in, "; ".join(m for m in (r.notice, absent) if m) or None, 0.0, level="none")
    decision = load_decision()
    x = np.array(r.signals)
    probability = float(decision.probability(x)[0])
    topic = float(decision.topic_probability(x)[0])
    level = decision.level(probability, settings.min_confidence, topic)
    signed = signed_only(text, index, said_in)
    if signed and level == "answer":
        level = "uncertain"  # no passage introduces them: a quote cannot be a plain answer to who they are
    notice = "; ".join(m for m in (r.notice, signed or written_by(text, index, said_in), absent) if m) or None
    return Answer(r.text, level == "answer", r.passages, said_in, notice, probability, level=level, signals=r.signals,
                  on_topic=topic)


def signed_only(text: str, index: Index, language: str) -> str | None:
    """For a question about a person ("Qui est Mathilde Kervern ?") whom no passage
    introduces (the register does not know them) but who signs a source: that they sign it,
    from the source's record, since no quote can say it. None otherwise."""
    from chat.quotetext import same_person

    asked = person_question(text)
    if not asked or index.find_person(asked[1]):
        return None
    signed = [s for s in index.sources.values() if s.author and same_person(asked[1], s.author)]
    if not signed:
        return None
    said = _signs([s.title for s in signed], signed[0].author, language)
    return said + (" ; aucun passage du corpus ne présente cette personne" if language == "fr"
                   else "; no passage of the corpus introduces this person")


def _signs(titles: list[str], author: str, language: str) -> str:
    """« « Titre » est signé Auteur », "“Title” is by Author", for one title or several."""
    if language == "fr":
        return f"{', '.join(f'« {t} »' for t in titles)} {'sont signés' if len(titles) > 1 else 'est signé'} {author}"
    return f"{', '.join(f'“{t}”' for t in titles)} {'are' if len(titles) > 1 else 'is'} by {author}"


def not_indexed(text: str, index: Index, language: str) -> str | None:
    """For a question naming a document the corpus links to but does not hold (a linked
    source not fetched yet, or whose download failed: « Que recommande l'avis du HCTS ? »):
    that it is not in the corpus yet and how to add it, since no quote can say what it
    says. None otherwise.

    The question names it by a name its title holds ("HCTS", "Commission"), or by two words
    of its title that the sentence citing it uses too ("l'avis … éthique"): "intelligence
    artificielle", in the title of an opinion on AI linked from a corpus about AI, names
    nothing.
    """
    ingest = index.meta.get("ingest") or {}
    if all(sid in index.sources for sid in ingest.get("linked") or {}):
        return None  # every linked document is indexed, or none is linked
    # Only what is read here: the sources' records (their paragraph tables) are most of the
    # report, and a large corpus would parse them for every question.
    report = IngestReport.from_dict({k: ingest.get(k) for k in ("linked", "titles", "links")})
    said = set(analyze(text))
    if not said:
        return None
    absent = []
    for sid, linked in report.linked.items():
        title = report.titles.get(sid)
        if sid in index.sources or not title:
            continue
        names = title_names(title)
        in_title = said & set(analyze(title))
        if not in_title & names and len(in_title) < 2:
            continue  # most questions: no citing sentence to read
        refs = [r for r in report.links if r.url == linked.url]
        cited = {w for r in refs for w in analyze(r.citing_text)}
        shared = (in_title & cited) | (in_title & names)
        if shared & names or len(shared) >= 2:
            absent.append((title, refs[0].paragraph if refs else None))
    said_of = []
    for title, paragraph in absent[:3]:
        if language == "fr":
            said_of.append(f"« {title} »{f', lié au § {paragraph},' if paragraph else ''} n'est pas encore dans le corpus : "
                           "verbatim fetch le télécharge et l'indexe")
        else:
            said_of.append(f"“{title}”{f', linked in § {paragraph},' if paragraph else ''} is not in the corpus yet: "
                           "verbatim fetch downloads and indexes it")
    return "; ".join(said_of) or None


# "Qui a écrit la note ?", "Qui est l'autrice du compte rendu ?", "Who wrote the minutes?"
_WHO_WROTE = re.compile(
    r"\bqui\s+(?:a|avait)\s+(?:écrit|ecrit|rédigé|redige|signé|signe|réalisé|realise|mené|mene|publié|publie)\b|"
    r"\baut(?:eur|rice)s?\s+(?:de|du|des|d['’])|\bsigné[e]?\s+par\s+qui\b|"
    r"\bwho\s+(?:wrote|authored|signed|published|conducted|wrote\s+up)\b|\bauthor\s+of\b|\bwritten\s+by\s+whom\b",
    re.IGNORECASE)


def written_by(text: str, index: Index, language: str) -> str | None:
    """For a question asking who wrote a document ("Qui a rédigé le compte rendu ?", "Who
    wrote the minutes?"): who its record names as author, for the document the question
    names (the only one, in a corpus of one); a quote may say it too, the record always does.
    None otherwise."""
    if not _WHO_WROTE.search(text):
        return None
    named = named_documents(text, index.sources) or (set(index.sources) if len(index.sources) == 1 else set())
    signed = [index.sources[sid] for sid in sorted(named) if index.sources[sid].author]
    if not signed or len(signed) > 3:
        return None
    return (" ; " if language == "fr" else "; ").join(_signs([s.title], s.author, language) for s in signed)


def missing_place(place: Place | None, text: str, index: Index, language: str, filtered: bool = False) -> str | None:
    """What is missing when ``text`` asks for a paragraph or page by a number (``place``)
    that no document it names has ("le § 48 de l'entretien", "page 5 of the report"), or,
    naming none, that no document the search found has ("Que dit le § 80 ?"; not said of a
    ``filtered`` search, whose filter may be what left it out), in the question's language;
    None when it asks for no number. Read when the search put nothing there."""
    if place is None or place.what != "number":
        return None
    named = sorted(named_documents(text, index.sources))
    if not named:
        if filtered:
            return None
        return (f"aucun des documents trouvés n'a {_numbered_label(place, language)}" if language == "fr"
                else f"none of the documents found has a {_numbered_label(place, language)}")
    said = []
    for sid in named:
        numbers = sorted({c.page if place.part == "page" else c.paragraph for _, c in index.document(sid)} - {None})
        if place.n in numbers:
            return None
        said.append(_not_there(index.sources[sid].title, place, numbers, language))
    return "; ".join(said) or None


def _numbered_label(place: Place, language: str) -> str:
    """"§ 48" or "page 5", with the French "de" before it ("n'a pas de § 48")."""
    label = f"page {place.n}" if place.part == "page" else f"§ {place.n}"
    return f"de {label}" if language == "fr" else label


def _not_there(title: str, place: Place, numbers: list[int], language: str) -> str:
    page = place.part == "page"
    asked = _numbered_label(place, language)
    if language == "fr":
        if not numbers:
            return f"« {title} » n'a pas {asked} : ce document n'a pas de pages numérotées"
        span = f"ses pages vont de 1 à {numbers[-1]}" if page else f"ses paragraphes vont du § {numbers[0]} au § {numbers[-1]}"
        return f"« {title} » n'a pas {asked} : {span}"
    if not numbers:
        return f"“{title}” has no {asked}: it has no numbered pages"
    span = f"its pages run from 1 to {numbers[-1]}" if page else f"its paragraphs run from § {numbers[0]} to § {numbers[-1]}"
    return f"“{title}” has no {asked}: {span}"


def retrieve(question: str, index: Index, embedder: Embedder, settings: Settings, where: Filter | None = None) -> Retrieved:
    """The ``settings.top_k`` best passages for a question, with the decision's signals."""
    text, notice = clean_question(question, settings, embedder)
    return retrieve_embedded(text, notice, embedder.encode([text], query=True)[0], index, settings, where)


def retrieve_embedded(text: str, notice: str | None, qvec: np.ndarray, index: Index, settings: Settings,
                      where: Filter | None = None, skip: frozenset[tuple[str, int]] = frozenset()) -> Retrieved:
    """:func:`retrieve` for a question already cleaned and embedded: each passage quotes its
    best sentences; the paragraphs in ``skip`` (source id, paragraph) are left out, and the
    decision reads the passages that remain."""
    language = detect_language(text)
    hits = index.search(text, qvec, max(settings.top_k * 3, 10) + len(skip), settings, where,
                        same_language=language == index.language)
    if skip:
        hits = [h for h in hits if (h.chunk.source_id, h.chunk.paragraph) not in skip]
    introduction = person_introduction(text, qvec, index, where, hits)
    if introduction and (introduction[0].chunk.source_id, introduction[0].chunk.paragraph) in skip:
        introduction = None  # "Qui est-ce, d'autre ?": the sentence already quoted is not quoted again
    if introduction:
        hits = [introduction[0], *(h for h in hits if h.row != introduction[0].row)]
    terms = analyze(text)
    qterms = set(terms)
    background = float(qvec @ index.centroid)
    place = asked_place(text)
    by_number = place is not None and place.what == "number"
    passages: list[Passage] = []
    taken: set[tuple[str, int, int | None]] = set()
    for hit in hits:
        # One passage per paragraph (or page): the best one. A second passage of the
        # same paragraph would repeat its context and crowd out other evidence.
        key = (hit.chunk.source_id, hit.chunk.paragraph, hit.chunk.page)
        if key in taken:
            continue
        taken.add(key)
        start, end, best_sim = _choose_quote(index, hit, qvec, qterms)
        if introduction and hit is introduction[0]:
            start, end = introduction[1]  # the sentence that says who they are
        elif by_number and hit.asked:
            start, end = hit.chunk.start, hit.chunk.end  # "Cite le § 30": the passage, not one sentence of it
        src_text = index.texts[hit.chunk.source_id]
        passages.append(
            Passage(
                quote=src_text[start:end],
                start=start,
                end=end,
                context=hit.chunk.text,
                context_start=hit.chunk.start,
                context_end=hit.chunk.end,
                score=hit.score,
                confidence=max(hit.dense, best_sim) - background,
                chunk=hit.chunk,
                source=source_record(index, hit.chunk.source_id),
            )
        )
        # The decision reads the first three passages whatever top_k is, so that one
        # calibration holds for every top_k.
        if len(passages) == max(settings.top_k, SIGNAL_PASSAGES):
            break
    x = signals(text, terms, language, index, hits, passages[:SIGNAL_PASSAGES], settings) if passages else ()
    if by_number and hits and hits[0].asked:
        # The paragraph or page asked for by its number, and not whatever else came next.
        at = {h.chunk.id for h in hits if h.asked}
        kept = [p for p in passages if p.chunk.id in at]
        rank_of: dict[str, int] = {}  # each document by its best passage
        for p in kept:
            rank_of.setdefault(p.chunk.source_id, len(rank_of))
        # a page in reading order; "le § 5" of several documents, the best document first
        passages = sorted(kept, key=lambda p: (rank_of[p.chunk.source_id], p.start))
    return Retrieved(text, notice, language, tuple(passages[: settings.top_k]), x, place, bool(hits and hits[0].asked))


def person_introduction(text: str, qvec: np.ndarray, index: Index, where: Filter | None,
                        hits: list[Hit]) -> tuple[Hit, tuple[int, int]] | None:
    """For a question about a person ("Qui est X ?", "Que fait X ?", "Pour qui travaille
    X ?") whose name the register of people knows: the passage that introduces them, to
    rank first, and its introducing sentence, to quote. None otherwise.

    The passage keeps its own search evidence when the search found it; else it gets its
    cosine to the question, no lexical rank, and the best fused score (the register, not
    the ranking, puts it first). The decision then reads it like any first passage.
    """
    asked = person_question(text)
    if not asked:
        return None
    entries = index.find_person(asked[1])
    if not entries or entries[0].introduced_in is None:
        return None
    if len({e.name for e in entries}) > 1 and entries[0].name.casefold() != " ".join(asked[1].split()).casefold():
        return None  # a surname shared by several people: the search decides
    entry = entries[0]
    found = next((h for h in hits if h.chunk.id == entry.introduced_in), None)
    if found is None:
        got = index.passage(entry.introduced_in)
        if got is None:
            return None
        row, chunk, vector = got
        if where and not where.admits(chunk):
            return None
        top = hits[0].score if hits else 1.0
        found = Hit(row, chunk, top, float(vector @ qvec), 0.0, None, None)
    return found, entry.introduction


def signals(text: str, terms: list[str], language: str, index: Index, hits: list[Hit], passages: list[Passage],
            settings: Settings) -> tuple[float, ...]:
    """What the decision reads about a question and its passages, in the order of ``SIGNALS``."""
    lifts = [p.confidence for p in passages]
    top = next(h for h in hits if h.chunk is passages[0].chunk)
    same = language == index.language
    known = sum(index.lexical.knows(t) for t in terms) / len(terms) if terms and same else 0.5
    figure = any(holds_number(p.quote) for p in passages)
    # Whether the first passage holds the question's words or words of the same meaning:
    # the strongest sign that it answers, paraphrases included (French vectors only). The
    # fusion computed it when it used it; otherwise (another fusion, a passage put first
    # by the register of people) it is computed here.
    if not word_vectors_apply(same, index.language):
        matched = 0.5
    elif top.word_match is not None:
        matched = top.word_match
    else:
        matched = load_word_vectors().match(text, {0: lexical_text(passages[0].chunk, settings)}).get(0, 0.0)
    return (
        lifts[0],
        max(lifts),
        lifts[0] - lifts[1] if len(lifts) > 1 else lifts[0],
        top.dense,
        float(top.dense_rank == 0 and top.lexical_rank is not None and top.lexical_rank < 3),
        known,
        float(asks_for_number(text) and not figure),
        float(not same),
        matched,
        _latent_cover(text, index, top.row),
        float(top.asked),
    )


def _latent_cover(text: str, index: Index, row: int) -> float:
    """How much of the question's latent vector the passage holds (``index.latent.cover``);
    0.5 when the index has no latent terms."""
    encoder = index.latent_encoder
    if encoder is None:
        return 0.5
    return cover(encoder.encode([text])[0], index.latent_row(row))
