"""Uncertainty rankings and inclusion statistics (golden values, a trained ProLAP model, CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import CheckpointError, ConfigError
from audiotext_cli.prolap.inclusion_stats import included, inclusion_statistics
from audiotext_cli.prolap.uncertainty import (
    rank_uncertainty,
    total_variance,
    variance_by_level,
)

runner = CliRunner()


def test_rank_uncertainty_golden() -> None:
    logvar = np.log([[0.1, 0.2], [1.0, 1.0], [0.05, 0.05], [0.5, 0.25], [0.2, 0.1]])
    np.testing.assert_allclose(total_variance(logvar), [0.3, 2.0, 0.1, 0.75, 0.3])
    most, least = rank_uncertainty(["a", "b", "c", "d", "e"], logvar, top=3)
    assert [i for i, _ in most] == ["c", "a", "e"]  # the 0.3 tie keeps input order
    assert [i for i, _ in least] == ["b", "d", "e"]
    assert [v for _, v in least] == pytest.approx([2.0, 0.75, 0.3])
    assert rank_uncertainty(["a"], logvar[:1], top=10) == ([("a", pytest.approx(0.3))],) * 2
    with pytest.raises(ConfigError):
        rank_uncertainty(["a"], logvar, top=3)


def test_included_matches_example_a() -> None:
    """prolap-math.md Example A at eps = -20: per-dim logits 0.418, -1.285, 2.209 sum > 0,
    so 1 is included in 2 and, the logit being antisymmetric, 2 is not included in 1."""
    one = Embeddings(np.array([[1.0, 0, 0]]), np.array([[-2.0, -1, -3]]))
    two = Embeddings(np.array([[0.6, 0.8, 0]]), np.array([[-1.5, -2.5, -0.5]]))
    assert included(one, two).tolist() == [True]
    assert included(two, one).tolist() == [False]
    assert included(one, one).tolist() == [False]  # equal Gaussians: logit exactly 0


def test_cli_uncertainty_manifest_matches_embeddings(prolap_run, corpus) -> None:
    from audiotext_cli.models import load_embedder

    result = runner.invoke(
        app,
        ["uncertainty", str(prolap_run), "-m", str(corpus["eval"]), "--top", "3", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["audio"]["n"] == 9 and data["text"]["n"] == 14  # 14 distinct caption strings
    for kind in ("audio", "text"):
        most = [r["total_variance"] for r in data[kind]["most_certain"]]
        least = [r["total_variance"] for r in data[kind]["least_certain"]]
        assert len(most) == len(least) == 3
        assert most == sorted(most) and least == sorted(least, reverse=True) and most[0] <= least[0]
    embedder = load_embedder(prolap_run)
    top_text = data["text"]["least_certain"][0]
    recomputed = total_variance(embedder.embed_texts([top_text["id"]]).logvar)[0]
    assert top_text["total_variance"] == pytest.approx(recomputed, rel=1e-5)
    only_text = runner.invoke(
        app,
        [
            "uncertainty",
            str(prolap_run),
            "-m",
            str(corpus["eval"]),
            "--kind",
            "text",
            "--json",
        ],
    )
    assert set(json.loads(only_text.stdout)) == {"model_id", "text"}


def test_variance_by_level_golden() -> None:
    """Distinct captions per level, each once even when several clips share it."""
    from types import SimpleNamespace

    def rec(caps: list[tuple[int, str]]) -> SimpleNamespace:  # captions_at reads .captions
        return SimpleNamespace(captions=[{"level": lv, "text": t} for lv, t in caps])

    records = [
        rec([(1, "animal"), (2, "dog"), (4, "a dog barks")]),
        rec([(1, "animal"), (2, "cat"), (3, "a cat"), (4, "a cat meows")]),
    ]
    texts = ["animal", "dog", "a dog barks", "cat", "a cat", "a cat meows"]
    logvar = np.log(
        np.array([[1.0, 1.0], [0.5, 0.5], [0.1, 0.1], [0.25, 0.5], [0.2, 0.2], [0.1, 0.3]])
    )
    groups = variance_by_level(records, texts, logvar)
    assert set(groups) == {1, 2, 3, 4}
    np.testing.assert_allclose(groups[1], [2.0])  # "animal" once, not once per clip
    np.testing.assert_allclose(groups[2], [1.0, 0.75])
    np.testing.assert_allclose(groups[3], [0.4])
    np.testing.assert_allclose(groups[4], [0.2, 0.4])


def test_cli_uncertainty_png_by_level(prolap_run, corpus, tmp_path) -> None:
    from audiotext_cli.models import load_embedder

    png = tmp_path / "plots" / "var.png"
    args = ["uncertainty", str(prolap_run), "-m", str(corpus["eval"]), "--kind", "text"]
    result = runner.invoke(app, [*args, "--png", str(png), "--json"])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    means = json.loads(result.stdout)["text"]["distinct_caption_variance_per_level"]
    records = read_manifest(corpus["eval"])
    embedder = load_embedder(prolap_run)
    level1 = list(dict.fromkeys(c["text"] for r in records for c in r.captions if c["level"] == 1))
    expected = total_variance(embedder.embed_texts(level1).logvar).mean()
    assert means["1"] == pytest.approx(expected, rel=1e-5)
    for bad in (["--kind", "audio"], ["--store", str(tmp_path)]):
        refused = runner.invoke(app, ["uncertainty", str(prolap_run), *bad, "--png", str(png)])
        assert refused.exit_code == 2 and "--png" in refused.output


def test_cli_uncertainty_from_store(prolap_run, corpus, tmp_path) -> None:
    store_mod = pytest.importorskip("audiotext_cli.index.store")
    from audiotext_cli.index.folder import store_meta
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(prolap_run)
    texts = ["music", "a sine tone at 880 Hz", "a noise burst"]
    store = store_mod.EmbeddingStore.create(tmp_path / "caps", store_meta(embedder, "text"))
    store.append(
        [{"id": f"c{i}", "text": t} for i, t in enumerate(texts)], embedder.embed_texts(texts)
    )
    result = runner.invoke(
        app,
        ["uncertainty", str(prolap_run), "--store", str(tmp_path / "caps"), "--top", "3", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected, _ = rank_uncertainty(texts, embedder.embed_texts(texts).logvar, top=3)
    assert [r["id"] for r in data["text"]["most_certain"]] == [i for i, _ in expected]
    other = store_mod.EmbeddingStore.create(
        tmp_path / "other", store_meta(embedder, "text") | {"model_id": "another-model"}
    )
    mismatch = runner.invoke(app, ["uncertainty", str(prolap_run), "--store", str(other.path)])
    assert mismatch.exit_code == 1 and "model_id mismatch" in mismatch.output
    both = runner.invoke(
        app,
        [
            "uncertainty",
            str(prolap_run),
            "--store",
            str(tmp_path / "caps"),
            "-m",
            str(corpus["eval"]),
        ],
    )
    assert both.exit_code == 2


def test_deterministic_model_has_no_variances(deterministic_ckpt, corpus) -> None:
    for command in ("uncertainty", "inclusion-stats"):
        result = runner.invoke(app, [command, str(deterministic_ckpt), "-m", str(corpus["eval"])])
        assert result.exit_code == 1, result.output
        assert "model has no variances" in result.output and "Traceback" not in result.output
    from audiotext_cli.models import load_embedder

    with pytest.raises(CheckpointError, match="no variances"):
        inclusion_statistics(load_embedder(deterministic_ckpt), read_manifest(corpus["eval"]))


def test_inclusion_statistics_on_trained_model(prolap_run, corpus) -> None:
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(prolap_run)
    records = read_manifest(corpus["eval"])
    stats = inclusion_statistics(embedder, records, n_masks=2, seed=3)
    assert stats["n_clips"] == 9 and stats["n_captions"] == 14
    # every caption has >= 2 words except "music"/"noise": a one-word draw may hide nothing
    assert 24 <= stats["text_in_masked"]["pairs"] <= 28
    # 9 clips: three 0.6 s, three 1.3 s (1 window each), three 5 s (2 windows): 12 windows x 2
    assert 0 < stats["audio_in_masked"]["pairs"] <= 24
    for pct in (
        stats["text_in_masked"]["full_in_masked_pct"],
        stats["audio_in_masked"]["full_in_masked_pct"],
        *stats["audio_in_caption_pct"].values(),
    ):
        assert 0 <= pct <= 100
    assert -1 <= stats["spearman_length_vs_variance"] <= 1
    from scipy.stats import spearmanr

    pairs = [(c["level"], c["text"]) for r in records for c in r.captions]
    tv = total_variance(embedder.embed_texts([t for _, t in pairs]).logvar)
    direct_rho = spearmanr([lv for lv, _ in pairs], tv).statistic
    assert stats["spearman_level_vs_variance"] == pytest.approx(direct_rho, abs=1e-6)
    assert -1 <= stats["audio_in_masked"]["spearman_mask_ratio_vs_variance"] <= 1
    for kind in ("text_in_masked", "audio_in_masked"):  # the control of each rate
        assert stats[kind]["random_pairs"] > 0
        assert 0 <= stats[kind]["random_pair_pct"] <= 100
    assert set(stats["mean_total_variance_per_level"]) == {"1", "2", "3", "4"}
    # per-level means agree with a direct computation for level 1
    level1 = [c["text"] for r in records for c in r.captions if c["level"] == 1]
    direct = total_variance(embedder.embed_texts(level1).logvar).mean()
    assert stats["mean_total_variance_per_level"]["1"] == pytest.approx(direct, rel=1e-5)
    assert inclusion_statistics(embedder, records, n_masks=2, seed=3) == stats  # seeded
    cli = runner.invoke(
        app, ["inclusion-stats", str(prolap_run), "-m", str(corpus["eval"]), "--json"]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["n_masks"] == 1
