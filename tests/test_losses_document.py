"""HILBERT's document losses: CKA invariances and bias, InfoNCE symmetry, balance, MoE maths."""

from __future__ import annotations

import pytest
import torch

from audiotext_cli.hilbert.model import MoEHead
from audiotext_cli.losses.balance import balance_loss
from audiotext_cli.losses.cka import cka_loss, linear_cka
from audiotext_cli.losses.document import class_weights
from audiotext_cli.losses.dual import dual_losses, symmetric_info_nce
from audiotext_cli.losses.mixture import load_balance_loss, log_mixture

torch.manual_seed(0)


@pytest.mark.parametrize("debiased", [True, False])
def test_cka_is_one_on_itself_and_invariant_to_rotation_and_scale(debiased):
    x = torch.randn(32, 10, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(10, 10, dtype=torch.float64))
    assert linear_cka(x, x, debiased).item() == pytest.approx(1.0, abs=1e-9)
    y = torch.randn(32, 6, dtype=torch.float64)
    ref = linear_cka(x, y, debiased).item()
    assert linear_cka(3.7 * x @ q, y, debiased).item() == pytest.approx(ref, abs=1e-9)


def test_debiased_cka_is_near_zero_on_independent_noise_where_biased_is_inflated():
    g = torch.Generator().manual_seed(1)
    biased, debiased = [], []
    for _ in range(20):
        x = torch.randn(32, 50, generator=g, dtype=torch.float64)
        y = torch.randn(32, 20, generator=g, dtype=torch.float64)
        biased.append(linear_cka(x, y, debiased=False).item())
        debiased.append(linear_cka(x, y, debiased=True).item())
    assert sum(biased) / 20 > 0.3
    assert abs(sum(debiased) / 20) < 0.05


def test_cka_loss_is_zero_when_all_three_share_structure():
    z = torch.randn(16, 8, dtype=torch.float64)
    assert cka_loss(z, 2 * z, z).item() == pytest.approx(0.0, abs=1e-9)


def test_info_nce_is_symmetric_and_rewards_alignment():
    x = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    y = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    assert symmetric_info_nce(x, y, 0.1).item() == pytest.approx(
        symmetric_info_nce(y, x, 0.1).item()
    )
    assert symmetric_info_nce(x, x, 0.1) < symmetric_info_nce(x, y, 0.1)


def test_dual_loss_anchors_on_joint_and_direct_ignores_it():
    a, t, j = (torch.nn.functional.normalize(torch.randn(8, 4), dim=-1) for _ in range(3))
    out = dual_losses(a, t, j, 0.1)
    assert out["dual_loss"].item() == pytest.approx((out["aj"] + out["tj"]).item())
    assert dual_losses(a, t, j, 0.1, direct=True)["dual_loss"].item() == pytest.approx(
        dual_losses(a, t, -j, 0.1, direct=True)["dual_loss"].item()
    )


def test_balance_is_zero_when_balanced_and_only_moves_the_lagging_side():
    assert balance_loss(torch.tensor(1.5), torch.tensor(1.5)).item() == 0.0
    lead = torch.tensor(1.0, requires_grad=True)
    lag = torch.tensor(2.0, requires_grad=True)
    balance_loss(lead, lag).backward()
    assert lead.grad is None or lead.grad.item() == 0.0
    assert lag.grad.item() == pytest.approx(2.0)


def test_moe_gates_sum_to_one_and_output_is_a_distribution():
    head = MoEHead(12, 3, experts=4, dropout=0.0)
    log_probs, gates = head(torch.randn(5, 12))
    assert torch.allclose(gates.sum(-1), torch.ones(5))
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(5), atol=1e-6)


def test_log_mixture_is_stable_for_extreme_logits():
    gate_logits = torch.tensor([[1000.0, -1000.0]])
    expert_logits = torch.tensor([[[900.0, -900.0], [-900.0, 900.0]]])
    out = log_mixture(gate_logits, expert_logits)
    assert torch.isfinite(out).all()
    assert out[0, 0].item() == pytest.approx(0.0, abs=1e-6)  # the chosen expert is sure
    naive = torch.log(
        (torch.softmax(gate_logits, -1)[..., None] * torch.softmax(expert_logits, -1)).sum(1)
    )
    assert not torch.isfinite(naive).all()


def test_load_balance_is_one_when_even_and_e_when_collapsed():
    assert load_balance_loss(torch.full((6, 4), 0.25)).item() == pytest.approx(1.0)
    assert load_balance_loss(torch.tensor([[1.0, 0, 0, 0]] * 6)).item() == pytest.approx(4.0)


def test_class_weights_are_inverse_frequency():
    w = class_weights(torch.tensor([0, 0, 0, 1]), 3)
    assert w.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])


def test_torch_debiased_cka_agrees_with_the_numpy_metric():
    """HILBERT's differentiable CKA and compare-spaces' CKA share one HSIC formula; both
    estimators (debiased and biased) agree on the same data."""
    import numpy as np

    from audiotext_cli.metrics.cka import linear_cka as numpy_cka

    g = torch.Generator().manual_seed(7)
    x = torch.randn(12, 5, generator=g, dtype=torch.float64)
    y = x @ torch.randn(5, 3, generator=g, dtype=torch.float64) + 0.5 * torch.randn(
        12, 3, generator=g, dtype=torch.float64
    )
    for debiased in (True, False):
        ours = linear_cka(x, y, debiased=debiased).item()
        theirs = numpy_cka(x.numpy(), y.numpy(), debiased=debiased)
        assert ours == pytest.approx(theirs, rel=1e-10)
        assert np.isfinite(ours) and 0 < ours < 1
