"""HILBERT in the shared registries: its preset and `--set`, the options `train --model
hilbert` refuses, and its checkpoints' format and content hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.errors import ConfigError
from audiotext_cli.hilbert.config import FitConfig, hilbert_config
from audiotext_cli.hilbert.model import HilbertConfig
from audiotext_cli.losses import DualConfig
from audiotext_cli.models.config import load_preset


def test_the_preset_is_what_train_model_hilbert_always_ran() -> None:
    """presets/hilbert.json holds the defaults, and 40 epochs (the command's old default)."""
    assert hilbert_config() == (HilbertConfig(), FitConfig(epochs=40))


def test_set_reaches_the_model_and_the_fit_and_is_checked() -> None:
    cfg, run = hilbert_config(
        overrides=["model.d=16", "train.losses.cka.weight=0", "train.lr=1e-3"]
    )
    assert (cfg.d, run.losses["cka"].weight, run.lr, run.epochs) == (16, 0.0, 1e-3, 40)
    assert run.losses["dual"] == DualConfig()  # the others keep their defaults
    for item, key in [
        ("model.d=1.5", "model.d"),
        ("model.head=mlp", "model.head"),
        ("model.d=30", "model.d"),  # not a multiple of the 4 heads
        ("model.nope=1", "model.nope"),
        ("train.epochs=0", "train.epochs"),
        ("model.audio_dim=8", "model.audio_dim"),  # from the features
        ("train.device=cuda", "train.device"),  # from --device
        ("train.loss=clip", "train.loss"),
        ("train.losses.cka=0", "train.losses.cka"),  # a section
        ("train.losses.nope.weight=1", "train.losses.nope"),
        ("train.losses.dual.temperature=0", "train.losses.dual.temperature"),
        ("train.losses.cka.weight=-1", "train.losses.cka.weight"),
        ("train.losses.dual.balance=-0.1", "train.losses.dual.balance"),
        ("train.losses.dual.direct=1", "train.losses.dual.direct"),
    ]:
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            hilbert_config(overrides=[item])


def test_a_preset_of_the_other_family_is_refused_both_ways(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="preset kind is 'audiotext', expected 'hilbert'"):
        hilbert_config("tiny")
    with pytest.raises(ConfigError, match="preset kind is 'hilbert', expected 'audiotext'"):
        load_preset("hilbert")
    path = tmp_path / "mine.json"
    train = {"epochs": 2, "losses": {"load": {"weight": 0.5}}}
    path.write_text(json.dumps({"kind": "hilbert", "model": {"d": 8}, "train": train}))
    cfg, run = hilbert_config(str(path))
    assert (cfg.d, run.epochs, run.batch_size, run.losses["load"].weight) == (8, 2, 32, 0.5)
    assert list(run.losses) == ["ce", "dual", "cka", "load", "penalty"]  # the summing order


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--loss", "clip"], "--loss is not used with --model hilbert"),
        (["--resume"], "--resume is not used"),
        (["--val", "v.jsonl"], "--val is not used"),
        (["--init-from", "ck"], "--init-from is not used"),
        (["--teacher", "ck"], "--teacher is not used"),
        (["--audio-tower", "cnn"], "--audio-tower is not used"),
        (["--preset", "tiny"], "preset kind"),
        (["--set", "model.d=1.5"], "model.d: expected an integer"),
        (["--set", "model.n_classes=3"], "model.n_classes: set by the labels"),
        (["--epochs", "0"], "train.epochs: must be > 0"),
    ],
)
def test_train_model_hilbert_refuses_with_exit_2_and_one_line(args, says, tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--model", "hilbert", "--out", str(tmp_path / "ck"), *args]
    )
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and says in result.output
    assert not (tmp_path / "ck").exists()


def test_train_model_hilbert_honours_preset_and_set(tmp_path) -> None:
    import numpy as np

    from audiotext_cli.hilbert.features import DocFeatures
    from audiotext_cli.hilbert.train import load_checkpoint

    rng = np.random.default_rng(0)
    offsets = np.arange(0, 37, 3)  # 12 documents of 3 turns
    labels = {"binary": np.arange(12) % 2}
    audio, text = rng.normal(size=(36, 5)), rng.normal(size=(36, 6))
    feats = DocFeatures([f"d{i}" for i in range(12)], offsets, audio, text, labels, {})
    feats.save(tmp_path / "f.npz")
    sets = ["model.d=8", "model.heads=2", "train.losses.cka.weight=0", "train.batch_size=6"]
    args = ["train", "--model", "hilbert", "--train", str(tmp_path / "f.npz")]
    args += ["--out", str(tmp_path / "ck"), "--epochs", "2", "--format", "json"]
    result = CliRunner().invoke(app, args + [a for s in sets for a in ("--set", s)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == 12
    fitted, config = load_checkpoint(tmp_path / "ck")
    assert fitted.model.cfg.d == 8 and fitted.model.cfg.audio_dim == 5
    assert config["train"]["epochs"] == 2 and config["train"]["batch_size"] == 6
    assert config["train"]["losses"]["cka"] == {"weight": 0.0}
