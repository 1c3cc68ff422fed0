"""The user path end to end: recordings + transcripts + labels.csv -> CV AUC, model, embeddings."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.hilbert.docs_corpus import speak
from audiotext_cli.hilbert.train import train_from_cli

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
TURNS = ["The doctor will see you now.", "I went to the market today.", "Court is in session."]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("recordings")
    labels = ["id,label"]
    for i in range(8):
        flat = i % 2 == 1
        pieces, rows, clock = [np.zeros(8000, np.float32)], [], 0.5
        for text in TURNS[: 2 + i % 2]:
            wave = speak(text, "en-us", 40 + 3 * i, 170, flat)
            rows.append({"start": clock, "end": round(clock + len(wave) / 16000, 3), "text": text})
            pieces += [wave, np.zeros(8000, np.float32)]
            clock = rows[-1]["end"] + 0.5
        sf.write(root / f"rec{i}.flac", np.concatenate(pieces), 16000)
        (root / f"rec{i}.json").write_text(json.dumps(rows))
        labels.append(f"rec{i},{'flat' if flat else 'lively'}")
    (root / "labels.csv").write_text("\n".join(labels) + "\n")
    return root


def test_eval_train_embed(folder, tmp_path):
    runner = CliRunner()
    args = [
        "eval-docs",
        str(folder),
        "--audio",
        "prosody",
        "--folds",
        "2",
        "--shuffles",
        "1",
        "--epochs",
        "2",
        "--ablation",
        "meanpool",
        "--ablation",
        "full",
        "--save-features",
        str(tmp_path / "f.npz"),
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["results"]
    assert [r["variant"] for r in scores] == ["meanpool", "full"]
    assert all(0.0 <= r["auc_mean"] <= 1.0 and r["documents"] == 8 for r in scores)

    info = train_from_cli(
        tmp_path / "f.npz",
        tmp_path / "ck",
        seed=0,
        epochs=2,
        device="cpu",
        label="label",
        audio=("prosody",),
    )
    assert info["documents"] == 8
    result = runner.invoke(
        app,
        [
            "embed",
            "docs",
            str(folder),
            "--model",
            str(tmp_path / "ck"),
            "--out",
            str(tmp_path / "emb"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == 8
    from audiotext_cli.index.store import EmbeddingStore

    ids, emb, _ = EmbeddingStore.open(tmp_path / "emb" / "joint").load()
    assert sorted(ids) == [f"rec{i}" for i in range(8)]
    assert np.allclose(np.linalg.norm(emb.mean, axis=1), 1.0, atol=1e-5)


def test_cli_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(app, ["eval-docs", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "not a folder" in result.output
    result = CliRunner().invoke(app, ["data", "build-docs", "--size", "huge"])
    assert result.exit_code == 2 and "--size" in result.output  # a usage mistake
