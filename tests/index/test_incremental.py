"""The incremental index: only what changed is redone, and the result is a full rebuild's."""
import time

import numpy as np
import pytest

from chat.answer import answer
from index.build import build_index, open_index
from index.incremental import CachingEmbedder
from index.store import Index
from index.texts import passage_text
from ingest.manifest import add_entry, remove_entry
from tests.data import make_samples as samples
from tests.conftest import FakeEmbedder
from tests.ingest.helpers import CountingEmbedder, copy_corpus, fake_settings

QUESTIONS = [
    "Qui a ouvert la série de rencontres ?",
    "Combien de travailleurs sociaux le comité veut-il former ?",
    "Quelle médiathèque prête des tablettes aux seniors ?",
    "Quand les permanences numériques restent-elles ouvertes ?",
]


def same_index(a: Index, b: Index, embedder, settings) -> None:
    assert [c.to_dict() for c in a.chunks] == [c.to_dict() for c in b.chunks]
    assert a.texts == b.texts and a.sources == b.sources
    assert a.people == b.people  # the register is carried, or recomputed, as a rebuild makes it
    n = a.vectors.ntotal
    assert n == b.vectors.ntotal
    assert np.allclose(a.vectors.reconstruct_n(0, n), b.vectors.reconstruct_n(0, n), atol=1e-6)
    assert np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-6)
    assert np.allclose(a.centroid, b.centroid, atol=1e-6)
    assert a.meta["latent"] == b.meta["latent"]
    assert np.array_equal(a.latent.indptr, b.latent.indptr) and np.array_equal(a.latent.indices, b.latent.indices)
    for q in QUESTIONS:
        x, y = answer(q, a, embedder, settings).to_dict(), answer(q, b, embedder, settings).to_dict()
        assert x == y, q


@pytest.fixture
def corpus(tmp_path):
    c = copy_corpus(tmp_path)
    (c / "rapport.pdf").write_bytes(samples.report_pdf())
    add_entry(c, {"id": "rapport", "file": "rapport.pdf", "title": samples.REPORT_TITLE, "kind": "pdf"})
    return c


def test_adding_a_source_embeds_only_its_texts_and_equals_a_full_build(corpus, tmp_path):
    settings = fake_settings(tmp_path)
    first = CountingEmbedder()
    build_index(corpus, tmp_path / "idx", settings, first, quiet=True)
    (corpus / "tablettes.html").write_text(samples.ARTICLE_HTML, encoding="utf-8")
    add_entry(corpus, {"id": "tablettes", "file": "tablettes.html"})

    emb = CountingEmbedder()
    inc = build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    new = [c for c in inc.chunks if c.source_id == "tablettes"]
    assert new and inc.meta["ingest"]["reused_sources"] == ["contre-sommet-ia-interview", "rapport"]
    text = inc.texts["tablettes"]
    expected = {passage_text(c, settings) for c in new} | {text[s:e] for c in new for s, e in c.sentences}
    assert set(emb.texts) == expected  # nothing of the other sources went through the model
    assert len(emb.texts) == len(expected)

    full = build_index(corpus, tmp_path / "full", settings, CountingEmbedder(), quiet=True, full=True)
    same_index(inc, full, emb, settings)


def test_changing_and_removing_a_source_equal_a_full_build(corpus, tmp_path):
    settings = fake_settings(tmp_path)
    build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    # change: one more paragraph in the interview
    txt = corpus / "contre-sommet-ia-interview.txt"
    txt.write_text(txt.read_text(encoding="utf-8") + "\nUne dernière remarque ajoutée après coup sur la journée.\n", encoding="utf-8")
    emb = CountingEmbedder()
    inc = build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    assert inc.meta["ingest"]["reused_sources"] == ["rapport"]
    # only the new paragraph's texts are embedded: the interview's other passages are cached
    assert emb.texts and all("dernière remarque" in t for t in emb.texts)
    same_index(inc, build_index(corpus, tmp_path / "full1", settings, CountingEmbedder(), quiet=True, full=True), emb, settings)

    remove_entry(corpus, "rapport")
    emb = CountingEmbedder()
    inc = build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    assert emb.texts == [] and "rapport" not in inc.sources
    same_index(inc, build_index(corpus, tmp_path / "full2", settings, CountingEmbedder(), quiet=True, full=True), emb, settings)


def test_the_register_covers_added_documents_and_follows_updates(corpus, tmp_path):
    settings = fake_settings(tmp_path)
    first = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    (garnier,) = first.find_person("garnier")
    assert (garnier.name, garnier.source_id, garnier.page) == ("Hélène Garnier", "rapport", 1)
    text = first.texts["rapport"]
    assert garnier.description == "directrice de l'action sociale"
    assert text[garnier.description_span[0] : garnier.description_span[1]] == garnier.description
    assert "Madame Hélène Garnier" in text[garnier.introduction[0] : garnier.introduction[1]]
    assert garnier.mentioned_in and not garnier.reported_in  # "sous la présidence de" relays nothing
    interview = [e for e in first.people if e.source_id == "contre-sommet-ia-interview"]

    (corpus / "note.txt").write_text(
        "Compte rendu de la réunion du comité.\n"
        "Marc Lefèvre, éducateur spécialisé à Rennes, a expliqué que les familles attendent trop longtemps.\n",
        encoding="utf-8",
    )
    add_entry(corpus, {"id": "note", "file": "note.txt", "title": "Compte rendu"})
    second = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    assert second.meta["ingest"]["reused_sources"] == ["contre-sommet-ia-interview", "rapport"]
    assert [e for e in second.people if e.source_id == "contre-sommet-ia-interview"] == interview
    (marc,) = second.find_person("marc lefevre")
    assert marc.source_id == "note" and marc.description == "éducateur spécialisé à Rennes"
    assert [c.source_id for c in second.chunks if c.id in marc.reported_in] == ["note"]

    remove_entry(corpus, "rapport")
    third = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    assert third.find_person("garnier") == [] and third.find_person("lefèvre")


