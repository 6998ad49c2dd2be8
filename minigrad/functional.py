"""``minigrad.functional`` (import it as ``F``): softmax and its family, each ONE fused graph
node with a hand-derived backward, and next to each a *composed twin* built from the
engine's primitive ops.

The family, with p = softmax(x) taken along the class axis:

    softmax(x)_i      = exp(x_i) / sum_j exp(x_j)         Jacobian  diag(p) - p p^T
    log_softmax(x)_i  = x_i - logsumexp(x)                Jacobian  I - 1 p^T
    logsumexp(x)      = log sum_j exp(x_j)                gradient  p
    cross_entropy     = -sum_i y_i log p_i                gradient  p - y   (sum_i y_i = 1)
    sigmoid(x)        = 1 / (1 + exp(-x)) = softmax([x, 0])_0
    bce_with_logits   = cross_entropy([x, 0], [y, 1 - y]) gradient  sigmoid(x) - y

**One stability trick serves them all.** softmax does not change when a constant is added
to every logit, so we subtract the largest one first: the biggest exponent becomes
exp(0) = 1, no exp() can overflow, and the sum is at least 1, so its log is finite.
Log-probabilities are formed as ``x - logsumexp(x)``, never as ``log(softmax(x))``, which
underflows to log(0) = -inf as soon as a probability drops below ~1e-38 (float32).

**Why fused?** Composed from primitives, cross-entropy is a chain of eleven nodes
(sub, exp, sum, log, sub, reshape, gather, mul, neg, sum, div) whose backward passes
rebuild the answer piece by piece, with a temporary array at every step. The fused node
jumps straight to it: ``(p - y) * scale``. It is shorter, faster, and shows the one fact
worth remembering: *the gradient of cross-entropy with respect to the logits is
prediction minus label.*

**Second derivatives.** Every backward rule is itself written with Tensor ops, and the
softmax-like ones use the op's *output* ``out``: softmax's backward is
``out * (g - sum(g * out))``. With ``create_graph=True`` those ops are recorded, so
``minigrad.hessian`` of logsumexp or of cross-entropy comes out as diag(p) - p p^T.

**Composed twins** (``softmax_composed``, ``log_softmax_composed``, ...) compute the same
values with primitive ops only, so you can compare graph sizes and hold the fused ops
against them in tests. By default they use the max-subtraction trick too (as a constant
shift, outside the graph); ``stable=False`` gives the naive textbook formula, to *see*
it overflow. They have none of the fused ops' guards: a fully masked slice gives nan.

Classes live on the LAST axis (minigrad follows numpy's ``axis``, not PyTorch's dim 1);
logits of shape (..., C) with targets of shape (...) reduce like the flattened (M, C) case.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np

from . import ops
from .autograd import is_grad_enabled
from .tensor import Tensor, lift, record

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
        raise ValueError(f"{who}: temperature must be a finite number > 0, got {temperature!r} "
                         "(the T -> 0 limit is the arg-max: take logits.argmax(axis=-1))")
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


# ====================================================================== softmax


def _shifted(x: np.ndarray, axis: int, temperature: float,
             mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(x - max x) / T along ``axis`` as a new array, entries outside ``mask`` at -inf.
    The largest entry becomes 0, so exp() of the result lies in [0, 1]. Also returns the
    slices in which no entry takes part (None without a mask)."""
    if mask is None:
        return _divide(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf), temperature), None
    z = np.where(mask, x, -np.inf)
    top = np.max(z, axis=axis, keepdims=True, initial=-np.inf)
    empty = ~mask.any(axis=axis, keepdims=True)
    top[empty] = 0  # nothing takes part: nothing to shift by (and -inf - -inf would be nan)
    z -= top
    return _divide(z, temperature), empty


def _divide(z: np.ndarray, temperature: float) -> np.ndarray:
    # max(x / T) = max(x) / T for T > 0: shifting first keeps a tiny T from overflowing x / T
    if temperature != 1.0:
        with np.errstate(over="ignore"):  # a tiny T sends the shifted -x/T to -inf: exp gives 0
            z /= np.float64(temperature)  # divided in float64: T = 1e-50 is no 0 in float32
    return z


def _softmax_node(x: Tensor, p: np.ndarray, axis: int, temperature: float) -> Tensor:
    """Record ``p`` = softmax(x / T) as a graph node of x. Cross-entropy uses this too, to
    hand its saved probabilities to create_graph without computing them again."""

    def backward(g: Tensor, out: Tensor) -> tuple:
        # dp_i/dx_j = p_i (delta_ij - p_j) / T, so dx = p * (g - sum(g * p)) / T
        gx = out * (g - (g * out).sum(axis=axis, keepdims=True))
        return (gx if temperature == 1.0 else gx * (1.0 / temperature),)

    return record(p, (x,), "softmax", backward)


