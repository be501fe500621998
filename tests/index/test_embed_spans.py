"""One pass per passage gives its vector and its sentences' vectors."""
import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_passage_vectors_are_exactly_encode(real_embedder):
    texts = ["Cette série de rencontres a été ouverte par Thierry Breton. Il nous a rappelé l’histoire de l’informatique.",
             "Court.", "Une autre phrase, plus longue, sur la CAF et ses algorithmes de contrôle des allocataires."]
    spans = [[(0, 58), (59, len(texts[0]))], [(0, 6)], [(0, len(texts[2]))]]
    passages, sentences = real_embedder.encode_with_spans(texts, spans)
    assert np.allclose(passages, real_embedder.encode(texts), atol=1e-5)
    assert [len(s) for s in sentences] == [2, 1, 1]
    for block in sentences:
        assert np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-5)
    q = real_embedder.encode(["Qui a ouvert les rencontres ?"], query=True)[0]
    breton, history = sentences[0] @ q
    assert breton > history  # each sentence keeps its own meaning


def test_a_span_beyond_the_length_limit_is_embedded_alone(real_embedder):
    long = "mot " * 2000 + "Phrase finale sur Thierry Breton."
    tail = (len(long) - len("Phrase finale sur Thierry Breton."), len(long))
    _, sentences = real_embedder.encode_with_spans([long], [[tail]])
    alone = real_embedder.encode(["Phrase finale sur Thierry Breton."])[0]
    assert np.allclose(sentences[0][0], alone, atol=1e-5)
