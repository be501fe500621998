"""The FAISS index for passage vectors, chosen by corpus size.

Exact inner-product search (``IndexFlatIP``) while it is fast enough; above
``exact_max_passages`` an inverted file over 8-bit scalar-quantised vectors
(``IVF…,SQ8``): a quarter of the memory of float32, and a search that scans only
``nprobe`` of its ``nlist`` lists. Figures behind the thresholds: README, "Performance".
"""
from __future__ import annotations

import math

import numpy as np

# Training k-means on more points than this buys nothing measurable and costs time.
_MAX_TRAIN = 200_000


def ivf_lists(n: int) -> int:
    """Number of inverted lists for ``n`` vectors: about 4·√n, with ≥ 39 points per list to train."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def make_vector_index(vectors: np.ndarray, exact_max_passages: int, nprobe: int, seed: int = 1234):
    """Build the vector index for ``vectors`` (n × d, L2-normalised float32); return it with its description."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    if n <= exact_max_passages:
        index = faiss.IndexFlatIP(d)
        index.add(vectors)
        return index, {"type": "flat", "exact_max_passages": exact_max_passages}
    nlist = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = vectors if n <= _MAX_TRAIN else vectors[np.sort(rng.choice(n, _MAX_TRAIN, replace=False))]
    index.cp.seed = seed  # reproducible clustering: same corpus, same index
    index.train(sample)
    index.add(vectors)
    index.make_direct_map()  # lets a passage found by BM25 alone get its cosine
    index.nprobe = min(nlist, nprobe)
    return index, {"type": "ivf-sq8", "nlist": nlist, "nprobe": index.nprobe, "exact_max_passages": exact_max_passages}


def search(index, queries: np.ndarray, k: int, nprobe: int, ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest vectors to each query: (scores, rows), rows -1 past the end.

    ``ids`` restricts the search to those rows. An inverted file scans ``nprobe`` of its
    lists, given here rather than at build time so that the setting applies to an index
    already on disk; it takes ``SearchParametersIVF`` (plain ``SearchParameters`` make
    FAISS raise "IndexIVF params have incorrect type").
    """
    import faiss

    sel = faiss.IDSelectorBatch(ids) if ids is not None else None
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        params = faiss.SearchParametersIVF(nprobe=max(1, min(int(nprobe), ivf.nlist)))
        if sel is not None:
            params.sel = sel
    else:
        params = faiss.SearchParameters(sel=sel) if sel is not None else None
    return index.search(queries, k, params=params)


def configure(index, description: dict) -> None:
    """Restore search-time parameters after reading an index from disk."""
    if description.get("type") == "ivf-sq8":
        import faiss

        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = int(description["nprobe"])
        if ivf.direct_map.type == faiss.DirectMap.NoMap:
            ivf.make_direct_map()
