"""FAISS indexes over an EmbeddingStore: choose, build, add, merge, load, search.

Files in an index folder:
    index.faiss  the FAISS index (row r is the r-th line of ids.jsonl)
    ids.jsonl    row -> id, path, duration (audio) or text (captions), sha256
    index.json   spec, dims, metric, model_id, model_source, count, sha256 of index.faiss
A build or an add stages the three as `*.new` (index.json.new last, the commit point) and
renames them in; `load` finishes or drops an update a kill interrupted (`_recover`).

Locks (`locks.py`): a writer (build, add, merge) holds the folder's writer lock for the
whole job, so a second writer is refused with one line; renames happen under the
exclusive install lock and `load` reads under the shared one, so a reader sees the old
files or the new ones, never a mix. `load` recovers staged files only when no live writer
holds the lock, so a reader never deletes a writer's work in progress. index.json records
the sha256 of index.faiss and of ids.jsonl (swapped or edited lines are refused).

Metric. Deterministic models: inner product on unit vectors (= cosine). Probabilistic
models: exact CSD ranking by one inner product (REFERENCE.md §1): with unit means,
CSD(q, x) = 2 + s_q + s_x - 2 mu_q.mu_x  (s = sum(exp(logvar))), so ranking by CSD equals
ranking by <[mu_q, 1], [mu_x, -s_x/2]>. The database stores [mu, -s/2]; the reported score
is that inner product minus s_q/2 when the query's variance is known, i.e. 1 - CSD/2.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.atomic import write_atomic, write_json_atomic, write_text_atomic
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import IndexFileError
from audiotext_cli.hashing import file_sha256
from audiotext_cli.index.store import EmbeddingStore, check_same_model, jsonl_line
from audiotext_cli.locks import LockedError, install_lock, writer_lock

FORMAT_VERSION = 1
INDEX_KINDS = ("flat", "hnsw", "ivf", "ivfpq")
DEFAULT_MEMORY_BUDGET = 4 << 30
FLAT_MAX = 100_000  # exact search below this: <= ~50 ms a query at d=512 here, no training
HNSW_MAX = 500_000  # above, IVF-Flat builds 2.5x faster than HNSW32 with better recall (1M)
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 40, 128
NPROBE = 16
KMEANS_ITERATIONS = 10
REFINE_K_FACTOR = 8
SMALL_BATCH = 20  # queries; below, search on one thread; from here, the BLAS path
_META_COPY = ("model_id", "model_source", "dim", "probabilistic", "kind", "sample_rate")


@dataclass(frozen=True)
class IndexSpec:
    """Which index to build, with its parameters and the reason it was chosen."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def factory(self, dim: int) -> str:
        p = self.params
        if self.kind == "flat":
            return "Flat"
        if self.kind == "hnsw":
            return f"HNSW{p['M']},Flat"
        if self.kind == "ivf":
            return f"IVF{p['nlist']},Flat"
        refine = {"flat": ",RFlat", "sq8": ",Refine(SQ8)", "none": ""}[p["refine"]]
        return f"IVF{p['nlist']},PQ{p['pq_m']}x{p['pq_bits']}{refine}"


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    id: str
    path: str | None
    duration: float | None
    text: str | None = None  # the caption, for hits in a caption index


def _faiss():
    """Import faiss once, with the BLAS path on for batches of 20+ queries
    (faiss 1.15 defaults to 128k, which made 100-query flat batches 5x slower here), and
    its OpenBLAS on the CPU's best kernel (`blas.import_faiss`)."""
    from audiotext_cli.blas import import_faiss

    faiss = import_faiss()

    faiss.cvar.distance_compute_blas_threshold = SMALL_BATCH
    faiss.cvar.distance_compute_blas_database_bs = 65536
    return faiss


