"""How dense and lexical evidence are mixed into one rank: the same for every storage backend."""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ingest.model import Chunk, Source
from ingest.people import folded_words
from index.latent import LatentEncoder, Sparse
from index.lexical import analyze
from index.settings import Settings
from index.structure import asked_place, kind_terms, place_rows
from index.texts import lexical_text

# Parts of a document that frame its content (the interviewer's questions, the closing
# line, a photo credit, the comment header, its title and headings): searchable, but ranked
# below the content unless the question asks for them (PART_CUES).
FRAME_PARTS = frozenset({"question", "closing", "caption", "comment-header", "title", "heading"})

# The words by which a reader asks for a part of a document rather than for what it says
# ("Quelle question l'intervieweur pose-t-il sur… ?", "D'où vient la photo ?", "Quelles
# rubriques compte la note ?"): the vocabulary of documents, not of any corpus. Whole words,
# accents folded, not stems: "part", "fin" or "comment" would catch questions about content
# ("Quelle part des dossiers… ?", "Comment aider… ?").
PART_CUES: dict[str, frozenset[str]] = {
    part: frozenset(cues.split())
    for part, cues in {
        "introduction": "introduction chapeau intro standfirst lede",
        "question": "question questions intervieweur journaliste interviewer interviewers journalist blogger",
        "closing": "termine terminee terminer conclusion conclut clot clore cloture conge remerciement remerciements "
                   "ending closing thank thanks farewell goodbye",
        "caption": "photo photographie image illustration legende credit photograph caption picture",
        "comment-header": "commentaire commentaires comments replies",
        "comment": "commentaire commentaires lecteur lecteurs lectrice lectrices internaute internautes commentateur commentateurs "
                   "commentatrice comments commenter commenters commentator reader readers replies",
        "title": "titre intitule title headline",
        "heading": "intertitre intertitres rubrique rubriques partie parties section sections heading headings",
    }.items()
}


# The interviewer is named to ask for their questions ("Quelles questions pose le journaliste ?"),
# or as the one who says another part ("les mots par lesquels l'intervieweur clôt l'échange").
_QUESTION_WORDS = frozenset({"question", "questions"})
_SAID_BY_INTERVIEWER = frozenset({"closing", "introduction"})
_HOW_MANY = frozenset({"combien", "nombre", "many", "number"})

# Beside its cues, all that a question asking for a part and nothing else says: what one does
# with a text (say, write, read, ask, post, credit), where a part stands on the page, the
# document or page itself, and the guest of an interview. A question made of these words and
# cues names no passage ("Que disent les commentaires ?", "Who took the picture?", « Que dit le
# chapeau ? »): it means the part wherever it is, not only where it shares a word with it.
PART_ONLY_WORDS = frozenset(analyze(
    "dire dit disent dites écrit écrire écrivent écrite lit lire lu lisent trouve trouver voit voir "
    "pose posé posées poser demande demandé demandent contient contenir contiennent figure figurent "
    "apparaît indique indiquent mentionne mentionnent renvoie renvoient pris prise prendre prend signé "
    "mots mot texte document page haut bas début fin vers échange invité invitée interviewé personne laisse laissé "
    "say says said tell tells told write wrote written read reads post posted posts leave left ask asks asked "
    "put pose posed contain contains there any top bottom end beginning page document text word words "
    "appear appears mention mentions show shows see credited credit take took taken signed "
    "guest interviewee many number nombre"
))
_PART_ALONE = PART_ONLY_WORDS | frozenset(analyze(" ".join(w for cues in PART_CUES.values() for w in cues)))


class Searched(Protocol):
    """What the ranking reads of an index, whatever its backend (``index.store.Index``,
    ``index.milvus.MilvusIndex``)."""

    sources: Mapping[str, Source]

    @property
    def language(self) -> str: ...

    @property
    def latent_encoder(self) -> LatentEncoder | None: ...

    def chunk(self, row: int) -> Chunk:
        """The passage of a candidate row."""
        ...

    def latent_scores(self, query: Sparse, rows: Collection[int]) -> dict[int, float]:
        """The latent match of each of ``rows`` with a question's latent vector."""
        ...

    def document(self, source_id: str) -> Sequence[tuple[int, Chunk]]:
        """A document's (row, passage) in reading order."""
        ...


