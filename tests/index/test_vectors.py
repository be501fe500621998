import numpy as np
import pytest

from chat.answer import answer
from chat.evaluate import read_questions
from index.build import build_index
from index.settings import Settings
from index.store import Index, top_rows
from index.vectors import ivf_lists, make_vector_index
from tests.conftest import CORPUS, ROOT


def _unit(n, d, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_small_corpora_get_exact_search():
    index, desc = make_vector_index(_unit(500, 32), exact_max_passages=1000, nprobe=8)
    assert desc["type"] == "flat" and index.ntotal == 500


def test_above_the_threshold_an_ivf_index_with_the_same_neighbours():
    x = _unit(4000, 32)
    index, desc = make_vector_index(x, exact_max_passages=1000, nprobe=ivf_lists(4000))
    assert desc["type"] == "ivf-sq8" and desc["nlist"] == ivf_lists(4000) and index.ntotal == 4000
    q = _unit(20, 32, seed=1)
    _, got = index.search(q, 10)
    exact = np.argsort(-(q @ x.T), axis=1)[:, :10]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, exact)])
    assert recall >= 0.95  # every list probed: only 8-bit rounding differs
    assert np.allclose(index.reconstruct(7), x[7], atol=0.02)


def test_top_rows_matches_a_full_sort():
    rng = np.random.default_rng(3)
    s = np.where(rng.random(1000) < 0.3, rng.random(1000), 0.0)
    s[10] = s[20] = 0.99  # a tie: the lower row first
    full = [int(r) for r in np.argsort(-s, kind="stable") if s[r] > 0][:50]
    assert top_rows(s, 50) == full
    assert top_rows(np.zeros(5), 3) == []


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory):
    from tests.conftest import FakeEmbedder, copy_corpus, fake_model_dir

    tmp = tmp_path_factory.mktemp("switch")
    corpus = copy_corpus(tmp)
    model = fake_model_dir(tmp)
    emb = FakeEmbedder(dim=64)
    flat_settings = Settings(model_dir=model)
    # Forced threshold: the small corpus gets the approximate index; nprobe covers all lists.
    ivf_settings = Settings(model_dir=model, exact_max_passages=10, ivf_nprobe=1000)
    flat = build_index(corpus, tmp / "flat", flat_settings, emb, quiet=True)
    build_index(corpus, tmp / "ivf", ivf_settings, emb, quiet=True)
    return emb, (flat, flat_settings), (Index.load(tmp / "ivf"), ivf_settings)


def test_same_results_after_the_index_type_switch(two_indexes):
    emb, (flat, fs), (ivf, is_) = two_indexes
    assert flat.meta["vector_index"]["type"] == "flat"
    assert ivf.meta["vector_index"]["type"] == "ivf-sq8"
    rows = read_questions(CORPUS / "dev_questions.jsonl") + read_questions(ROOT / "tests" / "data" / "extra_questions.jsonl")
    same_top = 0
    for r in rows:
        a = answer(r["q"], flat, emb, fs)
        b = answer(r["q"], ivf, emb, is_)
        same_top += bool(a.passages) and bool(b.passages) and a.passages[0].chunk.id == b.passages[0].chunk.id
        for p in b.passages:  # still verbatim
            assert ivf.texts[p.source["id"]][p.start : p.end] == p.quote
    assert same_top >= 0.95 * len(rows), f"{same_top}/{len(rows)}"


def test_filtered_search_works_on_the_approximate_index(two_indexes):
    """A filter on an IVF index used to raise "IndexIVF params have incorrect type"."""
    from index.store import Filter

    emb, (flat, fs), (ivf, is_) = two_indexes
    q = "Qui a ouvert la série de rencontres ?"
    qv = emb.encode([q], query=True)[0]
    people = Filter(people=frozenset({"Olivier Griffith"}))
    for index, settings in ((flat, fs), (ivf, is_)):
        hits = index.search(q, qv, 5, settings, where=people)
        assert hits and all(people.admits(h.chunk) for h in hits)
    flat_rows = [h.row for h in flat.search(q, qv, 5, fs, where=people)]
    ivf_rows = [h.row for h in ivf.search(q, qv, 5, is_, where=people)]
    assert flat_rows[0] == ivf_rows[0]  # every list probed: the same best passage
    ans = answer(q, ivf, emb, is_, where=Filter(sources=frozenset({ivf.chunks[0].source_id})))
    assert ans.passages and {p.source["id"] for p in ans.passages} == {ivf.chunks[0].source_id}


