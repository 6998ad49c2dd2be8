"""softmax, log_softmax and logsumexp: fused ops, each with its composed twin.

    softmax(x)_i      = exp(x_i) / sum_j exp(x_j)     Jacobian  diag(p) - p p^T
    log_softmax(x)_i  = x_i - logsumexp(x)            Jacobian  I - 1 p^T
    logsumexp(x)      = log sum_j exp(x_j)            gradient  p

One stability trick serves them all (the helpers at the end of this file): subtract the
largest logit first. softmax does not change when a constant is added to every logit, and
then no exp() can overflow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, record
from .checks import TensorLike, as_float, check_axes, check_mask, check_temperature
from .class_columns import columns

# ====================================================================== softmax


def class_axes(axis: Any, ndim: int, op_name: str) -> int | tuple[int, ...]:
    """The axis or axes a softmax normalises over: an int for one axis (the usual case,
    with the fast row reductions), else a sorted tuple (None = every axis)."""
    axes = check_axes(axis, ndim, op_name)
    return axes[0] if len(axes) == 1 else axes


def softmax(x: TensorLike, axis: Any = -1, temperature: float = 1.0, where: Any = None) -> Tensor:
    """Probabilities along ``axis``: every slice is >= 0 and sums to 1. ``axis`` is one
    axis, a tuple of axes (the slice is then every entry those axes index, as for
    ``logsumexp``), or None for all axes.

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
    x = as_float(x)
    axis = class_axes(axis, x.ndim, "softmax")
    temperature = check_temperature(temperature, "softmax")
    mask = check_mask(where, x.shape, "softmax")
    z, empty = _shifted(x.data, axis, temperature, mask)
    p = np.exp(z, out=z)
    total = p.sum(axis=axis, keepdims=True)
    if empty is not None:
        total[empty] = 1  # 0 / 1 = 0 rather than 0 / 0
    p /= total
    return softmax_node(x, p, axis, temperature)


def softmax_node(x: Tensor, p: np.ndarray, axis: Any, temperature: float) -> Tensor:
    """Record ``p`` = softmax(x / T) as a graph node of x. Cross-entropy uses this too, to
    hand its saved probabilities to create_graph without computing them again."""

    def backward(g: Tensor, out: Tensor) -> tuple:
        # dp_i/dx_j = p_i (delta_ij - p_j) / T, so dx = p * (g - sum(g * p)) / T
        gx = out * (g - (g * out).sum(axis=axis, keepdims=True))
        return (gx if temperature == 1.0 else gx * (1.0 / temperature),)

    return record(p, (x,), "softmax", backward)


def _composed_logits(
    x: TensorLike, axis: Any, temperature: float, where: Any, op_name: str
) -> tuple[Any, Tensor]:
    """The composed twins' shared start, in primitive ops: z = x / T, with the entries
    outside ``where`` set to -inf. Returns the checked axis and z."""
    x = as_float(x)
    axis = class_axes(axis, x.ndim, op_name)
    temperature = check_temperature(temperature, op_name)
    mask = check_mask(where, x.shape, op_name)
    z = x if temperature == 1.0 else x / temperature
    if mask is not None:
        z = ops.where(mask, z, -np.inf)
    return axis, z


def softmax_composed(
    x: TensorLike, axis: Any = -1, temperature: float = 1.0, where: Any = None, stable: bool = True
) -> Tensor:
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


def log_softmax(x: TensorLike, axis: Any = -1, temperature: float = 1.0, where: Any = None) -> Tensor:
    """Log-probabilities along ``axis`` (one axis, a tuple of axes, or None for all, as
    in ``softmax``): log softmax(x / T).

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
    x = as_float(x)
    axis = class_axes(axis, x.ndim, "log_softmax")
    temperature = check_temperature(temperature, "log_softmax")
    mask = check_mask(where, x.shape, "log_softmax")
    z = log_softmax_array(x.data, axis, temperature, mask)

    def backward(g: Tensor, out: Tensor) -> tuple:
        if mask is not None:
            g = ops.where(mask, g, 0.0)  # the masked outputs are constants
        gx = g - out.exp() * g.sum(axis=axis, keepdims=True)
        return (gx if temperature == 1.0 else gx * (1.0 / temperature),)

    return record(z, (x,), "log_softmax", backward)


def log_softmax_composed(
    x: TensorLike, axis: Any = -1, temperature: float = 1.0, where: Any = None, stable: bool = True
) -> Tensor:
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
    x = as_float(x)
    axes = check_axes(axis, x.ndim, "logsumexp")
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


def logsumexp_composed(
    x: TensorLike, axis: Any = None, keepdims: bool = False, stable: bool = True
) -> Tensor:
    """logsumexp from primitive ops: ``m + log(sum(exp(x - m)))`` with m = max(x) as a
    constant (``stable``), or the naive ``log(sum(exp(x)))``, which overflows to inf for
    logits above ~89 (float32) or ~710 (float64). An all -inf slice gives nan."""
    x = as_float(x)
    axes = check_axes(axis, x.ndim, "logsumexp_composed")
    if not stable:
        return x.exp().sum(axis=axes, keepdims=keepdims).log()
    top = x.max(axis=axes, keepdims=True).detach()
    out = (x - top).exp().sum(axis=axes, keepdims=True).log() + top
    return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i not in axes])


# ====================================================================== cross_entropy


# ====================================================================== the max trick, on arrays


def log_softmax_array(
    x: np.ndarray, axis: int = -1, temperature: float = 1.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """log softmax(x / T) along ``axis`` as a new array: z - log(sum(exp(z))) with
    z = (x - max x) / T, so every exponent is <= 0 and the sum is >= 1 (no overflow, and
    a finite log). Entries outside ``mask`` get -inf; a slice with none taking part stays
    all -inf. (``log_softmax`` and ``cross_entropy`` both start here.)"""
    z, empty = _shifted(x, axis, temperature, mask)
    if z.size == 0:
        return z  # nothing to normalise (and an empty axis would sum to 0)
    total = np.exp(z).sum(axis=axis, keepdims=True)
    if empty is not None:
        total[empty] = 1  # log 1 = 0: the masked entries stay at -inf
    z -= np.log(total)
    return z


def _shifted(
    x: np.ndarray, axis: Any, temperature: float, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(x - max x) / T along ``axis`` as a new array, entries outside ``mask`` at -inf.
    The largest entry becomes 0, so exp() of the result lies in [0, 1]. Also returns the
    slices in which no entry takes part (None without a mask). A batch of class scores
    is taken column by column (``class_columns``), and so are the arrays made from it."""
    x = columns(x, axis)
    if mask is None:
        top = x.max(axis=axis, keepdims=True, initial=-np.inf)  # (-inf along an axis of length 0)
        return _divide(x - top, temperature), None
    z = np.where(mask, x, -np.inf)
    top = z.max(axis=axis, keepdims=True, initial=-np.inf)
    empty: np.ndarray = np.asarray(~mask.any(axis=axis, keepdims=True))
    top[empty] = 0  # nothing takes part: nothing to shift by (and -inf - -inf would be nan)
    z -= top
    return _divide(z, temperature), empty


def _divide(z: np.ndarray, temperature: float) -> np.ndarray:
    # max(x / T) = max(x) / T for T > 0: shifting first keeps a tiny T from overflowing x / T
    if temperature != 1.0:
        with np.errstate(over="ignore"):  # a tiny T sends the shifted -x/T to -inf: exp gives 0
            z /= np.float64(temperature)  # divided in float64: T = 1e-50 is no 0 in float32
    return z