def softmax(x: TensorLike, axis: int = -1, temperature: float = 1.0, where: Any = None) -> Tensor:
    """Probabilities along ``axis``: every slice is >= 0 and sums to 1.

    Formula: p_i = exp(x_i / T) / sum_j exp(x_j / T), over the entries where ``where``
    is True (masked entries get p = 0).

    Stability: computed as exp((x - max x) / T): the largest exponent is exp(0) = 1, so
    nothing overflows, whatever the size of the logits, and the sum is >= 1.

    Gradient: dp_i/dx_j = p_i (delta_ij - p_j) / T, the Jacobian (diag(p) - p p^T) / T.
    The backward, ``out * (g - sum(g * out)) / T``, uses the output itself.

    ``temperature`` T > 0: T -> 0 tends to one-hot at the arg-max (tied maxima share
    equally), T -> infinity to uniform. ``where``: a boolean mask that broadcasts to x's
    shape, True where an entry takes part. A slice in which no entry takes part gives
    all zeros and a zero gradient, never nan. Without ``where``, a slice of all -inf
    gives nan, as in PyTorch (and so does a slice whose taking-part entries are all -inf).
    """
    x = _as_float(x)
    axis = _check_axis(axis, x.ndim, "softmax")
    temperature = _check_temperature(temperature, "softmax")
    mask = _check_mask(where, x.shape, "softmax")
    z, empty = _shifted(x.data, axis, temperature, mask)
    p = np.exp(z, out=z)
    total = p.sum(axis=axis, keepdims=True)
    if empty is not None:
        total[empty] = 1  # 0 / 1 = 0 rather than 0 / 0
    p /= total
    return _softmax_node(x, p, axis, temperature)


def _composed_logits(x: TensorLike, axis: int, temperature: float, where: Any,
                     who: str) -> tuple[int, Tensor]:
    """The composed twins' shared start, in primitive ops: z = x / T, with the entries
    outside ``where`` set to -inf. Returns the checked axis and z."""
    x = _as_float(x)
    axis = _check_axis(axis, x.ndim, who)
    temperature = _check_temperature(temperature, who)
    mask = _check_mask(where, x.shape, who)
    z = x if temperature == 1.0 else x / temperature
    if mask is not None:
        z = ops.where(mask, z, -np.inf)
    return axis, z


def softmax_composed(x: TensorLike, axis: int = -1, temperature: float = 1.0, where: Any = None,
                     stable: bool = True) -> Tensor:
    """softmax from primitive ops: ``e = exp(z); e / sum(e)`` with z = x / T (masked
    entries set to -inf with ``minigrad.where``). With ``stable`` the max is subtracted
    first, as a constant (the result does not depend on it, so no gradient flows into
    it); ``stable=False`` is the textbook formula, which overflows to inf / inf = nan
    for logits above ~89 (float32) or ~710 (float64). A fully masked slice gives nan."""
    axis, z = _composed_logits(x, axis, temperature, where, "softmax_composed")
    if stable:
        z = z - z.max(axis=axis, keepdims=True).detach()
    e = z.exp()
    return e / e.sum(axis=axis, keepdims=True)


# ====================================================================== log_softmax


def log_softmax(x: TensorLike, axis: int = -1, temperature: float = 1.0, where: Any = None) -> Tensor:
    """Log-probabilities along ``axis``: log softmax(x / T).

    Formula: z - logsumexp(z) with z = x / T. Exponentiated, every slice sums to 1.

    Stability: with z shifted so that its max is 0 (as in softmax), the sum of exp(z) is
    between 1 and the slice length, so its log is finite and the result is finite
    wherever x is: logits [0, -200] in float32 give [0, -200], where log(softmax(x))
    gives log(0) = -inf.

    Gradient: d out_i / dx_j = (delta_ij - p_j) / T, the Jacobian (I - 1 p^T) / T, so
    dx = (g - p * sum(g)) / T with p = exp(out) (the output again).

    Masked entries (``where`` False) get -inf, the log of their probability 0, as
    PyTorch's masked_fill with -inf would give; they are constants, so no gradient flows
    through them, and a fully masked slice is all -inf with a zero gradient (no nan).
    Mind that 0 * -inf = nan if you multiply the output by a zero target yourself.
    Without ``where``, a slice of all -inf gives nan, as in PyTorch.
    """
    x = _as_float(x)
    axis = _check_axis(axis, x.ndim, "log_softmax")
    temperature = _check_temperature(temperature, "log_softmax")
    mask = _check_mask(where, x.shape, "log_softmax")
    z, empty = _shifted(x.data, axis, temperature, mask)
    total = np.exp(z).sum(axis=axis, keepdims=True)
    if empty is not None:
        total[empty] = 1  # log 1 = 0: the masked entries stay at -inf
    with np.errstate(divide="ignore"):  # only an axis of length 0 sums to 0 here
        z -= np.log(total)

    def backward(g: Tensor, out: Tensor) -> tuple:
        if mask is not None:
            g = ops.where(mask, g, 0.0)  # the masked outputs are constants
        gx = g - out.exp() * g.sum(axis=axis, keepdims=True)
        return (gx if temperature == 1.0 else gx * (1.0 / temperature),)

    return record(z, (x,), "log_softmax", backward)