@dataclass(frozen=True)
class Evidence:
    """What a backend's two searches found for a question.

    ``dense`` maps the dense candidates, best first, to their cosine; ``lexical`` gives the
    BM25 score of every candidate (0 when it has none); ``lexical_order`` lists the lexical
    candidates, best first; ``lexical_max`` is the best BM25 score allowed by the search.
    """

    dense: dict[int, float]
    lexical: dict[int, float]
    lexical_order: list[int]
    lexical_max: float

    @property
    def candidates(self) -> set[int]:
        return set(self.dense) | set(self.lexical_order)


@dataclass(frozen=True)
class Ranking:
    """The fused score of every candidate (and of a place asked for outside them), with the
    signals an answer reads again."""

    scores: dict[int, float]
    word_match: dict[int, float]  # the word match of each candidate, when it was computed
    asked: frozenset[int]  # the rows whose part (asked_rows) or place (index.structure) the question asks for


def rank(question: str, found: Evidence, settings: Settings, same_language: bool, index: Searched,
         admits: Callable[[Chunk], bool] | None = None) -> Ranking:
    """Every signal of the fusion computed for the candidates of ``found``, and mixed (:func:`fuse`).

    The one place where a signal is wired in: both backends call it with their evidence.
    The passages standing at a place the question asks for ("le § 22", "la troisième
    question") are ranked even when neither search found them, if ``admits`` (the search's
    filter) lets them through: their words need not resemble the question's.
    """
    candidates = found.candidates
    frames = frame_rows(candidates, lambda r: index.chunk(r).part)
    matched = word_match(question, {r: lexical_text(index.chunk(r), settings) for r in candidates}, settings,
                         word_vectors_apply(same_language, index.language))
    q_latent = latent_query(question, settings, index.latent_encoder)
    latent = index.latent_scores(q_latent, candidates) if q_latent is not None else None
    # A part asked for alone is meant wherever it is; one asked with a topic, where it is named.
    asked = asked_rows(question, candidates, index.chunk, index.sources) or part_rows(question, index, admits)
    place = asked_place(question)
    if place is not None and settings.fusion == "weighted" and settings.part_weight:
        # A place asked for (the third question, the section « Débat », the end of the report)
        # replaces the parts asked for by name: all the questions are not the third one.
        plain = fuse(found.dense, found.lexical, found.lexical_order, found.lexical_max, settings, same_language, frames,
                     matched, latent)
        read: dict[int, Chunk] = {}  # the passages of the documents looked in, kept for the filter

        def document(source_id: str) -> Sequence[tuple[int, Chunk]]:
            rows = index.document(source_id)
            read.update(rows)
            return rows

        at = place_rows(place, question, document, index.sources, plain, index.chunk)
        if admits is not None:
            at = {r for r in at if admits(read[r])}
        if at:
            asked = at
    scores = fuse(found.dense, found.lexical, found.lexical_order, found.lexical_max, settings, same_language, frames,
                  matched, latent, asked)
    return Ranking(scores, matched, frozenset(asked))


