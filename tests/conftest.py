"""Shared fixtures: the real corpus, a deterministic fake embedder, the real model once per session."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from index.lexical import analyze

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
INTERVIEW = CORPUS / "contre-sommet-ia-interview.txt"

# `verbatim ask` keeps the last conversation in the user's state folder; the tests keep
# theirs in a folder of their own (subprocesses inherit it).
os.environ["VERBATIM_STATE_DIR"] = tempfile.mkdtemp(prefix="verbatim-state-")


def ask_json(question: str, index, embedder, settings, where=None) -> dict:
    """The object ``verbatim ask --json`` and ``/api/ask`` give for a question asked alone."""
    from chat.answer import answer
    from chat.conversation import resolve, turn_dict

    understood = resolve(question, None)
    return turn_dict(understood, answer(understood.searched, index, embedder, settings, where))


class FakeEmbedder:
    """Hashes analysed words into a normalised bag-of-words vector: same text, same vector."""

    name = "fake"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0

    def encode(self, texts, *, query: bool = False) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in analyze(t) or re.findall(r"\w+", t.lower()) or ["∅"]:
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out


class FakeLatent:
    """Latent terms for tests: each analysed word lights one feature (words given as
    synonyms light the same one), weight 1; remembers the texts it encoded."""

    def __init__(self, synonyms: dict[str, str] | None = None) -> None:
        self.info = {"encoder": "fake-latent", "version": "1", "top_k": 64}
        self.synonyms = synonyms or {}
        self.texts: list[str] = []
        self.questions = self

    def encode(self, texts):
        out = []
        for t in texts:
            self.texts.append(t)
            words = {self.synonyms.get(w, w) for w in analyze(t)}
            feats = sorted({int(hashlib.md5(w.encode()).hexdigest(), 16) % 4096 for w in words})
            out.append((np.array(feats, dtype=np.int32), np.ones(len(feats), dtype=np.float32)))
        return out


class LatentFakeEmbedder(FakeEmbedder):
    """The FakeEmbedder with latent terms (``index.latent``)."""

    def __init__(self, dim: int = 64, synonyms: dict[str, str] | None = None) -> None:
        super().__init__(dim)
        self.latent = FakeLatent(synonyms)


def copy_corpus(tmp: Path) -> Path:
    """A private copy of the real corpus (without its index), safe to modify."""
    import shutil

    dest = tmp / "corpus"
    shutil.copytree(CORPUS, dest, ignore=shutil.ignore_patterns(".index*", ".cache"))
    return dest


def fake_model_dir(tmp: Path) -> Path:
    """A model folder for the FakeEmbedder: its identity is what meta.json records."""
    model = tmp / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    return model


def use_decision(monkeypatch, **changes) -> None:
    """Make every answer use the shipped decision with these fields changed (e.g. its
    thresholds, or ``topic_at=0.0`` to turn its topic gate off)."""
    from dataclasses import replace

    import chat.answer
    from chat.decision import load_decision

    d = replace(load_decision(), **changes)
    monkeypatch.setattr(chat.answer, "load_decision", lambda: d)


def small_interview_index():
    """The interview parsed and chunked without attribution (no spaCy), indexed in memory
    with the FakeEmbedder: an index in well under a second. Returns (index, embedder, settings)."""
    from index.settings import Settings
    from index.store import Index
    from ingest.chunk import chunk
    from ingest.model import Document, Source
    from ingest.parse import extract_links, parse

    text = INTERVIEW.read_text(encoding="utf-8")
    source = Source(id="itw", title="Contre-sommet", kind="interview", interviewee="Olivier Griffith",
                    publisher="Le blog de Didier Dubasque", url="https://dubasque.org/x")
    paragraphs = parse(text, source)
    doc = Document(source=source, text=text, paragraphs=tuple(paragraphs), links=tuple(extract_links(paragraphs)))
    settings = Settings(model_dir="fake", min_confidence=0.0)
    emb = FakeEmbedder()
    index = Index.build([doc], chunk(doc, settings.chunking), emb, settings, "small", {"name": "fake", "id": "fake", "dimension": emb.dim})
    return index, emb, settings


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def interview_text() -> str:
    return INTERVIEW.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def documents():
    """The real corpus, parsed and attributed (spaCy loads once)."""
    from index.build import load_documents

    return load_documents(CORPUS)


@pytest.fixture(scope="session")
def interview(documents):
    return next(d for d in documents if d.source.kind == "interview")


@pytest.fixture(scope="session")
def real_model_dir(tmp_path_factory) -> Path:
    """The bundled model, converted once per session into a temporary folder."""
    from index.convert import convert

    return convert(tmp_path_factory.mktemp("model") / "e5")


@pytest.fixture(scope="session")
def real_embedder(real_model_dir):
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(real_model_dir)


@pytest.fixture(scope="session")
def real_settings(real_model_dir):
    from index.settings import Settings

    return Settings(model_dir=real_model_dir)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, real_settings, real_embedder):
    """The real corpus indexed with the real model, once per session."""
    from index.build import build_index

    path = tmp_path_factory.mktemp("index") / "idx"
    return build_index(CORPUS, path, real_settings, real_embedder, quiet=True)


@pytest.fixture(scope="session")
def eval_corpus(tmp_path_factory) -> Path:
    """The evaluation corpus of the held-out questions (the interview and four generated
    documents, tests/data/eval_corpus.py), written once per session: do not modify it."""
    from tests.data.eval_corpus import write_eval_corpus

    return write_eval_corpus(tmp_path_factory.mktemp("eval") / "corpus")


@pytest.fixture(scope="session")
def dev_questions() -> list[dict]:
    import json

    return [json.loads(line) for line in (CORPUS / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def real_server(real_index, real_embedder, real_settings):
    """The chat page over the real index, served on 127.0.0.1 once per session."""
    from chat.web import serve

    port = free_port()
    app = serve(real_index, real_embedder, real_settings, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="session")
def eval_index(eval_corpus, tmp_path_factory, real_settings, real_embedder):
    """The evaluation corpus indexed with the real model, once per session."""
    from index.build import build_index

    return build_index(eval_corpus, tmp_path_factory.mktemp("eval-index") / "idx", real_settings, real_embedder, quiet=True)
