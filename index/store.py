# Over 400 lines because the local index's data, its checked save/load and its search share one private layout.
"""The index: dense vectors (FAISS), BM25, passages and source texts, saved as a folder.

On disk an index is a folder holding ``vectors.faiss``, ``chunks.jsonl`` (row i is
FAISS id i), ``sentences.npy`` (one vector per sentence of every passage, in order),
``lexical/`` (BM25), ``sources.json`` (metadata and extracted text of every source),
``people.json`` (the register of people, see ``ingest.people``), ``latent.npz`` (the passages'
latent terms, see ``index.latent``) and ``meta.json`` (model, dimension, settings, corpus hash, versions, checksums).
The path the user names is a symbolic link to the current version of that folder,
so that replacing an index is one atomic rename: a reader sees the old index or the
new one, never a half-written one.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ingest.corpus import ingest_version
from ingest.errors import CorpusError, VerbatimError
from ingest.files import file_sha256
from ingest.model import Chunk, Document, RegisterEntry, Source
from index.embed import Embedder
from index.fusion import Evidence, best, rank
from index.latent import FILE as LATENT_FILE
from index.latent import LatentEncoder, LatentTerms, Sparse, encoder_for, latent_of
from index.lexical import LexicalIndex
from index.settings import Settings
from index.structure import document_rows
from index.texts import lexical_text, passage_spans, passage_text
from index.vectors import configure, make_vector_index
from index.vectors import search as search_vectors

FORMAT = 4  # 4: latent.npz holds the passages' latent terms
_FILES = ("vectors.faiss", "chunks.jsonl", "sentences.npy", "centroid.npy", "sources.json", "people.json", LATENT_FILE)
ProgressFn = Callable[[int, int], None]


class IndexLoadError(VerbatimError, RuntimeError):
    """The index on disk is missing, incomplete or corrupt."""


class StaleIndexError(VerbatimError, RuntimeError):
    """The index does not match the corpus, the model or the settings."""


@dataclass(frozen=True)
class Filter:
    """Restrict a search to some sources and to passages said or reported by some people."""

    sources: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.sources or self.people)

    def admits(self, chunk: Chunk) -> bool:
        if self.sources and chunk.source_id not in self.sources:
            return False
        if self.people:
            names = {chunk.speaker} | {p.name for p in chunk.reported}
            if not names & self.people:
                return False
        return True


@dataclass(frozen=True)
class Hit:
    """One passage found for a question, with the evidence behind its rank."""

    row: int
    chunk: Chunk
    score: float  # fused score (higher is better)
    dense: float  # cosine between question and passage
    lexical: float  # BM25 score
    dense_rank: int | None
    lexical_rank: int | None
    word_match: float | None = None  # the fusion's word match, when it computed one (the decision reads it)
    asked: bool = False  # the question asks for this passage's part by name (index.fusion.asked_rows)


def top_rows(scores: np.ndarray, k: int) -> list[int]:
    """Rows of the ``k`` highest positive scores, best first (ties by row), without a full sort."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    return [int(r) for r in positive[order]]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("verbatim", "faiss-cpu", "bm25s", "sentence-transformers", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


