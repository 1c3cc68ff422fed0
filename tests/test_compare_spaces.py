"""compare_spaces (one pass, shared graphs), loading and aligning spaces, and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.errors import ConfigError, EmbeddingFileError
from audiotext_cli.metrics import METRICS, compare_spaces
from audiotext_cli.metrics.cka import linear_cka, rbf_cka
from audiotext_cli.metrics.mutual import cknna, mutual_knn
from audiotext_cli.metrics.nngs import nngs, nngs_chance, nngs_chance_exact, nngs_per_item
from audiotext_cli.metrics.spaces import align, load_space

runner = CliRunner()


def _pair(n: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, 12)).astype(np.float32)
    B = (A[:, :8] @ rng.standard_normal((8, 6)) + 0.7 * rng.standard_normal((n, 6))).astype(
        np.float32
    )
    return A, B


def _l2(Z: np.ndarray) -> np.ndarray:
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def _save(folder: Path, name: str, array: np.ndarray, ids: list[str] | None) -> Path:
    path = folder / f"{name}.npy"
    np.save(path, array)
    if ids is not None:
        (folder / f"{name}.ids.txt").write_text("\n".join(ids) + "\n")
    return path


# -- compare_spaces -----------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_compare_spaces_matches_standalone_metrics(metric):
    A, B = _pair()
    out = compare_spaces(A, B, ks=[3, 10, 0.1], metric=metric, curve_points=6)
    assert out["n"] == 150 and (out["dim_a"], out["dim_b"]) == (12, 6)
    assert [r["k"] for r in out["per_k"]] == [3, 10, 15]
    for row in out["per_k"]:
        k = row["k"]
        assert row["nngs"] == pytest.approx(nngs(A, B, k, metric), abs=1e-12)
        assert row["mutual_knn"] == pytest.approx(mutual_knn(A, B, k, metric), abs=1e-12)
        assert row["cknna"] == pytest.approx(cknna(_l2(A), _l2(B), k), rel=1e-9)
        assert row["chance"] == nngs_chance(150, k)
        assert row["chance_exact"] == nngs_chance_exact(150, k)
        want = (row["nngs"] - row["chance"]) / (1 - row["chance"])
        assert row["nngs_normalised"] == pytest.approx(want)
        np.testing.assert_allclose(out["per_item"][k], nngs_per_item(A, B, k, metric))
    assert out["global"]["cka"] == pytest.approx(linear_cka(A, B))
    assert out["global"]["cka_debiased"] == pytest.approx(linear_cka(A, B, debiased=True))
    assert out["global"]["rbf_cka"] == pytest.approx(rbf_cka(A, B))
    curve = {c["k"]: c["nngs"] for c in out["curve"]}
    assert {1, 3, 10, 15} <= set(curve)
    assert curve[1] == pytest.approx(nngs(A, B, 1, metric), abs=1e-12)


def test_compare_spaces_subset_and_errors():
    A, B = _pair()
    out = compare_spaces(A, B, ks=[5], metrics=["cka"])
    assert set(out["global"]) == {"cka"} and out["per_k"] == [] and "per_item" not in out
    assert set(METRICS) == {"nngs", "cka", "cka_debiased", "rbf_cka", "mutual_knn", "cknna"}
    with pytest.raises(ConfigError, match="unknown metric"):
        compare_spaces(A, B, metrics=["nngs", "svcca"])
    with pytest.raises(ConfigError, match="k=150"):
        compare_spaces(A, B, ks=[150])


# -- loading and aligning ----------------------------------------------------------------


def test_load_npy_with_and_without_ids(tmp_path):
    A = np.arange(12, dtype=np.float32).reshape(4, 3)
    path = _save(tmp_path, "a", A, ["w", "x", "y", "z"])
    ids, got = load_space(path)
    assert ids == ["w", "x", "y", "z"]
    np.testing.assert_array_equal(got, A)
    ids, _ = load_space(_save(tmp_path, "plain", A, None))
    assert ids is None
    (tmp_path / "short.ids.txt").write_text("a\nb\n")
    with pytest.raises(EmbeddingFileError, match="2 ids for 4 rows"):
        load_space(_save(tmp_path, "short", A, None))


def test_load_safetensors_tensor_choice(tmp_path):
    from safetensors.numpy import save_file

    mean, other = np.ones((4, 3), np.float32), np.zeros((4, 3), np.float32)
    cases = {
        "m": {"mean": mean, "logvar": other},
        "e": {"x": other, "embeddings": mean},
        "only": {"vectors": mean},
    }
    for name, tensors in cases.items():
        save_file(tensors, str(tmp_path / f"{name}.safetensors"))
        np.testing.assert_array_equal(load_space(tmp_path / f"{name}.safetensors")[1], mean)
    save_file({"a": mean, "b": other}, str(tmp_path / "two.safetensors"))
    with pytest.raises(EmbeddingFileError, match="found a, b"):
        load_space(tmp_path / "two.safetensors")


def test_load_bad_paths(tmp_path):
    with pytest.raises(EmbeddingFileError, match="no such file"):
        load_space(tmp_path / "missing.npy")
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(EmbeddingFileError, match="unknown embedding format"):
        load_space(tmp_path / "x.csv")
    (tmp_path / "broken.npy").write_bytes(b"not numpy")
    with pytest.raises(EmbeddingFileError, match="not a readable .npy"):
        load_space(tmp_path / "broken.npy")


def test_load_embedding_store(tmp_path):
    store_mod = pytest.importorskip("audiotext_cli.index.store")
    from audiotext_cli.embedder import Embeddings

    meta = {
        "model_id": "fake",
        "model_source": "test",
        "dim": 3,
        "probabilistic": False,
        "sample_rate": 16000,
        "kind": "text",
    }
    store = store_mod.EmbeddingStore.create(tmp_path / "store", meta)
    vectors = np.eye(4, 3, dtype=np.float32)
    store.append([{"id": f"c{i}"} for i in range(4)], Embeddings(vectors))
    ids, got = load_space(tmp_path / "store")
    assert ids == ["c0", "c1", "c2", "c3"]
    np.testing.assert_array_equal(got, vectors)


def test_align_reorders_by_id():
    A = np.arange(10, dtype=np.float64).reshape(5, 2)
    ids_a = ["a", "b", "c", "d", "e"]
    order = [3, 0, 4, 1, 2]
    ids, A2, B2 = align(ids_a, A, [ids_a[i] for i in order], A[order] * 2)
    assert ids == ids_a
    np.testing.assert_array_equal(B2, A * 2)
    ids, _, _ = align(None, A, None, A)
    assert ids == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("mismatch", "ids differ: 1 only in A"),
        ("duplicate", "duplicate id 'b'"),
        ("nan", "1 row(s) contain NaN or inf (first: id 'c')"),
        ("few", "too few points"),
        ("ndim", "expected a 2-D"),
        ("rows", "5 rows in A but 4 in B"),
    ],
)
def test_align_errors(case, message):
    A = np.ones((5, 2))
    ids = ["a", "b", "c", "d", "e"]
    args = {
        "mismatch": (ids, A, ["a", "b", "c", "d", "z"], A),
        "duplicate": (ids, A, ["a", "b", "b", "d", "e"], A),
        "nan": (ids, np.where(np.arange(5)[:, None] == 2, np.nan, A), ids, A),
        "few": (ids[:3], A[:3], ids[:3], A[:3]),
        "ndim": (None, A.ravel(), None, A),
        "rows": (None, A, None, A[:4]),
    }[case]
    with pytest.raises(EmbeddingFileError) as err:
        align(*args)
    assert message in str(err.value)


# -- CLI ---------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    A, B = _pair(80)
    ids = [f"clip{i}" for i in range(80)]
    rev = ids[::-1]
    return _save(tmp_path, "audio", A, ids), _save(tmp_path, "text", B[::-1], rev)


def test_cli_table_json_csv_and_plot(files, tmp_path):
    a, b = files
    result = runner.invoke(app, ["compare-spaces", str(a), str(b), "-k", "5", "-k", "0.1"])
    assert result.exit_code == 0, result.output
    assert "nngs" in result.stdout and "cka_debiased" in result.stdout and "n=80" in result.stdout

    csv_path, png = tmp_path / "items.csv", tmp_path / "plot.png"
    result = runner.invoke(
        app,
        [
            "compare-spaces",
            str(a),
            str(b),
            "-k",
            "5",
            "-k",
            "0.1",
            "--metric",
            "euclidean",
            "--metrics",
            "nngs,cka",
            "--json",
            "--per-item",
            str(csv_path),
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    A, B = _pair(80)  # the CLI matched B's reversed rows back by id
    assert [r["k"] for r in out["per_k"]] == [5, 8]
    assert out["per_k"][0]["nngs"] == pytest.approx(nngs(A, B, 5, "euclidean"), abs=1e-12)
    assert set(out["global"]) == {"cka"} and "mutual_knn" not in out["per_k"][0]
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 80 and rows[0]["id"] == "clip0"
    per_item = nngs_per_item(A, B, 8, "euclidean")
    np.testing.assert_allclose([float(r["nngs@8"]) for r in rows], per_item, atol=1e-6)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "case, phrase",
    [
        ("mismatch", "ids differ"),
        ("nan", "NaN or inf"),
        ("duplicate", "duplicate id"),
        ("few", "too few points"),
        ("bigk", "k=80 needs"),
    ],
)
def test_cli_bad_inputs_one_line_errors(tmp_path, case, phrase):
    A, _ = _pair(80)
    ids = [f"clip{i}" for i in range(80)]
    B, ids_b, k = A.copy(), list(ids), "5"
    if case == "mismatch":
        ids_b[7] = "other"
    elif case == "nan":
        B[3, 1] = np.inf
    elif case == "duplicate":
        ids_b[1] = ids_b[0]
    elif case == "few":
        A, B, ids, ids_b = A[:3], B[:3], ids[:3], ids_b[:3]
    elif case == "bigk":
        k = "80"
    a, b = _save(tmp_path, "a", A, ids), _save(tmp_path, "b", B, ids_b)
    result = runner.invoke(app, ["compare-spaces", str(a), str(b), "-k", k])
    assert result.exit_code == 1
    assert phrase in result.stderr and result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_cli_usage_errors(files):
    a, b = files
    for args in (["-k", "abc"], ["--model", "ckpt"]):
        result = runner.invoke(app, ["compare-spaces", str(a), str(b), *args])
        assert result.exit_code == 2, args
    assert runner.invoke(app, ["compare-spaces", str(a)]).exit_code == 2
    result = runner.invoke(app, ["compare-spaces", str(a), str(b), "--metrics", "nngs,bogus"])
    assert result.exit_code == 2 and "unknown metric" in result.stderr


class _FakeEmbedder:
    """Audio -> (length in s, rms); text -> (words, characters): checkable by hand."""

    model_id, dim, sample_rate, probabilistic = "fake", 2, 16000, False

    def embed_waveforms(self, waves):
        from audiotext_cli.embedder import Embeddings

        rows = [[len(w) / 16000, float(np.sqrt(np.mean(w**2)))] for w in waves]
        return Embeddings(np.asarray(rows, np.float32))

    def embed_texts(self, texts):
        from audiotext_cli.embedder import Embeddings

        return Embeddings(np.asarray([[len(t.split()), len(t)] for t in texts], np.float32))


def test_spaces_from_model_with_fake_embedder(tmp_path, monkeypatch):
    import audiotext_cli.models as models
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.metrics.spaces import spaces_from_model
    from synthetic_corpus import make_corpus

    monkeypatch.setattr(models, "load_embedder", lambda path: _FakeEmbedder())
    manifest = make_corpus(tmp_path)["train"]
    records = read_manifest(manifest)
    ids, audio, text = spaces_from_model("unused.ckpt", manifest, batch_size=4)
    assert ids == [r.id for r in records] and audio.shape == text.shape == (len(ids), 2)
    np.testing.assert_allclose(audio[:, 0], [r.duration for r in records], atol=1e-3)
    level4 = [next(c["text"] for c in r.captions if c["level"] == 4) for r in records]
    np.testing.assert_array_equal(text[:, 1], [len(t) for t in level4])

    result = runner.invoke(
        app,
        [
            "compare-spaces",
            "--model",
            "x.ckpt",
            "--manifest",
            str(manifest),
            "--json",
            "-k",
            "3",
            "--metrics",
            "nngs,cka",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == len(ids)
