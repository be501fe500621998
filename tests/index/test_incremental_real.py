"""The real model on documents added to the real corpus: quotes, pages, attribution; incremental = full."""
import numpy as np
import pytest

from chat.answer import answer
from index.build import build_index
from ingest.manifest import add_entry
from tests.data import make_samples as samples
from tests.ingest.helpers import copy_corpus

pytestmark = pytest.mark.slow


def test_added_pdf_and_web_page_answer_with_the_real_model(tmp_path, real_embedder, real_settings):
    corpus = copy_corpus(tmp_path)
    first = build_index(corpus, tmp_path / "idx", real_settings, real_embedder, quiet=True)
    (corpus / "rapport.pdf").write_bytes(samples.report_pdf())
    (corpus / "tablettes.html").write_text(samples.ARTICLE_HTML, encoding="utf-8")
    add_entry(corpus, {"id": "rapport", "file": "rapport.pdf"})
    add_entry(corpus, {"id": "tablettes", "file": "tablettes.html", "url": "https://journal.example/tablettes"})
    index = build_index(corpus, tmp_path / "idx", real_settings, real_embedder, quiet=True)
    info = index.meta["ingest"]
    assert info["reused_sources"] == ["contre-sommet-ia-interview"]
    new_chunks = sum(1 for c in index.chunks if c.source_id in ("rapport", "tablettes"))
    assert info["embedded"] == new_chunks  # one model pass per new passage, none for the interview

    ans = answer("Combien de travailleurs sociaux faut-il former à l'accompagnement numérique ?", index, real_embedder, real_settings)
    top = ans.to_dict()["passages"][0]
    assert ans.level != "none" and top["source"]["id"] == "rapport"
    assert "quatre mille deux cents travailleurs sociaux" in top["quote"] and top["page"] == 2
    assert index.texts["rapport"][top["start"] : top["end"]] == top["quote"]
    assert top["speaker"] == samples.REPORT_AUTHOR and top["section"] == "Recommandations"

    ans = answer("Quelle bibliothèque prête des tablettes aux personnes âgées ?", index, real_embedder, real_settings)
    top = ans.to_dict()["passages"][0]
    assert ans.level != "none" and top["source"]["id"] == "tablettes" and "Villeurbanne" in top["quote"]
    assert top["speaker"] == "Lucie Martin" and top["quote_url"].startswith("https://journal.example/tablettes#:~:text=")

    # the interview still answers as before
    breton = answer("Qui a ouvert la série de rencontres ?", index, real_embedder, real_settings).passages[0]
    assert breton.chunk.paragraph == 6 and "Thierry Breton" in breton.quote
    assert breton.quote == answer("Qui a ouvert la série de rencontres ?", first, real_embedder, real_settings).passages[0].quote

    full = build_index(corpus, tmp_path / "full", real_settings, real_embedder, quiet=True, full=True)
    assert [c.id for c in full.chunks] == [c.id for c in index.chunks]
    n = full.vectors.ntotal
    diff = np.abs(full.vectors.reconstruct_n(0, n) - index.vectors.reconstruct_n(0, n)).max()
    sdiff = np.abs(full.sentence_vectors - index.sentence_vectors).max()
    assert diff < 1e-5 and sdiff < 1e-5, (diff, sdiff)  # the model's float noise across batch compositions
    for q in ("Qui a ouvert la série de rencontres ?", "Combien de travailleurs sociaux faut-il former ?",
              "Quelle bibliothèque prête des tablettes ?", "Que dit l'avis du HCTS ?"):
        a, b = answer(q, index, real_embedder, real_settings), answer(q, full, real_embedder, real_settings)
        assert [(p.quote, p.start) for p in a.passages] == [(p.quote, p.start) for p in b.passages], q
