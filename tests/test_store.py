"""EmbeddingStore: round trips, latest-row-wins, model checks, and crashes mid-append."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import EmbeddingFileError
from audiotext_cli.index import store as store_module
from audiotext_cli.index.store import EmbeddingStore, merge_stores

META = {
    "model_id": "m1",
    "model_source": "/ckpt/m1",
    "dim": 4,
    "probabilistic": False,
    "sample_rate": 16000,
    "kind": "audio",
}


def _rows(*ids: str, sha: str = "a") -> list[dict]:
    return [
        {"id": i, "path": f"/x/{i}", "size": 1, "mtime": 2.0, "sha256": sha, "model_id": "m1"}
        for i in ids
    ]


def _emb(n: int, seed: int, logvar: bool = False) -> Embeddings:
    rng = np.random.default_rng(seed)
    mean = rng.standard_normal((n, 4)).astype(np.float32)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    return Embeddings(mean, rng.standard_normal((n, 4)).astype(np.float32) if logvar else None)


def test_round_trip_and_latest_row_wins(tmp_path):
    store = EmbeddingStore.create(tmp_path / "s", META)
    first, second = _emb(3, 0), _emb(1, 1)
    store.append(_rows("a", "b", "c"), first)
    store.append(_rows("b", sha="new"), second)  # "b" re-embedded after a change

    ids, emb, rows = EmbeddingStore.open(tmp_path / "s").load()
    assert ids == ["a", "c", "b"]
    np.testing.assert_array_equal(
        emb.mean, np.stack([first.mean[0], first.mean[2], second.mean[0]])
    )
    assert emb.logvar is None
    assert rows[2]["sha256"] == "new"
    assert store.done_keys()["/x/b"] == (1, 2.0, "new")
    assert len(store) == 3
    # metadata is plain JSON lines (pandas.read_json(lines=True) reads it)
    lines = (tmp_path / "s" / "part-00000.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]


def test_probabilistic_round_trip(tmp_path):
    store = EmbeddingStore.create(tmp_path / "s", META | {"probabilistic": True})
    emb = _emb(2, 3, logvar=True)
    store.append(_rows("a", "b"), emb)
    _, loaded, _ = store.load()
    np.testing.assert_array_equal(loaded.logvar, emb.logvar)
    with pytest.raises(EmbeddingFileError, match="probabilistic"):
        store.append(_rows("c"), _emb(1, 4))


def test_mixing_models_raises(tmp_path):
    EmbeddingStore.create(tmp_path / "s", META)
    with pytest.raises(EmbeddingFileError, match="model_id mismatch"):
        EmbeddingStore.create(tmp_path / "s", META | {"model_id": "other"})
    store = EmbeddingStore.create(tmp_path / "s", META)  # same model: reopens to resume
    bad = _rows("a")
    bad[0]["model_id"] = "other"
    with pytest.raises(EmbeddingFileError, match="model_id mismatch"):
        store.append(bad, _emb(1, 0))
    with pytest.raises(EmbeddingFileError, match="dim"):
        store.append(_rows("a"), Embeddings(np.ones((1, 3), np.float32)))


def test_not_a_store(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x")
    with pytest.raises(EmbeddingFileError, match="not an embedding store"):
        EmbeddingStore.open(tmp_path / "junk")
    with pytest.raises(EmbeddingFileError, match="not empty"):
        EmbeddingStore.create(tmp_path / "junk", META)


def test_crash_before_commit_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    store = EmbeddingStore.create(tmp_path / "s", META)
    store.append(_rows("a", "b"), _emb(2, 0))
    real = store_module.write_json_atomic

    def crash_on_manifest(path, obj):
        if path.name == "manifest.json":
            raise KeyboardInterrupt("killed between the shard files and the commit")
        return real(path, obj)

    monkeypatch.setattr(store_module, "write_json_atomic", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        store.append(_rows("c", "d"), _emb(2, 1))
    monkeypatch.setattr(store_module, "write_json_atomic", real)
    assert (tmp_path / "s" / "part-00001.safetensors").exists()  # written, never committed

    reopened = EmbeddingStore.open(tmp_path / "s")
    assert [r["id"] for r in reopened.rows()] == ["a", "b"]  # the uncommitted shard is ignored
    (tmp_path / "s" / "part-00001.jsonl").write_text("half a li")  # as a kill can leave it
    reopened.append(_rows("c", "d"), _emb(2, 1))  # the resumed job redoes c, d
    ids, emb, _ = reopened.load()
    assert ids == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(emb.mean[2:], _emb(2, 1).mean)
    assert reopened.shards() == ["part-00000", "part-00001"]
    assert sorted(p.name for p in (tmp_path / "s").glob("part-*")) == [
        f"part-0000{i}.{ext}" for i in (0, 1) for ext in ("jsonl", "safetensors")
    ]


def test_merge_stores(tmp_path):
    a = EmbeddingStore.create(tmp_path / "a", META)
    b = EmbeddingStore.create(tmp_path / "b", META)
    a.append(_rows("x"), _emb(1, 0))
    b.append(_rows("y", "z"), _emb(2, 1))
    merged = merge_stores([tmp_path / "a", b], tmp_path / "m")
    ids, emb, _ = merged.load()
    assert ids == ["x", "y", "z"]
    np.testing.assert_array_equal(emb.mean[1:], b.load()[1].mean)
    other = EmbeddingStore.create(tmp_path / "o", META | {"model_id": "m2"})
    with pytest.raises(EmbeddingFileError, match="model_id mismatch"):
        merge_stores([a, other], tmp_path / "m2")


def test_errors_file(tmp_path):
    store = EmbeddingStore.create(tmp_path / "s", META)
    store.record_errors(
        [{"path": "/x/bad", "reason": "empty file"}, {"path": "/x/b", "reason": "r"}]
    )
    store.record_errors([], cleared=["/x/b"])
    assert store.errors() == [{"path": "/x/bad", "reason": "empty file"}]
