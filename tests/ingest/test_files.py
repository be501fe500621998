"""The two file helpers: a write in one rename, and a file's sha256."""
import hashlib
import os
import stat

import pytest

from ingest.files import atomic_write, file_sha256


def test_an_atomic_write_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    atomic_write(path, b"one")
    assert path.read_bytes() == b"one" and stat.S_IMODE(path.stat().st_mode) == 0o644
    os.chmod(path, 0o600)
    atomic_write(path, b"two")
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write(path, b"old")
    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_file_sha256_is_the_sha256_of_the_bytes(tmp_path):
    data = os.urandom(3 << 20)  # more than one read block
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_a_file_is_placed_in_the_corpus_once(tmp_path):
    from ingest.corpus import place_in_corpus
    from ingest.errors import CorpusError
    from ingest.model import Source

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.md").write_text("déjà là")
    outside = tmp_path / "Notes.MD"
    outside.write_bytes(b"autre texte")
    assert place_in_corpus(corpus, outside, outside.read_bytes(), []) == "notes-2.md"  # notes.md is taken
    assert (corpus / "notes-2.md").read_bytes() == b"autre texte"
    inside = corpus / "sub" / "a.txt"
    inside.parent.mkdir()
    inside.write_bytes(b"dedans")
    assert place_in_corpus(corpus, inside, b"dedans", []) == "sub/a.txt"
    with pytest.raises(CorpusError, match="already in the corpus as n2 \\(notes-2.md\\)"):
        place_in_corpus(corpus, outside, outside.read_bytes(), [Source(id="n2", title="", file="notes-2.md")])