def log_softmax_composed(x: TensorLike, axis: int = -1, temperature: float = 1.0, where: Any = None,
                         stable: bool = True) -> Tensor:
    """log_softmax from primitive ops. ``stable``: z - log(sum(exp(z))) with z = x / T
    shifted by its (constant) max; ``stable=False``: the naive log(softmax(x)), which
    gives -inf once a probability underflows (and nan once exp overflows). A fully
    masked slice gives nan."""
    if not stable:
        return softmax_composed(x, axis, temperature, where, stable=False).log()
    axis, z = _composed_logits(x, axis, temperature, where, "log_softmax_composed")
    z = z - z.max(axis=axis, keepdims=True).detach()
    return z - z.exp().sum(axis=axis, keepdims=True).log()


# ====================================================================== logsumexp


def logsumexp(x: TensorLike, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis`` (None = all axes, an int, or a tuple of ints).

    Stability: m + log(sum(exp(x - m))) with m = max(x): the exponents are <= 0, so
    nothing overflows, and the sum is >= 1. A slice of all -inf gives -inf (the log of
    an empty sum); then m is taken as 0, since -inf - -inf would be nan.

    Gradient: d/dx_i = exp(x_i - out) = softmax(x)_i, written with the output, so the
    Hessian (via create_graph) is diag(p) - p p^T. An all -inf slice gets gradient 0.
    """
    x = _as_float(x)
    axes = _check_axes(axis, x.ndim, "logsumexp")
    top = np.asarray(np.max(x.data, axis=axes, keepdims=True, initial=-np.inf))
    top[~np.isfinite(top)] = 0  # all -inf (or a +inf): nothing to shift by
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for an all -inf slice
        out = np.log(np.exp(x.data - top).sum(axis=axes, keepdims=True)) + top
    kept = out.shape
    if not keepdims:
        out = out.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    def backward(g: Tensor, out: Tensor) -> tuple:
        if not keepdims:
            g, out = ops.reshape(g, kept), ops.reshape(out, kept)
        if np.isneginf(out.data).any():  # all -inf slices: exp(-inf - 0) = 0, not exp(nan)
            out = ops.where(np.isneginf(out.data), 0.0, out)
        return (g * (x - out).exp(),)

    return record(out, (x,), "logsumexp", backward)


def logsumexp_composed(x: TensorLike, axis: Any = None, keepdims: bool = False,
                       stable: bool = True) -> Tensor:
    """logsumexp from primitive ops: ``m + log(sum(exp(x - m)))`` with m = max(x) as a
    constant (``stable``), or the naive ``log(sum(exp(x)))``, which overflows to inf for
    logits above ~89 (float32) or ~710 (float64). An all -inf slice gives nan."""
    x = _as_float(x)
    axes = _check_axes(axis, x.ndim, "logsumexp_composed")
    if not stable:
        return x.exp().sum(axis=axes, keepdims=keepdims).log()
    top = x.max(axis=axes, keepdims=True).detach()
    out = (x - top).exp().sum(axis=axes, keepdims=True).log() + top
    return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i not in axes])


# ====================================================================== cross_entropy


def cross_entropy(logits: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits (classes on the last axis) and a target, with PyTorch's
    semantics.

    Shapes: logits (C,) or (N, C), or (..., C), reduced like the flattened (M, C) case.
    ``target`` holds either integer class indices, of shape logits.shape[:-1], or float
    class probabilities, of the logits' shape. ``weight`` (C,) rescales each class;
    ``reduction`` is 'none' (one loss per sample), 'mean' or 'sum'.

    Formula, with log p = log_softmax(logits) and eps = ``label_smoothing``:

    * class indices t_n:   l_n = (1 - eps) w[t_n] (-log p_n[t_n]) + (eps / C) sum_c w_c (-log p_n[c]),
      0 where t_n == ``ignore_index``. 'mean' divides the sum by sum_n w[t_n] over the
      samples not ignored (the number of them without ``weight``), also with smoothing.
    * class probabilities y_n:   l_n = -sum_c w_c y'_n[c] log p_n[c], with the smoothed
      y' = (1 - eps) y + eps / C; 'mean' divides by the number of samples N (not by the
      weights). ``ignore_index`` does not apply.

    Stability: log p = z - log(sum(exp(z))) with z = logits - max(logits), so the loss is
    finite for logits of any size.

    Gradient (the whole point): with y the (smoothed, weighted) label of a sample and
    a = sum_c y_c (1 without weights),

        d l_n / d logits_n = a p_n - y_n,     i.e. p - y: prediction minus label,

    times the reduction's scale (1 / sum of weights for 'mean'). It is built in place on a
    copy of p (the label subtracted at the target indices: no one-hot matrix), and p is
    handed to create_graph as a softmax node, so the Hessian is diag(p) - p p^T (/ N).

    Decisions: every target ignored (or a zero total weight) gives a 'mean' of nan, as in
    PyTorch (0 / 0), and a zero gradient. Class indices outside [0, C) other than
    ``ignore_index`` raise, naming the value (negative ones are never wrapped around).
    ``weight`` is a constant (no gradient); a probability target that requires grad gets
    its gradient, -(1 - eps) w_c log p_c per sample.
    """
    who = "cross_entropy"
    x = _loss_input(logits, who, "logits")
    _check_reduction(reduction, who)
    eps = _check_label_smoothing(label_smoothing, who)
    w = None if weight is None else _class_weights(weight, x.shape[-1], x.dtype, who)
    kind, t, every_sample_counts = _class_targets(x, target, ignore_index, who)
    if kind == "index" and w is None and not eps and every_sample_counts:
        return _cross_entropy_plain(x, t, reduction)  # the common case, in its own short function
    if kind == "index":
        return _cross_entropy_indices(x, t, w, int(ignore_index), reduction, eps)
    return _cross_entropy_probs(x, t, w, reduction, eps)


def _cross_entropy_plain(x: Tensor, t: np.ndarray, reduction: str) -> Tensor:
    """Cross-entropy of class indices without weights, smoothing or ignored samples: the
    general ``_cross_entropy_indices`` with every weight 1, which leaves out its
    per-sample weight arrays. Same numbers (the tests hold the two paths equal).

    l_n = log sum_c exp(z_nc) - z_n[t_n] with z = logits - max(logits), and
    d l_n / d logits_n = p_n - onehot(t_n): built on one copy of p, the 1 subtracted at
    the target entries."""
    n_classes, m = x.data.shape[-1], t.size
    batch, dtype = x.data.shape[:-1], x.data.dtype
    at = _flat_positions(t, n_classes)
    reshaped = len(batch) != 1  # logits (C,) or (..., C) are worked on as (M, C)
    x2 = x.data.reshape(m, n_classes) if reshaped else x.data
    z = x2 - _row_max(x2)  # the one (M, C) temporary; it becomes p below
    z_target = z.reshape(-1)[at]  # read what the loss needs from z before exp() overwrites it
    p = np.exp(z, out=z)
    total = np.add.reduce(p, axis=1, keepdims=True)  # = p.sum(...), without its Python wrapper
    p /= total
    if reshaped:
        p = p.reshape(x.data.shape)
    losses = np.log(total[:, 0])
    losses -= z_target  # -log p_t = log sum exp(z) - z_t
    denom = float(m)

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, batch + (1,), dtype, one_for_all=True)
        # p as a softmax node of x only if this backward pass is recorded (create_graph)
        probs = _softmax_node(x, p, -1, 1.0) if is_grad_enabled() else p
        hit = f.reshape(-1) if f.ndim else f  # the label's share at each target: f per sample, or one f
        gx = _prediction_minus_label(probs, f, at=at, hit=hit)  # (p - y) * f
        return (gx if g_rest is None else gx * g_rest,)

    return record(_reduce(losses, reduction, denom, batch), (x,), "cross_entropy", backward)


