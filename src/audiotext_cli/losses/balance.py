"""HILBERT's modality balance: the squared gap between its two InfoNCE branches (the
InfoNCE bound reads I_m ~ log B - L_m, so the gap is the mutual-information gap)."""

from __future__ import annotations

from torch import Tensor


def balance_loss(loss_aj: Tensor, loss_tj: Tensor) -> Tensor:
    """(L_aj - L_tj)^2 with the better-aligned (smaller-loss) side detached.

    With the InfoNCE bound, the gap is the MI gap. Detaching the leading side means the
    penalty only pulls the lagging modality up; it never trains the model to forget what the
    dominant modality already put into z_j (the undetached square would also push the
    leader's loss up, i.e. destroy information to balance).
    """
    if loss_aj >= loss_tj:
        return (loss_aj - loss_tj.detach()) ** 2
    return (loss_tj - loss_aj.detach()) ** 2