def test_ivf_nprobe_applies_at_query_time():
    """The setting reaches an index already built: it used to count only when building."""
    from index.vectors import search

    x = _unit(4000, 32)
    index, desc = make_vector_index(x, exact_max_passages=1000, nprobe=ivf_lists(4000))
    q = _unit(50, 32, seed=2)
    exact = np.argsort(-(q @ x.T), axis=1)[:, :10]

    def recall(rows):
        return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact)])

    _, few = search(index, q, 10, nprobe=1)
    _, all_lists = search(index, q, 10, nprobe=desc["nlist"])
    assert recall(few) < 0.8 <= 0.95 <= recall(all_lists)
    _, again = search(index, q, 10, nprobe=1000)  # clamped to the number of lists
    assert np.array_equal(again, all_lists)
    ids = np.arange(0, 4000, 2, dtype=np.int64)  # a filter, as the page's
    _, even = search(index, q, 10, nprobe=1, ids=ids)
    assert (even[even >= 0] % 2 == 0).all()


def _people_outside_their_own_probed_list(index, emb):
    """People none of whose passages lie in the one list an nprobe=1 search of their name scans."""
    import faiss

    ivf = faiss.extract_index_ivf(index.vectors)
    rows = np.vstack([index.vectors.reconstruct(r) for r in range(len(index.chunks))])
    lists = ivf.quantizer.search(rows, 1)[1][:, 0]
    people: dict[str, set[int]] = {}
    for r, c in enumerate(index.chunks):
        for name in {c.speaker, *(x.name for x in c.reported)} - {None}:
            people.setdefault(name, set()).add(int(lists[r]))
    out = []
    for name, in_lists in sorted(people.items()):
        probed = int(ivf.quantizer.search(emb.encode([name], query=True), 1)[1][0][0])
        if probed not in in_lists:
            out.append(name)
    return out


@pytest.fixture(scope="module")
def fine_ivf(tmp_path_factory):
    """The interview in one-sentence passages on a forced IVF index: enough passages for two lists."""
    from ingest.chunk import ChunkSettings
    from tests.conftest import FakeEmbedder, copy_corpus, fake_model_dir

    tmp = tmp_path_factory.mktemp("fine")
    settings = Settings(model_dir=fake_model_dir(tmp), exact_max_passages=10, ivf_nprobe=1000,
                        chunking=ChunkSettings(max_sentences=1, max_chars=200))
    index = build_index(copy_corpus(tmp), tmp / "ivf", settings, FakeEmbedder(dim=64), quiet=True)
    assert index.meta["vector_index"]["nlist"] >= 2
    return index, settings


@pytest.mark.parametrize("fusion", ["weighted", "rrf", "dense", "lexical"])
def test_every_fusion_mode_on_empty_and_one_sided_candidates(two_indexes, fine_ivf, fusion):
    """No dense candidate used to reach min() over nothing (weighted) or drop the lexical ones."""
    from dataclasses import replace

    from index.store import Filter

    emb, (flat, fs), _ = two_indexes
    ivf, is_ = fine_ivf
    one_list = replace(is_, fusion=fusion, ivf_nprobe=1)
    # Dense side empty, lexical side not: the filter keeps passages the probed list lacks.
    outside = _people_outside_their_own_probed_list(ivf, emb)
    assert outside, "the test needs a person outside the probed list"
    name = outside[0]
    where = Filter(people=frozenset({name}))
    hits = ivf.search(name, emb.encode([name], query=True)[0], 5, one_list, where=where)
    assert hits and all(where.admits(h.chunk) for h in hits)
    assert all(h.dense_rank is None and h.lexical_rank is not None for h in hits), (name, [(h.row, h.dense_rank, h.lexical_rank) for h in hits])
    for h in hits:  # a passage found by BM25 alone still gets its real cosine
        assert h.dense == pytest.approx(float(ivf.vectors.reconstruct(h.row) @ emb.encode([name], query=True)[0]), abs=1e-5)
    # Both sides empty: words the corpus never uses, and nothing in the probed list.
    nothing = "zzqx wvvk"
    assert ivf.search(nothing, emb.encode([name], query=True)[0], 5, one_list, where=where) == []
    # Lexical side empty, dense side not.
    settings = replace(fs, fusion=fusion)
    hits = flat.search(nothing, emb.encode(["Thierry Breton"], query=True)[0], 5, settings)
    assert len(hits) == 5 and all(h.lexical_rank is None and h.dense_rank is not None for h in hits)
    if fusion != "lexical":  # lexical-only ranking has no evidence to order them by
        assert [h.row for h in hits] == sorted((h.row for h in hits), key=lambda r: -flat.vectors.reconstruct(r) @ emb.encode(["Thierry Breton"], query=True)[0])
