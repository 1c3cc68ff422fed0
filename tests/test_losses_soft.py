"""SoftClipLoss: reduces to ClipLoss at beta = 0, hand-computed 2x2 values, stochastic targets."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import (
    LossBatch,
    SoftClipConfig,
    SoftClipLoss,
    clip_loss,
    create_loss,
    soft_clip_loss,
)
from audiotext_cli.losses.soft import soft_targets
from audiotext_cli.models.output import Embedding, ModelOutput


def soft_clip(beta: float = 0.3, teacher_temperature: float | None = 0.1):
    """`soft_clip_loss` with these options, returning the loss's term dict."""

    def loss(*args):
        value = soft_clip_loss(*args, beta=beta, teacher_temperature=teacher_temperature)
        return {"contrastive_loss": value}

    return loss


def unit_rows(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)


def cosine(x: torch.Tensor) -> torch.Tensor:
    return x @ x.T


@pytest.mark.parametrize("temperature", [0.1, None])
def test_beta_zero_is_exactly_clip_loss(temperature):
    audio, text = unit_rows(6, 8, 0), unit_rows(6, 8, 1)
    scale = torch.tensor(12.0, dtype=torch.float64)
    soft = soft_clip(beta=0.0, teacher_temperature=temperature)
    out = soft(audio, text, scale, cosine(unit_rows(6, 4, 2)), cosine(unit_rows(6, 4, 3)))
    assert torch.equal(out["contrastive_loss"], clip_loss(audio, text, scale))


def test_beta_zero_keeps_multi_positive_targets():
    """Equal captions are positives in ClipLoss; beta=0 must keep exactly those targets."""
    audio, text = unit_rows(4, 8, 0), unit_rows(4, 8, 1)
    scale = torch.tensor(12.0, dtype=torch.float64)
    captions = torch.tensor([0, 1, 0, 2])
    pos = captions[:, None] == captions[None, :]
    teacher = cosine(unit_rows(4, 4, 2))
    soft = soft_clip(beta=0.0)(audio, text, scale, teacher, teacher, pos)["contrastive_loss"]
    clip = clip_loss(audio, text, scale, pos)
    assert torch.equal(soft, clip)
    assert not torch.equal(clip, clip_loss(audio, text, scale))


def test_hand_computed_two_by_two():
    """Student logits s * a @ t.T with a = I, t = [[1, 0], [.6, .8]], s = 1: a2t rows
    [1, .6] and [0, .8], t2a rows [1, 0] and [.6, .8]. Teacher audio similarity .5 off the
    diagonal, text similarity 0; softmax at temperature .5, beta = .3."""
    audio = torch.eye(2, dtype=torch.float64)
    text = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)
    teacher_audio = torch.tensor([[1.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    teacher_text = torch.eye(2, dtype=torch.float64)
    beta, temperature = 0.3, 0.5

    def target_rows(off_diagonal_sim: float) -> list[list[float]]:
        # softmax([1, x] / T) = [1 / (1 + e^((x - 1) / T)), ...]; then blend with I.
        p_other = 1 / (1 + math.exp((1 - off_diagonal_sim) / temperature))
        own = (1 - beta) + beta * (1 - p_other)
        return [[own, 1 - own], [1 - own, own]]

    def cross_entropy(logits: list[list[float]], targets: list[list[float]]) -> float:
        total = 0.0
        for row, target in zip(logits, targets, strict=True):
            log_z = math.log(sum(math.exp(v) for v in row))
            total -= sum(p * (v - log_z) for p, v in zip(target, row, strict=True))
        return total / len(logits)

    expected = (
        cross_entropy([[1.0, 0.6], [0.0, 0.8]], target_rows(0.5))
        + cross_entropy([[1.0, 0.0], [0.6, 0.8]], target_rows(0.0))
    ) / 2
    loss = soft_clip(beta=beta, teacher_temperature=temperature)
    out = loss(audio, text, torch.tensor(1.0, dtype=torch.float64), teacher_audio, teacher_text)
    assert out["contrastive_loss"].item() == pytest.approx(expected, rel=1e-12)


def test_direction_uses_the_matching_teacher():
    """audio->text rows take the audio-audio teacher: swapping the two teachers changes the loss."""
    audio, text = unit_rows(4, 6, 4), unit_rows(4, 6, 5)
    scale = torch.tensor(5.0, dtype=torch.float64)
    sim_a, sim_t = cosine(unit_rows(4, 3, 6)), cosine(unit_rows(4, 3, 7))
    loss = soft_clip()
    swapped_roles = loss(text, audio, scale, sim_t, sim_a)["contrastive_loss"]
    torch.testing.assert_close(
        loss(audio, text, scale, sim_a, sim_t)["contrastive_loss"], swapped_roles
    )
    assert not torch.isclose(
        loss(audio, text, scale, sim_t, sim_a)["contrastive_loss"], swapped_roles
    )


@pytest.mark.parametrize("temperature", [0.07, 1.0, None])
def test_targets_are_row_stochastic(temperature):
    sim = cosine(unit_rows(5, 3, 8))  # has negative entries
    identity = torch.eye(5, dtype=torch.bool)
    targets = soft_targets(sim, identity, 0.3, temperature)
    torch.testing.assert_close(targets.sum(dim=1), torch.ones(5, dtype=torch.float64))
    assert (targets >= 0).all()
    assert (targets.diagonal() >= 0.7).all()  # the aligned pair keeps at least 1 - beta


def test_clamp_mode_hand_computed():
    sim = torch.tensor([[1.0, 0.5, -0.2], [0.5, 1.0, 0.5], [-0.2, 0.5, 1.0]], dtype=torch.float64)
    targets = soft_targets(sim, torch.eye(3, dtype=torch.bool), 0.3, None)
    expected_row0 = [0.7 + 0.3 / 1.5, 0.3 * 0.5 / 1.5, 0.0]
    torch.testing.assert_close(targets[0], torch.tensor(expected_row0, dtype=torch.float64))


def test_teacher_gets_no_gradient_and_student_gradient_is_finite():
    audio = unit_rows(3, 4, 9).requires_grad_()
    text = unit_rows(3, 4, 10).requires_grad_()
    teacher = cosine(unit_rows(3, 4, 11)).requires_grad_()
    loss = soft_clip()(audio, text, torch.tensor(20.0, dtype=torch.float64), teacher, teacher)
    loss["contrastive_loss"].backward()
    assert teacher.grad is None
    assert torch.isfinite(audio.grad).all() and audio.grad.abs().sum() > 0


def test_bad_inputs():
    with pytest.raises(ConfigError, match="beta"):
        SoftClipConfig(beta=1.5)
    audio = unit_rows(3, 4, 12)
    with pytest.raises(ValueError, match="teacher_text_sim"):
        soft_clip()(audio, audio, torch.tensor(1.0), torch.eye(3), torch.eye(2))


def test_create_loss_soft_clip():
    loss = create_loss("soft-clip", beta=0.1)
    assert isinstance(loss, SoftClipLoss) and loss.cfg.beta == 0.1 and loss.needs.teacher
    audio, text, teacher = unit_rows(3, 4, 13), unit_rows(3, 4, 14), cosine(unit_rows(3, 4, 15))
    scale = torch.tensor(7.0, dtype=torch.float64)
    out = ModelOutput(Embedding(audio), Embedding(text), scale, scale.new_zeros(()))
    terms = loss(out, LossBatch(teacher_audio_sim=teacher, teacher_text_sim=teacher))
    expected = soft_clip_loss(audio, text, scale, teacher, teacher, beta=0.1)
    assert torch.equal(terms["contrastive_loss"], expected)
