"""Gold items of a question file: paragraph numbers, or (source, paragraph) and (source, page)."""
from chat.evaluate import evaluate, gold_of
from ingest.model import Chunk
from tests.conftest import small_interview_index, use_decision


def passage(source_id: str, paragraph: int, page: int | None = None) -> Chunk:
    return Chunk(id="x", source_id=source_id, text="t", start=0, end=1, paragraph=paragraph, page=page,
                 section=None, speaker=None, role=None)


class _Index:
    """Just what gold_of reads: the sources, to find the interview bare numbers refer to."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.sources = {"rapport": SimpleNamespace(id="rapport", kind="report"), "itw": SimpleNamespace(id="itw", kind="interview")}


def is_right(chunk: Chunk, gold: list) -> bool:
    return gold_of({"gold": gold}, _Index()).holds(chunk)


def test_a_gold_item_names_a_paragraph_or_a_source_with_its_paragraph_or_page():
    assert is_right(passage("itw", 6), [6]) and not is_right(passage("itw", 6), [7])
    assert is_right(passage("itw", 6), [{"source": "itw", "paragraph": 6}])
    assert not is_right(passage("rapport", 6), [{"source": "itw", "paragraph": 6}])  # another source
    assert is_right(passage("rapport", 14, page=2), [{"source": "itw", "paragraph": 1}, {"source": "rapport", "page": 2}])
    assert not is_right(passage("rapport", 14, page=3), [{"source": "rapport", "page": 2}])
    assert not is_right(passage("rapport", 2, page=3), [{"source": "rapport", "page": 2}])  # a page is not a paragraph
    assert not is_right(passage("itw", 6), [])


def test_evaluate_scores_source_and_paragraph_gold_as_paragraph_numbers(monkeypatch):
    # the fake embedder's signals look off-topic to the shipped topic gate: without it, the
    # question is answered or uncertain, never refused, and only its gold decides "wrong"
    use_decision(monkeypatch, topic_at=0.0)
    index, emb, settings = small_interview_index()
    q = "Qui a ouvert la série de rencontres ?"
    by_number = evaluate([{"q": q, "gold": [6], "kind": "fact"}], index, emb, settings, modes=("fused",))
    by_source = evaluate([{"q": q, "gold": [{"source": "itw", "paragraph": 6}], "kind": "fact"}], index, emb, settings, modes=("fused",))
    elsewhere = evaluate([{"q": q, "gold": [{"source": "other", "paragraph": 6}], "kind": "fact"}], index, emb, settings, modes=("fused",))
    assert by_number["modes"]["fused"]["all"]["recall@1"]["value"] == 1.0
    assert by_source["modes"] == by_number["modes"] and by_source["wrong"] == []
    assert elsewhere["modes"]["fused"]["all"]["recall@3"]["value"] == 0.0 and len(elsewhere["wrong"]) == 1
