"""ClipLoss and SigLipLoss: hand-computed values, open_clip's math transcribed as a naive
reference (open_clip itself needs torchvision, which does not import here), invariances,
gradients, and the cross-rank path with two gloo processes."""

from __future__ import annotations

import math
import os

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import (
    ClipLoss,
    SigLipLoss,
    clip_loss,
    create_loss,
    gather_features,
    ppcl_loss,
    rank_and_world,
    siglip_loss,
)
from audiotext_cli.losses.distributed import global_pos_mask


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def unit_rows(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)


def open_clip_clip_loss(image, text, logit_scale):
    """open_clip's ClipLoss.forward, single process, transcribed."""
    logits_per_image = logit_scale * image @ text.T
    logits_per_text = logit_scale * text @ image.T
    labels = torch.arange(logits_per_image.shape[0])
    return (
        F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)
    ) / 2


def open_clip_siglip_loss(image, text, logit_scale, logit_bias):
    """open_clip's SigLipLoss._loss (negative_only=False), single process, transcribed."""
    logits = logit_scale * image @ text.T + logit_bias
    labels = 2 * torch.eye(image.shape[0], dtype=image.dtype) - torch.ones_like(logits)
    return -F.logsigmoid(labels * logits).sum() / image.shape[0]


AUDIO = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
TEXT = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)
ONE = torch.tensor(1.0, dtype=torch.float64)


def test_clip_hand_computed_two_items():
    # logits a2t = [[1, .6], [0, .8]]; each row's loss is log(1 + e^(other - own)).
    expected = (softplus(-0.4) + softplus(-0.8) + softplus(-1.0) + softplus(-0.2)) / 4
    out = clip_loss(AUDIO, TEXT, ONE)
    assert out.item() == pytest.approx(expected, rel=1e-12)


def test_clip_multi_positive_hand_computed():
    """Items 0 and 1 share a caption: their rows target [1/2, 1/2, 0]."""
    audio = unit_rows(3, 4, seed=0)
    text = unit_rows(3, 4, seed=1)
    pos = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    scale = 5.0
    expected = 0.0
    for logits in (scale * audio @ text.T, scale * text @ audio.T):
        for i in range(3):
            log_z = math.log(sum(math.exp(logits[i, j]) for j in range(3)))
            positives = [j for j in range(3) if pos[i, j]]
            expected += sum(log_z - logits[i, j].item() for j in positives) / len(positives) / 6
    out = clip_loss(audio, text, torch.tensor(scale, dtype=torch.float64), pos)
    assert out.item() == pytest.approx(expected, rel=1e-12)


def test_siglip_hand_computed_two_items():
    # s = 1, b = -1: logits [[0, -.4], [-1, -.2]]; y = +1 on the diagonal.
    expected = (softplus(-0.0) + softplus(-0.4) + softplus(-1.0) + softplus(0.2)) / 2
    out = siglip_loss(AUDIO, TEXT, ONE, -ONE)
    assert out.item() == pytest.approx(expected, rel=1e-12)


def test_siglip_multi_positive_hand_computed():
    pos = torch.tensor([[True, True], [False, True]])
    expected = (softplus(-0.0) + softplus(0.4) + softplus(-1.0) + softplus(0.2)) / 2
    out = siglip_loss(AUDIO, TEXT, ONE, -ONE, pos)
    assert out.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equivalent_to_open_clip(seed):
    audio, text = unit_rows(8, 16, seed), unit_rows(8, 16, seed + 100)
    scale, bias = torch.tensor(14.3, dtype=torch.float64), torch.tensor(-4.0, dtype=torch.float64)
    torch.testing.assert_close(
        clip_loss(audio, text, scale),
        open_clip_clip_loss(audio, text, scale),
        rtol=1e-12,
        atol=0,
    )
    torch.testing.assert_close(
        clip_loss(audio, text, scale, torch.eye(8, dtype=torch.bool)),
        open_clip_clip_loss(audio, text, scale),
        rtol=1e-12,
        atol=0,
    )
    torch.testing.assert_close(
        siglip_loss(audio, text, scale, bias),
        open_clip_siglip_loss(audio, text, scale, bias),
        rtol=1e-12,
        atol=0,
    )


def test_symmetric_in_audio_and_text():
    audio, text = unit_rows(5, 6, 3), unit_rows(5, 6, 4)
    pos = torch.rand(5, 5, generator=torch.Generator().manual_seed(0)) > 0.6
    scale, bias = torch.tensor(3.0, dtype=torch.float64), torch.tensor(-1.0, dtype=torch.float64)
    clip = clip_loss
    torch.testing.assert_close(clip(audio, text, scale, pos), clip(text, audio, scale, pos.T))
    siglip = siglip_loss
    torch.testing.assert_close(
        siglip(audio, text, scale, bias, pos), siglip(text, audio, scale, bias, pos.T)
    )


