"""`verbatim check` end to end: a quote, --file in every format, --sentences, --json, and
the mistakes (one line, exit code 2); the fake embedder over a copy of the corpus."""
import json

import pytest

import index.build
from chat.cli import main
from tests.conftest import FakeEmbedder, INTERVIEW
from tests.ingest.helpers import copy_corpus, fake_settings

SENTENCE = "Cette série de rencontres a été ouverte par Thierry Breton, l’ex-commissaire européen."
OTHER = "Les citoyens s’auto-censurent afin de ne pas laisser de traces de leur présence dans tel endroit ou telle manifestation."


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check-cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index.build, "make_embedder", lambda settings, quiet=False: FakeEmbedder())
        corpus = copy_corpus(tmp)
        settings = fake_settings(tmp)

        def call(*argv):
            return main(["check", "--corpus", str(corpus), "--model", str(settings.model_dir), "--quiet", *argv])

        assert call("--json", SENTENCE) == 0  # builds the index once
        yield call


def out_json(capsys):
    return json.loads(capsys.readouterr().out)


def test_one_quote_json_and_text(run, capsys):
    capsys.readouterr()
    assert run("--json", f"« {SENTENCE.replace('ouverte', 'lancée')} », selon Katia Roux") == 0
    d = out_json(capsys)
    (q,) = d["quotes"]
    assert q["verdict"] == "altered" and q["changes"] == [{"kind": "changed", "quote": "lancée", "source": "ouverte"}]
    text = INTERVIEW.read_text(encoding="utf-8")
    p = q["places"][0]
    assert text[p["start"] : p["end"]] == p["text"] == q["instead"]
    assert q["attribution"]["status"] == "other" and q["attribution"]["speakers"] == ["Olivier Griffith"]
    # Attribution is per sentence: this one names Thierry Breton but relays none of his words.
    assert q["attribution"]["reported"] == [] and q["attribution"]["person"]["name"] == "Katia Roux"
    assert q["attribution"]["person"]["description"] == "chargée de plaidoyer chez Amnesty France"
    assert run(SENTENCE) == 0
    out = capsys.readouterr().out
    assert "[exacte]" in out and "§ 6" in out and "Olivier Griffith" in out
    assert run(f"« {SENTENCE} », selon Katia Roux") == 0
    out = capsys.readouterr().out
    assert "Katia Roux ne parle pas ici : c'est Olivier Griffith." in out
    assert "Dans le corpus : Katia Roux, « chargée de plaidoyer chez Amnesty France » (§ 23)." in out


def write_docx(path, paragraphs):
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    d.save(path)


@pytest.mark.parametrize("name", ["draft.md", "draft.txt", "draft.docx", "draft.html"])
def test_every_quote_of_a_file(run, capsys, tmp_path, name):
    lines = [f"Selon Olivier Griffith, « {SENTENCE} »", f"Et « {OTHER.replace('traces', 'marques')} », a dit Katia Roux.",
             "Un “titre” court et « une phrase qui ne vient pas du corpus du tout » ici."]
    path = tmp_path / name
    if name.endswith(".docx"):
        write_docx(path, lines)
    elif name.endswith(".html"):
        body = "".join(f"<p>{line}</p>" for line in lines)
        path.write_text(f"<html><head><title>Brouillon</title></head><body><article>{body}</article></body></html>", encoding="utf-8")
    else:
        path.write_text(("# Brouillon\n\n" if name.endswith(".md") else "") + "\n\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert run("--json", "--file", str(path)) == 0
    d = out_json(capsys)
    assert [q["verdict"] for q in d["quotes"]] == ["exact", "altered", "not_found"]
    for q in d["quotes"]:
        assert d["text"][q["start"] : q["end"]] == q["quote"]
    if name.endswith((".md", ".txt")):
        assert d["text"] == path.read_text(encoding="utf-8")  # offsets point into the file itself
    assert d["quotes"][0]["attribution"]["status"] == "speaker"
    # Katia Roux is relayed by the first sentence of § 23, not by this one: named, not quoted.
    assert d["quotes"][1]["attribution"]["status"] == "mentioned"


def test_sentences_flag(run, capsys, tmp_path):
    path = tmp_path / "d.txt"
    path.write_text(f"{SENTENCE} Une phrase qui ne vient pas du corpus du tout. {OTHER}\n", encoding="utf-8")
    capsys.readouterr()
    assert run("--json", "--sentences", "--file", str(path)) == 0
    assert [q["verdict"] for q in out_json(capsys)["quotes"]] == ["exact", "not_found", "exact"]


@pytest.mark.parametrize("argv, message", [
    (["--file", "/no/such/draft.md"], "no file at /no/such/draft.md"),
    (["   "], "the quote is empty"),
    ([], "give a quote or --file PATH"),
    (["un", "--file", "x.md"], "give a quote or --file PATH"),
    (["!!! ?"], "no word to check"),
])
def test_mistakes_are_one_line_and_exit_2(run, capsys, argv, message):
    capsys.readouterr()
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_empty_file_and_json_error(run, capsys, tmp_path):
    path = tmp_path / "empty.md"
    path.write_text("  \n", encoding="utf-8")
    capsys.readouterr()
    assert run("--json", "--file", str(path)) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error_code"] == "empty" and "is empty" in captured.err
    bad = tmp_path / "draft.odt"
    bad.write_bytes(b"PK\x03\x04")
    assert run("--file", str(bad)) == 2
    assert ".odt files cannot be read" in capsys.readouterr().err