class Index:
    """Passages of a corpus with their dense and lexical indexes."""

    def __init__(
        self,
        chunks: list[Chunk],
        sources: dict[str, Source],
        texts: dict[str, str],
        vectors,  # faiss.Index
        sentence_vectors: np.ndarray,
        lexical: LexicalIndex,
        meta: dict,
        centroid: np.ndarray | None = None,
        people: Sequence[RegisterEntry] = (),
        latent: LatentTerms | None = None,
        latent_encoder: LatentEncoder | None = None,
    ) -> None:
        self.chunks = chunks
        self.sources = sources
        self.texts = texts
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.lexical = lexical
        self.meta = meta
        self.people = tuple(people)  # the register: every person named in the corpus
        # The mean passage vector: q · centroid is the mean cosine of q to all passages,
        # the background a relevant passage must stand out from.
        self.centroid = centroid if centroid is not None else np.zeros(vectors.d, dtype=np.float32)
        counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
        self._sentence_start = np.concatenate([[0], np.cumsum(counts)])
        self._rows: dict[str, int] | None = None  # chunk id -> row, made on first use
        self._people_facets: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # speakers, reported; on first use
        self.latent = latent if latent is not None else LatentTerms.none(len(chunks))
        # The encoder of questions' latent vectors: the one given (the building encoder's
        # ``questions``), else the one meta.json names; None leaves the latent match out.
        self._latent_encoder = latent_encoder
        self._documents: dict[str, list[tuple[int, Chunk]]] | None = None  # built at the first question about a place

    # -- building -----------------------------------------------------------------
    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        chunks: Sequence[Chunk],
        embedder: Embedder,
        settings: Settings,
        corpus_hash: str,
        model_info: dict,
        progress: ProgressFn | None = None,
        batch_size: int = 64,
        people: Sequence[RegisterEntry] = (),
    ) -> Index:
        """Embed every passage and every sentence, and index them; ``people`` is the register."""
        chunks = list(chunks)
        if not chunks:
            raise CorpusError("the corpus has no passage to index (are all its documents empty?)")
        texts = {d.source.id: d.text for d in documents}
        passages = [passage_text(c, settings) for c in chunks]
        n_sentences = sum(len(c.sentences) for c in chunks)
        done = 0
        encoder = latent_of(embedder)
        latent_vectors: list = []
        with_spans = getattr(embedder, "encode_with_spans", None)
        if with_spans is not None:
            # One pass per passage gives its vector and its sentences' vectors.
            parts_p, parts_s = [], []
            # Large groups: the embedder sorts a group by length, and less padding is faster.
            group = max(batch_size, 1024)
            for i in range(0, len(chunks), group):
                batch = chunks[i : i + group]
                texts_b = passages[i : i + group]
                spans = [passage_spans(c, t) for c, t in zip(batch, texts_b)]
                pv, sv = with_spans(texts_b, spans)
                parts_p.append(pv)
                parts_s.extend(sv)
                if encoder is not None:
                    # Right after their pass: the embedder keeps the last pass's latent terms only.
                    latent_vectors.extend(encoder.encode(texts_b))
                done += len(batch)
                if progress:
                    progress(done, len(chunks))
            passage_vectors = np.vstack(parts_p)
            sentence_vectors = np.vstack(parts_s) if parts_s else np.zeros((0, embedder.dim), np.float32)
        else:
            sentences = [texts[c.source_id][s:e] for c in chunks for s, e in c.sentences]
            todo = len(passages) + len(sentences)

            def embed(items: list[str]) -> np.ndarray:
                nonlocal done
                parts = []
                for i in range(0, len(items), batch_size):
                    batch = items[i : i + batch_size]
                    parts.append(embedder.encode(batch))
                    done += len(batch)
                    if progress:
                        progress(done, todo)
                return np.vstack(parts) if parts else np.zeros((0, embedder.dim), np.float32)

            passage_vectors = embed(passages)
            sentence_vectors = embed(sentences)
            if encoder is not None:
                latent_vectors = encoder.encode(passages)
        latent = LatentTerms.of(latent_vectors, encoder.info) if encoder is not None else LatentTerms.none(len(chunks))
        vectors, vector_index = make_vector_index(passage_vectors, settings.exact_max_passages, settings.ivf_nprobe)
        lexical = LexicalIndex.build([lexical_text(c, settings) for c in chunks])
        meta = {
            "format": FORMAT,
            "model": model_info,
            "dimension": embedder.dim,
            "settings": settings.index_params(),
            "search": settings.search_params(),
            "vector_index": vector_index,
            "latent": latent.info,
            "corpus_hash": corpus_hash,
            "counts": {"sources": len(documents), "chunks": len(chunks), "sentences": n_sentences, "people": len(people)},
            "versions": _versions(),
            "built_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        sources = {d.source.id: d.source for d in documents}
        centroid = passage_vectors.mean(axis=0).astype(np.float32)
        return cls(chunks, sources, texts, vectors, sentence_vectors.astype(np.float32), lexical, meta, centroid, people,
                   latent, encoder.questions if encoder is not None else None)

    # -- searching ----------------------------------------------------------------
    @property
    def language(self) -> str:
        """The language most of the corpus's sources are written in."""
        langs = [s.language for s in self.sources.values()]
        return max(set(langs), key=langs.count) if langs else "fr"

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """The vectors of the sentences of passage ``row``, in order."""
        return self.sentence_vectors[self._sentence_start[row] : self._sentence_start[row + 1]]

    def facets(self) -> dict[str, list]:
        """What a search can be restricted to: sources, and people who speak or are reported."""
        # Read once: a page turn and a follow-up ask for them, and a large corpus has a million passages to walk.
        if self._people_facets is None:
            speakers = sorted({c.speaker for c in self.chunks if c.speaker})
            reported = sorted({p.name for c in self.chunks for p in c.reported} - set(speakers))
            self._people_facets = (tuple(speakers), tuple(reported))
        speakers, reported = self._people_facets
        return {
            "sources": [(s.id, s.title) for s in self.sources.values()],
            "speakers": list(speakers),
            "reported": list(reported),
        }

    def find_person(self, text: str) -> list[RegisterEntry]:
        """Register entries whose name matches ``text`` ("roux", "Katia Roux", "boutron marmion")."""
        from ingest.people import find_person

        return find_person(self.people, text)

    def passage(self, chunk_id: str) -> tuple[int, Chunk, np.ndarray] | None:
        """The row, passage and vector of a chunk id (a register entry's ``introduced_in``), or None."""
        if self._rows is None:
            self._rows = {c.id: i for i, c in enumerate(self.chunks)}
        row = self._rows.get(chunk_id)
        if row is None:
            return None
        return row, self.chunks[row], np.asarray(self.vectors.reconstruct(row), dtype=np.float32)

    def search(
        self,
        question: str,
        question_vector: np.ndarray,
        k: int,
        settings: Settings,
        where: Filter | None = None,
        same_language: bool = True,
    ) -> list[Hit]:
        """The ``k`` best passages for a question, by fused dense and lexical evidence.

        ``same_language`` is false for a question in another language than the corpus:
        the words it shares with the corpus are then accidents ("social" in English and
        French), and the lexical side is damped so that it does not drown the dense one.
        """
        n = len(self.chunks)
        depth = min(n, max(50, 10 * k))
        q = np.ascontiguousarray(question_vector.reshape(1, -1), dtype=np.float32)
        ids = None
        allowed = None
        if where:
            allowed = np.array([where.admits(c) for c in self.chunks], dtype=bool)
            if not allowed.any():
                return []
            ids = np.flatnonzero(allowed).astype(np.int64)
            depth = min(depth, len(ids))
        dense_scores, dense_rows = search_vectors(self.vectors, q, depth, settings.ivf_nprobe, ids)
        dense = {int(r): float(s) for r, s in zip(dense_rows[0], dense_scores[0]) if r >= 0}
        dense_rank = {r: i for i, r in enumerate(dense)}
        lex_all = self.lexical.scores(question)
        if allowed is not None:
            lex_all = np.where(allowed, lex_all, 0.0).astype(np.float32)
        lex_rows = top_rows(lex_all, depth)
        lexical_rank = {r: i for i, r in enumerate(lex_rows)}
        candidates = set(dense) | set(lex_rows)
        if not candidates:
            return []
        # One side may be empty (no dense row in the probed lists of a filtered IVF search,
        # no word shared with the corpus): the other then ranks alone (index.fusion).
        lexical = {r: float(lex_all[r]) for r in candidates}
        ranking = rank(question, Evidence(dense, lexical, lex_rows, float(lex_all.max()) if len(lex_all) else 0.0), settings,
                       same_language, self, where.admits if where else None)
        order = best(ranking.scores, k)
        missing = [r for r in order if r not in dense]
        if missing:
            # Passages found by BM25 alone, or by the place asked for, still get their real
            # cosine, for confidence.
            rec = np.vstack([self.vectors.reconstruct(r) for r in missing])
            for r, s in zip(missing, rec @ q[0]):
                dense[r] = float(s)
        return [
            Hit(r, self.chunks[r], float(ranking.scores[r]), dense[r], float(lex_all[r]), dense_rank.get(r), lexical_rank.get(r),
                ranking.word_match.get(r), r in ranking.asked)
            for r in order
        ]

    def latent_row(self, row: int) -> Sparse:
        """The latent vector of passage ``row`` (empty when the index has none)."""
        return self.latent.row(row)

    def latent_scores(self, query: Sparse, rows: Collection[int]) -> dict[int, float]:
        """The latent match of each of ``rows`` with a question's latent vector."""
        return self.latent.scores(query, rows)

    def chunk(self, row: int) -> Chunk:
        """The passage of a row."""
        return self.chunks[row]

    def document(self, source_id: str) -> Sequence[tuple[int, Chunk]]:
        """A document's (row, passage) in reading order."""
        if self._documents is None:
            self._documents = document_rows(self.chunks)
        return self._documents.get(source_id, [])

    @property
    def latent_encoder(self) -> LatentEncoder | None:
        """The encoder of questions' latent vectors for this index, or None (no latent terms)."""
        if self._latent_encoder is None and self.latent:
            self._latent_encoder = encoder_for(self.latent.info)
        return self._latent_encoder

    # -- checking -----------------------------------------------------------------
    def stale_reason(self, settings: Settings, corpus_hash: str | None, model_info: dict | None) -> str | None:
        """Why this index no longer matches the corpus, model or settings, or None."""
        if self.meta.get("format") != FORMAT:
            return f"it was written in format {self.meta.get('format')} and this version reads format {FORMAT}"
        if corpus_hash is not None and self.meta.get("corpus_hash") != corpus_hash:
            return "the corpus has changed since it was built"
        # The passages, people and links are what the code reading the documents made of them:
        # after an upgrade of that code, the same bytes may give other passages. Only where the
        # corpus is at hand (a replica serving Milvus has none to read again).
        if corpus_hash is not None and (self.meta.get("ingest") or {}).get("version") != ingest_version():
            return "its passages were made by another version of the code that reads documents"
        if self.meta.get("settings") != settings.index_params():
            return "it was built with other chunking settings"
        if model_info is not None:
            built = self.meta.get("model", {})
            if built.get("id") != model_info.get("id"):
                return f"it was built with the model {built.get('name')!r} and the current model is {model_info.get('name')!r}"
            if self.meta.get("dimension") != model_info.get("dimension", self.meta.get("dimension")):
                return f"its vectors have dimension {self.meta.get('dimension')} and the model gives {model_info.get('dimension')}"
            if "latent" in model_info and self.meta.get("latent") != model_info["latent"]:
                return f"its latent terms were made by {_encoder_name(self.meta.get('latent'))} and the model gives them by {_encoder_name(model_info['latent'])}"
            method = model_info.get("sentence_vectors")
            if method is not None and built.get("sentence_vectors") != method:
                return f"its sentence vectors were made {'another way' if built.get('sentence_vectors') is None else repr(built.get('sentence_vectors'))} and this version makes them {method!r}"
        return None

    # -- saving and loading -------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write the index to ``path`` atomically; return the folder written.

        Saves to one path take turns (a lock file beside it): the clean-up of one never
        removes the version another is about to swap in.
        """
        import fcntl

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / f"{path.name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            return self._save(path)

    def _save(self, path: Path) -> Path:
        import faiss

        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        target = path.parent / f"{path.name}.v-{stamp}"
        tmp = path.parent / f"{path.name}.tmp-{stamp}"
        tmp.mkdir()
        try:
            faiss.write_index(self.vectors, str(tmp / "vectors.faiss"))
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
                for c in self.chunks:
                    f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
            np.save(tmp / "sentences.npy", self.sentence_vectors)
            np.save(tmp / "centroid.npy", self.centroid)
            with open(tmp / "sources.json", "w", encoding="utf-8") as f:
                json.dump(
                    [{"source": asdict(s), "text": self.texts[sid]} for sid, s in self.sources.items()],
                    f,
                    ensure_ascii=False,
                )
            with open(tmp / "people.json", "w", encoding="utf-8") as f:
                json.dump([e.to_dict() for e in self.people], f, ensure_ascii=False)
            self.lexical.save(tmp / "lexical")
            (tmp / LATENT_FILE).write_bytes(self.latent.to_bytes())
            meta = dict(self.meta)
            meta["files"] = {name: file_sha256(tmp / name) for name in _FILES}
            meta["files"].update({f"lexical/{p.name}": file_sha256(p) for p in sorted((tmp / "lexical").iterdir())})
            with open(tmp / "meta.json", "w", encoding="utf-8") as f:
                json.dump(meta, f, ensure_ascii=False, indent=2)
            for p in [*tmp.iterdir(), *(tmp / "lexical").iterdir()]:
                if p.is_file():
                    with open(p, "rb") as f:
                        os.fsync(f.fileno())
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        link = path.parent / f"{path.name}.link-{stamp}"
        os.symlink(target.name, link)
        if path.exists() and not path.is_symlink():
            # A plain folder from elsewhere cannot be swapped atomically: move it aside first.
            os.rename(path, path.parent / f"{path.name}.v-old-{stamp}")
        os.replace(link, path)
        _fsync_dir(path.parent)
        self.meta = meta
        for old in path.parent.glob(f"{path.name}.v-*"):
            if old.name != target.name:
                shutil.rmtree(old, ignore_errors=True)
        for leftover in path.parent.glob(f"{path.name}.tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in path.parent.glob(f"{path.name}.link-*"):  # a save killed before its swap
            leftover.unlink(missing_ok=True)
        return target

    @classmethod
    def load(cls, path: Path, verify: bool = True) -> Index:
        """Read an index folder, checking that every file is present and intact.

        The link is resolved once, so that every file comes from one version; when a
        rebuild swaps in a new version (and removes the old one) while it is read, the
        new one is read instead.
        """
        path = Path(path)
        for attempt in range(3):
            folder = path.resolve()
            try:
                return cls._load(folder, verify)
            except IndexLoadError as exc:
                if attempt < 2 and path.resolve() != folder:
                    continue
                raise IndexLoadError(str(exc).replace(str(folder), str(path))) from exc.__cause__
        raise AssertionError("unreachable")

    @classmethod
    def _load(cls, path: Path, verify: bool) -> Index:
        import faiss

        rebuild = "rebuild it with: verbatim build"
        if not path.exists():
            raise IndexLoadError(f"no index at {path}; {rebuild}")
        meta_path = path / "meta.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            raise IndexLoadError(f"the index at {path} has no readable meta.json ({exc}); {rebuild}") from exc
        if meta.get("format") != FORMAT:
            # Checked before the files: an older format may lack files this one needs.
            raise IndexLoadError(
                f"the index at {path} was written in format {meta.get('format')} and this version reads format {FORMAT}; {rebuild}"
            )
        files = meta.get("files", {})
        for name in [*_FILES, *[f for f in files if f.startswith("lexical/")]]:
            p = path / name
            if not p.is_file():
                raise IndexLoadError(f"the index at {path} is incomplete: {name} is missing; {rebuild}")
            if verify and files.get(name) != file_sha256(p):
                raise IndexLoadError(f"the index at {path} is corrupt: {name} does not match its checksum; {rebuild}")
        try:
            vectors = faiss.read_index(str(path / "vectors.faiss"))
            configure(vectors, meta.get("vector_index", {}))
            chunks = [Chunk.from_dict(json.loads(line)) for line in (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
            # Memory-mapped: a question reads only its candidates' sentences, so a large
            # corpus's sentence vectors (several per passage) need not all be resident.
            sentence_vectors = np.load(path / "sentences.npy", allow_pickle=False, mmap_mode="r")
            centroid = np.load(path / "centroid.npy", allow_pickle=False)
            records = json.loads((path / "sources.json").read_text(encoding="utf-8"))
            people = [RegisterEntry.from_dict(d) for d in json.loads((path / "people.json").read_text(encoding="utf-8"))]
            lexical = LexicalIndex.load(path / "lexical")
            latent = LatentTerms.read(path / LATENT_FILE, meta.get("latent"), len(chunks))
        except Exception as exc:  # any parse failure means the same thing to the user
            raise IndexLoadError(f"the index at {path} cannot be read ({type(exc).__name__}: {exc}); {rebuild}") from exc
        if vectors.ntotal != len(chunks) or vectors.d != meta.get("dimension"):
            raise IndexLoadError(
                f"the index at {path} is inconsistent ({vectors.ntotal} vectors of dimension {vectors.d}, "
                f"{len(chunks)} passages, dimension {meta.get('dimension')} expected); {rebuild}"
            )
        sources = {r["source"]["id"]: Source(**r["source"]) for r in records}
        texts = {r["source"]["id"]: r["text"] for r in records}
        return cls(chunks, sources, texts, vectors, sentence_vectors, lexical, meta, centroid, people, latent)


def _encoder_name(info: dict | None) -> str:
    return f"{info.get('encoder')} {info.get('version')}" if info else "no encoder"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
