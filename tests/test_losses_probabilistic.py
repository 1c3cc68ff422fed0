"""ProLIP/ProLAP losses against the golden values of the reference notes (float64, 1e-9),
Monte Carlo, numerical integration and the identities the formulas promise."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import (
    LossBatch,
    ProLAPConfig,
    ProLAPLoss,
    create_loss,
    csd,
    inclusion,
    inclusion_logit,
    inclusion_loss,
    inclusion_score,
    mask_repulsive_loss,
    ppcl_logits,
    ppcl_loss,
    repulsive,
    siglip_loss,
    vib,
    vib_kl,
)
from audiotext_cli.losses.probabilistic import (
    InclusionConfig,
    PPCLConfig,
    RepulsiveConfig,
    VIBConfig,
)
from audiotext_cli.models.output import Embedding, ModelOutput

REL = 1e-9


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def only_terms(**terms) -> ProLAPConfig:
    """ProLAP with every term's weight 0 except the sections given."""
    off = {
        "ppcl": PPCLConfig(weight=0),
        "inclusion": InclusionConfig(cross_weight=0, hier_weight=0),
        "vib": VIBConfig(weight=0),
        "repulsive": RepulsiveConfig(weight=0),
    }
    return ProLAPConfig(**(off | terms))


def run_prolap(cfg, audio, text, scale, bias, audio_levels=(), text_levels=(), pos_mask=None):
    """ProLAPLoss on (mu, logvar) pairs, as the trainer would call it."""
    out = ModelOutput(
        Embedding(*audio),
        Embedding(*text),
        scale,
        bias,
        [Embedding(*lv) for lv in audio_levels],
        [Embedding(*lv) for lv in text_levels],
    )
    return ProLAPLoss(cfg)(out, LossBatch(pos_mask))


