"""FAISS indexes: the selection rule, exactness against numpy, CSD, add, merge, corruption."""

from __future__ import annotations

import numpy as np
import pytest

from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import IndexFileError
from audiotext_cli.index.faiss_index import (
    FaissIndex,
    add,
    build_index,
    choose_index,
    info,
    merge,
)
from audiotext_cli.index.store import EmbeddingStore

DIM = 16
GB = 10**9


def _meta(probabilistic: bool = False) -> dict:
    return {
        "model_id": "m1",
        "model_source": "/ckpt",
        "dim": DIM,
        "probabilistic": probabilistic,
        "sample_rate": 16000,
        "kind": "audio",
    }


def _data(n: int, seed: int = 0, probabilistic: bool = False):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, DIM))
    mean = centres[rng.integers(0, 8, n)] + 0.5 * rng.standard_normal((n, DIM))
    mean = (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)
    logvar = rng.uniform(-4, 0, (n, DIM)).astype(np.float32) if probabilistic else None
    rows = [
        {"id": f"c{seed}-{i:04d}", "path": f"/a/{i}.wav", "duration": 1.0 + i} for i in range(n)
    ]
    return rows, Embeddings(mean, logvar), _meta(probabilistic)


def _store(path, rows, emb, meta) -> EmbeddingStore:
    store = EmbeddingStore.create(path, meta)
    store.append([r | {"model_id": meta["model_id"]} for r in rows], emb)
    return store


def _ids(hits) -> list[list[str]]:
    return [[h.id for h in row] for row in hits]


def test_selection_rule():
    assert choose_index(50_000, 512, 4 * GB).kind == "flat"
    hnsw = choose_index(200_000, 512, 4 * GB)
    assert hnsw.kind == "hnsw" and hnsw.params["M"] == 32 and "200000" in hnsw.reason
    ivf = choose_index(1_000_000, 512, 4 * GB)
    assert ivf.kind == "ivf" and ivf.params == {"nlist": 4096, "nprobe": 16}
    assert choose_index(1_000_000, 512, 1 * GB).params["refine"] == "sq8"
    tight = choose_index(1_000_000, 512, 100 * 10**6)
    assert tight.kind == "ivfpq" and tight.params["refine"] == "none"
    assert tight.params["pq_m"] == 64 and tight.factory(512) == "IVF4096,PQ64x8"
    assert choose_index(1_000_000, 512, 8 * GB, kind="ivfpq").params["refine"] == "flat"
    assert choose_index(1_000_000, 512, 4 * GB, probabilistic=True).params["nlist"] == 4096
    assert choose_index(600_000, 512, 8 * GB).kind == "ivf"  # beyond HNSW_MAX
    forced = choose_index(10, 512, kind="hnsw", ef_search=64)
    assert forced.params["ef_search"] == 64 and forced.reason == "--kind hnsw"
    with pytest.raises(IndexFileError, match="unknown index kind"):
        choose_index(10, 512, kind="lsh")


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_top_k_equals_numpy(kind, tmp_path):
    rows, emb, meta = _data(600)
    spec = choose_index(600, DIM, kind=kind)
    if kind == "ivf":
        spec.params["nprobe"] = spec.params["nlist"]  # exhaustive: must be exact
    index = build_index((rows, emb, meta), spec, tmp_path / "idx")
    queries = emb.mean[:5] + 0.1
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    hits = FaissIndex.load(tmp_path / "idx").search(queries, k=10)
    scores = queries @ emb.mean.T
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    assert _ids(hits) == [[rows[i]["id"] for i in row] for row in expected]
    got = np.array([[h.score for h in row] for row in hits])
    np.testing.assert_allclose(got, np.take_along_axis(scores, expected, 1), rtol=1e-5, atol=1e-5)
    assert hits[0][0].path == rows[expected[0, 0]]["path"] and hits[0][0].rank == 1
    assert len(index) == 600


