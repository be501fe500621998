"""Answers made only of quotes: the exact sentences that answer, with their attribution."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.links import quote_link
from ingest.model import Chunk
from index.embed import Embedder
from index.lexical import analyze
from index.fusion import Candidates, join, ranked
from index.settings import Settings
from index.store import Filter, Index
from chat.ranking import FEATURES, PARAMS_FILE, Params, QuestionInfo, decision_features, features, probability, question_info

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


class QuestionError(ValueError):
    """The question cannot be asked as given; the message says why and what to do."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def detect_language(text: str) -> str:
    """``"fr"`` or ``"en"``: a vote of common words, French on a tie (the corpus is French)."""
    words = re.findall(r"[\w'’-]+", text.lower())
    fr = sum(w in _FR_HINTS for w in words) + 2 * bool(re.search(r"[éèêàçùœ«»]", text.lower()))
    en = sum(w in _EN_HINTS for w in words)
    return "en" if en > fr else "fr"


def clean_question(question: str, settings: Settings, embedder: Embedder | None = None) -> tuple[str, str | None]:
    """Normalise a question; return it with a notice when it had to be shortened.

    Control characters are dropped and Unicode is put in NFC form so that a pasted
    question matches the corpus the way a typed one does. A question is cut to
    ``settings.max_question_chars`` characters and, when the embedder counts tokens, to
    ``MAX_QUESTION_TOKENS`` tokens (the model reads no further), at a word boundary.
    """
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text (got {type(question).__name__})", "not_text")
    text = unicodedata.normalize("NFC", question)
    text = "".join(c if (c.isprintable() or c in "\t\n") else " " for c in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty: type a question, e.g. « Qui a ouvert la série de rencontres ? »", "empty")
    if not any(c.isalnum() for c in text):
        raise QuestionError(f"the question has no letter or digit (got {question[:40]!r}): type words", "no_words")
    notice = None
    if len(text) > settings.max_question_chars:
        text = _cut_at_word(text, settings.max_question_chars)
        notice = f"the question was longer than {settings.max_question_chars} characters and was shortened"
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
        notice = f"the question was longer than the model reads ({MAX_QUESTION_TOKENS} tokens) and was shortened"
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
            "reported": [str(r) for r in c.reported],
            "links": list(c.links),
            "quote_url": quote_link(self.source.get("url"), self.source.get("kind"), self.quote, c.page),
        }


@dataclass(frozen=True)
class Answer:
    """What Verbatim says to a question: quotes, or that the corpus does not answer.

    ``level`` is ``answer`` (the best passage answers), ``uncertain`` (quotes are shown,
    marked as possibly not answering) or ``none`` (the corpus does not answer; the
    closest passages are still listed). ``confidence`` is the calibrated probability
    that the best passage answers.
    """

    question: str
    answered: bool
    passages: tuple[Passage, ...]
    language: str
    notice: str | None = None
    confidence: float = 0.0
    extra: dict = field(default_factory=dict)
    level: str = "none"

    def to_dict(self) -> dict:
        out = {
            "question": self.question,
            "answered": self.answered,
            "level": self.level,
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "passages": [p.to_dict() for p in self.passages],
        }
        if self.notice:
            out["notice"] = self.notice
        return out


def _choose_quote(index: Index, row: int, qvec: np.ndarray, qterms: set[str]) -> tuple[int, int]:
    """The sentence, or run of adjacent sentences, of a passage that best answers."""
    chunk = index.chunks[row]
    spans = chunk.sentences
    text = index.texts[chunk.source_id]
    sims = index.sentence_vectors_of(row) @ qvec
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
    return spans[lo][0], spans[hi][1]


def source_record(index: Index, source_id: str) -> dict:
    s = index.sources[source_id]
    return {"id": s.id, "title": s.title, "url": s.url, "author": s.author, "publisher": s.publisher, "date": s.date, "kind": s.kind,
            "linked_from": getattr(s, "linked_from", None)}


