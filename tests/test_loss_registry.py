"""The loss registry: a new loss is one registration away from `--set train.loss=NAME`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import (
    LOSSES,
    Loss,
    LossBatch,
    LossConfig,
    create_loss,
    register_loss,
    unregister_loss,
)
from audiotext_cli.models.output import ModelOutput


@dataclass
class ToyConfig(LossConfig):
    weight: float = 1.0


seen: list[ModelOutput] = []


@pytest.fixture
def toy():
    """A loss registered through the registry alone, removed again afterwards."""

    @register_loss("toy", ToyConfig)
    class ToyLoss(Loss):
        """Squared distance between paired audio and text means (no bias, no masks)."""

        def forward(self, out, batch):
            seen.append(out)
            gap = (out.audio.mean - out.text.mean).pow(2).sum(-1).mean()
            return {"toy_loss": self.cfg.weight * gap}

    seen.clear()
    yield ToyLoss
    unregister_loss("toy")


def test_toy_loss_trains_one_step_through_the_registry(toy, corpus, tmp_path: Path) -> None:
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.models.config import apply_overrides, load_preset
    from audiotext_cli.train.loop import train

    model_cfg, train_cfg = apply_overrides(
        *load_preset("tiny"), ["train.loss=toy", "train.loss.weight=0.5"]
    )
    assert isinstance(train_cfg.loss, ToyConfig) and train_cfg.loss.weight == 0.5
    steps: list[dict] = []
    records = read_manifest(corpus["train"]), read_manifest(corpus["val"])
    state = train(
        *records, tmp_path / "run", model_cfg, train_cfg, on_step=steps.append, max_steps=1
    )
    assert state["global_step"] == 1 and len(seen) == 1
    assert isinstance(seen[0], ModelOutput) and seen[0].audio_levels == []  # asked for no masks
    assert set(steps[0]) >= {"toy_loss"} and steps[0]["loss"] == steps[0]["toy_loss"] > 0


def test_unused_parameters_follow_what_the_loss_declares(toy) -> None:
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.models.model import AudioTextModel

    model = AudioTextModel(load_preset("tiny")[0])
    for name in ("toy", "siglip"):
        needs = LOSSES[name]().needs
        model.freeze_unused(needs.bias, needs.masking is not None)
        assert model.logit_bias.requires_grad == (name == "siglip")
        assert not model.audio_encoder.mask_patch.requires_grad


def test_registry_refuses_twice_the_same_name_or_config(toy) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_loss("toy", LossConfig)(type("Other", (Loss,), {}))
    with pytest.raises(ValueError, match="already configures"):
        register_loss("toy2", ToyConfig)(type("Other", (Loss,), {}))
    assert "toy2" not in LOSSES


def test_unknown_loss_and_unknown_loss_option_name_the_key() -> None:
    from audiotext_cli.models.config import apply_overrides, load_preset

    with pytest.raises(ConfigError, match="unknown loss 'nope'"):
        apply_overrides(*load_preset("tiny"), ["train.loss=nope"])
    with pytest.raises(ConfigError, match=r"train\.loss\.vib"):
        apply_overrides(*load_preset("tiny"), ["train.loss.vib.weight=0"])  # clip has no vib
    _, cfg = apply_overrides(*load_preset("prolap-demo"), ["train.loss.vib.weight=0"])
    assert cfg.loss.vib.weight == 0.0 and cfg.loss.ppcl.weight == 1.0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.loss.vib.bogus=1", r"unknown key train\.loss\.vib\.bogus"),
        ("train.loss.vib={}", r"train\.loss\.vib: is a section"),
        ("train.loss.vib.variant=x", r"train\.loss\.vib\.variant: must be"),
        ("train.loss.masking.prob=2", r"train\.loss\.masking\.prob: must be in \[0, 1\]"),
        ("train.loss.masking.text_depth=1.5", r"train\.loss\.masking\.text_depth: expected an int"),
    ],
)
def test_prolap_term_sections_are_checked_by_key(override: str, message: str) -> None:
    from audiotext_cli.models.config import apply_overrides, load_preset

    with pytest.raises(ConfigError, match=message):
        apply_overrides(*load_preset("prolap-demo"), [override])


def test_prolap_is_the_sum_of_its_term_losses_each_with_its_own_config() -> None:
    """Each term is a Loss of its own: run alone on the same output, the terms give exactly
    what ProLAP returns, and a checkpoint config from before the sections still reads."""
    import torch

    from audiotext_cli.losses.probabilistic import TERMS, ProLAPConfig
    from audiotext_cli.models.config import loss_config_from
    from audiotext_cli.models.output import Embedding

    g = torch.Generator().manual_seed(0)
    mu = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=-1)
    lv = torch.randn(6, 8, generator=g) - 4
    level = Embedding(mu[:3].roll(1, -1), lv[:3] + 0.5)
    out = ModelOutput(
        Embedding(mu, lv),
        Embedding(mu.flip(0), lv.flip(0)),
        torch.tensor(10.0),
        torch.tensor(-10.0),
        [level],
        [level],
    )
    whole = create_loss(ProLAPConfig())(out, LossBatch())
    parts = {}
    for name, term in TERMS.items():
        loss = term(getattr(ProLAPConfig(), name))
        assert loss.cfg is not None and type(loss.cfg) is term.Config
        parts |= loss(out, LossBatch())
    assert list(parts) == list(whole) and all(torch.equal(parts[k], whole[k]) for k in whole)
    assert all(v.item() != 0 for v in whole.values())
    old = loss_config_from({"name": "prolap", "w_vib": 0.5, "kappa": 10.0, "mask_prob": 0.3})
    assert (old.vib.weight, old.inclusion.kappa, old.masking.prob) == (0.5, 10.0, 0.3)


@dataclass
class ToyDocConfig(LossConfig):
    weight: float = 1.0


def test_a_toy_document_loss_joins_the_hilbert_fit_through_the_registry_alone() -> None:
    import numpy as np
    import torch

    from audiotext_cli.hilbert.config import FitConfig, hilbert_config
    from audiotext_cli.hilbert.features import DocFeatures
    from audiotext_cli.hilbert.model import HilbertConfig
    from audiotext_cli.hilbert.train import fit
    from audiotext_cli.losses import DOCUMENT_LOSSES, DocumentLoss
    from audiotext_cli.losses.document import register_document_loss

    calls: list[int] = []

    @register_document_loss("toy-doc", ToyDocConfig)
    class ToyDocLoss(DocumentLoss):
        def forward(self, out, batch):
            calls.append(len(batch.labels))
            return {"toy_loss": self.cfg.weight * out["z_j"].pow(2).mean()}

    try:
        _, run = hilbert_config(overrides=["train.losses.toy-doc.weight=0.5", "train.epochs=1"])
        assert list(run.losses)[-1] == "toy-doc" and run.losses["toy-doc"].weight == 0.5
        rng = np.random.default_rng(0)
        offsets = np.arange(0, 25, 3)  # 8 documents of 3 turns
        audio, text = rng.normal(size=(24, 5)), rng.normal(size=(24, 6))
        labels = {"binary": np.arange(8) % 2}
        feats = DocFeatures([f"d{i}" for i in range(8)], offsets, audio, text, labels, {})
        cfg = HilbertConfig(5, 6, d=8, heads=2)
        torch.manual_seed(0)
        fitted = fit(feats, labels["binary"], np.arange(8), cfg, run)
        assert calls == [8]  # one epoch of one batch
        run.losses["toy-doc"].weight = 0.0
        same = fit(feats, labels["binary"], np.arange(8), cfg, run)
        moved = [
            not torch.equal(a, b)
            for a, b in zip(fitted.model.parameters(), same.model.parameters(), strict=True)
        ]
        assert any(moved)  # the toy term changed the step
    finally:
        unregister_loss("toy-doc", DOCUMENT_LOSSES)
    assert "toy-doc" not in FitConfig().losses


def test_the_add_a_loss_example_in_architecture_md_registers_and_runs() -> None:
    """docs/architecture.md's example is code that works, not a sketch."""
    import re

    import torch

    from audiotext_cli.losses import LossBatch
    from audiotext_cli.models.output import Embedding

    doc = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    (example,) = re.findall(r"```python\n(# losses/alignment\.py.*?)```", doc, re.S)
    assert len(example.splitlines()) <= 30
    try:
        exec(compile(example, "architecture.md", "exec"), {})
        a, t = (torch.nn.functional.normalize(torch.randn(4, 8), dim=-1) for _ in range(2))
        out = ModelOutput(Embedding(a), Embedding(t), torch.tensor(10.0), torch.tensor(0.0))
        terms = LOSSES["clip-align"]()(out, LossBatch())
        assert set(terms) == {"contrastive_loss", "align_loss"} and terms["align_loss"] > 0
    finally:
        unregister_loss("clip-align")
