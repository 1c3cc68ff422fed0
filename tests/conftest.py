"""Shared test setup: offline, and every artefact under a per-session temporary home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _audiotext_home(tmp_path_factory: pytest.TempPathFactory):
    """Point AUDIOTEXT_HOME at a session folder so tests never touch the user's cache.

    A user-provided AUDIOTEXT_PACKAGES (downloaded .deb/.whl cache) is kept, so package
    downloads are not repeated across runs on one machine.
    """
    old = os.environ.get("AUDIOTEXT_HOME")
    os.environ["AUDIOTEXT_HOME"] = str(tmp_path_factory.mktemp("audiotext_home"))
    yield
    if old is None:
        os.environ.pop("AUDIOTEXT_HOME", None)
    else:
        os.environ["AUDIOTEXT_HOME"] = old


# One generated corpus and one tiny model of each kind per session, shared by every test
# that needs a trained checkpoint (training is the slow part of the suite).


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """train/val/eval manifests of the generated corpus (tests/synthetic_corpus.py)."""
    from synthetic_corpus import make_corpus

    return make_corpus(tmp_path_factory.mktemp("corpus"))


def _train_tiny(corpus: dict[str, Path], out: Path, probabilistic: bool) -> Path:
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.models.config import load_preset, loss_config_from
    from audiotext_cli.train.loop import train

    model_cfg, train_cfg = load_preset("tiny")
    if probabilistic:
        model_cfg.probabilistic, train_cfg.loss = True, loss_config_from("prolap")
    train(read_manifest(corpus["train"]), read_manifest(corpus["val"]), out, model_cfg, train_cfg)
    return out


@pytest.fixture(scope="session")
def clap_run(corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run folder (best/, last/, log.jsonl) of the tiny contrastive preset, 2 epochs."""
    return _train_tiny(corpus, tmp_path_factory.mktemp("clap") / "run", probabilistic=False)


@pytest.fixture(scope="session")
def prolap_run(corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RUN/best of a tiny probabilistic model trained with the ProLAP loss."""
    return (
        _train_tiny(corpus, tmp_path_factory.mktemp("prolap") / "run", probabilistic=True) / "best"
    )


@pytest.fixture(scope="session")
def deterministic_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained deterministic tiny checkpoint: enough to test deterministic-only paths."""
    import torch

    from audiotext_cli.models.checkpoint import save_checkpoint
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.models.model import AudioTextModel

    torch.manual_seed(0)
    model_cfg, train_cfg = load_preset("tiny")
    return save_checkpoint(
        tmp_path_factory.mktemp("det") / "ckpt", AudioTextModel(model_cfg), train_cfg, {}
    )
