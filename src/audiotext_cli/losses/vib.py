"""ProLIP's variational-information-bottleneck regulariser of Gaussian embeddings."""

from __future__ import annotations

import warnings

from torch import Tensor

VIB_LOSS_LIMIT = 1e4  # ProLIP drops a KL term this large


def vib_kl(mu: Tensor, logvar: Tensor, variant: str = "prolip") -> Tensor:
    """KL-style regulariser towards N(0, I), averaged over batch and dimensions.

    "textbook": -1/2 (1 + l - mu^2 - e^l), the exact KL per dimension (PCME++).
    "prolip": ProLIP's "bug fix", the same expression with log sigma = l / 2 in place of l
    (so e^(l/2) = sigma in place of sigma^2). Both are minimal at l = 0; ProLIP's pulls a
    small log-variance up half as hard.
    A value above 1e4 is dropped, as in ProLIP.
    """
    if variant == "prolip":
        logvar = logvar / 2
    elif variant != "textbook":
        raise ValueError(f"vib variant must be 'prolip' or 'textbook', got {variant!r}")
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).mean()
    if kl > VIB_LOSS_LIMIT:
        warnings.warn(f"VIB loss {kl.item():.3g} > {VIB_LOSS_LIMIT:g}; dropped", stacklevel=2)
        return kl.new_zeros(()).detach()
    return kl
