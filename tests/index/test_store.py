import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index, open_index
from index.settings import Settings
from index.store import Index, IndexLoadError, StaleIndexError
from ingest.chunk import ChunkSettings
from tests.conftest import FakeEmbedder, copy_corpus, fake_model_dir


@pytest.fixture
def corpus(tmp_path) -> Path:
    return copy_corpus(tmp_path)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(model_dir=fake_model_dir(tmp_path))


def test_save_load_round_trip(corpus, tmp_path, settings, fake_embedder):
    built = build_index(corpus, tmp_path / "idx", settings, fake_embedder, quiet=True)
    loaded = Index.load(tmp_path / "idx")
    assert [c.id for c in loaded.chunks] == [c.id for c in built.chunks]
    assert loaded.vectors.ntotal == len(loaded.chunks)
    assert np.array_equal(loaded.sentence_vectors, built.sentence_vectors)
    assert isinstance(loaded.sentence_vectors, np.memmap) and not loaded.sentence_vectors.flags.writeable
    assert loaded.texts == built.texts
    for c in loaded.chunks:  # offsets still point into the stored text
        assert loaded.texts[c.source_id][c.start : c.end] == c.text
    q = "Thierry Breton"
    qv = fake_embedder.encode([q], query=True)[0]
    assert [h.row for h in loaded.search(q, qv, 5, settings)] == [h.row for h in built.search(q, qv, 5, settings)]
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    assert meta["dimension"] == fake_embedder.dim
    assert meta["settings"]["chunking"] == {"max_sentences": 3, "max_chars": 600}
    assert set(meta["files"]) >= {"vectors.faiss", "chunks.jsonl", "sentences.npy", "sources.json"}
    assert len(meta["corpus_hash"]) == 64 and "faiss-cpu" in meta["versions"]