def fuse(
    dense: dict[int, float],
    lexical: dict[int, float],
    lexical_order: list[int],
    lexical_max: float,
    settings: Settings,
    same_language: bool = True,
    frames: Collection[int] = (),
    word_match: dict[int, float] | None = None,
    latent: dict[int, float] | None = None,
    asked: Collection[int] = (),
) -> dict[int, float]:
    """The fused score of every candidate (the rows of ``dense`` and of ``lexical_order``).

    ``dense`` maps the dense candidates, best first, to their cosine; ``lexical`` gives the
    BM25 score of every candidate (0 when it has none); ``lexical_order`` lists the lexical
    candidates, best first; ``lexical_max`` is the best BM25 score allowed by the search;
    ``frames`` are the candidates whose part frames the content (``FRAME_PARTS``): their
    weighted or RRF score is multiplied by ``settings.frame_weight``; ``word_match`` gives the
    word-vector match of candidates (:func:`word_match`) and ``latent`` their latent match
    (``index.latent``): the weighted fusion adds each, scaled to [0, 1] over the candidates.
    ``asked`` are the rows whose part or place the question asks for (:func:`asked_rows`,
    ``index.structure``): the weighted fusion adds ``settings.part_weight`` to them and does
    not rank them as frames; a place outside the candidates enters with that weight alone.
    """
    fused = _mix(dense, lexical, lexical_order, lexical_max, settings, same_language)
    if settings.fusion == "weighted":
        _add_scaled(fused, word_match, settings.word_match_weight)
        _add_scaled(fused, latent, settings.latent_weight)
        for r in asked:
            fused[r] = fused.get(r, 0.0) + settings.part_weight
    else:
        asked = ()
    if settings.frame_weight != 1.0 and settings.fusion in ("weighted", "rrf"):  # scores are >= 0 there
        # A question resembles the interviewer's questions by its very form: they stay
        # findable without crowding out the answers.
        for r in frames:
            if r in fused and r not in asked:
                fused[r] *= settings.frame_weight
    return fused


def _add_scaled(fused: dict[int, float], signal: dict[int, float] | None, weight: float) -> None:
    """Add ``weight`` times ``signal`` scaled to [0, 1] over the candidates (0 where it is missing)."""
    if not signal or not weight:
        return
    lo = min(signal.get(r, 0.0) for r in fused)
    span = (max(signal.get(r, 0.0) for r in fused) - lo) or 1.0
    for r in fused:
        fused[r] += weight * (signal.get(r, 0.0) - lo) / span


def latent_query(question: str, settings: Settings, encoder: LatentEncoder | None) -> Sparse | None:
    """The question's latent vector (``index.latent``) when the weighted fusion uses the latent
    match and the index has latent terms (``encoder``), else None."""
    if settings.fusion != "weighted" or not settings.latent_weight or encoder is None:
        return None
    return encoder.encode([question])[0]


def word_vectors_apply(same_language: bool, corpus_language: str) -> bool:
    """Whether the French word vectors can match a question's words with the corpus's: the
    question is in the corpus's language and that language is French (the one rule the
    search of both backends and the answer decision follow)."""
    return same_language and corpus_language == "fr"


def word_match(question: str, texts: dict[int, str], settings: Settings, french: bool) -> dict[int, float]:
    """The word-vector match of each candidate ``row → text``, when the weighted fusion uses it.

    ``french`` says that the question and the corpus are both French: the vectors are
    French, and an English word has no neighbour among them worth trusting.
    """
    if settings.fusion != "weighted" or not settings.word_match_weight or not french or not texts:
        return {}
    from index.wordvectors import load_word_vectors

    return load_word_vectors().match(question, texts)


def asked_parts(question: str) -> frozenset[str]:
    """The parts of a document that ``question`` asks for by name (``PART_CUES``)."""
    said = set(folded_words(question))
    parts = {part for part, cues in PART_CUES.items() if said & cues}
    if parts & _SAID_BY_INTERVIEWER and not said & _QUESTION_WORDS:
        parts.discard("question")  # "the interviewer's closing words" are not a question
    return frozenset(parts)


def parts_asked_alone(question: str) -> frozenset[str]:
    """The parts of a document ``question`` asks for (:func:`asked_parts`) when it says nothing
    else (``PART_ONLY_WORDS``): no document, no topic, no passage named. Empty otherwise."""
    parts = asked_parts(question)
    if not parts or set(analyze(question)) - _PART_ALONE:
        return frozenset()
    if "comment" in parts and not set(folded_words(question)) & _HOW_MANY:
        parts -= {"comment-header"}  # what the comments say: they do, « Une réponse » does not (it says how many)
    return parts


