"""The Milvus backend on Milvus Lite (a temporary file): build, ask, filters, updates, and the
same answers as the local backend."""
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from chat.answer import answer
from chat.evaluate import evaluate, read_questions
from index.build import build_index, open_index
from index.incremental import source_states
from index.milvus import MilvusIndex, filter_expression, row_of
from index.protocol import SearchIndex
from index.lexical import analyze
from index.store import Filter
from index.texts import lexical_text
from ingest.manifest import add_entry, remove_entry
from tests.conftest import CORPUS, ROOT, free_port
from tests.data import make_samples as samples
from tests.ingest.helpers import CountingEmbedder, copy_corpus, fake_settings

QUESTIONS = [
    "Qui a ouvert la série de rencontres ?",
    "Combien de travailleurs sociaux le comité veut-il former ?",
    "Quel rôle pour la CAF ?",
    "Who organised the counter-summit?",
    "Quelle est la recette de la tarte aux pommes ?",
    # Questions about a person: the register (stored in Milvus) picks the introducing passage.
    "Qui est Katia Roux ?",
    "Que fait Thierry Breton ?",
    # Questions about a place in a document: Milvus reads the document's passages in one query.
    "Quelle est la troisième question de l'interview ?",
    "Comment se termine l'interview ?",
    # A paragraph by its number: ranked even when neither search finds it.
    "Que dit le § 30 de l'interview ?",
    "Que lit-on juste avant le passage sur l'accord avec le Rwanda ?",
]


def milvus(settings, tmp_path, name="m.db"):
    return replace(settings, backend="milvus", milvus_uri=str(tmp_path / name))


def local_scores(local, q, embedder, settings, where=None) -> dict[str, float]:
    """Every candidate's fused score in the local index, by chunk id."""
    hits = local.search(q, embedder.encode([q], query=True)[0], 50, settings, where)
    return {h.chunk.id: round(h.score, 4) for h in hits}


def same_answers(a, b, embedder, settings_a, settings_b, where=None, score_tolerance=1e-4) -> None:
    """``b`` answers as the local index ``a``: the same quotes, scores and confidence; a
    different passage only where the local index ranks both equal (ties go to the lower
    row, and rows are positions locally but chunk ids in Milvus)."""
    for q in QUESTIONS:
        x = answer(q, a, embedder, settings_a, where)
        y = answer(q, b, embedder, settings_b, where)
        assert x.answered == y.answered, q
        assert x.confidence == pytest.approx(y.confidence, abs=1e-4), q
        assert [p.score for p in x.passages] == pytest.approx([p.score for p in y.passages], abs=score_tolerance), q
        tie = local_scores(a, q, embedder, settings_a, where)
        for p, r in zip(x.passages, y.passages):
            if p.chunk.id != r.chunk.id:
                assert tie.get(p.chunk.id) == tie.get(r.chunk.id), (q, p.quote, r.quote)
            else:
                assert (p.quote, p.start, p.end, p.source) == (r.quote, r.start, r.end, r.source), q


def same_ranking(got, want) -> bool:
    """The same scores in the same order, and the same passages wherever a score is not tied
    (equal scores are ordered by row, and rows are positions locally but chunk ids in Milvus)."""
    scores = [round(h.score, 4) for h in want]
    if [round(h.score, 4) for h in got] != scores:
        return False
    return all(g.chunk.id == w.chunk.id for g, w, s in zip(got, want, scores) if scores.count(s) == 1)


@pytest.fixture
def corpus(tmp_path):
    c = copy_corpus(tmp_path)
    (c / "rapport.pdf").write_bytes(samples.report_pdf())
    add_entry(c, {"id": "rapport", "file": "rapport.pdf", "title": samples.REPORT_TITLE, "kind": "pdf"})
    return c