def answer(
    question: str,
    index: Index,
    embedder: Embedder,
    settings: Settings,
    where: Filter | None = None,
    params: Params | None = None,
) -> Answer:
    """Answer a question with the best quoted passages of the index (optionally filtered).

    The flow, one step per line: clean the question, embed it, find candidates on both
    sides, order them (fusion, then the learned second stage), choose the quote inside
    each passage, and decide whether the corpus answers.
    """
    params = params or default_params()
    text, notice = clean_question(question, settings, embedder)
    language = detect_language(text)
    qvec = embedder.encode([text], query=True)[0]
    q = question_info(text, index, same_language=language == index.language)
    found = index.candidates(text, qvec, max(50, 10 * settings.top_k), where, settings.ivf_nprobe)
    rows, scores, x = order_candidates(index, found, qvec, q, settings, params)
    shown = one_per_paragraph(index, rows)[: settings.top_k]
    passages = tuple(
        quote_passage(index, rows[i], qvec, q, float(scores[i]), _probability(params, x, scores, q, i)) for i in shown
    )
    confidence = passages[0].confidence if passages else 0.0
    level = decide(confidence, params, settings) if passages else "none"
    return Answer(text, level == "answer", passages, language, notice, confidence, level=level)


@lru_cache(maxsize=4)
def _load_params(path: str) -> Params:
    return Params.load(Path(path))


def default_params() -> Params:
    """The shipped, calibrated weights and thresholds (read once)."""
    return _load_params(str(PARAMS_FILE))


def order_candidates(
    index: Index, found: Candidates, qvec: np.ndarray, q: QuestionInfo, settings: Settings, params: Params
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Candidate rows best first, with the second stage's score and features of each.

    ``fusion = "learned"`` orders by the learned second stage; the other modes order by
    their joiner alone (the baselines), and the second stage's scores still feed the decision.
    """
    rows = found.rows
    if not rows:
        return [], np.zeros(0), np.zeros((0, len(FEATURES)))
    x = features(index, found, rows, qvec, q)
    learned = params.rerank.score(FEATURES, x)
    if settings.fusion == "learned":
        order = ranked({r: float(s) for r, s in zip(rows, learned)})
    else:
        w_lex = settings.lexical_weight * (1.0 if q.same_language else settings.cross_language_lexical_weight)
        order = ranked(join(found, settings.fusion, settings.dense_weight, w_lex, settings.rrf_k))
    pos = {r: i for i, r in enumerate(rows)}
    idx = [pos[r] for r in order]
    return order, learned[idx], x[idx]


def one_per_paragraph(index: Index, rows: list[int]) -> list[int]:
    """Positions in ``rows`` of the best passage of each paragraph (or page).

    A second passage of the same paragraph would repeat its context and crowd out
    other evidence.
    """
    taken: set[tuple[str, int, int | None]] = set()
    keep = []
    for i, r in enumerate(rows):
        c = index.chunks[r]
        key = (c.source_id, c.paragraph, c.page)
        if key not in taken:
            taken.add(key)
            keep.append(i)
    return keep


def _probability(params: Params, x: np.ndarray, scores: np.ndarray, q: QuestionInfo, i: int) -> float:
    """The decision's estimate for the passage at position ``i`` taken as the best one."""
    return probability(params.decision, decision_features(x[i:], scores[i:], q))


def decide(confidence: float, params: Params, settings: Settings) -> str:
    """``answer``, ``uncertain`` or ``none``; ``settings.min_confidence``, when set, replaces
    the calibrated answer threshold (and lowers the uncertain one to it if needed)."""
    if settings.min_confidence is None:
        return params.level(confidence)
    if confidence >= settings.min_confidence:
        return "answer"
    return "uncertain" if confidence >= min(params.uncertain_at, settings.min_confidence) else "none"


def quote_passage(index: Index, row: int, qvec: np.ndarray, q: QuestionInfo, score: float, confidence: float) -> Passage:
    """The passage at ``row`` with its best quote chosen inside it."""
    chunk = index.chunks[row]
    start, end = _choose_quote(index, row, qvec, set(q.terms))
    return Passage(
        quote=index.texts[chunk.source_id][start:end],
        start=start,
        end=end,
        context=chunk.text,
        context_start=chunk.start,
        context_end=chunk.end,
        score=score,
        confidence=confidence,
        chunk=chunk,
        source=source_record(index, chunk.source_id),
    )
