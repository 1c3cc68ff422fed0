"""Training end to end on a generated corpus: checkpoints, resume bit for bit, eval CLI, DDP."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.models.config import load_preset
from audiotext_cli.train.loop import train
from synthetic_corpus import tiny_train_args

runner = CliRunner()


@pytest.fixture
def trained(clap_run: Path) -> Path:
    return clap_run


def test_training_writes_checkpoints_and_log(trained: Path) -> None:
    for name in ("best", "last"):
        assert (trained / name / "model.safetensors").is_file()
        assert (
            json.loads((trained / name / "config.json").read_text())["format"]
            == "audiotext-checkpoint"
        )
    log = [json.loads(line) for line in (trained / "log.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in log] == [1, 2]
    assert all(0 <= h["selection"] <= 1 for h in log)
    assert (trained / "last" / "optimizer.safetensors").is_file()


def test_resume_is_bit_for_bit(corpus, trained: Path, tmp_path: Path) -> None:
    model_cfg, train_cfg = load_preset("tiny")
    records = read_manifest(corpus["train"]), read_manifest(corpus["val"])
    out = tmp_path / "run"
    # 42 clips / batch 8 = 5 steps an epoch. "Kill" after 8 steps: the last checkpoint holds
    # 7 (checkpoint_every=2 inside epoch 2), so step 8 is lost and must be redone identically.
    state = train(*records, out, model_cfg, train_cfg, max_steps=8)
    assert state["global_step"] == 8
    saved = json.loads((out / "last" / "config.json").read_text())["state"]
    assert saved["global_step"] == 7
    train(*records, out, model_cfg, train_cfg, resume=True)
    a = load_file(str(trained / "last" / "model.safetensors"))
    b = load_file(str(out / "last" / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_changed_training_data(corpus, tmp_path: Path) -> None:
    from audiotext_cli.errors import ConfigError

    model_cfg, train_cfg = load_preset("tiny")
    train_records, val_records = read_manifest(corpus["train"]), read_manifest(corpus["val"])
    out = tmp_path / "run"
    train(train_records, val_records, out, model_cfg, train_cfg, max_steps=2)
    with pytest.raises(ConfigError, match="other data"):  # one clip fewer (a rebuilt corpus)
        train(train_records[1:], val_records, out, model_cfg, train_cfg, resume=True, max_steps=3)
    train(train_records, val_records, out, model_cfg, train_cfg, resume=True, max_steps=3)
    # any other setting is refused too, naming what changed (a new lr used to be ignored)
    new_lr = dataclasses.replace(train_cfg, lr=1e-4)
    with pytest.raises(ConfigError, match=r"other settings \(train\.lr\)"):
        train(train_records, val_records, out, model_cfg, new_lr, resume=True, max_steps=4)
    wider = dataclasses.replace(model_cfg, embed_dim=16)
    with pytest.raises(ConfigError, match=r"model\.embed_dim"):
        train(train_records, val_records, out, wider, train_cfg, resume=True, max_steps=4)
    train_cfg.source_alpha = -1.0
    with pytest.raises(ConfigError, match="source_alpha"):
        train(train_records, val_records, tmp_path / "neg", model_cfg, train_cfg, max_steps=1)


def test_refuses_to_overwrite_a_run_without_resume(corpus, trained: Path) -> None:
    result = runner.invoke(
        app,
        tiny_train_args(corpus, trained),
    )
    assert result.exit_code == 1
    assert "--resume" in result.output and "Traceback" not in result.output


def test_eval_cli_reports_metrics_with_chance(corpus, trained: Path) -> None:
    result = runner.invoke(
        app, ["eval", str(trained / "best"), "--manifest", str(corpus["eval"]), "--json"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    for direction in ("text_to_audio", "audio_to_text"):
        block = metrics[direction]
        assert 0 <= block["R@1"] <= block["R@5"] <= block["R@10"] <= 1
        assert 0 < block["chance"]["R@1"] <= block["chance"]["R@10"] <= 1
    assert metrics["zeroshot"]["3"]["n_classes"] == 3
    assert metrics["zeroshot"]["3"]["chance"] == pytest.approx(1 / 3)


def test_embedder_is_deterministic_alone_or_batched(trained: Path, tmp_path: Path) -> None:
    from audiotext_cli.models import load_embedder

    emb = load_embedder(trained / "best")
    rng = np.random.default_rng(1)
    blip = (0.1 * rng.standard_normal(800)).astype(np.float32)  # 0.05 s
    long = (0.1 * rng.standard_normal(16000 * 9)).astype(np.float32)  # 3 windows
    mid = (0.1 * rng.standard_normal(16000 * 2)).astype(np.float32)
    together = emb.embed_waveforms([blip, long, mid]).mean
    alone = np.stack([emb.embed_waveforms([w]).mean[0] for w in (blip, long, mid)])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    # a stereo 44.1 kHz file embeds like its 16 kHz mono content, run after run
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([mid, mid], 1), 16000)
    first, second = emb.embed_files([path]).mean, emb.embed_files([path]).mean
    assert np.array_equal(first, second)
    np.testing.assert_allclose(first[0], alone[2], atol=1e-4)


@pytest.mark.parametrize("seconds", [0.05, 0.6, 1.0, 1.5, 2.4, 2.9])
def test_cnn_on_a_cropped_window_pools_what_the_whole_window_gives(seconds: float) -> None:
    """`frames_needed`: front end and CNN on a short clip's leading frames give its whole
    padded window's features (to float rounding); one token less of reach does not."""
    from audiotext_cli.audio.features import num_frames, valid_frames
    from audiotext_cli.models.audio_encoder import PATCH_FRAMES, frames_needed
    from audiotext_cli.models.model import AudioTextModel

    torch.manual_seed(0)
    model = AudioTextModel(load_preset("demo")[0]).eval()
    n = round(seconds * 16000)
    window = torch.zeros(1, model.window_samples)
    window[0, :n] = 0.1 * torch.from_numpy(np.random.default_rng(n).standard_normal(n))
    valid = torch.tensor([n])
    total = num_frames(model.window_samples, model.frontend_cfg)
    crop = frames_needed(int(valid_frames(valid, model.frontend_cfg)), total)
    assert crop < total  # 2.9 s: 145 valid frames of 201, cropped at 192
    with torch.inference_mode():
        whole = model.audio_features(window, valid)
        cropped = model.audio_features(window, valid, crop)
        short = model.audio_features(window, valid, crop - PATCH_FRAMES)
    scale = whole.abs().max()
    assert (cropped - whole).abs().max() <= 1e-5 * scale
    assert (short - whole).abs().max() > 1e-3 * scale