def part_rows(question: str, index: Searched, admits: Callable[[Chunk], bool] | None = None) -> set[int]:
    """The rows of every document whose part ``question`` asks for alone
    (:func:`parts_asked_alone`), that ``admits`` lets through; none for any other question."""
    parts = parts_asked_alone(question)
    if not parts:
        return set()
    return {r for source_id in index.sources for r, c in index.document(source_id)
            if c.part in parts and (admits is None or admits(c))}


def asked_rows(
    question: str, rows: Collection[int], chunk_of: Callable[[int], Chunk], sources: Mapping[str, Source]
) -> set[int]:
    """The rows among ``rows`` whose part ``question`` asks for (:func:`asked_parts`), when the
    question also names the passage: it shares an analysed word with the passage, with its
    document's title or with its document's kind ("l'interview"). That keeps "Quel était le
    titre de la table ronde ?" off the title of a report that has nothing to do with it."""
    parts = asked_parts(question)
    if not parts:
        return set()
    said = set(analyze(question))
    by_document: dict[str, set[str]] = {}  # the words of each document's title and kind, read once
    out = set()
    for r in rows:
        chunk = chunk_of(r)
        if chunk.part not in parts:
            continue
        if chunk.source_id not in by_document:
            source = sources.get(chunk.source_id)
            # the kind as a reader names it: "l'entretien", "the minutes", "the blog"
            by_document[chunk.source_id] = set(analyze(source.title)) | kind_terms(source.kind) if source else set()
        if said & by_document[chunk.source_id] or said & set(analyze(chunk.text)):
            out.add(r)
    return out


def frame_rows(rows: Collection[int], part_of: Callable[[int], str]) -> set[int]:
    """The rows among ``rows`` whose passage frames the content (``part_of(row)`` in FRAME_PARTS)."""
    return {r for r in rows if part_of(r) in FRAME_PARTS}


def _mix(
    dense: dict[int, float],
    lexical: dict[int, float],
    lexical_order: list[int],
    lexical_max: float,
    settings: Settings,
    same_language: bool,
) -> dict[int, float]:
    candidates = set(dense) | set(lexical_order)
    if settings.fusion == "dense":
        return {r: dense.get(r, -1.0) for r in candidates}
    if settings.fusion == "lexical":
        return {r: lexical.get(r, 0.0) for r in candidates}
    # A question in another language shares only accidental words with the corpus.
    w_lex = settings.lexical_weight * (1.0 if same_language else settings.cross_language_lexical_weight)
    if settings.fusion == "rrf":
        dense_rank = {r: i for i, r in enumerate(dense)}
        lexical_rank = {r: i for i, r in enumerate(lexical_order)}
        return {
            r: (settings.dense_weight / (settings.rrf_k + dense_rank[r] + 1) if r in dense_rank else 0.0)
            + (w_lex / (settings.rrf_k + lexical_rank[r] + 1) if r in lexical_rank else 0.0)
            for r in candidates
        }
    # "weighted": scores scaled to [0, 1] over the candidates, then mixed
    d_lo = min(dense.values(), default=0.0)
    d_span = (max(dense.values(), default=0.0) - d_lo) or 1.0
    l_hi = lexical_max or 1.0
    return {
        r: settings.dense_weight * ((dense[r] - d_lo) / d_span if r in dense else 0.0) + w_lex * lexical.get(r, 0.0) / l_hi
        for r in candidates
    }


def best(fused: dict[int, float], k: int, position: Callable[[int], Any] | None = None) -> list[int]:
    """The ``k`` best candidates, best first; ties go to the passage that comes first in the
    corpus (``position(row)``, by default the row itself)."""
    place = position or (lambda r: r)
    return sorted(fused, key=lambda r: (-fused[r], place(r)))[:k]
