"""Search within a subset of an index's rows: the filter is applied before top-k.

So a filtered search returns k hits whenever k rows match, however rare they are, with no
over-fetching. How, by index kind:
- flat: FAISS `IDSelectorBatch` in `SearchParameters` (exact, FAISS skips other rows);
- ivf: the same selector with `nprobe = nlist`, every list probed, so the selected rows are
  all scored exactly (a selector with the usual nprobe would miss matches in unprobed lists);
- hnsw, ivfpq: the selected rows' vectors are reconstructed and scored exactly in blocks
  (a selector inside the HNSW graph walk can strand the search when matches are rare).
  Exact for HNSW and IVF-PQ with an RFlat refine; the stored approximation otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from audiotext_cli.index.faiss_index import FaissIndex

BLOCK_ROWS = 65536  # reconstructed vectors scored at a time (bounded memory)


def search_subset(
    index: FaissIndex, q: np.ndarray, k: int, subset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) like faiss `search`, over `subset` (row positions) only; -1 pads."""
    from audiotext_cli.index.faiss_index import _faiss, _ivf, _search

    faiss = _faiss()
    subset = np.unique(np.asarray(subset, dtype=np.int64))
    kind = index.spec.kind
    if kind in ("flat", "ivf"):
        selector = faiss.IDSelectorBatch(subset)
        if kind == "flat":
            params = faiss.SearchParameters(sel=selector)
        else:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=_ivf(index.index).nlist)
        return _search(index.index, q, k, params)
    return _exact(index.index, q, k, subset)


def _exact(raw: Any, q: np.ndarray, k: int, subset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    best_s = np.full((len(q), 0), -np.inf, np.float32)
    best_r = np.zeros((len(q), 0), np.int64)
    for start in range(0, len(subset), BLOCK_ROWS):
        rows = subset[start : start + BLOCK_ROWS]
        scores = q @ _reconstruct(raw, rows).T
        best_s = np.hstack([best_s, scores])
        best_r = np.hstack([best_r, np.broadcast_to(rows, scores.shape)])
        keep = np.argsort(-best_s, axis=1, kind="stable")[:, :k]
        best_s = np.take_along_axis(best_s, keep, 1)
        best_r = np.take_along_axis(best_r, keep, 1)
    return best_s, best_r


def _reconstruct(raw: Any, rows: np.ndarray) -> np.ndarray:
    """Stored vectors of `rows`; IVF indexes without a refine copy need their direct map."""
    from audiotext_cli.index.faiss_index import _ivf

    try:
        return raw.reconstruct_batch(rows)
    except RuntimeError:
        ivf = _ivf(raw)
        if ivf is None:
            raise
        ivf.make_direct_map()
        return raw.reconstruct_batch(rows)