def test_csd_ranking_equals_brute_force_csd(tmp_path):
    rows, emb, meta = _data(400, probabilistic=True)
    build_index((rows, emb, meta), choose_index(400, DIM, probabilistic=True), tmp_path / "idx")
    index = FaissIndex.load(tmp_path / "idx")
    assert index.meta["metric"] == "csd" and index.index.d == DIM + 1
    _, q, _ = _data(6, seed=9, probabilistic=True)
    var_x, var_q = np.exp(emb.logvar.astype(np.float64)), np.exp(q.logvar.astype(np.float64))
    mu_x, mu_q = emb.mean.astype(np.float64), q.mean.astype(np.float64)
    csd = (
        ((mu_q[:, None, :] - mu_x[None]) ** 2).sum(-1)
        + var_q.sum(1)[:, None]
        + var_x.sum(1)[None, :]
    )
    expected = np.argsort(csd, axis=1, kind="stable")[:, :15]
    hits = index.search(q, k=15)
    assert _ids(hits) == [[rows[i]["id"] for i in row] for row in expected]
    got = np.array([[h.score for h in row] for row in hits])
    np.testing.assert_allclose(got, 1 - np.take_along_axis(csd, expected, 1) / 2, atol=1e-4)
    # the CSD ranking differs from cosine ranking on these data: the trick matters
    cosine = np.argsort(-(mu_q @ mu_x.T), axis=1, kind="stable")[:, :15]
    assert not np.array_equal(cosine, expected)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_add_equals_build_on_all(kind, tmp_path):
    rows, emb, meta = _data(500)
    spec = choose_index(500, DIM, kind=kind)
    if kind == "ivf":
        spec.params["nprobe"] = spec.params["nlist"]
    first = _store(tmp_path / "first", rows[:300], Embeddings(emb.mean[:300]), meta)
    build_index(first, spec, tmp_path / "idx")
    everything = _store(tmp_path / "all", rows, emb, meta)
    assert add(tmp_path / "idx", everything) == {"added": 200, "already": 300, "stale": 0}
    assert add(tmp_path / "idx", everything)["added"] == 0
    grown = FaissIndex.load(tmp_path / "idx")
    full = build_index(everything, spec)
    assert [r["id"] for r in grown.rows] == [r["id"] for r in full.rows]
    queries = emb.mean[::50]
    got, want = grown.search(queries, 5), full.search(queries, 5)
    if kind == "hnsw":  # graphs differ with insertion order; each point must find itself
        assert [row[0].id for row in got] == [rows[i]["id"] for i in range(0, 500, 50)]
    else:
        assert _ids(got) == _ids(want)


def test_add_refuses_another_model(tmp_path):
    rows, emb, meta = _data(50)
    build_index((rows, emb, meta), None, tmp_path / "idx")
    other = _store(tmp_path / "o", rows, emb, meta | {"model_id": "m2"})
    with pytest.raises(IndexFileError, match="model_id mismatch"):
        add(tmp_path / "idx", other)


def test_merge_equals_single_build(tmp_path):
    rows, emb, meta = _data(400)
    halves = [slice(0, 150), slice(150, 400)]
    for i, part in enumerate(halves):
        build_index((rows[part], Embeddings(emb.mean[part]), meta), None, tmp_path / f"f{i}")
    merged = merge([tmp_path / "f0", tmp_path / "f1"], tmp_path / "m")
    single = build_index((rows, emb, meta), None)
    queries = emb.mean[::40]
    assert merged.spec.kind == "flat"
    assert _ids(FaissIndex.load(tmp_path / "m").search(queries, 8)) == _ids(
        single.search(queries, 8)
    )

    # IVF shards trained on one quantizer merge with merge_from (no retraining)
    spec = choose_index(400, DIM, kind="ivf")
    spec.params["nprobe"] = spec.params["nlist"]
    build_index((rows[:150], Embeddings(emb.mean[:150]), meta), spec, tmp_path / "i0")
    build_index(
        (rows[150:], Embeddings(emb.mean[150:]), meta),
        out=tmp_path / "i1",
        trained_from=tmp_path / "i0",
    )
    ivf = merge([tmp_path / "i0", tmp_path / "i1"], tmp_path / "im")
    assert ivf.meta["quantizer_sha256"] == FaissIndex.load(tmp_path / "i0").meta["quantizer_sha256"]
    assert _ids(FaissIndex.load(tmp_path / "im").search(queries, 8)) == _ids(
        single.search(queries, 8)
    )
    with pytest.raises(IndexFileError, match="share ids"):
        merge([tmp_path / "f0", tmp_path / "f0"], tmp_path / "dup")