def test_invariant_to_batch_permutation():
    audio, text = unit_rows(6, 5, 5), unit_rows(6, 5, 6)
    pos = torch.rand(6, 6, generator=torch.Generator().manual_seed(1)) > 0.5
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(2))
    scale, bias = torch.tensor(4.0, dtype=torch.float64), torch.tensor(-2.0, dtype=torch.float64)
    permuted = (audio[perm], text[perm], pos[perm][:, perm])
    torch.testing.assert_close(
        clip_loss(audio, text, scale, pos),
        clip_loss(permuted[0], permuted[1], scale, permuted[2]),
    )
    torch.testing.assert_close(
        siglip_loss(audio, text, scale, bias, pos),
        siglip_loss(permuted[0], permuted[1], scale, bias, permuted[2]),
    )


def test_aligned_batch_scores_lower_than_shuffled():
    audio = unit_rows(8, 8, 7)
    text = F.normalize(audio + 0.1 * unit_rows(8, 8, 8), dim=-1)
    shuffled = text.roll(1, 0)
    scale, bias = torch.tensor(10.0, dtype=torch.float64), torch.tensor(-5.0, dtype=torch.float64)
    assert clip_loss(audio, text, scale) < clip_loss(audio, shuffled, scale)
    assert siglip_loss(audio, text, scale, bias) < siglip_loss(audio, shuffled, scale, bias)


def test_gradients_finite_and_match_finite_differences():
    audio = unit_rows(4, 3, 9).requires_grad_()
    text = unit_rows(4, 3, 10).requires_grad_()
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    pos = torch.eye(4, dtype=torch.bool) | torch.eye(4, dtype=torch.bool).roll(1, 1)
    assert torch.autograd.gradcheck(lambda a, t, s: clip_loss(a, t, s, pos), (audio, text, scale))
    assert torch.autograd.gradcheck(
        lambda a, t, s, b: siglip_loss(a, t, s, b, pos),
        (audio, text, scale, bias),
    )
    huge = torch.tensor(1e4, dtype=torch.float64)
    for out in (clip_loss(audio, text, huge), siglip_loss(audio, text, huge, -huge)):
        out.backward()
        assert torch.isfinite(audio.grad).all() and torch.isfinite(text.grad).all()


def test_shape_errors():
    with pytest.raises(ValueError, match="must both be"):
        clip_loss(AUDIO, TEXT[:1], ONE)
    with pytest.raises(ValueError, match="pos_mask"):
        siglip_loss(AUDIO, TEXT, ONE, ONE, torch.ones(3, 3, dtype=torch.bool))


def test_single_process_plumbing():
    x = torch.randn(3, 2)
    assert rank_and_world() == (0, 1)
    assert gather_features(x) is x
    a2t, t2a = global_pos_mask(torch.tensor([[False, True], [False, False]]), 2, x.device)
    assert a2t.tolist() == [[True, True], [False, True]]
    assert t2a.tolist() == [[True, False], [True, True]]


def test_registered_modules_apply_the_math_to_a_model_output():
    from audiotext_cli.losses import LossBatch
    from audiotext_cli.models.output import Embedding, ModelOutput

    audio, text = unit_rows(5, 4, 21), unit_rows(5, 4, 22)
    pos = torch.eye(5, dtype=torch.bool).roll(1, 1)
    scale, bias = torch.tensor(3.0, dtype=torch.float64), torch.tensor(-1.5, dtype=torch.float64)
    out = ModelOutput(Embedding(audio), Embedding(text), scale, bias)
    clip = ClipLoss()(out, LossBatch(pos_mask=pos))
    siglip = SigLipLoss()(out, LossBatch(pos_mask=pos))
    assert set(clip) == set(siglip) == {"contrastive_loss"}
    assert torch.equal(clip["contrastive_loss"], clip_loss(audio, text, scale, pos))
    assert torch.equal(siglip["contrastive_loss"], siglip_loss(audio, text, scale, bias, pos))
    assert not ClipLoss().needs.bias and SigLipLoss().needs.bias


def test_create_loss_names():
    assert isinstance(create_loss("clip"), ClipLoss)
    assert isinstance(create_loss("siglip"), SigLipLoss)
    with pytest.raises(ConfigError, match="unknown loss 'infonce'"):
        create_loss("infonce")
    with pytest.raises(ConfigError, match="'clip'"):
        create_loss("clip", beta=0.3)


# Two gloo ranks, each holding half of the batch, must reproduce the single-process loss
# (mean over ranks) and its gradient (each rank's backward sums both ranks' losses).

WORLD = 2


