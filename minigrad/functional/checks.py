"""Argument checks shared by every op in ``minigrad.functional``: each bad input gets the same
clear message everywhere."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, lift

TensorLike = Any  # a Tensor, a numpy array, a (nested) list or a number

_REDUCTIONS = ("none", "mean", "sum")
_BCE_LOG_FLOOR = -100.0  # PyTorch's BCELoss clamps log(p) and log(1 - p) at -100
_BCE_GRAD_EPS = 1e-12  # ... and the p (1 - p) in its gradient's denominator at 1e-12


# ====================================================================== input checks
# Shared by every op here, so each bad input gets the same clear message everywhere.


def _as_float(x: TensorLike) -> Tensor:
    """A floating-point Tensor. Integer data becomes float64 (outside the graph: integer
    tensors cannot require grad anyway)."""
    t = lift(x)
    if t.data.dtype.kind != "f":
        t = Tensor._wrap(t.data.astype(np.float64))
    return t


def _check_axis(axis: Any, ndim: int, who: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{who}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ValueError(f"{who}: axis {axis} is out of range: the input is 0-d and has no axes")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis {axis} is out of range for an input with {ndim} dimension(s): "
                         f"expected an int in [{-ndim}, {ndim - 1}]")
    return int(axis) % ndim


def _check_axes(axis: Any, ndim: int, who: str) -> tuple[int, ...]:
    """None (every axis), an int, or a tuple of distinct ints."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = [_check_axis(a, ndim, who) for a in items]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{who}: axis {axis!r} names the same axis twice")
    return tuple(sorted(axes))


def _check_temperature(temperature: Any, who: str) -> float:
    if (isinstance(temperature, bool) or not isinstance(temperature, numbers.Real)
            or not math.isfinite(temperature) or temperature <= 0):
        raise ValueError(f"{who}: temperature must be a finite number > 0, got {temperature!r}")
    return float(temperature)


def _check_mask(where: Any, shape: tuple[int, ...], who: str) -> np.ndarray | None:
    """The ``where`` mask broadcast to ``shape`` (True = the entry takes part)."""
    if where is None:
        return None
    mask = where.data if isinstance(where, Tensor) else np.asarray(where)
    if mask.dtype != np.bool_:
        raise ValueError(f"{who}: where must be a boolean mask (True where an entry takes part), "
                         f"got dtype {mask.dtype}")
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"{who}: where has shape {mask.shape}, which does not broadcast to the "
                         f"input's shape {shape}") from None