def _cross_entropy_indices(x: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int,
                           reduction: str, eps: float) -> Tensor:
    n_classes, m = x.shape[-1], t.size
    dtype = x.dtype
    valid, safe, wt = _target_weights(t, w, ignore_index, dtype)
    at = _flat_positions(safe, n_classes)
    x2 = x.data.reshape(m, n_classes)
    z = x2 - _row_max(x2)  # the one (M, C) temporary; it becomes p below
    z_target = z.reshape(-1)[at]  # read what the loss needs from z before exp() overwrites it
    if eps:
        w_total = n_classes if w is None else w.sum()
        z_weighted = z.sum(axis=1) if w is None else z @ w
    p = np.exp(z, out=z)
    total = p.sum(axis=1, keepdims=True)
    p /= total
    log_total = np.log(total[:, 0])
    losses = (1 - eps) * wt * (log_total - z_target)  # -log p_t = log sum exp(z) - z_t
    if eps:
        losses += (eps / n_classes) * valid.astype(dtype) * (w_total * log_total - z_weighted)
    if not valid.all():
        losses[~valid] = 0  # an ignored sample's logits never matter, even if they are inf
    denom = float(wt.sum(dtype=np.float64))  # 'mean' divides by the total weight of the targets

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape[:-1] + (1,), dtype)
        f_rows = f.reshape(m)
        hit = (1 - eps) * wt * f_rows  # the label at the target class: weighted, scaled
        spread = None  # the smoothed part of the label, eps / C on every class (weighted)
        label_sum = (1 - eps) * wt  # a = sum_c y_c for each sample
        if eps:
            share = (eps / n_classes) * valid.astype(dtype) * f_rows
            spread = share[:, None] * (np.ones(n_classes, dtype) if w is None else w)
            label_sum = label_sum + (eps / n_classes) * w_total * valid.astype(dtype)
        coef = label_sum.astype(dtype, copy=False).reshape(f.shape) * f
        probs = _softmax_node(x, p.reshape(x.shape), -1, 1.0)
        gx = _prediction_minus_label(probs, coef, None if spread is None else spread.reshape(x.shape),
                                     at, hit)
        return (gx if g_rest is None else gx * g_rest,)

    return record(_reduce(losses, reduction, denom, x.shape[:-1]), (x,), "cross_entropy", backward)


