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
MANY = 64  # ... and at least this many rows (below, numpy's own call is as quick)


def sum_along(x: Any, axis: int, keepdims: bool = True) -> Any:
    """``x.sum(axis=axis, keepdims=keepdims)`` (a Tensor is summed as a Tensor, in its graph)."""
    if isinstance(x, Tensor) or not _short_rows(x, axis) or x.dtype.kind != "f":
        return x.sum(axis=axis, keepdims=keepdims)
    return x @ np.ones((x.shape[-1], 1) if keepdims else x.shape[-1], x.dtype)


def max_along(x: np.ndarray, axis: int) -> np.ndarray:
    """``np.max(x, axis=axis, keepdims=True)``, and -inf along an axis of length 0."""
    if not _short_rows(x, axis):
        return np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    columns = np.asfortranarray(x.reshape(-1, x.shape[-1]))
    top = np.maximum.reduce(columns, axis=1, initial=-np.inf)
    return top.reshape(x.shape[:-1] + (1,))


def _short_rows(x: np.ndarray, axis: int) -> bool:
    """Many short rows, reduced along the last axis: where numpy's reduction is slow."""
    last = x.ndim >= 2 and isinstance(axis, int) and axis % x.ndim == x.ndim - 1  # (not a tuple)
    return last and x.shape[-1] <= SHORT and x.size >= MANY * x.shape[-1]