@pytest.mark.slow
def test_build_ask_and_updates_match_the_local_backend(corpus, tmp_path):
    local_settings = fake_settings(tmp_path)
    settings = milvus(local_settings, tmp_path)
    emb = CountingEmbedder()
    index = build_index(corpus, tmp_path / "unused", settings, emb, quiet=True)
    assert isinstance(index, MilvusIndex) and not (tmp_path / "unused").exists()
    local = build_index(corpus, tmp_path / "idx", local_settings, CountingEmbedder(), quiet=True)
    assert isinstance(index, SearchIndex) and isinstance(local, SearchIndex)
    states = {r["id"]: r["state"] for r in source_states(corpus, tmp_path / "unused", settings)}
    assert states["rapport"] == states["contre-sommet-ia-interview"] == "indexed"
    assert index.meta["counts"] == local.meta["counts"] and index.meta["written"]["passages"] == len(local.chunks)
    assert dict(index.sources) == local.sources and {s: index.texts[s] for s in index.texts} == local.texts
    assert index.facets() == local.facets() and index.language == local.language
    assert sorted(index.chunks) == sorted(row_of(c.id) for c in local.chunks)
    c = local.chunks[7]
    assert index.chunks[row_of(c.id)] == c
    # Every field of a passage comes back: its part, the people it reports (as Person), which
    # sentence reports whom, and the people it only names.
    typed = [c for c in local.chunks if c.reported or c.mentioned or c.part != "answer"]
    assert {c.part for c in typed} >= {"question", "closing", "introduction"} and any(c.reported_in for c in typed)
    assert all(index.chunks[row_of(c.id)] == c for c in typed)
    # The register of people is stored with the index, as people.json is locally.
    assert index.people == local.people and len(index.people) == index.meta["counts"]["people"] > 0
    assert [e.name for e in index.find_person("roux")] == [e.name for e in local.find_person("roux")] == ["Katia Roux"]
    assert (index.sentence_vectors_of(row_of(c.id)) == local.sentence_vectors_of(7)).all()
    same_answers(local, index, emb, local_settings, settings)

    # Reopened from the file alone (no corpus needed), it is not stale and answers the same.
    again = open_index(tmp_path / "no-corpus", tmp_path / "unused", settings, emb, rebuild="never")
    assert isinstance(again, MilvusIndex)
    assert again.people == local.people
    same_answers(local, again, emb, local_settings, settings)
    (roux,) = [e for e in local.people if e.name == "Katia Roux"]
    top = answer("Qui est Katia Roux ?", again, emb, settings).passages[0]
    assert (top.start, top.end) == roux.introduction and top.chunk.id == roux.introduced_in

    # A new source: only its passages are written; the others are kept as they are.
    (corpus / "guide.md").write_text(samples.GUIDE_MD, encoding="utf-8")
    add_entry(corpus, {"id": "guide", "file": "guide.md"})
    updated = build_index(corpus, tmp_path / "unused", settings, CountingEmbedder(), quiet=True)
    local = build_index(corpus, tmp_path / "idx", local_settings, CountingEmbedder(), quiet=True)
    new = [c for c in local.chunks if c.source_id == "guide"]
    assert updated.meta["written"] == {"passages": len(new), "deleted": 0, "kept": len(local.chunks) - len(new)}
    assert sorted(updated.chunks) == sorted(row_of(c.id) for c in local.chunks)
    assert "guide" in updated.sources and updated.texts["guide"] == local.texts["guide"]
    assert updated.people == local.people  # kept for the old sources, made for the new one
    body = next(c for c in new if c.part == "text")  # not its title, a frame ranked below content
    hits = updated.search(body.text, emb.encode([body.text], query=True)[0], 3, settings)
    assert hits[0].chunk == body

    # A removed source: its passages, sentences and text are deleted.
    removed = [row_of(c.id) for c in local.chunks if c.source_id == "rapport"]
    remove_entry(corpus, "rapport")
    updated = build_index(corpus, tmp_path / "unused", settings, CountingEmbedder(), quiet=True)
    local = build_index(corpus, tmp_path / "idx", local_settings, CountingEmbedder(), quiet=True)
    assert updated.meta["written"]["deleted"] == len(removed) and updated.meta["written"]["passages"] == 0
    assert sorted(updated.chunks) == sorted(row_of(c.id) for c in local.chunks)
    assert "rapport" not in updated.sources and "rapport" not in updated.texts
    left = updated.client.query(updated._sentences, filter=f"chunk in [{', '.join(map(str, removed))}]", output_fields=["pk"])
    assert left == []
    # Milvus Lite computes BM25 statistics per segment, and an update writes a new one (a
    # server computes them over the whole collection): fused scores may move a little.
    same_answers(local, updated, emb, local_settings, settings, score_tolerance=0.02)


