"""Reductions and the p - y gradient node shared by the losses."""

from __future__ import annotations

import functools

import numpy as np

from .. import ops
from ..tensor import Tensor, record


def _reduce(losses: np.ndarray, reduction: str, denom: float, shape: tuple[int, ...]) -> np.ndarray:
    """Per-sample losses -> 'none' (shape ``shape``), 'sum', or 'mean' = sum / denom."""
    if reduction == "none":
        return losses.reshape(shape)
    total = np.add.reduce(losses, axis=None)  # = losses.sum(), without its Python-level wrapper
    if reduction == "sum":
        return np.asarray(total)
    if denom:
        return np.asarray(total / denom)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / denom)  # denom 0 (every target ignored): 0 / 0 = nan, as PyTorch


def _upstream(g: Tensor, reduction: str, denom: float, shape: tuple[int, ...],
              dtype: np.dtype, one_for_all: bool = False) -> tuple[np.ndarray, Tensor | None]:
    """How much of the incoming gradient ``g`` reaches each sample's loss, as an array of
    ``shape``: g / denom for 'mean' (the 1/N, or the weight normaliser, made explicit),
    g for 'sum', g per sample for 'none'. A mean over nothing (denom 0) passes on 0.
    With ``one_for_all``, a factor that is the same for every sample ('mean', 'sum') is
    returned as a 0-d array instead (same value, no array of copies).

    Usually ``g`` is a constant and is folded into that array. If ``g`` is itself
    differentiable (create_graph through a function of the loss), it is returned too,
    to be multiplied in as a Tensor op so that its own gradient is not lost."""
    r = 1.0
    if reduction == "mean":
        r = 1.0 / denom if denom else 0.0
    if g.requires_grad:
        if one_for_all and reduction != "none":
            return np.asarray(r, dtype=dtype), g
        return np.full(shape, r, dtype=dtype), (ops.reshape(g, shape) if reduction == "none" else g)
    if reduction == "none":
        return np.asarray(g.data, dtype=dtype).reshape(shape) * r, None
    if one_for_all:
        # g * r in dtype, as for the other reductions, but taken on the scalar g[()] (a 0-d array
        # times a float costs 8x more) and handed on as a 0-d array (numpy broadcasts it faster)
        return np.asarray(np.asarray(g.data, dtype=dtype)[()] * r), None
    return np.full(shape, np.asarray(g.data, dtype=dtype) * r, dtype=dtype), None


def _prediction_minus_label(p: Tensor | np.ndarray, coef: np.ndarray, label: np.ndarray | None = None,
                            at: np.ndarray | None = None, hit: np.ndarray | None = None) -> Tensor:
    """``coef * p - y``: the gradient of the cross-entropy family, as one graph node.

    The label y is given densely (``label``, broadcastable to p) and/or sparsely (``hit``
    subtracted at the flat positions ``at`` of p, see ``_flat_positions``). Both are
    subtracted in place from the fresh product ``p * coef``: no one-hot matrix, no
    scatter-add. The node is linear in p (d/dp = coef), so under create_graph the second
    derivative flows on into p's own node (softmax or sigmoid). Given p as a plain array
    (a backward pass that records nothing), the result is a plain constant tensor."""
    data = (p.data if isinstance(p, Tensor) else p) * coef  # a fresh array: safe to update in place
    if label is not None:
        data -= label
    if at is not None:
        data.reshape(-1)[at] -= hit  # one position per row: no repeats
    if not isinstance(p, Tensor):
        return Tensor._wrap(data)
    coef_t = Tensor._wrap(coef)
    return record(data, (p,), "prediction_minus_label", lambda gg, out: (gg * coef_t,))


def _row_max(x2: np.ndarray) -> np.ndarray:
    """The max of each row of an (M, C) array, as an (M, 1) column. numpy reduces a short
    last axis row by row; over a column-major copy it compares whole columns at once, 4 to
    12 times faster for up to 64 classes (the same values: a max does not round)."""
    if x2.shape[1] <= 64:
        x2 = np.asfortranarray(x2)
    return np.maximum.reduce(x2, axis=1, keepdims=True)  # = x2.max(axis=1, keepdims=True)


def _flat_positions(t: np.ndarray, n_classes: int) -> np.ndarray:
    """Where entry (n, t[n]) of an (M, C) matrix sits in the matrix's flat view: n C + t[n].
    A 1-d index is 3 to 7 times faster than the pair (rows, t), read or written."""
    return _row_starts(t.size, n_classes) + t


@functools.lru_cache(maxsize=8)
def _row_starts(m: int, n_classes: int) -> np.ndarray:
    """0, C, 2C, ..., (M - 1) C, read-only. Kept for the last few shapes: a training loop
    asks for the same batch size every step, and at 32 x 3 this arange is half the cost
    of the positions (the cache holds at most 8 such columns of M integers)."""
    starts = np.arange(0, m * n_classes, n_classes)
    starts.flags.writeable = False
    return starts

