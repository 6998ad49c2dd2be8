"""The losses' reductions, forward and backward, shared by every loss in the package.

A loss first computes one loss per sample (or per entry); ``reduction`` then keeps them
('none'), adds them ('sum'), or divides the sum by a normaliser ('mean'): the number of
samples, or for class-weighted cross-entropy the total weight of the targets.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor


def reduce(losses: np.ndarray, reduction: str, denom: float) -> np.ndarray:
    """Per-sample losses -> 'none' (as they are), 'sum', or 'mean' = sum / denom. A mean
    over no weight (denom 0: every target ignored, or their weights are 0) is nan, as in
    PyTorch."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    return total / denom if denom else np.asarray(np.nan, losses.dtype)


def upstream(g: Tensor, reduction: str, denom: float, shape: tuple[int, ...]) -> Tensor | np.ndarray:
    """The backward of ``reduce``: how much of the incoming gradient ``g`` reaches each
    sample's loss, shaped ``shape`` (per sample, with a trailing 1 to multiply a row of
    class scores by it) or 0-d for 'mean' and 'sum'.

    'none': g itself, one per sample; 'sum': g; 'mean': g / denom (the 1/N, or the
    weight normaliser, made explicit). A mean over nothing passes on 0, never nan.

    A Tensor if this backward pass is recorded (create_graph), else a plain array: then
    the loss's rule computes with plain arrays, nothing to record, and hands the engine
    an array."""
    if not is_grad_enabled():
        g = g.data
    if reduction == "none":
        return g.reshape(shape)
    if reduction == "sum":
        return g
    return g * (1.0 / denom if denom else 0.0)


def reduce_composed(losses: Tensor, reduction: str, denom: float, shape: tuple[int, ...]) -> Tensor:
    """``reduce`` for the composed twins, in recorded Tensor ops. A mean over nothing is
    nan with a zero gradient, as in the fused ops: ``where(False, total, nan)`` passes
    0 back, where ``total / 0`` would pass back nan."""
    if reduction == "none":
        return losses.reshape(shape)
    total = losses.sum()
    if reduction == "sum":
        return total
    if not denom:
        return ops.where(False, total, np.nan)
    return total / denom
