"""Argument checks shared by every op in ``minigrad.functional`` (and by ``sampling``), so
each bad input gets the same clear message everywhere: the function's name, the
argument, what was expected and what came instead."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, lift

TensorLike = Any  # a Tensor, a numpy array, a (nested) list or a number

REDUCTIONS = ("none", "mean", "sum")


def as_float(x: TensorLike) -> Tensor:
    """A floating-point Tensor. Integer data becomes float64 (outside the graph: integer
    tensors cannot require grad anyway)."""
    t = lift(x)
    if t.data.dtype.kind != "f":
        t = Tensor._wrap(t.data.astype(np.float64))
    return t


def check_axis(axis: Any, ndim: int, op_name: str) -> int:
    """One axis, as a non-negative int."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{op_name}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ValueError(f"{op_name}: axis {axis} is out of range: the input is 0-d and has no axes")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{op_name}: axis {axis} is out of range for an input with {ndim} dimension(s): "
            f"expected an int in [{-ndim}, {ndim - 1}]"
        )
    return int(axis) % ndim


def check_axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """None (every axis), an int, or a tuple of distinct ints, as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = [check_axis(a, ndim, op_name) for a in items]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op_name}: axis {axis!r} names the same axis twice")
    return tuple(sorted(axes))


def check_temperature(temperature: Any, op_name: str) -> float:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not math.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            f"{op_name}: temperature must be a finite number > 0, got {temperature!r} "
            "(the T -> 0 limit is the arg-max: take logits.argmax(axis=-1))"
        )
    return float(temperature)


def check_mask(where: Any, shape: tuple[int, ...], op_name: str) -> np.ndarray | None:
    """The ``where`` mask broadcast to ``shape`` (True = the entry takes part)."""
    if where is None:
        return None
    mask = where.data if isinstance(where, Tensor) else np.asarray(where)
    if mask.dtype != np.bool_:
        raise ValueError(
            f"{op_name}: where must be a boolean mask (True where an entry takes part), "
            f"got dtype {mask.dtype}"
        )
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(
            f"{op_name}: where has shape {mask.shape}, which does not broadcast to the input's shape {shape}"
        ) from None


def check_reduction(reduction: Any, op_name: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op_name}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    return reduction


def check_label_smoothing(label_smoothing: Any, op_name: str) -> float:
    if (
        isinstance(label_smoothing, bool)
        or not isinstance(label_smoothing, numbers.Real)
        or not 0.0 <= float(label_smoothing) <= 1.0
    ):
        raise ValueError(f"{op_name}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def constant_array(value: Any, dtype: np.dtype, op_name: str, name: str) -> np.ndarray:
    """A weight as a plain array: weights rescale the loss, they are not learned here."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(
                f"{op_name}: {name} is a constant rescaling and cannot require grad (pass {name}.detach())"
            )
        value = value.data
    return np.asarray(value, dtype=dtype)


def class_weights(weight: Any, n_classes: int, dtype: np.dtype, op_name: str) -> np.ndarray | None:
    """``weight``: None, or one constant per class, shape (C,)."""
    if weight is None:
        return None
    w = constant_array(weight, dtype, op_name, "weight")
    if w.shape != (n_classes,):
        raise ValueError(
            f"{op_name}: weight must hold one entry per class, shape ({n_classes},), got shape {w.shape}"
        )
    return w


def elementwise_weights(
    weight: Any, shape: tuple[int, ...], dtype: np.dtype, op_name: str, name: str
) -> np.ndarray | None:
    """``weight`` or ``pos_weight`` of a binary loss: None, or constants that broadcast to
    the input's shape."""
    if weight is None:
        return None
    w = constant_array(weight, dtype, op_name, name)
    try:
        fits = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{op_name}: {name} has shape {w.shape}, which does not broadcast to the input's shape {shape}"
        )
    return w


def loss_input(logits: TensorLike, op_name: str, name: str) -> Tensor:
    """Logits (or log-probabilities) with the classes on the last axis, as floats."""
    x = as_float(logits)
    if not x.data.shape or x.data.shape[-1] == 0:
        raise ValueError(
            f"{op_name}: {name} must hold the classes on the last axis, shape (C,) or "
            f"(N, C) with C >= 1, got shape {x.shape}"
        )
    return x


def check_ignore_index(ignore_index: Any, op_name: str) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise ValueError(f"{op_name}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


def class_targets(
    x: Tensor, target: Any, ignore_index: int, op_name: str, name: str = "logits", probs_allowed: bool = True
) -> np.ndarray | Tensor:
    """What ``target`` holds, checked against the logits ``x`` of shape (..., C): class
    indices, returned as an int64 array of shape x.shape[:-1]; or (if ``probs_allowed``)
    class probabilities of x's shape, returned as a Tensor in x's dtype."""
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    batch = x.data.shape[:-1]
    if raw.dtype.kind in "iu" and raw.shape == batch:  # class indices, the usual case
        return checked_indices(raw.astype(np.int64, copy=False), x.data.shape[-1], ignore_index, op_name)
    if raw.dtype.kind not in "iuf":
        raise ValueError(
            f"{op_name}: target must hold integer class indices"
            f"{' or float class probabilities' if probs_allowed else ''}, got dtype {raw.dtype}"
        )
    if raw.shape == batch:  # float class indices
        probs_hint = f"; class probabilities must have the {name}' shape {x.shape}" if probs_allowed else ""
        raise ValueError(
            f"{op_name}: target has shape {batch}, the shape of class indices for {name} "
            f"of shape {x.shape}, but float dtype {raw.dtype}: class indices must be "
            f"integers (e.g. target.astype(np.int64)){probs_hint}"
        )
    if probs_allowed and raw.shape == x.shape:
        if raw.dtype.kind != "f":
            raise ValueError(
                f"{op_name}: target has the {name}' shape {x.shape}, the shape of class "
                f"probabilities, but integer dtype {raw.dtype}: probabilities must be floats; "
                f"class indices must have shape {batch}"
            )
        y = target if isinstance(target, Tensor) else Tensor._wrap(raw)
        return y if y.dtype == x.dtype else ops.astype(y, x.dtype)
    expected = f"class indices of shape {batch}" + (
        f" or class probabilities of shape {x.shape}" if probs_allowed else ""
    )
    raise ValueError(
        f"{op_name}: target has shape {raw.shape}, but {name} of shape {x.shape} need {expected}"
    )


def checked_indices(t: np.ndarray, n_classes: int, ignore_index: int, op_name: str) -> np.ndarray:
    """``t``, after checking that every entry is a class index (0 to C - 1) or
    ``ignore_index``. Negative indices are errors, never wrapped around."""
    if t.size == 0 or (t.min() >= 0 and t.max() < n_classes):
        return t  # every entry is a class index
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise ValueError(
            f"{op_name}: target holds class index {t[bad][0]}, but valid class indices are "
            f"0 to {n_classes - 1} ({n_classes} classes), or ignore_index={ignore_index} "
            f"to skip a sample; other negative indices are errors, not wrapped"
        )
    return t


def same_shape_target(x: Tensor, target: Any, op_name: str, name: str) -> Tensor:
    """A binary target: one label (or probability) per input entry, in x's dtype."""
    y = target if isinstance(target, Tensor) else Tensor._wrap(np.asarray(target))
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{op_name}: target must be numeric, got dtype {y.dtype}")
    if y.shape != x.shape:
        raise ValueError(
            f"{op_name}: target has shape {y.shape}, but it must have the {name}' shape "
            f"{x.shape} (one label per entry)"
        )
    return y if y.dtype == x.dtype else ops.astype(y, x.dtype)