def _batch():
    audio, text = unit_rows(6, 5, 11), unit_rows(6, 5, 12)
    logvar_a = (
        torch.randn(6, 5, generator=torch.Generator().manual_seed(13), dtype=torch.float64) - 2
    )
    logvar_t = (
        torch.randn(6, 5, generator=torch.Generator().manual_seed(14), dtype=torch.float64) - 2
    )
    captions = torch.tensor([0, 1, 0, 2, 1, 3])  # equal captions are positives
    pos = captions[:, None] == captions[None, :]
    scale, bias = torch.tensor(6.0, dtype=torch.float64), torch.tensor(-3.0, dtype=torch.float64)
    return audio, text, logvar_a, logvar_t, pos, scale, bias


def _losses(audio, text, logvar_a, logvar_t, pos, scale, bias):
    return {
        "clip": clip_loss(audio, text, scale, pos),
        "siglip": siglip_loss(audio, text, scale, bias, pos),
        "ppcl": ppcl_loss(audio, logvar_a, text, logvar_t, scale, bias, pos),
    }


def _worker(rank: int, out_dir: str) -> None:
    # A file store has no server process that could exit before the other rank is done.
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{out_dir}/store", rank=rank, world_size=WORLD
    )
    try:
        audio, text, logvar_a, logvar_t, pos, scale, bias = _batch()
        rows = slice(rank * 3, rank * 3 + 3)
        leaves = [x[rows].clone().requires_grad_() for x in (audio, text, logvar_a, logvar_t)]
        results = {}
        for name, loss in _losses(*leaves, pos[rows], scale, bias).items():
            grads = torch.autograd.grad(loss, leaves, allow_unused=True)
            results[name] = (loss.detach(), [None if g is None else g.detach() for g in grads])
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
        torch.distributed.barrier()
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow  # two spawned processes: about 10 s on a shared 2-core machine
def test_two_gloo_ranks_equal_single_process(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path),), nprocs=WORLD, join=True)
    per_rank = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    audio, text, logvar_a, logvar_t, pos, scale, bias = _batch()
    leaves = [x.clone().requires_grad_() for x in (audio, text, logvar_a, logvar_t)]
    for name, loss in _losses(*leaves, pos, scale, bias).items():
        grads = torch.autograd.grad(loss, leaves, allow_unused=True)
        mean = sum(result[name][0] for result in per_rank) / WORLD
        torch.testing.assert_close(mean, loss.detach(), rtol=1e-12, atol=0)
        for r, result in enumerate(per_rank):
            rows = slice(r * 3, r * 3 + 3)
            for got, full in zip(result[name][1], grads, strict=True):
                if full is None:
                    assert got is None
                else:
                    torch.testing.assert_close(got, WORLD * full[rows], rtol=1e-10, atol=1e-12)


def test_described_positives_hand_computed():
    """Clip 0 has captions {0: "music", 1: "a violin"}, clip 1 {0, 2}, clip 2 {3}; they were
    sampled with captions 1, 0, 3. "music" (column 1) describes clips 0 and 1; "a violin"
    (column 0) only clip 0. The same-caption rule sees no positive besides the diagonal."""
    from audiotext_cli.train.objective import positives_mask

    sets = torch.tensor([[0, 1], [0, 2], [3, -1]])
    batch = {
        "caption_ids": torch.tensor([1, 0, 3]),
        "caption_ids_all": torch.tensor([1, 0, 3]),
        "caption_sets": sets,
        "caption_sets_all": sets,
    }
    a2t, t2a = positives_mask(batch, "described", torch.device("cpu"))
    assert a2t.tolist() == [[True, True, False], [False, True, False], [False, False, True]]
    assert t2a.tolist() == [[True, False, False], [True, True, False], [False, False, True]]
    same = positives_mask(batch, "caption", torch.device("cpu"))
    assert same.tolist() == torch.eye(3, dtype=torch.bool).tolist()
    # an (a2t, t2a) pair reaches InfoNCE row by row: audio 0 targets texts 0 and 1 equally
    audio, text = unit_rows(3, 4, seed=0), unit_rows(3, 4, seed=1)
    scale = 5.0
    expected = 0.0
    for logits, pos in ((scale * audio @ text.T, a2t), (scale * text @ audio.T, t2a)):
        for i in range(3):
            log_z = math.log(sum(math.exp(logits[i, j]) for j in range(3)))
            hits = [j for j in range(3) if pos[i, j]]
            expected += sum(log_z - logits[i, j].item() for j in hits) / len(hits) / 6
    out = clip_loss(audio, text, torch.tensor(scale, dtype=torch.float64), (a2t, t2a))
    assert out.item() == pytest.approx(expected, rel=1e-12)