def _search(index: Any, q: np.ndarray, k: int, params: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """index.search, on one OpenMP thread for small batches: on a busy 2-core box a flat
    single query took 44-62 ms with 2 threads (barrier spinning) and 1.2 ms with 1.
    `params`: faiss SearchParameters (an ID selector, for filtered search)."""
    faiss = _faiss()
    if len(q) >= SMALL_BATCH:
        return index.search(q, k, params=params)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(q, k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)


# -- choosing ----------------------------------------------------------------------------


def index_dim(dim: int, probabilistic: bool) -> int:
    return dim + 1 if probabilistic else dim


def choose_index(
    n: int,
    dim: int,
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
    probabilistic: bool = False,
    kind: str = "auto",
    **overrides: Any,
) -> IndexSpec:
    """The index rule (docs/index.md), from measurements on this 2-core box:
    flat below FLAT_MAX vectors; HNSW32 up to HNSW_MAX if its graph fits the budget;
    IVF-Flat if the raw vectors fit; else IVF-PQ with an 8-bit re-ranking copy, or bare
    IVF-PQ (low recall) when even that does not fit. `kind` and `overrides` force a choice."""
    d = index_dim(dim, probabilistic)
    if kind == "auto":
        kind, reason = _auto_kind(n, d, memory_budget_bytes)
    elif kind in INDEX_KINDS:
        reason = f"--kind {kind}"
    else:
        raise IndexFileError(f"unknown index kind {kind!r} (auto, {', '.join(INDEX_KINDS)})")
    params = _default_params(kind, n, d, memory_budget_bytes) | overrides
    _check_params(kind, params, n)
    return IndexSpec(kind, params, reason)


# parameter -> smallest value FAISS can use (nlist is also capped by the vector count)
_PARAM_MIN = {"nlist": 1, "nprobe": 1, "M": 2, "ef_search": 1, "ef_construction": 1}
_PARAM_MIN |= {"pq_m": 1, "pq_bits": 1, "k_factor": 1}


def _check_params(kind: str, params: dict[str, Any], n: int) -> None:
    """Refuse values that would build an index returning nothing or crash FAISS."""
    for key, low in _PARAM_MIN.items():
        if key not in params:
            continue
        value = params[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not number >= low:
            raise IndexFileError(f"--param {key}={value!r}: must be a number >= {low}")
    if kind in ("ivf", "ivfpq") and n and params["nlist"] > n:
        raise IndexFileError(f"--param nlist={params['nlist']}: more lists than {n} vectors")
    if kind == "ivfpq" and params.get("pq_bits", 8) > 16:
        raise IndexFileError(f"--param pq_bits={params['pq_bits']}: at most 16")


def _auto_kind(n: int, d: int, budget: int) -> tuple[str, str]:
    raw = n * d * 4
    gib = f"{raw / (1 << 30):.2f} GiB raw"
    if n < FLAT_MAX:
        return "flat", f"{n} < {FLAT_MAX} vectors: exact search is fast enough"
    if n <= HNSW_MAX and n * (4 * d + 8 * HNSW_M) <= budget:
        return "hnsw", f"{n} <= {HNSW_MAX} vectors and the HNSW{HNSW_M} graph fits the budget"
    if raw * 1.05 <= budget:
        return "ivf", f"{n} vectors ({gib}) fit the budget: IVF-Flat, exact distances"
    return "ivfpq", f"{n} vectors ({gib}) exceed the budget: IVF-PQ"


def _default_params(kind: str, n: int, d: int, budget: int) -> dict[str, Any]:
    if kind == "flat":
        return {}
    if kind == "hnsw":
        return {"M": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}
    nlist = max(1, min(2 ** round(math.log2(max(4 * math.sqrt(n), 1))), n // 39))
    params: dict[str, Any] = {"nlist": nlist, "nprobe": min(NPROBE, nlist)}
    if kind == "ivfpq":
        pq_m = max(m for m in range(1, max(1, d // 8) + 1) if d % m == 0)  # ~8 dims a code
        bits = max(1, min(8, int(math.log2(max(n / 39, 2)))))  # >= 39 training points a code
        codes = n * (pq_m + 8)
        # PQ alone ranks badly inside a cluster (recall 0.22 at 1M): re-rank when possible.
        refine = next(
            (r for r, extra in (("flat", 4 * d), ("sq8", d)) if codes + n * extra <= budget),
            "none",
        )
        params |= {"pq_m": pq_m, "pq_bits": bits, "refine": refine, "k_factor": REFINE_K_FACTOR}
    return params


# -- vectors -----------------------------------------------------------------------------


def index_vectors(emb: Embeddings) -> np.ndarray:
    """Database side: unit means, or [mu, -s/2] for probabilistic embeddings."""
    mean = np.ascontiguousarray(emb.mean, np.float32)
    if emb.logvar is None:
        return mean
    s = np.exp(emb.logvar.astype(np.float64)).sum(axis=1, keepdims=True)
    return np.hstack([mean, (-0.5 * s).astype(np.float32)])


def query_vectors(queries: Embeddings | np.ndarray, probabilistic: bool) -> np.ndarray:
    """Query side: means, or [mu_q, 1] against a probabilistic index."""
    mean = queries.mean if isinstance(queries, Embeddings) else queries
    mean = np.ascontiguousarray(np.atleast_2d(mean), np.float32)
    if not probabilistic:
        return mean
    return np.hstack([mean, np.ones((len(mean), 1), np.float32)])


# -- the index ---------------------------------------------------------------------------


class FaissIndex:
    """A FAISS index with its row metadata and the model facts needed to query it."""

    def __init__(self, index: Any, meta: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.index, self.meta, self.rows = index, meta, rows

    @property
    def spec(self) -> IndexSpec:
        return IndexSpec(**self.meta["spec"])

    @property
    def probabilistic(self) -> bool:
        return bool(self.meta["probabilistic"])

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, queries: Embeddings | np.ndarray, k: int = 10, subset: np.ndarray | None = None
    ) -> list[list[Hit]]:
        """Top-k hits per query row (means (q, d), or Embeddings with query variances).

        `subset`: row positions to search within (a filter applied before top-k, so k hits
        come back whenever k rows match; `index.filtered`)."""
        q = query_vectors(queries, self.probabilistic)
        if q.shape[1] != self.index.d:
            raise IndexFileError(
                f"query dim {q.shape[1]} != index dim {self.index.d}"
                + (" (probabilistic index)" if self.probabilistic else "")
            )
        k = min(k, len(self) if subset is None else len(subset))
        if k <= 0:
            return [[] for _ in q]
        if subset is None:
            scores, rows = _search(self.index, q, k)
        else:
            from audiotext_cli.index.filtered import search_subset

            scores, rows = search_subset(self, q, k, subset)
        if isinstance(queries, Embeddings) and queries.logvar is not None and self.probabilistic:
            scores = scores - 0.5 * np.exp(queries.logvar.astype(np.float64)).sum(1)[:, None]
        return [
            [
                self._hit(rank, float(s), int(r))
                for rank, (s, r) in enumerate(zip(ss, rr, strict=True), 1)
                if r >= 0
            ]
            for ss, rr in zip(scores, rows, strict=True)
        ]

    def _hit(self, rank: int, score: float, row: int) -> Hit:
        r = self.rows[row]
        return Hit(rank, score, r["id"], r.get("path"), r.get("duration"), r.get("text"))

    # -- files ---------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Stage index.faiss, ids.jsonl and index.json as `*.new`, then rename them in.

        index.json.new is staged last: once it exists the update is complete on disk and
        `load` rolls a killed update forward; before that, `load` drops the staged files,
        so an interrupted `add` leaves the old index or the new one, never a mix."""
        faiss = _faiss()
        folder = Path(folder)
        with writer_lock(folder, what="index"):
            staged = folder / f"index.faiss{_STAGED}"
            write_atomic(staged, lambda p: faiss.write_index(self.index, str(p)))
            ids = folder / f"ids.jsonl{_STAGED}"
            write_text_atomic(ids, "".join(jsonl_line(r) for r in self.rows))
            self.meta |= {
                "count": len(self),
                "sha256": file_sha256(staged),
                "ids_sha256": file_sha256(ids),
                "quantizer_sha256": _quantizer_sha(self.index),
            }
            write_json_atomic(folder / f"index.json{_STAGED}", self.meta)
            with install_lock(folder, shared=False):
                _install_staged(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> FaissIndex:
        """Read and verify an index folder; anything corrupt or inconsistent raises."""
        folder = Path(folder)
        if not (folder / "index.json").exists() and not (folder / "index.json.new").exists():
            raise IndexFileError("not an index folder (no index.json)", folder)
        _recover(folder)
        with install_lock(folder, shared=True):
            return cls._read(folder)

    @classmethod
    def _read(cls, folder: Path) -> FaissIndex:
        meta_file, index_file, ids_file = (
            folder / n for n in ("index.json", "index.faiss", "ids.jsonl")
        )
        if not meta_file.exists():
            raise IndexFileError("not an index folder (no index.json)", folder)
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise IndexFileError("index.json is not valid JSON", folder) from None
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            version = meta.get("format_version") if isinstance(meta, dict) else None
            raise IndexFileError(f"index format {version!r} unsupported", folder)
        missing = [k for k in _REQUIRED_META if k not in meta]
        if missing or not isinstance(meta["spec"], dict) or "kind" not in meta["spec"]:
            what = ", ".join(missing) or "spec.kind"
            raise IndexFileError(f"index.json lacks {what} (not written by audiotext?)", folder)
        for file in (index_file, ids_file):
            if not file.exists():
                raise IndexFileError(f"{file.name} is missing", folder)
        if file_sha256(index_file) != meta["sha256"]:
            raise IndexFileError(
                "index.faiss checksum mismatch (corrupt or modified); rebuild it with "
                "`audiotext index build`",
                folder,
            )
        try:
            index = _faiss().read_index(str(index_file))
        except RuntimeError as exc:
            reason = " ".join(str(exc).split())
            raise IndexFileError(f"FAISS cannot read index.faiss ({reason})", folder) from None
        rows = _read_ids(ids_file)
        if not len(rows) == meta["count"] == index.ntotal:
            raise IndexFileError(
                f"ids.jsonl has {len(rows)} rows, index.json says {meta['count']}, "
                f"index.faiss holds {index.ntotal}",
                folder,
            )
        if "ids_sha256" in meta and file_sha256(ids_file) != meta["ids_sha256"]:
            raise IndexFileError(
                "ids.jsonl checksum mismatch (edited, reordered or corrupt); rebuild the index",
                folder,
            )
        if index.d != index_dim(meta["dim"], meta["probabilistic"]):
            raise IndexFileError(f"index dim {index.d} does not match index.json", folder)
        loaded = cls(index, meta, rows)
        _apply_search_params(index, loaded.spec)
        return loaded


_STAGED = ".new"
_FILES = ("index.faiss", "ids.jsonl", "index.json")  # install order: index.json last
_REQUIRED_META = ("spec", "sha256", "count", "dim", "probabilistic", "model_id", "kind")


def _read_ids(file: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise IndexFileError("ids.jsonl is not UTF-8 text (corrupt?)", file) from None
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise IndexFileError(f"line {number} is not valid JSON", file) from None
        if not isinstance(row, dict) or "id" not in row:
            raise IndexFileError(f"line {number} is not a row with an id", file)
        rows.append(row)
    return rows


def _install_staged(folder: Path) -> None:
    for name in _FILES:
        staged = folder / f"{name}{_STAGED}"
        if staged.exists():
            os.replace(staged, folder / name)


def _recover(folder: Path) -> None:
    """Finish an update killed after staging, or drop one killed while staging; only when
    no live writer holds the folder (its staged files are work in progress, not debris)."""
    if not any((folder / f"{name}{_STAGED}").exists() for name in _FILES):
        return
    try:
        with writer_lock(folder, what="index"), install_lock(folder, shared=False):
            if (folder / f"index.json{_STAGED}").exists():
                _install_staged(folder)
            else:
                for name in _FILES:
                    (folder / f"{name}{_STAGED}").unlink(missing_ok=True)
    except LockedError:
        return  # a writer is at work: read the committed files
    except OSError as exc:
        raise IndexFileError(f"cannot recover an interrupted update ({exc})", folder) from None


def _ivf(index: Any) -> Any | None:
    faiss = _faiss()
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def _quantizer_sha(index: Any) -> str | None:
    """Fingerprint of the trained coarse quantizer: equal fingerprints can merge_from."""
    ivf = _ivf(index)
    if ivf is None:
        return None
    centroids = ivf.quantizer.reconstruct_n(0, ivf.nlist)
    return hashlib.sha256(np.ascontiguousarray(centroids).tobytes()).hexdigest()


def _apply_search_params(index: Any, spec: IndexSpec) -> None:
    faiss = _faiss()
    if spec.kind == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = int(spec.params["ef_search"])
    if spec.kind in ("ivf", "ivfpq"):
        _ivf(index).nprobe = int(spec.params["nprobe"])
    if spec.kind == "ivfpq" and spec.params["refine"] != "none":
        faiss.downcast_index(index).k_factor = float(spec.params["k_factor"])


# -- build, add, merge ---------------------------------------------------------------------

Source = EmbeddingStore | str | Path | tuple[list[dict[str, Any]], Embeddings, dict[str, Any]]


def _read_source(source: Source) -> tuple[list[dict[str, Any]], Embeddings, dict[str, Any]]:
    """(rows, embeddings, store meta) from a store, a store path or in-memory arrays."""
    if isinstance(source, tuple):
        return source
    store = source if isinstance(source, EmbeddingStore) else EmbeddingStore.open(source)
    _, emb, rows = store.load()
    return rows, emb, store.meta


def _id_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "path", "duration", "text", "sha256", "size")
    keys += ("sample_rate", "channels", "format", "metadata", "tags")  # for search filters
    return {k: row[k] for k in keys if row.get(k) is not None}


def build_index(
    source: Source,
    spec: IndexSpec | None = None,
    out: str | Path | None = None,
    *,
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
    trained_from: str | Path | None = None,
) -> FaissIndex:
    """Build an index over every vector of `source`; save it to `out` when given.

    `trained_from` reuses another index's trained structure (its IVF centroids), so
    shards built that way merge without a rebuild (`merge`)."""
    rows, emb, store_meta = _read_source(source)
    if not rows:
        raise IndexFileError("no embeddings to index")
    vectors = index_vectors(emb)
    if trained_from is not None:
        template = FaissIndex.load(trained_from)
        _check_same_model(template.meta, store_meta, Path(trained_from))
        spec, index = template.spec, _empty_like(template.index)
    else:
        spec = spec or choose_index(
            len(rows), store_meta["dim"], memory_budget_bytes, store_meta["probabilistic"]
        )
        index = _trained(spec, vectors)
    built = _assemble(index, vectors, [_id_row(r) for r in rows], store_meta, spec)
    if out is not None:
        built.save(out)
    return built


def kmeans_sample_size(n: int, nlist: int) -> int:
    """Vectors the coarse k-means trains on: 64 per list (at least 16,384), at most all n."""
    return min(n, max(64 * nlist, 256 * 64))


def _trained(spec: IndexSpec, vectors: np.ndarray) -> Any:
    faiss = _faiss()
    index = faiss.index_factory(
        vectors.shape[1], spec.factory(vectors.shape[1]), faiss.METRIC_INNER_PRODUCT
    )
    if spec.kind == "hnsw":
        faiss.downcast_index(index).hnsw.efConstruction = int(spec.params["ef_construction"])
    if not index.is_trained:
        _ivf(index).cp.niter = KMEANS_ITERATIONS
        rng = np.random.default_rng(0)
        size = kmeans_sample_size(len(vectors), spec.params["nlist"])
        sample = vectors[np.sort(rng.choice(len(vectors), size, replace=False))]
        index.train(sample)
    return index


def _empty_like(index: Any) -> Any:
    faiss = _faiss()
    empty = faiss.clone_index(index)
    empty.reset()
    return empty


def _assemble(
    index: Any,
    vectors: np.ndarray,
    rows: list[dict[str, Any]],
    store_meta: dict[str, Any],
    spec: IndexSpec,
) -> FaissIndex:
    _apply_search_params(index, spec)
    index.add(vectors)
    meta = {k: store_meta.get(k) for k in _META_COPY} | {
        "format_version": FORMAT_VERSION,
        "spec": asdict(spec),
        "factory": spec.factory(vectors.shape[1]),
        "metric": "csd" if store_meta["probabilistic"] else "ip",
        "index_dim": int(vectors.shape[1]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    return FaissIndex(index, meta, rows)


def _check_same_model(meta: dict[str, Any], other: dict[str, Any], where: Path | None) -> None:
    check_same_model(meta, other, where, IndexFileError, "index")


def add(index_dir: str | Path, store: EmbeddingStore | str | Path) -> dict[str, int]:
    """Append the store's vectors whose ids the index lacks, without rebuilding.

    Ids already indexed are left alone; those whose content hash changed are counted as
    `stale` (rebuild to refresh them: FAISS cannot replace rows in HNSW or IVF-PQ).
    Holds the index's writer lock throughout: a concurrent writer is refused, not lost."""
    if not (Path(index_dir) / "index.json").exists():
        raise IndexFileError("not an index folder (no index.json)", index_dir)
    with writer_lock(index_dir, what="index"):
        return _add(index_dir, store)


def _add(index_dir: str | Path, store: EmbeddingStore | str | Path) -> dict[str, int]:
    loaded = FaissIndex.load(index_dir)
    rows, emb, store_meta = _read_source(store)
    _check_same_model(loaded.meta, store_meta, Path(index_dir))
    have = {r["id"]: r.get("sha256") for r in loaded.rows}
    new = [i for i, r in enumerate(rows) if r["id"] not in have]
    stale = sum(1 for r in rows if r["id"] in have and r.get("sha256") != have[r["id"]])
    if new:
        logvar = None if emb.logvar is None else emb.logvar[new]
        loaded.index.add(index_vectors(Embeddings(emb.mean[new], logvar)))
        loaded.rows.extend(_id_row(rows[i]) for i in new)
        loaded.save(index_dir)
    return {"added": len(new), "already": len(rows) - len(new) - stale, "stale": stale}


def merge(
    index_dirs: list[str | Path],
    out: str | Path,
    *,
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
) -> FaissIndex:
    """Join index shards of one model and content kind into `out`.

    IVF-Flat shards trained on the same quantizer (`build_index(trained_from=...)`) are
    joined with `merge_from`, no re-training; anything else is rebuilt from the vectors the
    shards hold (exact for flat, HNSW, IVF-Flat and IVF-PQ with a flat refine), with the
    index rule applied to the merged count."""
    parts = [FaissIndex.load(d) for d in index_dirs]
    if not parts:
        raise IndexFileError("nothing to merge")
    first = parts[0]
    for part, folder in zip(parts[1:], index_dirs[1:], strict=True):
        _check_same_model(first.meta, part.meta, Path(folder))
    rows = [r for p in parts for r in p.rows]
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise IndexFileError("the shards share ids; merge the embedding stores and rebuild")
    fingerprints = {p.meta.get("quantizer_sha256") for p in parts}
    if {p.spec.kind for p in parts} == {"ivf"} and len(fingerprints) == 1:
        merged = _empty_like(first.index)
        for part in parts:
            merged.merge_from(part.index, merged.ntotal)
        result = FaissIndex(merged, dict(first.meta), rows)
    else:
        lossy = [p for p in parts if p.spec.kind == "ivfpq" and p.spec.params["refine"] != "flat"]
        if lossy:
            raise IndexFileError(
                "IVF-PQ shards without a flat refine do not hold exact vectors; rebuild "
                "from the embedding stores (`audiotext index build`)"
            )
        vectors = np.vstack([p.index.reconstruct_n(0, len(p)) for p in parts])
        kinds = {p.spec.kind for p in parts}
        spec = choose_index(
            len(rows),
            first.meta["dim"],
            memory_budget_bytes,
            first.probabilistic,
            kind=kinds.pop() if len(kinds) == 1 else "auto",
        )
        result = _assemble(_trained(spec, vectors), vectors, rows, first.meta, spec)
    result.save(out)
    return result


def info(index_dir: str | Path) -> dict[str, Any]:
    """What `audiotext index info` shows (after verifying the folder like `load`)."""
    loaded = FaissIndex.load(index_dir)
    meta = loaded.meta
    folder = Path(index_dir)
    return {
        "path": str(folder),
        "index_kind": loaded.spec.kind,
        "factory": meta["factory"],
        "reason": loaded.spec.reason,
        "params": loaded.spec.params,
        "count": len(loaded),
        "content": meta["kind"],
        "metric": meta["metric"],
        "dim": meta["dim"],
        "probabilistic": meta["probabilistic"],
        "model_id": meta["model_id"],
        "model_source": meta["model_source"],
        "size_bytes": (folder / "index.faiss").stat().st_size,
        "created": meta["created"],
        "sha256": meta["sha256"],
    }