def _cross_entropy_probs(x: Tensor, y: Tensor, w: np.ndarray | None, reduction: str,
                         eps: float) -> Tensor:
    n_classes = x.shape[-1]
    m = x.size // n_classes
    label = y.data.reshape(m, n_classes)
    if eps:
        label = (1 - eps) * label + eps / n_classes
    if w is not None:
        label = label * w
    label_sum = label.sum(axis=1)
    x2 = x.data.reshape(m, n_classes)
    z = x2 - _row_max(x2)
    z_label = np.einsum("ij,ij->i", label, z)  # sum_c y_c z_c, read before exp() overwrites z
    p = np.exp(z, out=z)
    total = p.sum(axis=1, keepdims=True)
    p /= total
    losses = label_sum * np.log(total[:, 0]) - z_label  # -sum_c y_c (z_c - log sum exp(z))
    denom = float(m)  # 'mean' divides by the number of samples, weights or not (PyTorch)

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape[:-1] + (1,), dtype=x.dtype)
        f_rows = f.reshape(m, 1)
        gx = gy = None
        if x.requires_grad:
            probs = _softmax_node(x, p.reshape(x.shape), -1, 1.0)
            if y.requires_grad:  # the label is a function of y: keep it in the graph (create_graph)
                smoothed = y * (1 - eps) + eps / n_classes if eps else y
                y_scaled = smoothed * Tensor._wrap(f if w is None else f * w)
                gx = probs * y_scaled.sum(axis=-1, keepdims=True) - y_scaled
            else:
                gx = _prediction_minus_label(probs, label_sum.reshape(f.shape) * f,
                                             (label * f_rows).reshape(x.shape))
            gx = gx if g_rest is None else gx * g_rest
        if y.requires_grad:  # d l / d y_c = -(1 - eps) w_c log p_c
            scale = -(1 - eps) * f * (1 if w is None else w)
            gy = log_softmax(x) * Tensor._wrap(scale.astype(x.dtype, copy=False))
            gy = gy if g_rest is None else gy * g_rest
        return gx, gy

    return record(_reduce(losses, reduction, denom, x.shape[:-1]), (x, y), "cross_entropy", backward)


def cross_entropy_composed(logits: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                           ignore_index: int = -100, reduction: str = "mean",
                           label_smoothing: float = 0.0, stable: bool = True) -> Tensor:
    """cross_entropy from primitive ops, same arguments and semantics: log p =
    ``log_softmax_composed(logits, stable=stable)``, then a gather (``log_p[rows, t]``),
    products with the weights, sums and the reduction's division. Its backward runs
    through every one of those nodes (the gather's by scatter-add) and arrives at the
    same p - y. Every target ignored gives a nan mean with nan gradients here."""
    who = "cross_entropy_composed"
    x = _loss_input(logits, who, "logits")
    _check_reduction(reduction, who)
    eps = _check_label_smoothing(label_smoothing, who)
    w = None if weight is None else _class_weights(weight, x.shape[-1], x.dtype, who)
    kind, t, _ = _class_targets(x, target, ignore_index, who)
    n_classes, batch = x.shape[-1], x.shape[:-1]
    log_p = log_softmax_composed(x, stable=stable)
    w_t = None if w is None else Tensor._wrap(w)
    if kind == "index":
        m = t.size
        valid, safe, wt = _target_weights(t, w, int(ignore_index), x.dtype)
        log_p2 = log_p.reshape(m, n_classes)
        losses = -(log_p2[np.arange(m), safe] * Tensor._wrap(wt))
        if eps:
            weighted = log_p2 if w_t is None else log_p2 * w_t
            smooth = -weighted.sum(axis=1) * Tensor._wrap(valid.astype(x.dtype))
            losses = losses * (1 - eps) + smooth * (eps / n_classes)
        denom = float(wt.sum(dtype=np.float64))
    else:
        y = t * (1 - eps) + eps / n_classes if eps else t
        weighted = y if w_t is None else y * w_t
        losses = -(log_p * weighted).sum(axis=-1).reshape(-1)
        denom = float(losses.size)
    return _reduce_composed(losses, reduction, denom, batch)