def test_chunks_jsonl_row_i_is_faiss_id_i(corpus, tmp_path, settings, fake_embedder):
    index = build_index(corpus, tmp_path / "idx", settings, fake_embedder, quiet=True)
    rows = (tmp_path / "idx" / "chunks.jsonl").read_text().splitlines()
    for i in (0, len(rows) // 2, len(rows) - 1):
        from index.texts import passage_text

        expect = fake_embedder.encode([passage_text(index.chunks[i], settings)])[0]
        assert np.allclose(index.vectors.reconstruct(i), expect, atol=1e-6)
        assert json.loads(rows[i])["id"] == index.chunks[i].id


def test_stale_when_corpus_settings_or_model_change(corpus, tmp_path, settings, fake_embedder):
    path = tmp_path / "idx"
    build_index(corpus, path, settings, fake_embedder, quiet=True)
    calls = fake_embedder.calls
    open_index(corpus, path, settings, fake_embedder, rebuild="never")  # fresh: no error, no rebuild
    assert fake_embedder.calls == calls

    other = replace(settings, chunking=ChunkSettings(max_sentences=2))
    with pytest.raises(StaleIndexError, match="chunking settings.*verbatim build"):
        open_index(corpus, path, other, fake_embedder, rebuild="never")

    (settings.model_dir / "config.json").write_text('{"changed": true}')
    with pytest.raises(StaleIndexError, match="model"):
        open_index(corpus, path, settings, fake_embedder, rebuild="never")
    (settings.model_dir / "config.json").write_text("{}")

    txt = corpus / "contre-sommet-ia-interview.txt"
    txt.write_text(txt.read_text() + "\nUne ligne de plus.\n")
    with pytest.raises(StaleIndexError, match="corpus has changed"):
        open_index(corpus, path, settings, fake_embedder, rebuild="never")
    rebuilt = open_index(corpus, path, settings, fake_embedder)  # auto: rebuilds
    assert any("Une ligne de plus." in c.text for c in rebuilt.chunks)
    assert open_index(corpus, path, settings, fake_embedder, rebuild="never").meta["corpus_hash"] == rebuilt.meta["corpus_hash"]


class SpanFakeEmbedder(FakeEmbedder):
    """The fake, able to pool sentence vectors from its passages (as the real model does)."""

    def encode_with_spans(self, texts, spans):
        passages = self.encode(texts)
        return passages, [self.encode([t[a:b] for a, b in sp]) if sp else np.zeros((0, self.dim), np.float32) for t, sp in zip(texts, spans)]


def test_stale_when_sentence_vectors_were_made_another_way(corpus, tmp_path, settings):
    # Pooled and stand-alone sentence vectors score differently, so an index made one
    # way must not be answered from by a version that makes them the other way.
    path = tmp_path / "idx"
    alone = build_index(corpus, path, settings, FakeEmbedder(), quiet=True)
    assert alone.meta["model"]["sentence_vectors"] == "alone"
    with pytest.raises(StaleIndexError, match="sentence vectors were made 'alone'.*'pooled'.*verbatim build"):
        open_index(corpus, path, settings, SpanFakeEmbedder(), rebuild="never")
    rebuilt = open_index(corpus, path, settings, SpanFakeEmbedder())
    assert rebuilt.meta["model"]["sentence_vectors"] == "pooled"
    open_index(corpus, path, settings, SpanFakeEmbedder(), rebuild="never")  # fresh now

    # An index from before the method was recorded is stale too.
    meta_path = path / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["model"]["sentence_vectors"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(StaleIndexError, match="sentence vectors were made another way.*verbatim build"):
        open_index(corpus, path, settings, SpanFakeEmbedder(), rebuild="never")


@pytest.mark.parametrize("victim", ["vectors.faiss", "chunks.jsonl", "meta.json", "sentences.npy", "sources.json", "latent.npz"])
def test_missing_or_corrupt_files_are_detected(corpus, tmp_path, settings, fake_embedder, victim):
    path = tmp_path / "idx"
    build_index(corpus, path, settings, fake_embedder, quiet=True)
    target = path / victim
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(IndexLoadError, match="verbatim build"):
        Index.load(path)
    target.unlink()
    with pytest.raises(IndexLoadError, match="verbatim build"):
        Index.load(path)
    # open_index repairs it by rebuilding
    repaired = open_index(corpus, path, settings, fake_embedder)
    assert Index.load(path).meta["counts"] == repaired.meta["counts"]


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexLoadError, match="no index at .*verbatim build"):
        Index.load(tmp_path / "nowhere")


def test_a_failed_save_keeps_the_previous_index(corpus, tmp_path, settings, fake_embedder, monkeypatch):
    path = tmp_path / "idx"
    first = build_index(corpus, path, settings, fake_embedder, quiet=True)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        first.save(path)
    monkeypatch.undo()
    again = Index.load(path)
    assert [c.id for c in again.chunks] == [c.id for c in first.chunks]
    assert not list(tmp_path.glob("idx.tmp-*"))  # no debris left behind
    assert len(list(tmp_path.glob("idx.v-*"))) == 1  # one version on disk


def test_an_index_of_another_dimension_is_refused(corpus, tmp_path, settings):
    path = tmp_path / "idx"
    build_index(corpus, path, settings, FakeEmbedder(dim=32), quiet=True)
    meta = json.loads((path / "meta.json").read_text())
    meta["dimension"] = 48
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(IndexLoadError, match="dimension"):
        Index.load(path)


def test_dense_text_names_voices_and_reported_people_but_not_a_documents_author(settings):
    from index.texts import lexical_text, passage_text
    from ingest.model import Chunk, Person

    def make(role, speaker, reported=(), part="text", section="La question ?"):
        return Chunk(id="x", source_id="s", text="Le texte du passage.", start=0, end=20, paragraph=1, page=None,
                     section=section, speaker=speaker, role=role, reported=reported, part=part)

    katia = (Person("Katia Roux", "Amnesty France"),)
    by_author = make("author", "Haut Conseil du travail social", katia, section=None)
    assert passage_text(by_author, settings) == "Katia Roux :\nLe texte du passage."
    assert "Haut Conseil du travail social" in lexical_text(by_author, settings)  # BM25 still sees the author
    assert passage_text(make("author", "Auteur", section=None), settings) == "Le texte du passage."
    # a passage of text is read with the heading it stands under (or its document's title)
    under = make("author", "Auteur", section="Recommandations")
    assert passage_text(under, settings) == "Recommandations\nLe texte du passage."
    assert passage_text(under, replace(settings, section_context=False)) == "Le texte du passage."
    assert passage_text(make("commenter", "Un lecteur", part="comment"), settings) == "Commentaire d'un lecteur :\nUn lecteur :\nLe texte du passage."
    answer = make("interviewee", "Olivier Griffith", katia, part="answer")
    assert passage_text(answer, settings) == "La question ?\nOlivier Griffith, Katia Roux :\nLe texte du passage."
    assert passage_text(make("commenter", "Un lecteur (commentaire)", section=None), settings).startswith("Un lecteur (commentaire) :")


def test_a_question_passage_is_not_read_with_its_section(settings):
    from index.texts import passage_text
    from ingest.model import Chunk

    question = "Peux tu nous présenter les éléments forts de cette journée ?"
    c = Chunk(id="q", source_id="s", text=question, start=0, end=len(question), paragraph=5, page=None,
              section=question, speaker="Le blog de Didier Dubasque", role="interviewer", part="question")
    assert passage_text(c, settings) == f"Question posée par l'intervieweur :\nLe blog de Didier Dubasque :\n{question}"
    assert passage_text(c, replace(settings, part_labels=False)) == f"Le blog de Didier Dubasque :\n{question}"


def test_a_framing_passage_says_what_it_is_to_both_searches(settings):
    """ "Merci Olivier" says nothing of being the interview's end: its label does, to the
    dense and the lexical side, and the passage's own offsets are untouched."""
    from index.lexical import analyze
    from index.texts import lexical_text, passage_spans, passage_text
    from ingest.model import Chunk

    text = "Merci Olivier"
    c = Chunk(id="c", source_id="s", text=text, start=100, end=113, paragraph=36, page=None, section=None,
              speaker="Le blog", role="interviewer", part="closing", sentences=((100, 113),))
    dense = passage_text(c, settings)
    assert dense.startswith("Fin de l'interview") and dense.endswith(text)
    (s, e), = passage_spans(c, dense)
    assert dense[s:e] == text
    assert "fin" in analyze(lexical_text(c, settings)) and "fin" not in analyze(lexical_text(c, replace(settings, part_labels=False)))
    answer = replace(c, part="answer")
    assert passage_text(answer, settings) == passage_text(answer, replace(settings, part_labels=False))


def test_the_register_is_saved_checksummed_and_loaded(tmp_path, settings):
    import json

    from index.build import build_index
    from ingest.model import RegisterEntry
    from tests.conftest import FakeEmbedder, copy_corpus

    corpus = copy_corpus(tmp_path)
    path = tmp_path / "idx"
    built = build_index(corpus, path, settings, FakeEmbedder(dim=32), quiet=True)
    assert built.people and built.meta["counts"]["people"] == len(built.people)
    loaded = Index.load(path)
    assert loaded.people == built.people
    assert all(isinstance(e, RegisterEntry) for e in loaded.people)
    assert [e.name for e in loaded.find_person("roux")] == ["Katia Roux"]
    assert [e.name for e in loaded.find_person("boutron marmion")] == ["Laure Boutron-Marmion"]
    ids = {c.id for c in loaded.chunks}
    for e in loaded.people:
        text = loaded.texts[e.source_id]
        assert text[e.name_span[0] : e.name_span[1]] == e.name
        if e.description_span:
            assert text[e.description_span[0] : e.description_span[1]] == e.description
        assert set(e.reported_in) | set(e.mentioned_in) <= ids
    # people.json is checked like every other file.
    meta = json.loads((path / "meta.json").read_text())
    assert "people.json" in meta["files"]
    (path / "people.json").write_text("[]")
    with pytest.raises(IndexLoadError, match="people.json"):
        Index.load(path)


def test_an_index_of_an_older_format_is_refused_with_the_command(tmp_path, settings):
    import json

    from index.build import build_index
    from tests.conftest import FakeEmbedder, copy_corpus

    corpus = copy_corpus(tmp_path)
    path = tmp_path / "idx"
    build_index(corpus, path, settings, FakeEmbedder(dim=32), quiet=True)
    meta = json.loads((path / "meta.json").read_text())
    meta["format"] = 3
    (path / "meta.json").write_text(json.dumps(meta))
    (path / "latent.npz").unlink()  # format 3 had no latent terms
    with pytest.raises(IndexLoadError, match="format 3 .* format 4; rebuild it with: verbatim build"):
        Index.load(path)
