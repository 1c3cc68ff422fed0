"""Config checking: every bad `--set`, preset or field value is one ConfigError naming its key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audiotext_cli.errors import ConfigError, UsageError
from audiotext_cli.models.config import (
    ModelConfig,
    TrainConfig,
    apply_overrides,
    differing_keys,
    load_preset,
    model_config_from_dict,
    to_dict,
    train_config_from_dict,
)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.epochs=2.7", "train.epochs"),
        ("model.audio={}", "model.audio"),
        ("model.nope=1", "model.nope"),
        ("train.loss.nope=1", "train.loss.nope"),
        ("train.lr=NaN", "train.lr"),
        ("train.lr=Infinity", "train.lr"),
        ("train.lr=fast", "train.lr"),
        ("train.spec_augment=1", "train.spec_augment"),
        ("train.batch_size=0", "train.batch_size"),
        ("train.checkpoint_every=0", "train.checkpoint_every"),
        ("train.epochs=0", "train.epochs"),
        ("train.epochs=-1", "train.epochs"),
        ("model.embed_dim=0", "model.embed_dim"),
        ("model.embed_dim=-4", "model.embed_dim"),
        ("model.sample_rate=0", "model.sample_rate"),
        ("model.hop_length=0", "model.hop_length"),
        ("model.audio.channels=[8, 0]", "model.audio.channels"),
        ("model.audio.dropout=1.5", "model.audio.dropout"),
        ("train.loss=7", "train.loss"),
    ],
)
def test_bad_overrides_name_their_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        apply_overrides(*load_preset("tiny"), [override])
    assert isinstance(err.value, UsageError)  # the CLI exits 2 on these
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("override", ["lr=1", "train.lr", "train.=1", "data.x=1"])
def test_malformed_overrides(override: str) -> None:
    with pytest.raises(ConfigError, match="bad override"):
        apply_overrides(*load_preset("tiny"), [override])


def test_overrides_apply_in_order_and_leave_inputs_alone() -> None:
    model, train = load_preset("prolap-demo")
    new_model, new_train = apply_overrides(
        model,
        train,
        [
            "train.loss.vib.weight=0",
            "train.loss=prolap",  # already prolap: keeps the tuned weights
            "model.audio.channels=[4, 8, 8, 16]",
            "train.epochs=3",
            "train.lr=1",  # an int for a float field is fine
        ],
    )
    assert new_train.loss.vib.weight == 0.0 and new_train.epochs == 3 and new_train.lr == 1.0
    assert isinstance(new_train.lr, float) and new_model.audio.channels == (4, 8, 8, 16)
    assert train.loss.vib.weight == 1e-5 and model.audio.channels == (16, 32, 64, 128)
    _, switched = apply_overrides(model, new_train, ["train.loss=siglip"])
    assert to_dict(switched.loss) == {"name": "siglip"}


def test_round_trip_and_legacy_flat_loss_options() -> None:
    model, train = load_preset("prolap-demo")
    assert model_config_from_dict(json.loads(json.dumps(to_dict(model)))) == model
    assert train_config_from_dict(json.loads(json.dumps(to_dict(train)))) == train
    # a checkpoint written before losses had their own configs
    old = {"loss": "prolap", "epochs": 3, "w_vib": 0.5, "soft_beta": 0.1, "mask_prob": 0.5}
    cfg = train_config_from_dict(old)
    assert (cfg.loss.name, cfg.loss.vib.weight, cfg.loss.masking.prob, cfg.epochs) == (
        "prolap",
        0.5,
        0.5,
        3,
    )


def test_construction_is_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"model\.n_mels"):
        ModelConfig(n_mels=0)
    with pytest.raises(ConfigError, match=r"train\.lr"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ConfigError, match="unknown loss"):
        TrainConfig(loss="bogus")


def test_bad_preset_files(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"train": {"batch_size": 0}}))
    with pytest.raises(ConfigError, match=r"train\.batch_size"):
        load_preset(str(path))
    path.write_text(json.dumps({"model": {"audio": {"channel": [1]}}}))
    with pytest.raises(ConfigError, match=r"model\.audio\.channel"):
        load_preset(str(path))
    path.write_text(json.dumps({"modle": {}}))
    with pytest.raises(ConfigError, match="a preset is"):
        load_preset(str(path))


def test_differing_keys() -> None:
    a, b = load_preset("prolap-demo")[1], load_preset("prolap-demo")[1]
    assert differing_keys(a, b, "train") == []
    _, c = apply_overrides(
        load_preset("prolap-demo")[0], b, ["train.lr=1", "train.loss.vib.weight=0"]
    )
    assert differing_keys(a, c, "train") == ["train.loss.vib.weight", "train.lr"]


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "train.epochs=2.7"],
        ["--set", "model.audio={}"],
        ["--epochs", "-1"],
        ["--loss", "bogus"],
        ["--model", "hilbert", "--loss", "clip"],
        ["--model", "hilbert", "--resume", "--teacher", "x"],
        ["--model", "hilbert", "--preset", "tiny"],
        ["--preset", "tiny", "--teacher", "some/ckpt"],  # clip loss: a teacher is unused
        ["--audio-tower", "bogus"],
        ["--set", "model.audio_tower=bogus"],
        ["--set", "train.positives=bogus"],
        ["--preset", "clap-aisfx", "--set", "model.sample_rate=16000"],  # the tower runs at 44.1k
    ],
)
def test_cli_usage_mistakes_exit_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audiotext_cli.cli import app

    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "run"), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
