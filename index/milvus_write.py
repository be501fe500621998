"""Writing an index into Milvus, by upserts and deletes; reading it back whole for an update.

A build makes the index in memory as for the local backend (``Index.build``, with the
same vector cache), then ``save_to_milvus`` writes only what changed: passages whose row
differs (new, or another text, attribution or vector) are upserted by chunk id, passages
gone are deleted, with their sentences; sources whose record or text changed are rewritten;
the meta is written last, so a reader that finds it finds the data it describes.
Another model, dimension, chunking or vector-index type recreates the collections.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import numpy as np

from ingest.model import Source
from index.latent import LatentTerms, sparse_of
from index.lexical import LexicalIndex, analyze
from index.milvus import LAYOUT, PIECE, MilvusIndex, collection_names, connect, read_meta, read_register, row_of
from index.milvus_views import chunk_of, quote, read_pieces
from index.settings import Settings
from index.store import FORMAT, Index
from index.texts import lexical_text
from index.vectors import ivf_lists, make_vector_index

_BATCH = 1000


def vector_index(n: int, settings: Settings) -> dict:
    """The same choice as the local backend: exact up to ``exact_max_passages``, else IVF over 8-bit codes."""
    if n <= settings.exact_max_passages:
        return {"type": "flat", "exact_max_passages": settings.exact_max_passages}
    nlist = ivf_lists(n)
    return {"type": "ivf-sq8", "nlist": nlist, "nprobe": min(nlist, settings.ivf_nprobe), "exact_max_passages": settings.exact_max_passages}


def _params(params: dict) -> dict:
    """Index parameters in both forms Milvus reads: pymilvus sends each key of ``params`` as
    a separate key, which a Milvus server reads, and the whole dict as a JSON ``params``
    key, which a server merges into the same parameters and the only form Milvus Lite reads,
    embedded or serving on a port (without it, Lite silently uses its defaults, e.g. BM25's
    k1 = 1.5). A URL does not tell a server from Lite serving on a port, so both are sent."""
    return {**params, "params": params}


def _create(client, settings: Settings, dim: int, described: dict) -> None:
    from pymilvus import DataType, Function, FunctionType

    passages, sentences, store = collection_names(settings)
    s = client.create_schema(auto_id=False, description="Verbatim passages")
    s.add_field("pk", DataType.INT64, is_primary=True)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    # Terms already analysed by index.lexical.analyze: the plain tokenizer only splits them.
    s.add_field("lexical", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params={"tokenizer": "standard"})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("source_id", DataType.VARCHAR, max_length=512)
    s.add_field("start", DataType.INT64)  # with the source's rank, the passage's place (ties)
    s.add_field("people", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=512, max_length=512)
    s.add_field("text", DataType.VARCHAR, max_length=65535)
    s.add_field("data", DataType.JSON)
    # Latent terms (index.latent) as {"f": feature ids, "w": weights}: read for the candidates
    # only, never searched (a sparse vector field refuses a passage without features).
    s.add_field("latent", DataType.JSON)
    s.add_field("digest", DataType.VARCHAR, max_length=64)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["lexical"], output_field_names=["sparse"]))
    ip = client.prepare_index_params()
    if described["type"] == "flat":
        ip.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    else:
        ip.add_index(field_name="vector", index_type="IVF_SQ8", metric_type="IP", params=_params({"nlist": described["nlist"]}))
    # The local backend's BM25 parameters (bm25s, Lucene variant).
    ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                 params=_params({"bm25_k1": 1.2, "bm25_b": 0.75}))
    client.create_collection(passages, schema=s, index_params=ip)

    s = client.create_schema(auto_id=False, description="Verbatim sentence vectors")
    s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=64)
    s.add_field("chunk", DataType.INT64)
    s.add_field("n", DataType.INT64)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    ip = client.prepare_index_params()
    ip.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    client.create_collection(sentences, schema=s, index_params=ip)

    # Milvus wants a vector field in every collection: the store's is a placeholder.
    s = client.create_schema(auto_id=False, description="Verbatim sources and meta")
    s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=600)
    s.add_field("kind", DataType.VARCHAR, max_length=16)
    s.add_field("owner", DataType.VARCHAR, max_length=512)
    s.add_field("piece", DataType.INT64)
    s.add_field("body", DataType.VARCHAR, max_length=65535)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    ip = client.prepare_index_params()
    ip.add_index(field_name="vector", index_type="FLAT", metric_type="L2")
    client.create_collection(store, schema=s, index_params=ip)


def _all(client, collection: str, fields: list[str], expr: str = "") -> list[dict]:
    it = client.query_iterator(collection, batch_size=_BATCH, filter=expr, output_fields=fields)
    out: list[dict] = []
    try:
        while batch := it.next():
            out.extend(batch)
    finally:
        it.close()
    return out


def _pieces(kind: str, owner: str, body: str) -> list[dict]:
    parts = [body[i : i + PIECE] for i in range(0, len(body), PIECE)] or [""]
    return [{"pk": f"{kind}:{owner}:{i}", "kind": kind, "owner": owner, "piece": i, "body": p, "vector": [0.0, 0.0]} for i, p in enumerate(parts)]


def _write_pieces(client, store: str, kind: str, owner: str, body: str) -> None:
    rows = _pieces(kind, owner, body)
    client.upsert(store, rows)
    client.delete(store, filter=f"kind == {quote(kind)} and owner == {quote(owner)} and piece >= {len(rows)}")


def _in_batches(client, op: str, collection: str, rows: list[dict]) -> None:
    for i in range(0, len(rows), _BATCH):
        getattr(client, op)(collection, rows[i : i + _BATCH])


def _delete_rows(client, collection: str, field: str, values: list[int]) -> None:
    for i in range(0, len(values), _BATCH):
        client.delete(collection, filter=f"{field} in [{', '.join(map(str, values[i : i + _BATCH]))}]")


def save_to_milvus(index: Index, settings: Settings, fresh: bool = False) -> MilvusIndex:
    """Write ``index`` (built in memory) into Milvus, changing only what changed (everything,
    in new collections, when ``fresh``); return it opened there."""
    client = connect(settings)
    passages, sentences, store = collection_names(settings)
    described = vector_index(len(index.chunks), settings)
    dim = int(index.meta["dimension"])
    old = read_meta(client, settings)
    same = old is not None and old.get("milvus_layout") == LAYOUT and all(client.has_collection(c) for c in (passages, sentences, store)) and (
        old.get("dimension") == dim and old.get("model", {}).get("id") == index.meta.get("model", {}).get("id")
        and old.get("settings") == index.meta.get("settings") and old.get("vector_index", {}).get("type") == described["type"]
    )
    if fresh or not same:
        for c in (passages, sentences, store):
            if client.has_collection(c):
                client.drop_collection(c)
        _create(client, settings, dim, described)
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    stored = {int(r["pk"]): r["digest"] for r in _all(client, passages, ["pk", "digest"])}
    rows, sentence_rows, changed = [], [], []
    for i, c in enumerate(index.chunks):
        data = c.to_dict()
        text = data.pop("text")
        sv = np.asarray(index.sentence_vectors_of(i), dtype=np.float32)
        h = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode() + text.encode())
        features, weights = index.latent.row(i)
        h.update(vectors[i].tobytes() + sv.tobytes() + lexical_text(c, settings).encode() + features.tobytes() + weights.tobytes())
        pk = row_of(c.id)
        if stored.get(pk) == h.hexdigest():
            continue
        changed.append(pk)
        people = sorted({n for n in (c.speaker, *(p.name for p in c.reported)) if n})
        rows.append({"pk": pk, "vector": vectors[i].tolist(), "lexical": " ".join(analyze(lexical_text(c, settings))),
                     "source_id": c.source_id, "start": c.start, "people": people, "text": text, "data": data,
                     "latent": {"f": features.tolist(), "w": weights.tolist()}, "digest": h.hexdigest()})
        sentence_rows.extend({"pk": f"{c.id}:{n}", "chunk": pk, "n": n, "vector": v.tolist()} for n, v in enumerate(sv))
    gone = sorted(set(stored) - {row_of(c.id) for c in index.chunks})
    _delete_rows(client, sentences, "chunk", gone + [pk for pk in changed if pk in stored])
    _delete_rows(client, passages, "pk", gone)
    _in_batches(client, "upsert", passages, rows)
    _in_batches(client, "upsert", sentences, sentence_rows)

    old_sources = {r["owner"]: r["body"] for r in _all(client, store, ["owner", "body"], 'kind == "source"')}
    old_digests = old.get("text_digests", {}) if same and old else {}
    for sid, source in index.sources.items():
        text = index.texts[sid]
        record = json.dumps(asdict(source), ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if old_sources.get(sid) != record or old_digests.get(sid) != digest:
            _write_pieces(client, store, "text", sid, text)
            client.upsert(store, _pieces("source", sid, record))
    for sid in set(old_sources) - set(index.sources):
        client.delete(store, filter=f"owner == {quote(sid)} and (kind == \"source\" or kind == \"text\")")

    # The register, before the meta: a reader that finds the meta finds the register too.
    _write_pieces(client, store, "people", "register", json.dumps([e.to_dict() for e in index.people], ensure_ascii=False))

    meta = dict(index.meta)
    meta.pop("files", None)
    speakers = sorted({c.speaker for c in index.chunks if c.speaker})
    meta.update(
        milvus_layout=LAYOUT,
        vector_index=described,
        backend={"type": "milvus", "uri": settings.milvus_uri, "collection": settings.milvus_collection},
        centroid=[float(x) for x in index.centroid],
        language=index.language,
        facets={"speakers": speakers, "reported": sorted({p.name for c in index.chunks for p in c.reported} - set(speakers))},
        source_order=list(index.sources),
        text_digests={sid: hashlib.sha256(index.texts[sid].encode()).hexdigest() for sid in index.sources},
        written={"passages": len(rows), "deleted": len(gone), "kept": len(index.chunks) - len(rows)},
    )
    for c in (passages, sentences):
        client.flush(c)  # Milvus Lite: flushed rows get BM25 statistics that ignore filters
    _write_pieces(client, store, "meta", "meta", json.dumps(meta, ensure_ascii=False))
    client.flush(store)
    return MilvusIndex.open(client, settings)


def local_copy(settings: Settings) -> Index | None:
    """The index in Milvus, read whole into a local ``Index`` (for an update to reuse its
    passages and vectors), or None when there is none."""
    client = connect(settings)
    try:
        return _local_copy(client, settings)
    finally:
        client.close()  # an update embeds for minutes before it writes: hold no idle connection


def _local_copy(client, settings: Settings) -> Index | None:
    meta = read_meta(client, settings)
    if meta is None or meta.get("format") != FORMAT or meta.get("milvus_layout") != LAYOUT:
        # Rows of another format lack fields this one reads (the people of a passage, the
        # register): nothing of them may be reused, as Index.load refuses such a folder.
        return None
    passages, sentences, store = collection_names(settings)
    order = {sid: i for i, sid in enumerate(meta.get("source_order", []))}
    records = sorted(_all(client, passages, ["pk", "text", "data", "vector", "latent"]),
                     key=lambda r: (order.get(r["data"]["source_id"], len(order)), r["data"]["start"], r["data"]["end"]))
    if not records:
        return None
    chunks = [chunk_of(r) for r in records]
    by_chunk: dict[int, list] = {}
    for r in _all(client, sentences, ["chunk", "n", "vector"]):
        by_chunk.setdefault(int(r["chunk"]), []).append((int(r["n"]), r["vector"]))
    dim = int(meta["dimension"])
    parts = [np.asarray([v for _, v in sorted(by_chunk.get(int(r["pk"]), []))], dtype=np.float32).reshape(-1, dim) for r in records]
    sentence_vectors = np.vstack(parts)
    vectors, _ = make_vector_index(np.asarray([r["vector"] for r in records], dtype=np.float32), len(records), settings.ivf_nprobe)
    sources = {r["owner"]: Source(**json.loads(r["body"])) for r in _all(client, store, ["owner", "body"], 'kind == "source"')}
    texts = {sid: read_pieces(client, store, "text", sid) or "" for sid in sources}
    lexical = LexicalIndex.build([lexical_text(c, settings) for c in chunks])
    # The vectors read back are exact float32: an update may reuse every one of them.
    local_meta = dict(meta, vector_index={"type": "flat"})
    latent = LatentTerms.of([sparse_of(r["latent"]) for r in records], meta.get("latent"))
    return Index(chunks, sources, texts, vectors, sentence_vectors, lexical, local_meta, np.asarray(meta["centroid"], dtype=np.float32),
                 read_register(client, store), latent)
