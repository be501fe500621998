"""Checking quotes over HTTP (``POST /api/check``) and on the page's tab, without a browser:
the body is the object ``verbatim check --json`` prints for the same text, errors are JSON
with a 4xx status, the matcher follows the index on disk; the fake embedder over a copy of
the corpus. The tab in a real browser is tested in ``test_browser.py``."""
import json

import pytest
from fastapi.testclient import TestClient

import index.build
from chat.api import Answerer, api_app
from chat.cli import build_parser, main
from chat.live import LiveIndex
from index.store import Index
from tests.conftest import FakeEmbedder, fake_model_dir
from tests.ingest.helpers import copy_corpus, fake_settings

SENTENCE = "Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen."
ALTERED = SENTENCE.replace("ouverte", "lancée")
DRAFT = (f"Selon Olivier Griffith, « {SENTENCE} »\n\nEt « {ALTERED} », rappelle Katia Roux. "
         "Un “titre” court et « une phrase qui ne vient pas du corpus du tout » ici.\n")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(cli, client, answerer): ``verbatim check`` and the HTTP API over one index and model."""
    from chat.cli import _index_dir, _settings

    tmp = tmp_path_factory.mktemp("check-api")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index.build, "make_embedder", lambda settings, quiet=False: FakeEmbedder())
        corpus = copy_corpus(tmp)
        argv = ["check", "--corpus", str(corpus), "--model", str(fake_settings(tmp).model_dir), "--quiet"]

        def cli(*more):
            return main([*argv, *more])

        assert cli("--json", SENTENCE) == 0  # builds the index once
        args = build_parser().parse_args([*argv, "x"])
        live = LiveIndex(Index.load(_index_dir(args)), _index_dir(args), corpus)
        answerer = Answerer(live, FakeEmbedder(), _settings(args))
        with TestClient(api_app(answerer)) as client:
            yield cli, client, answerer


def cli_json(env, capsys, *argv):
    cli = env[0]
    capsys.readouterr()
    code = cli("--json", *argv)
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("body, argv", [
    ({"text": SENTENCE}, [SENTENCE]),
    ({"text": f"« {ALTERED} », selon Katia Roux"}, [f"« {ALTERED} », selon Katia Roux"]),
    ({"text": DRAFT}, [DRAFT]),
    ({"text": DRAFT, "mode": "sentences"}, ["--sentences", DRAFT]),
])
def test_the_body_is_the_object_of_check_json(env, capsys, body, argv):
    code, expected = cli_json(env, capsys, *argv)
    assert code == 0
    r = env[1].post("/api/check", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json() == expected
    assert expected["quotes"]  # something was checked, not two empty reports


def test_a_file_checked_by_the_cli_equals_its_text_in_quotes_mode(env, capsys, tmp_path):
    path = tmp_path / "draft.md"
    path.write_text(DRAFT, encoding="utf-8")
    code, expected = cli_json(env, capsys, "--file", str(path))
    r = env[1].post("/api/check", json={"text": DRAFT, "mode": "quotes"})
    assert code == 0 and r.status_code == 200 and r.json() == expected
    assert [q["verdict"] for q in expected["quotes"]] == ["exact", "altered", "not_found"]
    assert [q["attribution"]["status"] for q in expected["quotes"][:2]] == ["speaker", "other"]
    for q in r.json()["quotes"]:
        assert DRAFT[q["start"] : q["end"]] == q["quote"]


@pytest.mark.parametrize("send, status, code", [
    ({"json": {"text": "   \n"}}, 400, "empty"),
    ({"json": {"text": "!!! … ?"}}, 400, "no_words"),
    ({"json": {"text": SENTENCE, "mode": "everything"}}, 400, "bad_mode"),
    ({"json": {}}, 400, "bad_request"),
    ({"json": {"text": 42}}, 400, "bad_request"),
    ({"json": [SENTENCE]}, 400, "bad_request"),
    ({"json": {"text": SENTENCE, "sentences": True}}, 400, "bad_request"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "bad_request"),
    ({"content": "é".encode("latin-1"), "headers": {"content-type": "application/json"}}, 400, "bad_request"),
    ({"json": {"text": "mot " * 250_001}}, 413, "too_long"),
])
def test_errors_are_json_with_a_4xx_status(env, send, status, code):
    r = env[1].post("/api/check", **send)
    assert r.status_code == status and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "error_code"} and body["error_code"] == code and body["error"]
    assert "Traceback" not in body["error"]


def test_an_error_has_the_form_the_cli_prints(env, capsys):
    code, printed = cli_json(env, capsys, "!!! ?")
    r = env[1].post("/api/check", json={"text": "!!! ?"})
    assert code == 2 and r.status_code == 400
    assert set(r.json()) == set(printed) and r.json()["error_code"] == printed["error_code"] == "no_words"


def test_the_api_describes_the_check(env):
    client = env[1]
    spec = client.get("/api/openapi.json").json()
    op = spec["paths"]["/api/check"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["text"] and schema["properties"]["mode"]["enum"] == ["auto", "quotes", "sentences", "whole"]
    assert {"200", "400", "413"} <= set(op["responses"])
    docs = client.get("/api/docs").text
    assert "POST /api/check" in docs and "curl -X POST" in docs and "<script" not in docs


def test_the_check_asks_for_the_password_when_the_page_does(env):
    answerer = env[2]
    client = TestClient(api_app(answerer, auth=("team", "pass phrase")))
    assert client.post("/api/check", json={"text": SENTENCE}).status_code == 401
    assert client.post("/api/check", json={"text": SENTENCE}, auth=("team", "wrong")).status_code == 401
    r = client.post("/api/check", json={"text": SENTENCE}, auth=("team", "pass phrase"))
    assert r.status_code == 200 and r.json()["quotes"][0]["verdict"] == "exact"


# -- the index followed on disk --------------------------------------------------------------


def test_a_document_added_while_serving_is_seen_by_the_next_check(tmp_path):
    from index.settings import Settings
    from ingest.manifest import add_entry

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "cantine.txt").write_text("La cantine scolaire sert des repas bio le mardi.\n", encoding="utf-8")
    (corpus / "sources.toml").write_text('[[source]]\nid = "cantine"\nfile = "cantine.txt"\ntitle = "La cantine"\nkind = "text"\n',
                                         encoding="utf-8")
    settings = Settings(model_dir=fake_model_dir(tmp_path), min_confidence=0.0, check_paraphrase_min=2.0)
    emb = FakeEmbedder()
    path = tmp_path / "idx"
    live = LiveIndex(index.build.build_index(corpus, path, settings, emb, quiet=True), path, corpus)
    client = TestClient(api_app(Answerer(live, emb, settings)))
    quote = "« Le facteur roule à vélo dans la rue chaque matin », dit-on."
    before = client.post("/api/check", json={"text": quote}).json()
    assert [q["verdict"] for q in before["quotes"]] == ["not_found"]
    first = live.current()
    matcher = live.matcher(first)
    assert live.matcher(first) is matcher  # built once per index version
    # What `verbatim add` does: a file and its manifest entry, then the index rebuilt and swapped.
    (corpus / "velo.txt").write_text("Le facteur roule à vélo dans la rue chaque matin.\n", encoding="utf-8")
    add_entry(corpus, {"id": "velo", "file": "velo.txt", "title": "Le vélo du facteur", "kind": "text"})
    index.build.build_index(corpus, path, settings, emb, quiet=True)
    after = client.post("/api/check", json={"text": quote}).json()
    (q,) = after["quotes"]
    assert q["verdict"] == "exact" and q["places"][0]["source_id"] == "velo"
    assert live.current() is not first and live.matcher(live.current()) is not matcher


# -- the page's tab, without a browser ---------------------------------------------------------


@pytest.mark.parametrize("text, lang, words", [
    ("   ", "fr", "Le texte est vide"),
    ("   ", "en", "The text is empty"),
    ("?! …", "fr", "aucun mot à vérifier"),
    ("mot " * 250_001, "fr", "trop long (1\u202f000\u202f004 caractères ; au plus 1\u202f000\u202f000"),
    ("mot " * 250_001, "en", "too long (1,000,004 characters; at most 1,000,000"),
])
def test_the_tab_says_what_is_wrong_in_the_page_language(env, text, lang, words):
    from chat.web import check_page_html

    out = check_page_html(env[2], text, "auto", lang)
    assert words in out and 'class="vb-error"' in out and f'lang="{lang}"' in out
    # Not the library's message (for programs: the value, "e.g.", "split it"), nor a traceback.
    assert not any(s in out for s in ("Traceback", "(got", "e.g.", "split it"))


def test_the_tab_marks_each_quote_in_place_and_escapes_the_text(env):
    from chat.web import check_page_html

    draft = DRAFT + '<script>window.x = 1</script> « <img src=x onerror="alert(1)"> une phrase inventée de toutes pièces »'
    out = check_page_html(env[2], draft, "auto", "fr")
    assert "<script>" not in out and "<img" not in out and "&lt;script&gt;" in out
    assert [out.count(f'class="vb-check vb-{v}"') for v in ("exact", "altered", "not_found")] == [1, 1, 2]
    assert '<span class="vb-chip vb-exact" data-verdict="exact">1 exacte</span>' in out
    assert "remplacé" in out and "Citer plutôt" in out and "Katia Roux ne parle pas ici" in out
    none = check_page_html(env[2], "Aucune citation ici, rien entre guillemets.", "quotes", "en")
    assert "No quote found" in none and "Every sentence" in none and "--sentences" not in none


@pytest.mark.slow
def test_gradio_client_gets_the_same_object(real_server, real_index, real_embedder, real_settings):
    from gradio_client import Client

    from chat.check import check_text
    from chat.matcher import SourceMatcher

    client = Client(real_server, verbose=False)
    expected = check_text(DRAFT, real_index, real_embedder, real_settings, SourceMatcher.from_index(real_index)).to_dict()
    assert client.predict(DRAFT, "auto", api_name="/check") == expected
    assert [q["verdict"] for q in expected["quotes"]][:2] == ["exact", "altered"]
    assert client.predict("  ", "auto", api_name="/check")["error_code"] == "empty"