def test_corruption_and_mismatch_raise(tmp_path):
    rows, emb, meta = _data(100)
    build_index((rows, emb, meta), None, tmp_path / "idx")
    assert info(tmp_path / "idx")["count"] == 100
    data = bytearray((tmp_path / "idx" / "index.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "idx" / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match="checksum mismatch"):
        FaissIndex.load(tmp_path / "idx")

    build_index((rows, emb, meta), None, tmp_path / "idx2")
    ids = tmp_path / "idx2" / "ids.jsonl"
    ids.write_text("".join(ids.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(IndexFileError, match="ids.jsonl has 99 rows"):
        FaissIndex.load(tmp_path / "idx2")
    with pytest.raises(IndexFileError, match="no index.json"):
        FaissIndex.load(tmp_path)


def test_interrupted_add_leaves_old_or_new_index(tmp_path, monkeypatch):
    from audiotext_cli.index import faiss_index

    rows, emb, meta = _data(120)
    build_index((rows[:100], Embeddings(emb.mean[:100]), meta), None, tmp_path / "idx")
    everything = _store(tmp_path / "all", rows, emb, meta)

    def killed(folder):
        raise KeyboardInterrupt("kill -9 after staging")

    monkeypatch.setattr(faiss_index, "_install_staged", killed)
    with pytest.raises(KeyboardInterrupt):
        add(tmp_path / "idx", everything)
    monkeypatch.undo()
    assert len(FaissIndex.load(tmp_path / "idx")) == 120  # rolled forward
    assert not list((tmp_path / "idx").glob("*.new"))

    real = faiss_index.write_json_atomic

    def killed_while_staging(path, obj):
        if path.name == "index.json.new":
            raise KeyboardInterrupt("kill -9 while staging")
        return real(path, obj)

    build_index((rows[:100], Embeddings(emb.mean[:100]), meta), None, tmp_path / "idx2")
    monkeypatch.setattr(faiss_index, "write_json_atomic", killed_while_staging)
    with pytest.raises(KeyboardInterrupt):
        add(tmp_path / "idx2", everything)
    monkeypatch.undo()
    assert (tmp_path / "idx2" / "index.faiss.new").exists()
    assert len(FaissIndex.load(tmp_path / "idx2")) == 100  # the old index, intact
    assert not list((tmp_path / "idx2").glob("*.new"))
    assert add(tmp_path / "idx2", everything)["added"] == 20


def test_ivfpq_with_exact_refine_and_merge_rules(tmp_path):
    rows, emb, meta = _data(2000)
    spec = choose_index(2000, DIM, 10**9, kind="ivfpq", k_factor=40)
    assert spec.params["refine"] == "flat" and spec.factory(DIM).endswith(",RFlat")
    spec.params["nprobe"] = spec.params["nlist"]
    build_index((rows, emb, meta), spec, tmp_path / "pq")
    queries = emb.mean[:20]
    exact = queries @ emb.mean.T
    expected = np.argsort(-exact, axis=1, kind="stable")[:, :10]
    hits = FaissIndex.load(tmp_path / "pq").search(queries, 10)
    overlap = [
        len({h.id for h in row} & {rows[i]["id"] for i in top}) / 10
        for row, top in zip(hits, expected, strict=True)
    ]
    assert np.mean(overlap) >= 0.95
    position = {r["id"]: i for i, r in enumerate(rows)}
    for q, row in enumerate(hits):  # the refine stage re-scores with exact inner products
        got = [h.score for h in row]
        np.testing.assert_allclose(got, exact[q, [position[h.id] for h in row]], atol=1e-5)

    lossy = choose_index(1000, DIM, 10**9, kind="ivfpq", refine="sq8")
    build_index((rows[:1000], Embeddings(emb.mean[:1000]), meta), lossy, tmp_path / "s0")
    build_index((rows[1000:], Embeddings(emb.mean[1000:]), meta), lossy, tmp_path / "s1")
    with pytest.raises(IndexFileError, match="do not hold exact vectors"):
        merge([tmp_path / "s0", tmp_path / "s1"], tmp_path / "m")