def _reduce_composed(losses: Tensor, reduction: str, denom: float, shape: tuple[int, ...]) -> Tensor:
    if reduction == "none":
        return losses.reshape(shape)
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / denom


# ====================================================================== nll_loss


def nll_loss(log_probs: TensorLike, target: TensorLike, weight: TensorLike | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (classes on the
    last axis; e.g. the output of ``log_softmax``).

    Formula: l_n = -w[t_n] log_probs_n[t_n], 0 where t_n == ``ignore_index``; 'mean'
    divides by sum_n w[t_n] over the samples not ignored (nan if that is 0, as PyTorch).
    No exp or log is taken, so there is nothing to stabilise.

    Gradient: -w[t_n] (times the reduction's scale) at the target entry of each sample,
    0 elsewhere: the loss is linear in log_probs. ``cross_entropy(x, t)`` equals
    ``nll_loss(log_softmax(x), t)``, in one node instead of two.
    """
    who = "nll_loss"
    x = _loss_input(log_probs, who, "log_probs")
    _check_reduction(reduction, who)
    w = _class_weights(weight, x.shape[-1], x.dtype, who)
    _, t, _ = _class_targets(x, target, ignore_index, who, name="log_probs", probs_allowed=False)
    n_classes, m = x.shape[-1], t.size
    rows = np.arange(m)
    valid, safe, wt = _target_weights(t, w, int(ignore_index), x.dtype)
    losses = -wt * x.data.reshape(m, n_classes)[rows, safe]
    if not valid.all():
        losses[~valid] = 0
    denom = float(wt.sum(dtype=np.float64))

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape[:-1] + (1,), x.dtype)
        data = np.zeros((m, n_classes), dtype=x.dtype)
        data[rows, safe] = -wt * f.reshape(m)
        gx = Tensor._wrap(data.reshape(x.shape))
        return (gx if g_rest is None else gx * g_rest,)

    return record(_reduce(losses, reduction, denom, x.shape[:-1]), (x,), who, backward)


def nll_loss_composed(log_probs: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                      ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """nll_loss from primitive ops: a gather, a product with the weights, a reduction."""
    who = "nll_loss_composed"
    x = _loss_input(log_probs, who, "log_probs")
    _check_reduction(reduction, who)
    w = _class_weights(weight, x.shape[-1], x.dtype, who)
    _, t, _ = _class_targets(x, target, ignore_index, who, name="log_probs", probs_allowed=False)
    m = t.size
    _, safe, wt = _target_weights(t, w, int(ignore_index), x.dtype)
    losses = -(x.reshape(m, x.shape[-1])[np.arange(m), safe] * Tensor._wrap(wt))
    return _reduce_composed(losses, reduction, float(wt.sum(dtype=np.float64)), x.shape[:-1])


# ====================================================================== sigmoid and log_sigmoid


def sigmoid(x: TensorLike) -> Tensor:
    """sigma(x) = 1 / (1 + exp(-x)), the two-class softmax: softmax([x, 0])[0].

    Stability: with e = exp(-|x|), which lies in (0, 1] and cannot overflow,
    sigma(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.

    Gradient: sigma'(x) = sigma(x) (1 - sigma(x)) = sigma(x) sigma(-x) (1 - out would
    cancel to a few correct digits for large x; sigma(-x) keeps them all).
    """
    x = _as_float(x)
    e = np.exp(-np.abs(x.data))
    out = np.where(x.data >= 0, 1, e) / (1 + e)
    return record(out, (x,), "sigmoid", lambda g, out: (g * out * sigmoid(-x),))


def sigmoid_composed(x: TensorLike, stable: bool = True) -> Tensor:
    """sigmoid from primitive ops: with e = exp(-|x|), ``where(x >= 0, 1 / (1 + e),
    e / (1 + e))`` (``stable``), or the naive ``1 / (1 + exp(-x))``, whose exp overflows
    for x below about -89 (float32) or -710 (float64): the value is still 0, but the
    gradient is inf * 0 = nan."""
    x = _as_float(x)
    if not stable:
        return 1 / (1 + (-x).exp())
    e = (-x.abs()).exp()
    return ops.where(x.data >= 0, 1 / (1 + e), e / (1 + e))


def log_sigmoid(x: TensorLike) -> Tensor:
    """log sigma(x) = -log(1 + exp(-x)) = -softplus(-x).

    Stability: min(x, 0) - log1p(exp(-|x|)): the exp is of a non-positive number, and
    log1p keeps the digits of log(1 + e) for tiny e; log(sigmoid(x)) would give -inf
    for x < -745 (float64) or -104 (float32).

    Gradient: d/dx log sigma(x) = 1 - sigma(x) = sigma(-x), computed as sigmoid(-x)
    (not 1 - exp(out), which loses every digit for large x).
    """
    x = _as_float(x)
    out = np.minimum(x.data, 0) - np.log1p(np.exp(-np.abs(x.data)))
    return record(out, (x,), "log_sigmoid", lambda g, out: (g * sigmoid(-x),))


relu = ops.relu  # max(x, 0); d/dx = 1 where x > 0, else 0
tanh = ops.tanh  # d/dx = 1 - tanh(x)^2


# ====================================================================== binary cross-entropy


def binary_cross_entropy_with_logits(logits: TensorLike, target: TensorLike,
                                     weight: TensorLike | None = None,
                                     pos_weight: TensorLike | None = None,
                                     reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigma(x) against labels y in [0, 1], from the logits x.

    Formula (PyTorch's): l = -w [pw y log sigma(x) + (1 - y) log(1 - sigma(x))], with
    ``weight`` w broadcast to x's shape and ``pos_weight`` pw weighting the positive term
    (broadcast along the last axis: one per class). 'mean' averages over every entry.
    It equals two-class cross-entropy on logits [x, 0] with target [y, 1 - y].

    Stability: written with log sigma(x) = -softplus(-x) and softplus(t) = max(t, 0) +
    log1p(exp(-|t|)); without pos_weight this is ``max(x, 0) - x y + log1p(exp(-|x|))``,
    and in general ``(1 - y) x + (1 + (pw - 1) y) softplus(-x)``. No exp of a positive
    number, no log of 0: finite for logits of any size.

    Gradient: d l / dx = w (sigmoid(x) - y), prediction minus label again; with
    pos_weight, w ((1 + (pw - 1) y) sigmoid(x) - pw y). For the target (if it requires
    grad): d l / dy = w (-x + (pw - 1) softplus(-x)). ``weight`` and ``pos_weight`` are
    constants.
    """
    who = "binary_cross_entropy_with_logits"
    x = _as_float(logits)
    _check_reduction(reduction, who)
    y = _same_shape_target(x, target, who, "logits")
    w = _elementwise_weights(weight, x.shape, x.dtype, who, "weight")
    pw = _elementwise_weights(pos_weight, x.shape, x.dtype, who, "pos_weight")
    xd, yd = x.data, y.data
    softplus_tail = np.log1p(np.exp(-np.abs(xd)))  # log(1 + e^-|x|), in [0, log 2]
    if pw is None:
        losses = np.maximum(xd, 0) - xd * yd + softplus_tail
    else:
        pull = 1 + (pw - 1) * yd  # how strongly log sigma(x) is weighted, all in all
        losses = (1 - yd) * xd + pull * (np.maximum(-xd, 0) + softplus_tail)
    if w is not None:
        losses = losses * w
    denom = float(x.size)

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape, x.dtype)
        scale = f if w is None else f * w
        gx = gy = None
        if x.requires_grad:
            if y.requires_grad:  # the label is a function of y: keep it in the graph (create_graph)
                scale_t = Tensor._wrap(scale)
                if pw is None:
                    gx = (sigmoid(x) - y) * scale_t
                else:
                    pw_t = Tensor._wrap(pw)
                    gx = ((1 + (pw_t - 1) * y) * sigmoid(x) - pw_t * y) * scale_t
            elif pw is None:
                gx = _prediction_minus_label(sigmoid(x), scale, yd * scale)
            else:
                gx = _prediction_minus_label(sigmoid(x), pull * scale, pw * yd * scale)
            gx = gx if g_rest is None else gx * g_rest
        if y.requires_grad:
            dy = -x if pw is None else -x - Tensor._wrap(pw - 1) * log_sigmoid(x)
            gy = dy * Tensor._wrap(scale)
            gy = gy if g_rest is None else gy * g_rest
        return gx, gy

    return record(_reduce(losses, reduction, denom, x.shape), (x, y), who, backward)


def binary_cross_entropy_with_logits_composed(logits: TensorLike, target: TensorLike,
                                              weight: TensorLike | None = None,
                                              pos_weight: TensorLike | None = None,
                                              reduction: str = "mean", stable: bool = True) -> Tensor:
    """binary_cross_entropy_with_logits from primitive ops. ``stable``: the same formula,
    ``maximum(x, 0) - x y + log(1 + exp(-|x|))`` (``maximum``, whose gradient splits a tie
    1/2 : 1/2, keeps the gradient right at x = 0, where relu's would miss the 1/2).
    ``stable=False``: the textbook -[pw y log sigma(x) + (1 - y) log(1 - sigma(x))],
    which gives inf once sigma(x) rounds to 0 or 1 (|x| > ~17 in float32, ~37 in
    float64)."""
    who = "binary_cross_entropy_with_logits_composed"
    x = _as_float(logits)
    _check_reduction(reduction, who)
    y = _same_shape_target(x, target, who, "logits")
    w = _elementwise_weights(weight, x.shape, x.dtype, who, "weight")
    pw = _elementwise_weights(pos_weight, x.shape, x.dtype, who, "pos_weight")
    pw_t = None if pw is None else Tensor._wrap(pw)
    if stable:
        tail = (1 + (-x.abs()).exp()).log()
        if pw_t is None:
            losses = ops.maximum(x, 0.0) - x * y + tail
        else:
            losses = (1 - y) * x + (1 + (pw_t - 1) * y) * (ops.maximum(-x, 0.0) + tail)
    else:
        s = sigmoid_composed(x, stable=False)
        positive = y * s.log() if pw_t is None else pw_t * y * s.log()
        losses = -(positive + (1 - y) * (1 - s).log())
    if w is not None:
        losses = losses * Tensor._wrap(w)
    return _reduce_composed(losses, reduction, float(x.size), x.shape)


def binary_cross_entropy(probs: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities p in [0, 1] against labels y.

    Formula: l = -w [y log p + (1 - y) log(1 - p)], each log clamped at -100 as PyTorch's
    BCELoss does, so p = 0 or 1 gives a finite loss (100 per wrong certain answer).
    Prefer ``binary_cross_entropy_with_logits``: sigmoid followed by this loses the
    digits that the logits form keeps.

    Gradient: d l / dp = w (p - y) / (p (1 - p)), with p (1 - p) clamped below at 1e-12
    (as PyTorch does) so it stays finite at p = 0 or 1. For the target:
    d l / dy = w (log(1 - p) - log p), clamped logs. ``weight`` is a constant.
    Probabilities outside [0, 1] (or nan) raise.
    """
    who = "binary_cross_entropy"
    p = _as_float(probs)
    _check_reduction(reduction, who)
    y = _same_shape_target(p, target, who, "probs")
    w = _elementwise_weights(weight, p.shape, p.dtype, who, "weight")
    pd, yd = p.data, y.data
    outside = ~((pd >= 0) & (pd <= 1))
    if outside.any():
        raise ValueError(f"{who}: probs must lie in [0, 1], got {float(pd[outside].flat[0])} (for logits, "
                         f"use binary_cross_entropy_with_logits)")
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped next
        log_p = np.maximum(np.log(pd), _BCE_LOG_FLOOR)
        log_q = np.maximum(np.log1p(-pd), _BCE_LOG_FLOOR)
    losses = -(yd * log_p + (1 - yd) * log_q)
    if w is not None:
        losses = losses * w

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, float(p.size), p.shape, p.dtype)
        scale = Tensor._wrap(f if w is None else f * w)
        gp = gy = None
        if p.requires_grad:
            gp = (p - y) / ops.maximum(p * (1 - p), _BCE_GRAD_EPS) * scale
            gp = gp if g_rest is None else gp * g_rest
        if y.requires_grad:
            with np.errstate(divide="ignore"):
                gy = (_clamped_log(1 - p) - _clamped_log(p)) * scale
            gy = gy if g_rest is None else gy * g_rest
        return gp, gy

    return record(_reduce(losses, reduction, float(p.size), p.shape), (p, y), who, backward)


def _clamped_log(t: Tensor) -> Tensor:
    return ops.maximum(t.log(), _BCE_LOG_FLOOR)


__all__ = [
    "softmax", "softmax_composed", "log_softmax", "log_softmax_composed",
    "logsumexp", "logsumexp_composed", "cross_entropy", "cross_entropy_composed",
    "nll_loss", "nll_loss_composed", "sigmoid", "sigmoid_composed", "log_sigmoid",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_composed",
    "binary_cross_entropy", "relu", "tanh", "scaled_dot_product_attention",
]

from .attention import scaled_dot_product_attention  # noqa: E402  (attention itself uses F.softmax)
