"""Sum and max along one axis, fast when that axis is a short last axis.

This is the one speed trick of the softmax family, kept apart so that the lesson code
reads ``sum_along(e, axis)`` where the maths says "sum over the classes".

Why: numpy reduces along the last axis one row at a time, and when the rows are short (the
10 classes of a classifier) that bookkeeping costs 10 to 20 times the arithmetic. Two
equivalent computations avoid it:

* a sum over the last axis is a matrix-vector product, ``x @ ones``: one BLAS call;
* a max over the last axis, taken on a column-major copy, compares whole columns at once.

The max is exactly numpy's (a max does not round); the sum may differ from ``np.sum`` in
the last bit, as any other order of summation would. The measured gain per training step
is in ``benchmarks/README.md`` ("Row reductions").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

SHORT = 64  # the tricks pay for rows of up to this many entries ...
MANY = 64  # ... and the sum's for at least this many rows (below, np.ones costs more than it saves)


def sum_along(x: Any, axis: Any, keepdims: bool = True) -> Any:
    """``x.sum(axis=axis, keepdims=keepdims)`` (a Tensor is summed as a Tensor, in its graph)."""
    if (
        isinstance(x, Tensor)
        or not _short_last_axis(x, axis)
        or x.size < MANY * x.shape[-1]
        or x.dtype.kind != "f"
    ):
        return x.sum(axis=axis, keepdims=keepdims)
    return x @ np.ones((x.shape[-1], 1) if keepdims else x.shape[-1], x.dtype)


def max_along(x: np.ndarray, axis: Any) -> np.ndarray:
    """``np.max(x, axis=axis, keepdims=True)``, and -inf along an axis of length 0."""
    if x.size == 0:
        return np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    if not _short_last_axis(x, axis):
        return np.max(x, axis=axis, keepdims=True)
    columns = np.asfortranarray(x.reshape(-1, x.shape[-1]))
    return np.maximum.reduce(columns, axis=1).reshape(x.shape[:-1] + (1,))


def _short_last_axis(x: np.ndarray, axis: Any) -> bool:
    """A reduction along a short last axis (not a tuple of axes): where numpy is slow."""
    return isinstance(axis, int) and x.ndim >= 1 and axis % x.ndim == x.ndim - 1 and x.shape[-1] <= SHORT