def close(actual: torch.Tensor | float, expected, rel: float = REL) -> None:
    actual = torch.as_tensor(actual, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    torch.testing.assert_close(actual, expected, rtol=rel, atol=0)


# Example A: one pair of 3-d Gaussians.
MU1, LV1 = t(1, 0, 0), t(-2, -1, -3)
MU2, LV2 = t(0.6, 0.8, 0), t(-1.5, -2.5, -0.5)
A = (MU1[None], LV1[None], MU2[None], LV2[None])

# Example B: two aligned pairs, one masked copy of sample 0 per modality.
IMG = (torch.stack([t(1, 0, 0), t(0, 1, 0)]), torch.stack([t(-2, -1, -3), t(-1, -1, -1)]))
TXT = (
    torch.stack([t(0.6, 0.8, 0), t(0, 0.6, 0.8)]),
    torch.stack([t(-1.5, -2.5, -0.5), t(-2, -2, -2)]),
)
IMG_MASKED = (t(0.8, 0.6, 0)[None], t(-0.5, -0.5, -0.5)[None])
TXT_MASKED = (t(0.6, 0, 0.8)[None], t(-1, -0.2, -0.3)[None])


def test_csd_golden_example_a():
    close(csd(*A), [[2.2647476113]], rel=1e-10)
    close(LV1.exp().sum(), 0.5530017928, rel=1e-9)
    close(LV2.exp().sum(), 0.9117458185, rel=1e-9)


@pytest.mark.parametrize(
    ("scale", "bias", "expected"),
    [(10.0, -10.0, -11.3237380563), (1 / 0.07, -10.0, -11.8910543661)],
)
def test_ppcl_logit_golden_example_a(scale, bias, expected):
    logit = ppcl_logits(*A, t(scale), t(bias))
    close(logit, [[expected]])
    close(logit, scale * (1 - csd(*A) / 2) + bias)


INCLUSION_GOLDEN = {
    0.0: (
        [4.0924583, 2.20918729, 4.97988869],
        11.28153428,
        [3.62536786, 3.91457006, 2.7705694],
        10.31050732,
        [0.46709044, -1.70538277, 2.20931929],
        [568.4609231195, 5.6877159871, 0.8210420400],
    ),
    -10.0: (
        [9.36755106, 8.41202841, 9.97988869],
        27.75946816,
        [8.9493705, 9.69707997, 7.7705694],
        26.41701986,
        [0.41818056, -1.28505156, 2.20931929],
        [428.3505197179, 4.2885578997, 0.7130655788],
    ),
    -20.0: (
        [14.36756355, 13.41208302, 14.97988869],
        42.75953526,
        [13.9493852, 14.6971155, 12.7705694],
        41.41707010,
        [0.41817834, -1.28503248, 2.20931929],
        [428.3441587154, 4.2884944012, 0.7130608900],
    ),
}


@pytest.mark.parametrize("eps", sorted(INCLUSION_GOLDEN))
def test_inclusion_golden_example_a(eps):
    s12, sum12, s21, sum21, logit, losses = INCLUSION_GOLDEN[eps]
    # The table prints 8-9 significant digits; the losses carry 10-11.
    close(inclusion_score(MU1, LV1, MU2, LV2, eps), s12, rel=5e-8)
    close(inclusion_score(MU1, LV1, MU2, LV2, eps).sum(), sum12, rel=5e-9)
    close(inclusion_score(MU2, LV2, MU1, LV1, eps), s21, rel=5e-8)
    close(inclusion_score(MU2, LV2, MU1, LV1, eps).sum(), sum21, rel=5e-9)
    close(inclusion_logit(MU1, LV1, MU2, LV2, eps), logit, rel=5e-8)
    for kappa, expected in zip((1000.0, 10.0, 1.0), losses, strict=True):
        close(inclusion_loss(*A, kappa=kappa, eps=eps), expected)


def test_inclusion_logit_closed_form_is_difference_of_scores():
    g = torch.Generator().manual_seed(0)
    mu1, mu2 = torch.randn(2, 5, 7, generator=g, dtype=torch.float64)
    lv1, lv2 = 3 * torch.randn(2, 5, 7, generator=g, dtype=torch.float64)
    for eps in (0.0, -5.0, -20.0):
        diff = inclusion_score(mu1, lv1, mu2, lv2, eps) - inclusion_score(mu2, lv2, mu1, lv1, eps)
        torch.testing.assert_close(
            inclusion_logit(mu1, lv1, mu2, lv2, eps), diff, rtol=1e-9, atol=1e-9
        )
        close(inclusion_logit(mu1, lv1, mu2, lv2, eps), -inclusion_logit(mu2, lv2, mu1, lv1, eps))


def test_vib_golden_example_a():
    close(vib_kl(MU1[None], LV1[None]), 0.3662567102)
    close(vib_kl(MU1[None], LV1[None], variant="textbook"), 0.7588336321)
    with pytest.raises(ValueError, match="variant"):
        vib_kl(MU1, LV1, variant="pcme")


@pytest.mark.parametrize(
    ("scale", "bias", "logits", "loss"),
    [
        (10.0, -10.0, [[-11.32373806, -14.79503821], [-12.07692071, -11.54822087]], 11.4359933615),
        (
            1 / 0.07,
            -10.0,
            [[-11.89105437, -16.85005459], [-12.96702959, -12.21174409]],
            12.0514063340,
        ),
        (1.0, 0.0, [[-0.13237381, -0.47950382], [-0.20769207, -0.15482209]], 1.3058111800),
    ],
)
def test_ppcl_golden_example_b(scale, bias, logits, loss):
    close(ppcl_logits(*IMG, *TXT, t(scale), t(bias)), logits, rel=5e-8)
    close(ppcl_loss(*IMG, *TXT, t(scale), t(bias)), loss)


def test_prolip_total_golden_example_b():
    """ProLIP's loss table, mapped onto ProLAPLoss with ProLIP's weights (img -> audio):
    ppcl -> contrastive, img/txt_inclusion (original in masked) -> inclusion_hier,
    inclusion (img in txt) -> inclusion_cross, vib -> vib."""
    loss = ProLAPConfig(
        inclusion=InclusionConfig(cross_weight=1e-7, hier_weight=1e-3),
        vib=VIBConfig(weight=1e-4),
        repulsive=RepulsiveConfig(weight=0.0),
    )
    out = run_prolap(loss, IMG, TXT, t(10.0), t(-10.0), [IMG_MASKED], [TXT_MASKED])
    img_inclusion = 1e-3 * inclusion_loss(IMG[0][:1], IMG[1][:1], *IMG_MASKED)
    txt_inclusion = 1e-3 * inclusion_loss(TXT[0][:1], TXT[1][:1], *TXT_MASKED)
    close(img_inclusion, 8.1345376996e-186)
    close(txt_inclusion, 1.2523171489e-76)
    close(out["contrastive_loss"], 11.4359933615)
    close(out["inclusion_hier_loss"], 8.1345376996e-186 + 1.2523171489e-76)
    close(out["inclusion_cross_loss"], 6.36534556941e-05)
    close(out["vib_loss"], 6.17370224696e-05)
    assert out["repulsive_loss"].item() == 0.0
    close(sum(out.values()), 11.436118752)


def test_csd_matches_monte_carlo():
    g = torch.Generator().manual_seed(1)
    mu1, mu2 = torch.randn(2, 6, generator=g, dtype=torch.float64)
    lv1, lv2 = torch.randn(2, 6, generator=g, dtype=torch.float64)
    n = 200_000
    z1 = mu1 + (lv1 / 2).exp() * torch.randn(n, 6, generator=g, dtype=torch.float64)
    z2 = mu2 + (lv2 / 2).exp() * torch.randn(n, 6, generator=g, dtype=torch.float64)
    sq = (z1 - z2).pow(2).sum(-1)
    standard_error = sq.std() / math.sqrt(n)
    assert (
        abs(sq.mean() - csd(mu1[None], lv1[None], mu2[None], lv2[None])[0, 0]) < 5 * standard_error
    )


@pytest.mark.parametrize(
    ("mu1", "lv1", "mu2", "lv2"),
    [
        (1.0, -2.0, 0.6, -1.5),
        (0.0, -1.0, 0.8, -2.5),
        (0.3, 0.5, -0.4, 1.0),
        (0.2, -4.0, 0.25, -3.0),
    ],
)
def test_inclusion_score_matches_numerical_integration(mu1, lv1, mu2, lv2):
    """At eps = 0, S = log int p1^2 p2 - log v1 - log v2 / 2 + 3/2 log 2pi - 1/2 log pi."""
    v1, v2 = math.exp(lv1), math.exp(lv2)
    precision = 2 / v1 + 1 / v2
    centre = (2 * mu1 / v1 + mu2 / v2) / precision
    width = 12 / math.sqrt(precision)

    def integrand(z: float) -> float:
        return stats.norm.pdf(z, mu1, math.sqrt(v1)) ** 2 * stats.norm.pdf(z, mu2, math.sqrt(v2))

    value, _ = integrate.quad(integrand, centre - width, centre + width, epsabs=0, epsrel=1e-12)
    expected = (
        math.log(value)
        - math.log(v1)
        - 0.5 * math.log(v2)
        + 1.5 * math.log(2 * math.pi)
        - 0.5 * math.log(math.pi)
    )
    close(inclusion_score(t(mu1), t(lv1), t(mu2), t(lv2), eps=0.0), [expected])


def test_logit_is_affine_in_csd_for_unit_means():
    g = torch.Generator().manual_seed(2)
    mu1 = torch.nn.functional.normalize(torch.randn(4, 8, generator=g, dtype=torch.float64), dim=-1)
    mu2 = torch.nn.functional.normalize(torch.randn(5, 8, generator=g, dtype=torch.float64), dim=-1)
    lv1, lv2 = (
        torch.randn(4, 8, generator=g, dtype=torch.float64),
        torch.randn(5, 8, generator=g, dtype=torch.float64),
    )
    s, b = t(7.0), t(-3.0)
    distance = csd(mu1, lv1, mu2, lv2)
    logits = ppcl_logits(mu1, lv1, mu2, lv2, s, b)
    torch.testing.assert_close(logits, s * (1 - distance / 2) + b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(logits, -(s / 2) * distance + (s + b), rtol=1e-12, atol=1e-12)


def test_inclusion_direction_prefers_wider_container():
    """Equal means: the narrower Gaussian is included in the wider one (g > 0 iff v2 > v1)."""
    mu = torch.zeros(1, 4, dtype=torch.float64)
    narrow, wide = (
        torch.full((1, 4), -3.0, dtype=torch.float64),
        torch.full((1, 4), -1.0, dtype=torch.float64),
    )
    assert (inclusion_logit(mu, narrow, mu, wide) > 0).all()
    assert (
        inclusion_loss(mu, narrow, mu, wide) < 1e-100 < 1000 < inclusion_loss(mu, wide, mu, narrow)
    )


def test_inclusion_loss_guard_drops_explosions():
    mu = torch.zeros(1, 2, dtype=torch.float64)
    small, large = (
        torch.full((1, 2), -200.0, dtype=torch.float64, requires_grad=True),
        torch.zeros(1, 2, dtype=torch.float64),
    )
    with pytest.warns(UserWarning, match="inclusion loss"):
        loss = inclusion_loss(mu, large, mu, small)  # g ~ -200 per dim: loss 2e5 > limit
    assert loss.item() == 0.0 and not loss.requires_grad


def test_mask_repulsive_loss_hand_computed():
    """Two masked samples: (1/2)(softplus(z01) + softplus(z10)) = softplus(z01), and z01 is
    Example A's PPCL logit."""
    mu, lv = torch.stack([MU1, MU2]), torch.stack([LV1, LV2])
    expected = math.log1p(math.exp(-11.3237380563))
    close(mask_repulsive_loss(mu, lv, t(10.0), t(-10.0)), expected, rel=1e-9)
    close(mask_repulsive_loss(mu[:1], lv[:1], t(10.0), t(-10.0)), 0.0)
    # Pulling the two masked means apart lowers it: it repels, never attracts.
    apart = torch.stack([MU1, -MU1])
    assert mask_repulsive_loss(apart, lv, t(10.0), t(-10.0)) < mask_repulsive_loss(
        mu, lv, t(10.0), t(-10.0)
    )


def test_hierarchical_inclusion_chains_consecutive_levels():
    g = torch.Generator().manual_seed(3)
    mu = torch.nn.functional.normalize(torch.randn(4, 5, generator=g, dtype=torch.float64), dim=-1)
    lv = torch.randn(4, 5, generator=g, dtype=torch.float64) - 3
    level1 = (mu[:2].flip(-1), lv[:2] + 0.001)
    level2 = (mu[:2].roll(1, -1), lv[:2] - 0.002)
    loss = only_terms(inclusion=InclusionConfig(cross_weight=0, hier_weight=2.0))
    out = run_prolap(loss, (mu, lv), (mu, lv), t(10.0), t(-10.0), [level1], [level1, level2])
    expected = 2.0 * (
        2 * inclusion_loss(mu[:2], lv[:2], *level1) + inclusion_loss(*level1, *level2)
    )
    close(out["inclusion_hier_loss"], expected, rel=1e-12)


def test_zero_weight_terms_are_exact_zeros_and_not_computed(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a zero-weight term was computed")

    for module, name in (
        (inclusion, "inclusion_loss"),
        (vib, "vib_kl"),
        (repulsive, "mask_repulsive_loss"),
    ):
        monkeypatch.setattr(module, name, fail)
    loss = only_terms(ppcl=PPCLConfig())
    out = run_prolap(loss, IMG, TXT, t(10.0), t(-10.0), [IMG_MASKED], [TXT_MASKED])
    assert set(out) == {
        "contrastive_loss",
        "inclusion_cross_loss",
        "inclusion_hier_loss",
        "vib_loss",
        "repulsive_loss",
    }
    for key in ("inclusion_cross_loss", "inclusion_hier_loss", "vib_loss", "repulsive_loss"):
        assert out[key].item() == 0.0 and out[key].grad_fn is None
    close(out["contrastive_loss"], 11.4359933615)


def weighted(ppcl: float, cross: float, hier: float, vib_w: float, rep: float) -> ProLAPConfig:
    return ProLAPConfig(
        ppcl=PPCLConfig(ppcl),
        inclusion=InclusionConfig(cross_weight=cross, hier_weight=hier),
        vib=VIBConfig(vib_w),
        repulsive=RepulsiveConfig(rep),
    )


def test_weights_scale_terms_linearly():
    levels = ([IMG_MASKED], [TXT_MASKED])
    unit = run_prolap(weighted(1.0, 1.0, 1.0, 1.0, 1.0), IMG, TXT, t(10.0), t(-10.0), *levels)
    scaled = run_prolap(weighted(2.0, 3.0, 5.0, 7.0, 11.0), IMG, TXT, t(10.0), t(-10.0), *levels)
    for key, weight in zip(unit, (2.0, 3.0, 5.0, 7.0, 11.0), strict=True):
        close(scaled[key], weight * unit[key], rel=1e-12)
    assert unit["repulsive_loss"] == 0.0  # one masked sample: no pair to repel


@pytest.mark.parametrize(
    ("audio_lv", "text_lv"), [(-30.0, 15.0), (15.0, -30.0), (-30.0, -30.0), (15.0, 15.0)]
)
def test_gradients_finite_for_extreme_log_variances(audio_lv, text_lv):
    g = torch.Generator().manual_seed(4)
    mu_a = torch.nn.functional.normalize(
        torch.randn(4, 6, generator=g, dtype=torch.float64), dim=-1
    )
    mu_t = torch.nn.functional.normalize(
        torch.randn(4, 6, generator=g, dtype=torch.float64), dim=-1
    )
    leaves = [
        mu_a.requires_grad_(),
        torch.full((4, 6), audio_lv, dtype=torch.float64, requires_grad=True),
        mu_t.requires_grad_(),
        torch.full((4, 6), text_lv, dtype=torch.float64, requires_grad=True),
        torch.full((2, 6), text_lv, dtype=torch.float64, requires_grad=True),
    ]
    scale = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(-10.0, dtype=torch.float64, requires_grad=True)
    masked = (mu_a[:2].flip(0), leaves[4])
    loss = ProLAPConfig(repulsive=RepulsiveConfig(weight=1e-3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the guards may drop an exploding term, by design
        out = run_prolap(
            loss,
            (leaves[0], leaves[1]),
            (leaves[2], leaves[3]),
            scale,
            bias,
            [masked],
            [masked, masked],
        )
    total = sum(out.values())
    assert torch.isfinite(total)
    total.backward()
    for leaf in (*leaves, scale, bias):
        assert leaf.grad is not None and torch.isfinite(leaf.grad).all()


def test_means_pass_through_deterministically():
    """No sampling: the same inputs give bit-identical losses, inputs are not modified, and
    with vanishing variances PPCL is exactly SigLIP on the means."""
    g = torch.Generator().manual_seed(5)
    mu_a = torch.nn.functional.normalize(
        torch.randn(3, 4, generator=g, dtype=torch.float64), dim=-1
    )
    mu_t = torch.nn.functional.normalize(
        torch.randn(3, 4, generator=g, dtype=torch.float64), dim=-1
    )
    lv = torch.randn(3, 4, generator=g, dtype=torch.float64)
    copies = [x.clone() for x in (mu_a, mu_t, lv)]
    first = run_prolap(
        ProLAPConfig(), (mu_a, lv), (mu_t, lv), t(10.0), t(-2.0), [(mu_a[:2], lv[:2])], []
    )
    second = run_prolap(
        ProLAPConfig(), (mu_a, lv), (mu_t, lv), t(10.0), t(-2.0), [(mu_a[:2], lv[:2])], []
    )
    for key in first:
        assert torch.equal(first[key], second[key])
    for x, copy in zip((mu_a, mu_t, lv), copies, strict=True):
        assert torch.equal(x, copy)
    no_variance = torch.full_like(lv, -1000.0)  # exp underflows to exactly 0
    ppcl = ppcl_loss(mu_a, no_variance, mu_t, no_variance, t(10.0), t(-2.0))
    siglip = siglip_loss(mu_a, mu_t, t(10.0), t(-2.0))
    assert torch.equal(ppcl, siglip)


def test_ppcl_multi_positive_labels():
    """pos_mask marks extra positives with y = +1, exactly as SigLIP does."""
    pos = torch.tensor([[True, True], [True, True]])
    logits = ppcl_logits(*IMG, *TXT, t(10.0), t(-10.0))
    expected = torch.nn.functional.softplus(-logits).sum() / 2
    close(ppcl_loss(*IMG, *TXT, t(10.0), t(-10.0), pos_mask=pos), expected)


def test_create_loss_prolap_takes_term_sections():
    loss = create_loss("prolap", vib=VIBConfig(weight=0.5, variant="textbook"))
    assert isinstance(loss, ProLAPLoss) and loss.cfg.vib.weight == 0.5
    assert np.isclose(loss.cfg.inclusion.kappa, 1000.0)
    assert loss.terms["vib"].cfg is loss.cfg.vib
    needs = loss.needs
    assert needs.bias and needs.probabilistic and not needs.teacher
    assert needs.masking is not None and needs.masking.fraction == 0.125


def test_negative_inclusion_repulsion_equals_the_pairwise_loop():
    """The inclusion reading of the mask repulsive loss is ProLIP's inclusion loss with
    y = -1 for every (masked i, full j != i) pair: checked against a loop over pairs."""
    from audiotext_cli.losses.repulsive import negative_inclusion_loss

    g = torch.Generator().manual_seed(7)
    mu = torch.nn.functional.normalize(torch.randn(4, 5, generator=g, dtype=torch.float64), dim=-1)
    lv = torch.randn(4, 5, generator=g, dtype=torch.float64) - 3
    m_mu, m_lv = mu.roll(1, -1), lv + 0.3 * torch.randn(4, 5, generator=g, dtype=torch.float64)
    pairs = [
        torch.nn.functional.softplus(50.0 * inclusion_logit(mu[j], lv[j], m_mu[i], m_lv[i], -2.0))
        for i in range(4)
        for j in range(4)
        if i != j
    ]
    expected = torch.stack(pairs).mean()
    close(negative_inclusion_loss(mu, lv, m_mu, m_lv, kappa=50.0, eps=-2.0), expected, rel=1e-12)


def test_repulsive_form_selects_the_reading():
    two = (torch.cat([IMG[0], IMG[0].flip(0)]), torch.cat([IMG[1], IMG[1] - 0.5]))
    masked = (two[0].roll(1, -1), two[1] + 0.2)
    sigmoid = run_prolap(
        only_terms(repulsive=RepulsiveConfig(1.0)), two, two, t(10.0), t(-10.0), [masked], [masked]
    )
    inclusion = run_prolap(
        only_terms(repulsive=RepulsiveConfig(1.0, form="inclusion")),
        two,
        two,
        t(10.0),
        t(-10.0),
        [masked],
        [masked],
    )
    assert sigmoid["repulsive_loss"] > 0 and inclusion["repulsive_loss"] > 0
    assert not torch.isclose(sigmoid["repulsive_loss"], inclusion["repulsive_loss"])
    with pytest.raises(ConfigError, match="train.loss.repulsive.form"):
        RepulsiveConfig(form="push")
