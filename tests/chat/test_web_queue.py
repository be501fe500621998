"""One queue for every answer: ``--concurrency N`` bounds the answers of all listeners together."""
import os
import threading
import time

import pytest

from tests.conftest import free_port, small_interview_index


class OverlapEmbedder:
    """Wraps an embedder; records how many question embeddings run at the same moment."""

    def __init__(self, inner, pause: float = 0.4) -> None:
        self.inner, self.pause = inner, pause
        self.dim, self.name = inner.dim, inner.name
        self.running = self.most = 0
        self.lock = threading.Lock()

    def encode(self, texts, *, query: bool = False):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.pause)  # long enough for a second request to arrive meanwhile
            return self.inner.encode(texts, query=query)
        finally:
            with self.lock:
                self.running -= 1


def test_every_listener_that_answers_waits_in_one_gradio_queue():
    """Each Gradio listener used to have its own queue (its own concurrency_id)."""
    from chat.api import Answerer
    from chat.live import LiveIndex
    from chat.web import ANSWER_QUEUE, build_app

    index, emb, settings = small_interview_index()
    blocks = build_app(Answerer(LiveIndex(index), emb, settings), settings)
    queues = {fn.fn.__name__: fn.concurrency_id for fn in blocks.fns.values() if fn.fn is not None}
    for name in ("turn", "ask_alone", "more", "on_load", "ask_json", "ask_filtered", "ask_html"):
        assert queues[name] == ANSWER_QUEUE, (name, queues[name])
    assert queues["new_conversation"] != ANSWER_QUEUE and queues["list_facets"] != ANSWER_QUEUE  # they answer nothing


@pytest.mark.slow
def test_concurrency_one_answers_one_question_at_a_time_across_listeners_and_the_http_api():
    import httpx
    from gradio_client import Client

    from chat.web import serve

    index, emb, settings = small_interview_index()
    watched = OverlapEmbedder(emb)
    port = free_port()
    app = serve(index, watched, settings, host="127.0.0.1", port=port, block=False, concurrency=1)
    try:
        url = f"http://127.0.0.1:{port}/"
        q = "Qui a ouvert la série de rencontres ?"
        calls = [((q,), "/ask"), ((q, [], []), "/ask_filtered"), ((q,), "/ask_html"), ((q,), "/ask"), ((q,), "http"), ((q,), "http")]
        results: list = [None] * len(calls)

        def run(i):
            args, name = calls[i]
            if name == "http":
                results[i] = httpx.get(url + "api/ask", params={"q": args[0]}, timeout=60).json()
            else:
                results[i] = Client(url, verbose=False).predict(*args, api_name=name)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(r is not None for r in results)
        assert results[0]["passages"] and results[0] == results[3] == results[4] == results[5]
        assert watched.most == 1, f"{watched.most} answers ran at once with --concurrency 1"
    finally:
        app.close()


def test_export_writes_at_once_never_fail(tmp_path):
    """Writes from several answers at once, while expired folders are cleared."""
    from chat.answer import answer
    from chat.web import ExportDir

    index, emb, settings = small_interview_index()
    ans = answer("Qui a ouvert la série de rencontres ?", index, emb, settings)
    exports = ExportDir()
    errors: list[BaseException] = []

    def write():
        try:
            for n in range(20):
                for i in range(3):  # folders an hour old: every write tries to remove them
                    old = exports.root / f"old-{threading.get_ident()}-{n}-{i}"
                    old.mkdir()  # a new name each time: another write cannot remove it before it is aged
                    os.utime(old, (0, 0))
                md, csl = exports.write(ans)
                assert os.path.getsize(md) and os.path.getsize(csl)
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