@pytest.mark.slow
def test_filters_are_milvus_expressions_with_the_local_results(corpus, tmp_path):
    local_settings = fake_settings(tmp_path)
    settings = milvus(local_settings, tmp_path)
    emb = CountingEmbedder()
    index = build_index(corpus, tmp_path / "unused", settings, emb, quiet=True)
    local = build_index(corpus, tmp_path / "idx", local_settings, emb, quiet=True)
    reported = local.facets()["reported"]
    assert "Thierry Breton" in reported
    for where in (
        Filter(sources=frozenset({"rapport"})),
        Filter(people=frozenset({"Thierry Breton"})),
        Filter(people=frozenset({"Olivier Griffith", "Katia Roux"})),
        Filter(sources=frozenset({"contre-sommet-ia-interview"}), people=frozenset({"Thierry Breton"})),
    ):
        for q in QUESTIONS:
            qv = emb.encode([q], query=True)[0]
            got = index.search(q, qv, 10, settings, where)
            assert got and all(where.admits(h.chunk) for h in got), (where, q)
            want = local.search(q, qv, 10, local_settings, where)
            assert same_ranking(got, want), (where, q)
        same_answers(local, index, emb, local_settings, settings, where)
    assert index.search(QUESTIONS[0], emb.encode([QUESTIONS[0]], query=True)[0], 3, settings, Filter(people=frozenset({"Personne"}))) == []

    # Candidates of each side, and what the lexical side knows of a term, as locally.
    rows = {row_of(c.id): i for i, c in enumerate(local.chunks)}
    analysed = [set(analyze(lexical_text(c, local_settings))) for c in local.chunks]
    for q in QUESTIONS:
        qv = emb.encode([q], query=True)[0]
        found = index.candidates(q, qv, 20, Filter(sources=frozenset({"contre-sommet-ia-interview"})))
        scores, ids = local.vectors.search(qv.reshape(1, -1), len(local.chunks))
        allowed = [(int(r), float(d)) for r, d in zip(ids[0], scores[0]) if local.chunks[r].source_id == "contre-sommet-ia-interview"][:20]
        assert list(found.dense.values()) == pytest.approx([d for _, d in allowed], abs=1e-5)  # equal cosines may swap
        assert all(local.chunks[rows[r]].source_id == "contre-sommet-ia-interview" for r in [*found.dense, *found.lexical])
        assert all(found.cosine[r] == pytest.approx(float(local.vectors.reconstruct(rows[r]) @ qv), abs=1e-5) for r in found.lexical)
        for t in set(analyze(q)):
            assert sorted(rows[r] for r in index.lexical.postings(t)) == [i for i, a in enumerate(analysed) if t in a]
            df = sum(t in a for a in analysed)
            assert index.lexical.idf(t) == pytest.approx(np.log(1 + (len(analysed) - df + 0.5) / (df + 0.5)))
            assert index.lexical.knows(t) == local.lexical.knows(t)


def test_filter_expressions_quote_names():
    assert filter_expression(None) == "" and filter_expression(Filter()) == ""
    expr = filter_expression(Filter(sources=frozenset({"b", "a"}), people=frozenset({'Jean "Jo" d\'Arc'})))
    assert expr == 'source_id in ["a", "b"] and array_contains_any(people, ["Jean \\"Jo\\" d\'Arc"])'


