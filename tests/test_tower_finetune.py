"""Fine-tuning the aisfx tower's last blocks (`model.tower_trainable`): the frozen default
untouched, only the tail trains, BatchNorm statistics frozen, the tail in the checkpoint,
inference through the tuned tower batch-invariant and under its own feature-cache key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.models.config import apply_overrides, load_preset
from audiotext_cli.models.sfx_weights import load_aisfx
from audiotext_cli.train.loop import train

runner = CliRunner()


@pytest.fixture(scope="module")
def frozen_run(corpus, tmp_path_factory) -> Path:
    model_cfg, train_cfg = apply_overrides(*load_preset("tiny-aisfx"), ["train.epochs=1"])
    out = tmp_path_factory.mktemp("frozen") / "run"
    train(read_manifest(corpus["train"]), read_manifest(corpus["val"]), out, model_cfg, train_cfg)
    return out


@pytest.fixture(scope="module")
def tuned_run(corpus, frozen_run, tmp_path_factory) -> Path:
    """last1 for 2 epochs, heads initialised from the frozen run."""
    overrides = ["model.tower_trainable=last1", "train.epochs=2", "train.tower_lr=1e-3"]
    model_cfg, train_cfg = apply_overrides(*load_preset("tiny-aisfx"), overrides)
    out = tmp_path_factory.mktemp("tuned") / "run"
    records = read_manifest(corpus["train"]), read_manifest(corpus["val"])
    train(*records, out, model_cfg, train_cfg, init_from=frozen_run / "best")
    return out


@pytest.fixture(scope="module")
def tuned(tuned_run):
    from audiotext_cli.models import load_embedder

    return load_embedder(tuned_run / "best")


def _pretrained_block(i: int) -> dict[str, torch.Tensor]:
    prefix = f"blocks.{i}."
    return {k.removeprefix(prefix): v for k, v in load_aisfx()[0].items() if k.startswith(prefix)}


def test_frozen_tower_computes_what_it_did_before_tails_existed() -> None:
    """The frozen path, bit for bit: padded passes of PASS_BLOCKS rows under bf16 autocast."""
    from audiotext_cli.towers.aisfx import AisfxTower
    from audiotext_cli.towers.passes import PASS_BLOCKS

    tower = AisfxTower()
    blocks = torch.rand(PASS_BLOCKS + 3, 100, 96)
    padded = torch.nn.functional.pad(blocks, (0, 0, 0, 0, 0, PASS_BLOCKS - 3))
    with torch.inference_mode():
        expected = []
        for chunk in padded.split(PASS_BLOCKS):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                expected.append(tower.net(chunk).float())
    assert torch.equal(tower.embed_logmel_blocks(blocks), torch.cat(expected)[: len(blocks)])
    assert tower.tower_id == "aisfx-499ea75909c9-bf16"
    model_cfg, train_cfg = load_preset("clap-aisfx")
    assert model_cfg.tower_trainable == "none" and model_cfg.trainable_blocks() == 0


def test_frozen_run_has_no_tail_and_three_param_groups(frozen_run) -> None:
    from audiotext_cli.models.checkpoint import load_model
    from audiotext_cli.train.loop import param_groups

    weights = load_file(str(frozen_run / "best" / "model.safetensors"))
    assert not any(k.startswith("tower_tail.") for k in weights)
    model, meta = load_model(frozen_run / "best")
    assert model.tower_tail is None
    groups = param_groups(model, load_preset("tiny-aisfx")[1])
    assert [g["base_lr"] for g in groups] == [3e-3, 3e-3, 1e-2]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_a_pretrained_tail_after_the_frozen_prefix_is_the_whole_tower(n: int) -> None:
    from audiotext_cli.models.tower_tail import TowerTail
    from audiotext_cli.towers.aisfx import AisfxTower

    tail = TowerTail(n)
    tail.load_pretrained()
    blocks = torch.rand(5, 100, 96)
    frozen, split = AisfxTower(), AisfxTower(tail=tail)
    assert split.tower_id != frozen.tower_id and split.tower_id.startswith(frozen.tower_id)
    torch.testing.assert_close(
        split.embed_logmel_blocks(blocks), frozen.embed_logmel_blocks(blocks), atol=0, rtol=0
    )


def test_prefix_bank_holds_the_frozen_blocks_activations(corpus) -> None:
    from audiotext_cli.towers.aisfx import AisfxTower
    from audiotext_cli.train.tower_bank import build_prefix_bank

    paths = [r.audio for r in read_manifest(corpus["val"])]
    tower = AisfxTower()
    for stop, shape in ((3, (256, 12, 12)), (2, (128, 25, 24)), (0, (100, 96))):
        bank = build_prefix_bank(paths, tower, stop)
        assert len(bank) == len(paths) and tuple(bank.blocks.shape[1:]) == shape
        acts, counts = bank.clips([0, 2])
        assert len(acts) == int(counts.sum()) and not acts.is_inference()


def test_only_the_tail_trains_and_batchnorm_statistics_stay(tuned_run, frozen_run) -> None:
    weights = load_file(str(tuned_run / "best" / "model.safetensors"))
    block = "tower_tail.net.blocks.0."  # last1: the tail is aisfx's block 4 alone
    assert all(k.startswith((block, "audio_", "text_", "logit_")) for k in weights)
    tail = {k.removeprefix(block): v for k, v in weights.items() if k.startswith(block)}
    pretrained = _pretrained_block(3)
    assert tail.keys() == pretrained.keys()
    for name in ("conv1.weight", "conv2.weight", "bn1.weight", "bn2.bias"):
        assert not torch.equal(tail[name], pretrained[name]), name  # trained
    for name in ("bn1.running_mean", "bn1.running_var", "bn2.running_var"):
        assert torch.equal(tail[name], pretrained[name]), name  # frozen statistics
    heads = load_file(str(frozen_run / "best" / "model.safetensors"))
    head = next(k for k in heads if k.startswith("audio_head.") and k.endswith("weight"))
    assert not torch.equal(weights[head], heads[head])


def test_tuned_tower_keeps_the_frozen_prefix(tuned) -> None:
    for i in range(3):
        block = tuned.tower.net.blocks[i].state_dict()
        assert all(torch.equal(block[k], v) for k, v in _pretrained_block(i).items())
    assert tuned.tower.tail is tuned.model.tower_tail and not tuned.model.tower_tail.training


def test_tuned_rows_identical_alone_or_batched(tuned) -> None:
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(int(44100 * s))).astype(np.float32) for s in (0.05, 4, 9)]
    together = tuned.embed_waveforms(waves)
    alone = [tuned.embed_waveforms([w]) for w in waves]
    assert np.array_equal(together.mean, np.concatenate([a.mean for a in alone]))
    assert np.array_equal(together.tower, np.concatenate([a.tower for a in alone]))


def test_checkpoint_round_trip_gives_the_validation_embeddings(corpus, tuned_run, tuned) -> None:
    """The loaded checkpoint's tuned tower computes exactly the block embeddings training's
    validation computed, and the same metrics."""
    from audiotext_cli.evaluate.run import evaluate
    from audiotext_cli.models.checkpoint import load_model
    from audiotext_cli.towers.passes import in_passes
    from audiotext_cli.train.loop import _split
    from audiotext_cli.train.texts import TextTable

    val = read_manifest(corpus["val"])
    model, _ = load_model(tuned_run / "best")
    table = TextTable([c["text"] for r in val for c in r.captions])
    with torch.inference_mode():
        bank_blocks = in_passes(model.tower_tail, _split(val, model.cfg, table).bank.blocks)
    files = tuned.features.blocks_for([r.audio for r in val])
    assert np.array_equal(bank_blocks.numpy(), np.concatenate(files))
    history = [json.loads(line) for line in (tuned_run / "log.jsonl").read_text().splitlines()]
    state = json.loads((tuned_run / "best" / "config.json").read_text())["state"]
    logged = history[state["best_epoch"] - 1]["val"]
    files = evaluate(tuned, val)
    for way in ("text_to_audio", "audio_to_text"):
        assert files[way]["R@5"] == pytest.approx(logged[way]["R@5"], abs=1e-9)


def test_tuned_features_never_enter_the_frozen_cache(corpus, frozen_run, tuned) -> None:
    from audiotext_cli.models import load_embedder
    from audiotext_cli.paths import cache_dir

    frozen = load_embedder(frozen_run / "best")
    assert tuned.model_id != frozen.model_id
    assert tuned.tower.tower_id != frozen.tower.tower_id
    frozen_dir = cache_dir("features", frozen.tower.tower_id)
    before = sorted(frozen_dir.rglob("*.safetensors"))
    paths = [r.audio for r in read_manifest(corpus["train"])[:3]]  # frozen: cached already
    tuned_rows = tuned.embed_files(paths)
    assert sorted(frozen_dir.rglob("*.safetensors")) == before
    assert len(list(cache_dir("features", tuned.tower.tower_id).rglob("*.safetensors"))) >= 3
    assert not np.allclose(tuned_rows.tower, frozen.embed_files(paths).tower, atol=1e-4)


def test_eval_and_search_work_on_a_tuned_checkpoint(corpus, tuned_run, tmp_path) -> None:
    best = str(tuned_run / "best")
    result = runner.invoke(app, ["eval", best, "--manifest", str(corpus["eval"]), "--json"])
    assert result.exit_code == 0, result.output
    audio = Path(read_manifest(corpus["eval"])[0].audio).parent
    lib = tmp_path / "lib.emb"
    result = runner.invoke(app, ["embed", "folder", str(audio), "--model", best, "--out", str(lib)])
    assert result.exit_code == 0, result.output
    card = json.loads(runner.invoke(app, ["info", "--model", best, "--format", "json"]).output)
    assert card["audio_tower_trainable"] == "last1"
    idx = str(tmp_path / "lib.idx")
    assert runner.invoke(app, ["index", "build", str(lib), "--out", idx]).exit_code == 0
    result = runner.invoke(app, ["search", "a dog barking", "--index", idx, "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert [h["rank"] for h in json.loads(result.stdout)] == [1, 2]


@pytest.mark.parametrize(
    "extra",
    [
        ["--set", "model.tower_trainable=last9"],
        ["--set", "model.tower_trainable=1"],
        ["--audio-tower", "cnn", "--set", "model.tower_trainable=last1"],
        ["--set", "model.tower_trainable=all", "--set", "train.tower_lr=0"],
        ["--set", "model.tower_trainable=last1", "--model", "prolap"],
    ],
    ids=lambda e: " ".join(e),
)
def test_bad_unfreeze_settings_exit_2_with_one_line(corpus, tmp_path, extra) -> None:
    args = ["train", "--train", str(corpus["train"]), "--val", str(corpus["val"])]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "run"), *extra])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "tower_" in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
