"""French lexical search: BM25 (bm25s) over an analyser that folds accents and stems."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

# Elided articles and pronouns glued to the next word: l'IA, d'emploi, qu'il, j'ai.
_ELISION = re.compile(r"\b(?:[ldjmntsc]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.I)
_TOKEN = re.compile(r"\w+", re.U)
_STOPWORDS = frozenset(
    """a à ai aie ait as au aux avec avoir c ce ceci cela celle celles celui ces cet cette ceux
    comme d dans de des du elle elles en es est et été être eu fait il ils je la le les leur leurs
    lui ma mais me même mes moi mon n ne ni nos notre nous on ont ou où par pas pour qu que quel
    quelle quelles quels qui s sa sans se ses si son sont sur ta te tes toi ton tu un une vos
    votre vous y l j m t ça très plus aussi entre alors donc ainsi tout tous toute toutes
    est-ce qu'est quoi comment pourquoi combien quand
    the of and or to in on for is are was were be been by with what which who whom how why when
    where does do did it its this that these those an from at as about""".split()
)


def fold_accents(text: str) -> str:
    """``text`` without its accents ("é" → "e"); other characters ("§", "°") stay."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


def analyze(text: str) -> list[str]:
    """Lower-case, drop elisions and stop words, stem (Snowball French), fold accents."""
    text = _ELISION.sub(" ", text.lower())
    words = [w for w in _TOKEN.findall(text) if w not in _STOPWORDS and not (w.isdigit() and len(w) == 1)]
    stems = _stemmer().stemWords(words)
    return [fold_accents(s) for s in stems if s]


class LexicalIndex:
    """BM25 over analysed passages; scores every passage for a query."""

    def __init__(self, retriever) -> None:  # a bm25s.BM25
        self._bm25 = retriever
        self._vocab = set(retriever.vocab_dict)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        tokens = [analyze(t) or ["\u2205"] for t in texts]
        retriever.index(tokens, show_progress=False)
        return cls(retriever)

    def knows(self, term: str) -> bool:
        """Whether an analysed term occurs anywhere in the indexed passages."""
        return term in self._vocab

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (row order of the index)."""
        tokens = [t for t in analyze(query) if t in self._vocab]
        n = int(self._bm25.scores["num_docs"])
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def save(self, path: Path) -> None:
        self._bm25.save(str(path), show_progress=False)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(path), show_progress=False, verbosity=0))