def test_an_unchanged_corpus_is_not_rebuilt(corpus, tmp_path):
    settings = fake_settings(tmp_path)
    emb = CountingEmbedder()
    build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    n = len(emb.texts)
    open_index(corpus, tmp_path / "idx", settings, emb, rebuild="never")
    assert len(emb.texts) == n


def test_an_interrupted_update_leaves_the_previous_index(corpus, tmp_path, monkeypatch):
    settings = fake_settings(tmp_path)
    before = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    (corpus / "guide.md").write_text(samples.GUIDE_MD, encoding="utf-8")
    add_entry(corpus, {"id": "guide", "file": "guide.md"})

    class Interrupted(CountingEmbedder):
        def encode(self, texts, *, query=False):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, tmp_path / "idx", settings, Interrupted(), quiet=True)
    kept = Index.load(tmp_path / "idx")
    assert [c.id for c in kept.chunks] == [c.id for c in before.chunks] and "guide" not in kept.sources
    # and the next update finishes the job
    after = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    assert "guide" in after.sources


def test_one_bad_file_is_reported_and_the_others_indexed(corpus, tmp_path, capsys):
    settings = fake_settings(tmp_path)
    (corpus / "scan.pdf").write_bytes(samples.scanned_pdf())
    (corpus / "vide.txt").write_text("\n\n")
    add_entry(corpus, {"id": "scan", "file": "scan.pdf", "title": "Un scan"})
    add_entry(corpus, {"id": "vide", "file": "vide.txt", "title": "Vide"})
    add_entry(corpus, {"id": "absent", "file": "absent.docx", "title": "Absent"})
    index = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder())
    failed = index.meta["ingest"]["failed"]
    assert set(failed) == {"scan", "vide", "absent"}
    assert "OCR" in failed["scan"] and "no text" in failed["vide"] and "cannot read" in failed["absent"]
    assert {"contre-sommet-ia-interview", "rapport"} <= set(index.sources)
    err = capsys.readouterr().err
    assert err.count("verbatim: skipped") == 3 and "Traceback" not in err


def test_caching_embedder_reuses_vectors_by_text(fake_embedder):
    emb = CountingEmbedder()
    cache = CachingEmbedder(emb)
    a = cache.encode(["un", "deux", "un"])
    b = cache.encode(["deux", "trois"])
    assert emb.texts == ["un", "deux", "trois"]
    assert np.array_equal(a[1], b[0]) and np.array_equal(a[0], a[2])
    assert cache.encode(["question"], query=True).shape == (1, emb.dim) and emb.texts[-1] == "trois"


def test_a_long_pdf_pages_and_throughput(tmp_path, capsys):
    """A generated 120-page report: every passage has its page; the figure is printed (-s to see it)."""
    settings = fake_settings(tmp_path)
    corpus = tmp_path / "long"
    corpus.mkdir()
    (corpus / "schema.pdf").write_bytes(samples.long_report_pdf(120))
    add_entry(corpus, {"id": "schema", "file": "schema.pdf"})
    t = time.perf_counter()
    index = build_index(corpus, tmp_path / "idx", settings, CountingEmbedder(), quiet=True)
    seconds = time.perf_counter() - t
    info = index.meta["ingest"]["sources"]["schema"]
    assert len(info["pages"]) == 120 and index.sources["schema"].title == "Schéma départemental des solidarités"
    assert all(c.page for c in index.chunks)
    for page in (1, 57, 120):
        c = next(c for c in index.chunks if f"La mesure {page}-3 " in c.text)
        assert c.page == page
        assert index.texts["schema"][c.start : c.end] == c.text
    paragraphs = len(info["paragraphs"])
    assert paragraphs == 480
    with capsys.disabled():
        print(f"\n120-page PDF, fake embedder: {seconds:.1f} s, {120 / seconds:.1f} pages/s, {paragraphs / seconds:.0f} paragraphs/s")


class SpanEmbedder(CountingEmbedder):
    """Like the real model: one pass per passage gives its sentences' vectors, which depend on the passage."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []

    def encode_with_spans(self, texts, spans):
        self.passages.extend(texts)
        pv = FakeEmbedder.encode(self, texts)
        sv = []
        for t, sp in zip(texts, spans):
            v = FakeEmbedder.encode(self, [t[a:b] for a, b in sp]) + 0.1 * FakeEmbedder.encode(self, [t])[0]
            sv.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        return pv, sv


def test_incremental_equals_full_when_sentences_are_pooled_in_their_passage(corpus, tmp_path):
    settings = fake_settings(tmp_path)
    build_index(corpus, tmp_path / "idx", settings, SpanEmbedder(), quiet=True)
    assert Index.load(tmp_path / "idx").meta["model"]["sentence_vectors"] == "pooled"
    (corpus / "guide.md").write_text(samples.GUIDE_MD, encoding="utf-8")
    add_entry(corpus, {"id": "guide", "file": "guide.md"})
    emb = SpanEmbedder()
    inc = build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    new = [c for c in inc.chunks if c.source_id == "guide"]
    assert sorted(emb.passages) == sorted(passage_text(c, settings) for c in new) and emb.texts == []
    full = build_index(corpus, tmp_path / "full", settings, SpanEmbedder(), quiet=True, full=True)
    same_index(inc, full, emb, settings)