def _check_reduction(reduction: Any, who: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _check_label_smoothing(label_smoothing: Any, who: str) -> float:
    if label_smoothing.__class__ is float and 0.0 <= label_smoothing <= 1.0:  # the usual 0.0: quick
        return label_smoothing
    if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real)
            or not 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"{who}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def _constant_array(value: Any, dtype: np.dtype, who: str, name: str) -> np.ndarray:
    """A weight as a plain array: weights rescale the loss, they are not learned here."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(f"{who}: {name} is a constant rescaling and cannot require grad "
                             f"(pass {name}.detach())")
        value = value.data
    return np.asarray(value, dtype=dtype)


def _class_weights(weight: Any, n_classes: int, dtype: np.dtype, who: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = _constant_array(weight, dtype, who, "weight")
    if w.shape != (n_classes,):
        raise ValueError(f"{who}: weight must hold one entry per class, shape ({n_classes},), "
                         f"got shape {w.shape}")
    return w


def _elementwise_weights(weight: Any, shape: tuple[int, ...], dtype: np.dtype, who: str,
                         name: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = _constant_array(weight, dtype, who, name)
    try:
        fits = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{who}: {name} has shape {w.shape}, which does not broadcast to the "
                         f"input's shape {shape}")
    return w


def _loss_input(logits: TensorLike, who: str, name: str) -> Tensor:
    x = logits if isinstance(logits, Tensor) and logits.data.dtype.kind == "f" else _as_float(logits)
    if not x.data.shape or x.data.shape[-1] == 0:
        raise ValueError(f"{who}: {name} must hold the classes on the last axis, shape (C,) or "
                         f"(N, C) with C >= 1, got shape {x.shape}")
    return x


def _class_targets(x: Tensor, target: Any, ignore_index: Any, who: str, name: str = "logits",
                   probs_allowed: bool = True) -> tuple[str, Any, bool]:
    """What ``target`` holds: ``("index", int array of shape (M,), every_sample_counts)``
    for class indices (shape x.shape[:-1]; ``every_sample_counts`` is False if some index
    is ``ignore_index``), or ``("prob", Tensor, True)`` for class probabilities (x's
    shape, converted to x's dtype)."""
    if ignore_index.__class__ is not int and (isinstance(ignore_index, bool)
                                              or not isinstance(ignore_index, (int, np.integer))):
        raise ValueError(f"{who}: ignore_index must be an int, got {ignore_index!r}")
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    batch, n_classes = x.data.shape[:-1], x.data.shape[-1]
    kind = raw.dtype.kind
    if kind in "iu" and raw.shape == batch:  # class indices, the usual case
        t = (raw if raw.ndim == 1 else raw.reshape(-1)).astype(np.int64, copy=False)
        return "index", t, _checked_indices(t, n_classes, ignore_index, who)
    if kind not in "iuf":
        raise ValueError(f"{who}: target must hold integer class indices"
                         f"{' or float class probabilities' if probs_allowed else ''}, got dtype {raw.dtype}")
    if raw.shape == batch:  # float class indices
        probs_hint = (f"; class probabilities must have the {name}' shape {x.shape}"
                      if probs_allowed else "")
        raise ValueError(f"{who}: target has shape {batch}, the shape of class indices for {name} "
                         f"of shape {x.shape}, but float dtype {raw.dtype}: class indices must be "
                         f"integers (e.g. target.astype(np.int64)){probs_hint}")
    if probs_allowed and raw.shape == x.shape:
        if raw.dtype.kind != "f":
            raise ValueError(f"{who}: target has the {name}' shape {x.shape}, the shape of class "
                             f"probabilities, but integer dtype {raw.dtype}: probabilities must be floats; "
                             f"class indices must have shape {batch}")
        y = target if isinstance(target, Tensor) else Tensor._wrap(raw)
        return "prob", (y if y.dtype == x.dtype else ops.astype(y, x.dtype)), True
    expected = f"class indices of shape {batch}" + (f" or class probabilities of shape {x.shape}"
                                                    if probs_allowed else "")
    raise ValueError(f"{who}: target has shape {raw.shape}, but {name} of shape {x.shape} need {expected}")


def _checked_indices(t: np.ndarray, n_classes: int, ignore_index: int, who: str) -> bool:
    """Raise unless every entry of the int64 array ``t`` is a class index (0 to C - 1) or
    ``ignore_index``; return True if every sample counts (no entry is ``ignore_index``)."""
    # seen as unsigned, a negative index is huge: one max() checks 0 <= t < C (the usual case)
    if t.size == 0 or np.maximum.reduce(t.view(np.uint64)) < n_classes:
        return not 0 <= ignore_index < n_classes or not (t == ignore_index).any()
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise ValueError(f"{who}: target holds class index {t[bad][0]}, but valid class indices are "
                         f"0 to {n_classes - 1} ({n_classes} classes), or ignore_index={ignore_index} "
                         f"to skip a sample; other negative indices are errors, not wrapped")
    return False  # every index outside 0..C-1 is ignore_index, and there is at least one


def _same_shape_target(x: Tensor, target: Any, who: str, name: str) -> Tensor:
    """A binary target: one label (or probability) per input entry, in x's dtype."""
    y = target if isinstance(target, Tensor) else Tensor._wrap(np.asarray(target))
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{who}: target must be numeric, got dtype {y.dtype}")
    if y.shape != x.shape:
        raise ValueError(f"{who}: target has shape {y.shape}, but it must have the {name}' shape "
                         f"{x.shape} (one label per entry)")
    return y if y.dtype == x.dtype else ops.astype(y, x.dtype)


def _target_weights(t: np.ndarray, w: np.ndarray | None, ignore_index: int,
                    dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For class-index targets: which samples count, a column that is safe to gather for
    every sample (ignored ones point at class 0), and each sample's weight w[target]
    (0 for ignored samples)."""
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    weights = np.ones(t.shape, dtype=dtype) if w is None else w[safe]  # fancy indexing copies
    weights[~valid] = 0
    return valid, safe, weights


# ====================================================================== reductions and the gradient node

