"""The mean squared error, and ``one_hot``, which turns class indices into the 0/1 rows
that losses compare predictions with."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import class_columns
from .checks import TensorLike, as_float, check_reduction, same_shape_target
from .reduction import reduce_composed


def mse_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Mean squared error, as PyTorch's ``mse_loss``.

    Formula: l_i = (x_i - y_i)^2 for every entry; 'mean' divides the sum by the number of
    entries (nan for an empty input, as PyTorch), 'sum' adds them, 'none' keeps them.
    ``target`` must have the input's shape.

    Gradient: d l_i / d x_i = 2 (x_i - y_i) (over N for 'mean'), and the opposite for
    the target if it requires grad. Composed of primitive ops, so the gradient comes
    from them. On softmax outputs p it is 2 (p - y) times the softmax Jacobian, which
    vanishes as p saturates; cross-entropy's gradient on the logits is p - y itself.
    """
    op_name = "mse_loss"
    x = as_float(input)
    reduction = check_reduction(reduction, op_name)
    y = same_shape_target(x, target, op_name, "input")
    d = x - y
    return reduce_composed(d * d, reduction, float(x.size), x.shape)


def one_hot(t: Any, num_classes: int = -1) -> Tensor:
    """Class indices t (integers) -> rows of 0s with a 1 at each index, as PyTorch's
    ``one_hot``: shape t.shape + (num_classes,), dtype int64 (convert with
    ``.astype(np.float64)`` to use it as a target distribution).

    Formula: out[..., c] = 1 if t[...] == c else 0. ``num_classes=-1`` takes max(t) + 1.
    An index outside [0, num_classes) raises (never wrapped around); no gradient (the
    input is integers).
    """
    raw = t.data if isinstance(t, Tensor) else np.asarray(t)
    if raw.dtype.kind not in "iu":
        raise ValueError(f"one_hot: t must hold integer class indices, got dtype {raw.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be an int >= 0, or -1 to infer it, got {num_classes!r}")
    if num_classes == -1:
        if raw.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty t; pass num_classes=")
        num_classes = int(raw.max()) + 1
    if raw.size and (raw.min() < 0 or raw.max() >= num_classes):
        bad = raw[(raw < 0) | (raw >= num_classes)].flat[0]
        raise ValueError(
            f"one_hot: class index {bad} is outside [0, {num_classes}) for num_classes={num_classes}"
        )
    return Tensor._wrap(class_columns.one_hot(raw, num_classes, np.int64))