def test_broken_checkpoints_are_one_line_errors(trained: Path, tmp_path: Path, corpus) -> None:
    from audiotext_cli.errors import CheckpointError
    from audiotext_cli.models.checkpoint import load_model

    bad = tmp_path / "bad"
    shutil.copytree(trained / "best", bad)
    weights = bad / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])  # truncated
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(bad)
    result = runner.invoke(app, ["eval", str(bad), "--manifest", str(corpus["eval"])])
    assert result.exit_code == 1
    assert "truncated" in result.output and "Traceback" not in result.output

    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        load_model(tmp_path / "empty")
    cfg = json.loads((trained / "best" / "config.json").read_text())
    other = tmp_path / "other"
    shutil.copytree(trained / "best", other)
    cfg["model"]["embed_dim"] = 48  # weights no longer fit the architecture
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_model(other)
    (other / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(other)


def test_pretrained_audio_encoder_loader(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    from audiotext_cli.errors import CheckpointError
    from audiotext_cli.models.checkpoint import load_audio_encoder_weights
    from audiotext_cli.models.model import AudioTextModel

    model_cfg, _ = load_preset("tiny")
    source = AudioTextModel(model_cfg)
    for p in source.audio_encoder.parameters():
        torch.nn.init.normal_(p)
    wrapped = {f"module.audio_encoder.{k}": v for k, v in source.audio_encoder.state_dict().items()}
    save_file(wrapped, str(tmp_path / "enc.safetensors"))
    target = AudioTextModel(model_cfg)
    load_audio_encoder_weights(target, tmp_path / "enc.safetensors")
    for k, v in source.audio_encoder.state_dict().items():
        assert torch.equal(v, target.audio_encoder.state_dict()[k])
    with pytest.raises(CheckpointError, match="unpickle"):
        load_audio_encoder_weights(target, tmp_path / "enc.pt")
    save_file({"stages.0.block.0.weight": torch.zeros(3, 3)}, str(tmp_path / "wrong.safetensors"))
    with pytest.raises(CheckpointError, match="missing"):
        load_audio_encoder_weights(target, tmp_path / "wrong.safetensors")


def test_overrides_are_type_checked() -> None:
    from audiotext_cli.errors import ConfigError
    from audiotext_cli.models.config import apply_overrides

    model_cfg, train_cfg = load_preset("tiny")
    model_cfg, train_cfg = apply_overrides(
        model_cfg, train_cfg, ["train.lr=0.01", "model.embed_dim=16", "train.loss=siglip"]
    )
    assert (train_cfg.lr, model_cfg.embed_dim, train_cfg.loss.name) == (0.01, 16, "siglip")
    for bad in ("train.lr=fast", "model.nope=1", "lr=1", "train.spec_augment=1"):
        with pytest.raises(ConfigError):
            apply_overrides(model_cfg, train_cfg, [bad])


@pytest.mark.slow
def test_torchrun_two_processes(corpus, tmp_path: Path) -> None:
    """DDP with gloo on CPU: two ranks train together and rank 0 writes the checkpoints."""
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        "-m",
        "audiotext_cli",
        *tiny_train_args(corpus, out, "--epochs", "1", "--set", "train.batch_size=4"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = json.loads((out / "last" / "config.json").read_text())["state"]
    assert (
        state["global_step"] == state["steps_per_epoch"] == len(read_manifest(corpus["train"])) // 8
    )


def test_epoch_order_balances_sources_deterministically() -> None:
    from collections import Counter
    from types import SimpleNamespace

    from audiotext_cli.models.config import TrainConfig
    from audiotext_cli.train.loop import epoch_order

    records = [SimpleNamespace(source="big")] * 900 + [SimpleNamespace(source="small")] * 100
    plain = epoch_order(records, TrainConfig(seed=3), epoch=2)
    assert sorted(plain.tolist()) == list(range(1000))  # alpha 1: each clip once
    shares = {}
    for alpha in (0.0, 0.5):
        cfg = TrainConfig(seed=3, source_alpha=alpha)
        order = epoch_order(records, cfg, epoch=2)
        assert torch.equal(order, epoch_order(records, cfg, epoch=2))  # resume sees the same
        assert not torch.equal(order, epoch_order(records, cfg, epoch=3))
        shares[alpha] = Counter(records[i].source for i in order.tolist())["small"] / 1000
    # expected share of "small": 100^a / (900^a + 100^a) = 0.5 (a=0), 0.25 (a=0.5)
    assert shares[0.0] == pytest.approx(0.5, abs=0.05)
    assert shares[0.5] == pytest.approx(0.25, abs=0.05)
