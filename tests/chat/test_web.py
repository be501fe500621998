import socket
import time

import pytest

from chat.answer import answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(real_index, real_embedder, real_settings):
    from chat.web import serve

    port = _free_port()
    app = serve(real_index, real_embedder, real_settings, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.mark.slow
def test_the_chat_answers_through_gradio_client(server, real_index, real_embedder, real_settings):
    from gradio_client import Client

    client = Client(server, verbose=False)
    q = "Qui a ouvert la série de rencontres ?"
    data = client.predict(q, api_name="/ask")
    assert data == answer(q, real_index, real_embedder, real_settings).to_dict()
    assert data["answered"] and data["passages"][0]["paragraph"] == 6
    page = client.predict(q, api_name="/ask_html")
    assert "Thierry Breton" in page and "vb-quote" in page
    assert "Peux tu nous présenter les éléments forts de cette journée ?" in page
    bad = client.predict("   ", api_name="/ask")
    assert bad["error_code"] == "empty" and bad["passages"] == []


@pytest.mark.slow
def test_the_page_loads_nothing_from_outside(server):
    import httpx

    html = httpx.get(server, timeout=30).text
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