@pytest.mark.slow
def test_dev_and_extra_questions_agree_with_the_local_backend(real_index, real_embedder, real_settings, tmp_path):
    """Same top passage on ≥ 95 % of questions (ties aside) and the same figures within 0.02
    (the held-out questions: tests/index/test_milvus_heldout.py)."""
    from index.milvus_write import save_to_milvus

    settings = milvus(real_settings, tmp_path)
    index = save_to_milvus(real_index, settings)
    rows = read_questions(CORPUS / "dev_questions.jsonl") + read_questions(ROOT / "tests/data/extra_questions.jsonl")
    same = ties = 0
    for r in rows:
        a = answer(r["q"], real_index, real_embedder, real_settings)
        b = answer(r["q"], index, real_embedder, settings)
        if a.passages[0].chunk.id == b.passages[0].chunk.id:
            same += 1
        elif abs(a.passages[0].score - b.passages[0].score) < 1e-5:
            ties += 1
    assert same / (len(rows) - ties) >= 0.95, (same, ties, len(rows))
    for path in (CORPUS / "dev_questions.jsonl", ROOT / "tests/data/extra_questions.jsonl"):
        questions = read_questions(path)
        want = evaluate(questions, real_index, real_embedder, real_settings, modes=("fused",))["modes"]["fused"]["all"]
        got = evaluate(questions, index, real_embedder, settings, modes=("fused",))["modes"]["fused"]["all"]
        for key, value in want.items():
            if isinstance(value, dict):
                assert got[key]["value"] == pytest.approx(value["value"], abs=0.02), (path.name, key)
            else:
                assert got[key] == value, (path.name, key)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chat.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_an_unreachable_milvus_is_one_line_with_the_uri_and_the_fix():
    url = f"http://127.0.0.1:{free_port()}"
    for command in (["ask", "Qui a ouvert la série de rencontres ?"], ["serve"], ["build"]):
        done = run_cli(*command, "--backend", "milvus", "--milvus-uri", url, "--quiet")
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert url in lines[0] and "docs/scale-out.md" in lines[0]
    done = run_cli("ask", "q", "--backend", "milvus", "--milvus-uri", "/tmp/not-a-db-file", "--quiet")
    assert done.returncode == 2 and "ending in .db" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_local_backend_never_imports_pymilvus(tmp_path):
    code = (
        "import sys; from tests.conftest import small_interview_index; from chat.answer import answer; "
        "import chat.cli, chat.web, index.build, index.milvus; "
        "index, emb, settings = small_interview_index(); answer('Qui a ouvert la série ?', index, emb, settings); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('pymilvus', 'milvus_lite')))))"
    )
    done = subprocess.run([sys.executable, "-c", "import json; " + code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_settings_name_a_milvus_uri(tmp_path):
    settings = fake_settings(tmp_path)
    with pytest.raises(ValueError, match="needs a milvus_uri"):
        replace(settings, backend="milvus")
    with pytest.raises(ValueError, match="backend must be local or milvus"):
        replace(settings, backend="faiss")


@pytest.mark.slow
def test_an_index_of_an_older_format_in_milvus_is_stale_and_not_reused(tmp_path):
    """Rows written before passages carried typed people and the register: the index is
    stale (rebuilt by `ask`/`serve`), and an update reuses none of its passages."""
    from index.milvus_write import _write_pieces, local_copy

    corpus = copy_corpus(tmp_path)
    settings = milvus(fake_settings(tmp_path), tmp_path)
    index = build_index(corpus, tmp_path / "unused", settings, CountingEmbedder(), quiet=True)
    assert index.stale_reason(settings, None, None) is None
    old = dict(index.meta, format=2)
    _write_pieces(index.client, index._store, "meta", "meta", json.dumps(old, ensure_ascii=False))
    index.client.close()
    assert local_copy(settings) is None
    reopened = MilvusIndex.load(settings)
    assert "format 2" in reopened.stale_reason(settings, None, None)
    reopened.client.close()
