import tomllib

import pytest

from ingest.errors import CorpusError
from ingest.load import read_manifest
from ingest.manifest import add_entry, remove_entry
from tests.ingest.helpers import copy_corpus


def test_add_keeps_comments_and_entries_and_remove_takes_one_out(tmp_path):
    corpus = copy_corpus(tmp_path)
    original = (corpus / "sources.toml").read_text(encoding="utf-8")
    add_entry(corpus, {"id": "guide", "file": "guide.md", "title": "Guide « fonds » \"social\"", "author": "A. B."})
    text = (corpus / "sources.toml").read_text(encoding="utf-8")
    assert text.startswith(original.rstrip("\n"))  # everything before is untouched, comments included
    ids = [s.id for s in read_manifest(corpus)]
    assert ids == ["contre-sommet-ia-interview", "guide"]
    guide = read_manifest(corpus)[1]
    assert guide.title == 'Guide « fonds » "social"' and guide.kind == "markdown"
    # the [[source.links]] of the first entry still belong to it
    data = tomllib.loads(text)
    assert data["source"][0]["links"][0]["cited_in"] == 41 and "links" not in data["source"][1]

    removed = remove_entry(corpus, "guide")
    assert removed["file"] == "guide.md"
    after = (corpus / "sources.toml").read_text(encoding="utf-8")
    assert after.rstrip("\n") == original.rstrip("\n")
    assert not [p for p in corpus.iterdir() if p.name.startswith(".sources.toml.")]  # no temp files left


def test_duplicate_and_unknown_ids(tmp_path):
    corpus = copy_corpus(tmp_path)
    with pytest.raises(CorpusError, match="already in"):
        add_entry(corpus, {"id": "contre-sommet-ia-interview", "file": "x.txt"})
    with pytest.raises(CorpusError, match=r"no source 'nope'.*contre-sommet-ia-interview"):
        remove_entry(corpus, "nope")


def test_a_new_corpus_gets_a_manifest(tmp_path):
    corpus = tmp_path / "neuf"
    corpus.mkdir()
    add_entry(corpus, {"id": "a", "url": "https://example.org/a.html", "title": "A"})
    (s,) = read_manifest(corpus)
    assert s.url == "https://example.org/a.html" and s.file is None
    assert (corpus / "sources.toml").read_text().startswith("# The corpus manifest")


def test_manifest_rules(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "sources.toml").write_text('[[source]]\nid = "x"\ntitle = "X"\n')
    with pytest.raises(CorpusError, match="lacks file \\(or url\\)"):
        read_manifest(corpus)
    (corpus / "sources.toml").write_text('[[source]]\nid = "x"\nfile = "x.pdf"\n')
    (s,) = read_manifest(corpus)
    assert s.title == "" and s.kind == "pdf"  # the title comes from the document when it is read
