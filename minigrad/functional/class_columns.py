"""Class scores stored column by column: the softmax family's one speed trick.

A classifier's scores form an (N, C) array: many samples N, a few classes C. numpy runs
its innermost loop along the last axis, so on a row-major array (numpy's default) every
reduction over the classes (the max, the sum of exponentials) and every operation that
spreads one number per sample across its classes (``x - max``, ``z - log(total)``)
runs that inner loop on C numbers, N times over: with 10 classes the loop's bookkeeping
costs 5 to 15 times the arithmetic. Stored column-major, the same operations run along
the columns, N numbers at a time.

So the softmax family copies a 2-D array of short rows into column-major order once, on
the way in (``columns``), and builds one-hot labels in that order (``one_hot``). The
lesson code then writes the maths in plain numpy (``z.max(axis)``, ``e.sum(axis)``,
``p * y.sum(-1) - y``), and every array computed from these keeps their layout. The
numbers are the same (a sum over the classes may differ in the last bit, as with any
other order of summation). The measured gain per training step is in
``benchmarks/README.md`` ("Class columns").
"""

from __future__ import annotations

from typing import Any

import numpy as np

SHORT = 64  # rows of at most this many classes are stored column by column


def columns(x: np.ndarray, axis: Any) -> np.ndarray:
    """``x``, as a column-major copy if it is a 2-D array of short rows normalised along
    its rows (``axis`` -1 or 1); otherwise ``x`` itself."""
    if x.ndim == 2 and axis in (1, -1) and x.shape[1] <= SHORT and not x.flags.f_contiguous:
        return np.asfortranarray(x)
    return x


def one_hot(target: np.ndarray, n_classes: int, dtype: Any) -> np.ndarray:
    """``(target[..., None] == arange(C)).astype(dtype)``: row n holds a 1 at column
    target[n] and 0 elsewhere (a row of zeros for a target outside 0..C-1). Column-major
    for a 1-D target: compared class by class, C rows of N, and read transposed."""
    classes = np.arange(n_classes)
    if target.ndim == 1 and n_classes <= SHORT:
        return (classes[:, None] == target).astype(dtype).T
    return (target[..., None] == classes).astype(dtype)
