"""Search within a subset of an index's rows: the filter is applied before top-k.

So a filtered search returns k hits whenever k rows match, however rare they are, with no
over-fetching. The subset becomes a FAISS `IDSelectorBitmap` (one bit a row, built in
microseconds; an `IDSelectorBatch` hashes every id, 17 ms for 100k), and the search runs
over an exact copy of the vectors wherever the index has one:
- flat: the index itself;
- hnsw: its flat storage (a selector inside the HNSW graph walk can strand the search
  when matches are rare; the flat scan of the storage is exact: 16 ms for 100k x 256);
- ivfpq with an RFlat refine: the refine copy;
- ivf: the IVF itself with `nprobe = nlist`, every list probed (the usual nprobe would
  miss matches in unprobed lists), so the selected rows are all scored exactly;
- ivfpq with an SQ8 refine or none: the selected rows' stored approximations,
  reconstructed and scored in blocks.
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
    subset = np.asarray(subset, dtype=np.int64)
    mask = np.zeros(len(index), bool)
    mask[subset] = True
    bits = np.packbits(mask, bitorder="little")  # kept alive: the selector points into it
    selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
    exact = exact_copy(index.index)
    if exact is not None:
        return _search(exact, q, k, faiss.SearchParameters(sel=selector))
    if index.spec.kind == "ivf":
        params = faiss.SearchParametersIVF(sel=selector, nprobe=_ivf(index.index).nlist)
        return _search(index.index, q, k, params)
    return _exact(index.index, q, k, np.flatnonzero(mask))


def exact_copy(raw: Any) -> Any | None:
    """The IndexFlat holding the exact vectors of `raw` (row r = row r), if it has one."""
    from audiotext_cli.blas import import_faiss

    faiss = import_faiss()

    for candidate in (raw, getattr(raw, "storage", None), getattr(raw, "refine_index", None)):
        if candidate is None:
            continue
        flat = faiss.downcast_index(candidate)
        if isinstance(flat, faiss.IndexFlat) and flat.ntotal == raw.ntotal:
            return flat
    return None


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
