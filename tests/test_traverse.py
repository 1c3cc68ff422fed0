"""Audio traversal: golden toy (prolap-math.md Example C), hand-made paths, metrics, CLI.

The trained tiny ProLAP model (`prolap_run`) is shared with test_uncertainty.py: it is
trained once per session and cached at module level, because importing a fixture into a
second module gives pytest a second fixture definition.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import ConfigError
from audiotext_cli.prolap.traverse import (
    evaluate_traversal,
    gallery_and_chains,
    inclusion_root,
    nearest,
    plot_traversal,
    root_vector,
    traversal_metrics,
    traversal_queries,
    traverse,
    traverse_from_audio,
    traverse_from_text,
)

runner = CliRunner()


# -- Example C (prolap-math.md section 9): exact vectors, n = 4 steps ----------------------

CHAINS = [
    ["sound", "music", "guitar music", "acoustic guitar strumming"],
    ["sound", "animal", "dog barking", "small dog barking twice"],
]
C_MEANS = np.array(
    [
        [1, 1, 1],
        [1, 1, 0.2],
        [1, 0.3, 0],
        [1, 0, 0],
        [1, 1, 1.2],
        [0.2, 1, 0.9],
        [0, 1, 0.3],
        [0, 1, 0],
    ],
    np.float64,
)
C_MEANS /= np.linalg.norm(C_MEANS, axis=1, keepdims=True)
C_TEXTS = [t for chain in CHAINS for t in chain]  # "sound" twice, with different means
C_GALLERY = Embeddings(C_MEANS, np.tile(np.repeat([-1.0, -2, -3, -4], 3).reshape(4, 3), (2, 1)))
C_AUDIO = np.array([[1, 0.05, 0], [0.05, 1, 0]]) / np.hypot(1, 0.05)
C_EMPTY = np.ones(3) / np.sqrt(3)


def _example_c(root: str) -> list[set[str]]:
    retrieved = []
    for a in C_AUDIO:
        x = Embeddings(a[None], np.full((1, 3), -5.0))
        start = C_MEANS[nearest(a, C_MEANS)]
        path = traverse(start, root_vector(root, x, C_GALLERY, C_EMPTY), C_MEANS, C_TEXTS, 4)
        retrieved.append({s.text for s in path})
    return retrieved


def test_example_c_deterministic_golden() -> None:
    retrieved = _example_c("empty")
    assert retrieved == [
        {"acoustic guitar strumming", "guitar music", "sound"},
        {"small dog barking twice", "dog barking", "sound"},
    ]
    m = traversal_metrics(retrieved, CHAINS)
    assert m["precision"] == pytest.approx(100)
    assert m["recall"] == pytest.approx(75)
    assert m["per_level_recall"] == pytest.approx([100, 0, 100, 100])
    assert m["any_recall"] == pytest.approx(100)


def test_example_c_uncertainty_root_pitfall() -> None:
    # the inclusion-selected root is the *finest* caption (S rewards a small container variance)
    assert [inclusion_root(a, np.full(3, -5.0), C_MEANS, C_GALLERY.logvar) for a in C_AUDIO] == [
        3,
        7,
    ]
    m = traversal_metrics(_example_c("inclusion+empty"), CHAINS)
    assert m["precision"] == pytest.approx(100)
    assert m["recall"] == pytest.approx(50)
    assert m["per_level_recall"] == pytest.approx([0, 0, 100, 100])
    # root = start: the walk never leaves the finest caption
    assert traversal_metrics(_example_c("inclusion"), CHAINS)["recall"] == pytest.approx(25)


# -- hand-made paths ----------------------------------------------------------------------


def _unit(deg: float) -> np.ndarray:
    return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])


def test_quarter_circle_walk_is_monotonic_golden() -> None:
    """Captions at 0, 20, 40, 60 degrees, root at 90: the n = 4 queries lie at
    atan(alpha / (1 - alpha)) = 0, 18.43, 45, 71.57 degrees."""
    gallery = np.stack([_unit(d) for d in (0, 20, 40, 60)])
    path = traverse(_unit(0), _unit(90), gallery, ["a", "b", "c", "d"], steps=4)
    assert [s.index for s in path] == [0, 1, 2, 3]
    assert [s.alpha for s in path] == [0, 0.25, 0.5, 0.75]
    expected = np.cos(np.radians([0, 20 - 18.4349488, 45 - 40, 71.5650512 - 60]))
    np.testing.assert_allclose([s.score for s in path], expected, atol=1e-7)
    finer = traverse(_unit(0), _unit(90), gallery, ["a", "b", "c", "d"], steps=50)
    assert np.all(np.diff([s.index for s in finer]) >= 0)
    assert {s.index for s in finer} == {0, 1, 2, 3}


def test_fifty_steps_and_root_never_queried() -> None:
    start, root = _unit(0), _unit(90)
    queries = traversal_queries(start, root, 50)
    assert queries.shape == (50, 2)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1)
    np.testing.assert_allclose(queries[0], start)
    assert (queries @ root).max() < np.cos(np.radians(1))  # last query is 1.17 deg short
    # a gallery holding only the start and the root: the root is never retrieved
    path = traverse(start, root, np.stack([start, root]), ["start", "root"], steps=50)
    assert len(path) == 50 and [s.step for s in path] == list(range(50))
    assert path[-1].alpha == pytest.approx(0.98)
    assert path[24].text == "start" and path[26].text == "root"  # the midpoint is a tie
    with pytest.raises(ConfigError):
        traversal_queries(start, root, 0)
    with pytest.raises(ConfigError):
        traverse(start, root, np.stack([start]), ["a", "b"])


def test_metrics_by_string_with_empty_and_foreign_captions() -> None:
    m = traversal_metrics([{"a", "x"}, set()], [["a", "b", "c", "d"], ["e", "f", "g", "h"]])
    assert m == {
        "precision": pytest.approx(25),  # (1/2 + 0/1) / 2
        "recall": pytest.approx(12.5),
        "per_level_recall": pytest.approx([50, 0, 0, 0]),
        "any_recall": pytest.approx(50),
    }
    with pytest.raises(ConfigError):
        traversal_metrics([{"a"}], [])


def test_inclusion_roots_need_variances() -> None:
    x = Embeddings(C_AUDIO[:1])
    with pytest.raises(ConfigError, match="variances"):
        root_vector("inclusion", x, Embeddings(C_MEANS), C_EMPTY)
    with pytest.raises(ConfigError, match="unknown root"):
        root_vector("middle", x, Embeddings(C_MEANS), C_EMPTY)


# -- a trained model on the synthetic corpus ----------------------------------------------


def test_gallery_dedups_first_paraphrases(corpus) -> None:
    records = read_manifest(corpus["eval"])
    gallery, chains = gallery_and_chains(records)
    assert len(chains) == len(records) == 9
    assert chains[0][0] in ("music", "noise") and "the sound of music" not in gallery
    assert len(gallery) == len(set(gallery)) == 2 + 2 + 3 + 5  # L1, L2, L3, distinct L4


def test_evaluate_matches_per_clip_traversals(prolap_run, corpus) -> None:
    from audiotext_cli.audio.io import load_audio
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(prolap_run)
    records = read_manifest(corpus["eval"])
    result = evaluate_traversal(embedder, records, steps=20)
    gallery, chains = gallery_and_chains(records)
    retrieved = []
    for r in records:
        path = traverse_from_audio(embedder, load_audio(r.audio), gallery, steps=20)
        assert len(path) == 20
        retrieved.append({s.text for s in path})
    expected = traversal_metrics(retrieved, chains)
    for key in ("precision", "recall", "any_recall"):
        assert result[key] == pytest.approx(expected[key])
    assert result["per_level_recall"] == pytest.approx(expected["per_level_recall"])
    assert result["n_gallery"] == len(gallery) and result["steps"] == 20
    # from text: the query caption itself is step 0
    path = traverse_from_text(embedder, gallery[-1], gallery, steps=5)
    assert path[0].text == gallery[-1] and path[0].score == pytest.approx(1, abs=1e-5)


def test_plot_writes_png(tmp_path: Path) -> None:
    gallery = np.stack([_unit(d) for d in (0, 30, 60)])
    path = traverse(_unit(0), _unit(90), gallery, ["fine", "mid", "coarse"], steps=10)
    out = plot_traversal(path, tmp_path / "sub" / "t.png", "toy")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.parent.iterdir() if p.name != "t.png"]  # no temp file left


# -- CLI --------------------------------------------------------------------------------


def test_cli_needs_exactly_one_start(deterministic_ckpt) -> None:
    for extra in ([], ["--audio", "x.wav", "--text", "a dog"]):
        result = runner.invoke(app, ["traverse", str(deterministic_ckpt), *extra])
        assert result.exit_code == 2, result.output
        assert "exactly one of --audio and --text" in result.output


def test_cli_text_traversal_deterministic(deterministic_ckpt, corpus, tmp_path) -> None:
    captions = tmp_path / "caps.txt"
    captions.write_text("a dog barks\n\nmusic\na dog barks\nrain on a roof\n")
    png = tmp_path / "walk.png"
    args = [
        "traverse",
        str(deterministic_ckpt),
        "--text",
        "a small dog barks twice",
        "--gallery",
        str(captions),
        "--steps",
        "7",
        "--png",
        str(png),
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["gallery_size"] == 3 and len(data["steps"]) == 7
    assert [s["step"] for s in data["steps"]] == list(range(7))
    assert png.read_bytes()[:4] == b"\x89PNG"
    # the table collapses consecutive repeats: one row per run of the JSON path
    walk = [
        "traverse",
        str(deterministic_ckpt),
        "--text",
        "a dog barks",
        "--gallery",
        str(corpus["eval"]),
        "--steps",
        "12",
    ]
    steps = json.loads(runner.invoke(app, [*walk, "--json"]).stdout)["steps"]
    runs = [s for k, s in enumerate(steps) if k == 0 or s["index"] != steps[k - 1]["index"]]
    table = runner.invoke(app, walk)
    assert table.exit_code == 0, table.output
    for run in runs:
        assert run["text"] in table.stdout
    assert table.stdout.count("│") == len(runs) * 6  # one row per run, 5 columns
    bad = runner.invoke(
        app,
        [
            "traverse",
            str(deterministic_ckpt),
            "--text",
            "x",
            "--gallery",
            str(captions),
            "--root",
            "inclusion",
        ],
    )
    assert bad.exit_code == 1 and "needs variances" in bad.output


def test_cli_traverse_eval_json(prolap_run, corpus) -> None:
    result = runner.invoke(
        app,
        [
            "traverse-eval",
            str(prolap_run),
            "-m",
            str(corpus["eval"]),
            "--steps",
            "10",
            "--root",
            "inclusion+empty",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n_clips"] == 9 and data["root"] == "inclusion+empty"
    assert 0 <= data["recall"] <= 100 and data["any_recall"] >= data["recall"]
    assert len(data["per_level_recall"]) == 4
