"""The running chat server: a password keeps strangers out, and bad questions never stop it."""
from __future__ import annotations


import pytest

from tests.conftest import ask_json, free_port, small_interview_index
from tests.test_robustness import BAD_QUESTIONS

pytestmark = pytest.mark.slow




@pytest.fixture(scope="module")
def small_index():
    """The interview indexed with the FakeEmbedder, without attribution (no spaCy): a server in seconds."""
    return small_interview_index()


@pytest.fixture(scope="module")
def protected(small_index):
    from chat.web import serve

    index, emb, settings = small_index
    port = free_port()
    app = serve(index, emb, settings, host="127.0.0.1", port=port, block=False, auth=("team", "correct horse battery"))
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_without_the_password_nothing_but_the_login_page_answers(protected):
    import httpx

    for path in ("config", "gradio_api/info", "gradio_api/openapi.json"):
        r = httpx.get(protected + path, timeout=30)
        assert r.status_code == 401, (path, r.status_code)
    r = httpx.post(protected + "gradio_api/call/ask", json={"data": ["Qui a ouvert la série ?"]}, timeout=30)
    assert r.status_code == 401
    r = httpx.post(protected + "gradio_api/queue/join", json={"data": ["Qui ?"], "fn_index": 0, "session_hash": "x"}, timeout=30)
    assert r.status_code in (401, 403)
    bad = httpx.post(protected + "login", data={"username": "team", "password": "wrong"}, timeout=30)
    assert bad.status_code in (400, 401)


def test_gradio_client_needs_the_password(protected, small_index):
    from gradio_client import Client

    with pytest.raises(Exception, match="credentials were not provided|login|401|Not authenticated"):
        Client(protected, verbose=False)
    with pytest.raises(Exception, match="login|401|Not authenticated"):
        Client(protected, verbose=False, auth=("team", "wrong"))
    client = Client(protected, verbose=False, auth=("team", "correct horse battery"))
    q = "Qui a ouvert la série de rencontres ?"
    index, emb, settings = small_index
    assert client.predict(q, api_name="/ask") == ask_json(q, index, emb, settings)


def test_every_bad_question_gets_an_answer_or_an_error_field_and_the_server_keeps_serving(real_server, real_index, real_embedder, real_settings):
    from gradio_client import Client

    client = Client(real_server, verbose=False)
    good = "Qui a ouvert la série de rencontres ?"
    expected_good = ask_json(good, real_index, real_embedder, real_settings)
    for label, q, expect in BAD_QUESTIONS:
        if "\udcff" in q:
            q = q.replace("\udcff", "\ufffd")  # JSON over HTTP cannot carry a lone surrogate
        data = client.predict(q, api_name="/ask")
        if expect in ("empty", "no_words"):
            assert data["error_code"] == expect and data["error"] and data["passages"] == [], label
        else:
            # The same answer as in-process, notice included (the real tokenizer may cut more).
            assert data == ask_json(q, real_index, real_embedder, real_settings), label
            assert "notice" in data if expect == "notice" else True, label
        page = client.predict(q, api_name="/ask_html")
        assert "<script" not in page and "<img" not in page, label
        assert client.predict(good, api_name="/ask") == expected_good, f"after {label!r}"


def test_the_http_api_needs_the_password_too(protected):
    import httpx

    q = {"q": "Qui a ouvert la série de rencontres ?"}
    assert httpx.get(protected + "api/ask", params=q, timeout=30).status_code == 401
    assert httpx.get(protected + "api/ask", params=q, auth=("team", "wrong"), timeout=30).status_code == 401
    r = httpx.get(protected + "api/ask", params=q, auth=("team", "correct horse battery"), timeout=30)
    assert r.status_code == 200 and r.json()["passages"]


def test_every_bad_question_over_http_gets_json_and_the_server_keeps_serving(real_server, real_index, real_embedder, real_settings):
    import httpx

    good = "Qui a ouvert la série de rencontres ?"
    expected_good = ask_json(good, real_index, real_embedder, real_settings)
    with httpx.Client(base_url=real_server, timeout=60) as client:
        for label, q, expect in BAD_QUESTIONS:
            if "\udcff" in q:
                q = q.replace("\udcff", "\ufffd")  # a URL cannot carry a lone surrogate
            r = client.post("api/ask", json={"q": q})
            data = r.json()
            if expect in ("empty", "no_words"):
                assert r.status_code == 400 and data["error_code"] == expect and data["passages"] == [], label
            else:
                assert r.status_code == 200 and data == ask_json(q, real_index, real_embedder, real_settings), label
            assert client.get("api/ask", params={"q": good}).json() == expected_good, f"after {label!r}"
