"""The primitive ops: each forward with its backward rule right under it.

Read this file as a table of derivatives. Every op computes its result with numpy and
records ``backward(g, out)``: given ``g`` = d(loss)/d(out), it returns d(loss)/d(input)
for each input (None where an input needs no gradient). The rules are written with
Tensor ops, so with ``create_graph=True`` a gradient is itself differentiable.

A rule may return a gradient of the *broadcast* shape: the engine (``autograd.py``)
sums it back down to the input's shape with ``unbroadcast``, the one place that
happens. (The fused losses in ``functional`` may also return a plain numpy array when
their backward records nothing; the engine wraps it. A leaf's first ``.grad`` is always
a copy, so a rule may hand on arrays it shares.)

Cost: in a backward pass without ``create_graph`` grad mode is off, so the Tensor ops of
a rule record nothing and cost one numpy call plus a little bookkeeping. What only the
backward pass needs (the masks of max, clip, maximum, ...) is computed in the rule, not
in the forward pass, so inference pays nothing for it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, lift, record

# ---------------------------------------------------------------- helpers


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Lift two operands; a Python scalar takes the dtype of the tensor beside it."""
    if isinstance(a, Tensor):
        return a, (b if isinstance(b, Tensor) else lift(b, a))
    b = lift(b)
    return lift(a, b), b


def _const(array: np.ndarray, dtype: np.dtype) -> Tensor:
    """A constant (mask, sign, ...) in the gradient's dtype, outside the graph. A boolean
    mask stays boolean: g * mask is already in g's dtype, without a float copy of the mask."""
    array = np.asarray(array)
    return Tensor._wrap(array if array.dtype == np.bool_ else array.astype(dtype, copy=False))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Normalise ``axis`` (None, int or tuple of distinct ints) to a sorted tuple of
    non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if axis.__class__ is tuple and len(axis) == 1:
        axis = axis[0]
    if axis.__class__ is int or isinstance(axis, np.integer):  # the common case, quickly
        if not -ndim <= axis < ndim:
            raise ValueError(f"axis {axis} is out of range for a tensor with {ndim} dimensions")
        return (int(axis) % ndim,)
    if not isinstance(axis, (tuple, list)):
        raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
    out = [_one_axis(a, ndim, axis) for a in axis]
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} names the same axis twice")
    return tuple(sorted(out))


def _one_axis(a: Any, ndim: int, axis: Any) -> int:
    """One entry of ``axis`` as a non-negative int."""
    if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
        raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
    if not -ndim <= a < ndim:
        raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return int(a) % ndim


def _keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both ``f(4, 3)`` and ``f((4, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``g`` down to ``shape``. Broadcasting copies a value along an axis, so its
    gradient is the sum along that axis: over the leading axes broadcasting added, and
    over the axes where ``shape`` has a 1."""
    g_shape = g.data.shape
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    if lead > 0 and g_shape[lead:] == shape:  # only leading axes were added (a bias): one sum
        return sum(g, 0 if lead == 1 else tuple(range(lead)))  # (an int axis: sum's quick path)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1)
    return reshape(sum(g, tuple(range(lead)) + stretched, keepdims=True), shape)


# ---------------------------------------------------------------- arithmetic


def add(a: Any, b: Any) -> Tensor:
    """a + b.   d/da = 1,  d/db = 1."""
    a, b = _pair(a, b)
    return record(a.data + b.data, (a, b), "add", lambda g, out: (g, g))


def sub(a: Any, b: Any) -> Tensor:
    """a - b.   d/da = 1,  d/db = -1."""
    a, b = _pair(a, b)
    return record(a.data - b.data, (a, b), "sub", lambda g, out: (g, neg(g) if b.requires_grad else None))


def mul(a: Any, b: Any) -> Tensor:
    """a * b.   d/da = b,  d/db = a."""
    a, b = _pair(a, b)
    return record(
        a.data * b.data,
        (a, b),
        "mul",
        lambda g, out: (mul(g, b) if a.requires_grad else None, mul(g, a) if b.requires_grad else None),
    )


def div(a: Any, b: Any) -> Tensor:
    """a / b.   d/da = 1/b,  d/db = -a/b^2 = -out/b."""
    a, b = _pair(a, b)
    return record(
        a.data / b.data,
        (a, b),
        "div",
        lambda g, out: (
            div(g, b) if a.requires_grad else None,
            neg(div(mul(g, out), b)) if b.requires_grad else None,
        ),
    )


def neg(a: Tensor) -> Tensor:
    """-a.   d/da = -1."""
    return record(-a.data, (a,), "neg", lambda g, out: (neg(g),))


def pow(a: Any, p: Any) -> Tensor:
    """a ** p.   d/da = p a^(p-1);  for a tensor exponent, d/dp = a^p log(a).
    At a == 0, as PyTorch: d/dp = 0 for p >= 0 (a^p log(a) -> 0 there), and -inf for
    p < 0 (a^p = inf times log(0) = -inf). For p == 0, d/da = 0 everywhere (not
    0 * a^(-1), which is nan at a == 0). A number exponent (Python's or numpy's) is
    weakly typed: float32 ** np.float64(1.5) stays float32."""
    if (
        isinstance(p, (int, float, np.integer, np.floating))
        and not isinstance(p, bool)
        and isinstance(a, Tensor)
    ):
        p = p.item() if isinstance(p, np.generic) else p  # a numpy scalar would promote a.data
        return record(
            a.data**p,
            (a,),
            f"pow{p:g}",
            lambda g, out: (mul(g, mul(pow(a, p - 1), p)) if p != 0 else mul(g, 0),),
        )
    a, p = _pair(a, p)

    def backward(g: Tensor, out: Tensor) -> tuple:
        ga = None
        if a.requires_grad:
            base = where((p.data == 0) & (a.data == 0), 1, a)  # 0 * 1^(-1) = 0, not 0 * inf
            ga = mul(g, mul(p, pow(base, sub(p, 1))))
        gp = None
        if p.requires_grad:
            safe_a = where((a.data == 0) & (p.data >= 0), 1, a)  # log(1) = 0: 0^p log(0) -> 0
            with np.errstate(divide="ignore"):  # log(0) = -inf where a == 0 and p < 0
                gp = mul(g, mul(out, log(safe_a)))
        return ga, gp

    return record(a.data**p.data, (a, p), "pow", backward)


# ---------------------------------------------------------------- elementwise functions


def exp(a: Tensor) -> Tensor:
    """exp(a).   d/da = exp(a) = out."""
    return record(np.exp(a.data), (a,), "exp", lambda g, out: (mul(g, out),))


def log(a: Tensor) -> Tensor:
    """log(a), the natural logarithm.   d/da = 1/a."""
    return record(np.log(a.data), (a,), "log", lambda g, out: (div(g, a),))


def log1p(a: Tensor) -> Tensor:
    """log(1 + a), exact for tiny a (where 1 + a would round to 1).   d/da = 1 / (1 + a)."""
    return record(np.log1p(a.data), (a,), "log1p", lambda g, out: (div(g, add(a, 1.0)),))


def expm1(a: Tensor) -> Tensor:
    """exp(a) - 1, exact for tiny a.   d/da = exp(a) = out + 1."""
    return record(np.expm1(a.data), (a,), "expm1", lambda g, out: (mul(g, add(out, 1.0)),))


def sqrt(a: Tensor) -> Tensor:
    """sqrt(a).   d/da = 1 / (2 sqrt(a)) = 0.5 / out."""
    return record(np.sqrt(a.data), (a,), "sqrt", lambda g, out: (div(mul(g, 0.5), out),))


def tanh(a: Tensor) -> Tensor:
    """tanh(a).   d/da = 1 - tanh(a)^2 = 1 - out^2."""
    return record(np.tanh(a.data), (a,), "tanh", lambda g, out: (mul(g, sub(1, mul(out, out))),))


def relu(a: Tensor) -> Tensor:
    """max(a, 0).   d/da = 1 where a > 0, else 0 (0 at a == 0, as PyTorch)."""
    return record(np.maximum(a.data, 0), (a,), "relu", lambda g, out: (mul(g, _const(a.data > 0, g.dtype)),))


def abs(a: Tensor) -> Tensor:
    """|a|.   d/da = sign(a) (0 at a == 0)."""
    return record(np.abs(a.data), (a,), "abs", lambda g, out: (mul(g, _const(np.sign(a.data), g.dtype)),))


def clip(a: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """a clipped to [min, max]: min(max(a, min), max), as PyTorch's clamp (where min > max
    the result is max). Either bound may be None, a number, an array or a Tensor.
    d/da = 1 where min <= a <= max (bounds included, as PyTorch's clamp), else 0.
    A Tensor bound is differentiable, as in ``torch.clamp``: d/dmin = 1 where a < min
    (and min < max), d/dmax = 1 where a > max (or max < min), else 0."""
    if min is None and max is None:
        raise ValueError("clip() needs at least one of min and max")
    lo = None if min is None else (min if isinstance(min, Tensor) else lift(min, a))
    hi = None if max is None else (max if isinstance(max, Tensor) else lift(max, a))

    def backward(g: Tensor, out: Tensor) -> tuple:
        # the masks are built only if a gradient is asked for
        above_lo = True if lo is None else a.data >= lo.data
        below_hi = True if hi is None else a.data <= hi.data
        inside = np.broadcast_to(above_lo & below_hi, out.shape)
        grads: list[Tensor | None] = [mul(g, _const(inside, g.dtype))]
        if lo is not None:
            lo_wins = a.data < lo.data
            if hi is not None:
                lo_wins = lo_wins & (lo.data < hi.data)
            grads.append(mul(g, _const(lo_wins, g.dtype)) if lo.requires_grad else None)
        if hi is not None:
            hi_wins = a.data > hi.data
            if lo is not None:
                hi_wins = hi_wins | (hi.data < lo.data)
            grads.append(mul(g, _const(hi_wins, g.dtype)) if hi.requires_grad else None)
        return tuple(grads)

    # (np.clip is min(max(a, lo), hi) in one pass, without an intermediate array)
    data = np.clip(a.data, None if lo is None else lo.data, None if hi is None else hi.data)
    inputs = (a,) + tuple(t for t in (lo, hi) if t is not None)
    return record(data.astype(a.dtype, copy=False), inputs, "clip", backward)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b). d/da = 1 where a > b, 0 where a < b; ties split the
    gradient equally (1/2 each), as PyTorch does."""
    a, b = _pair(a, b)

    def backward(g: Tensor, out: Tensor) -> tuple:
        wins, ties = a.data > b.data, a.data == b.data
        if not ties.any():  # the usual case: two boolean masks, no float arrays
            return mul(g, _const(wins, g.dtype)), mul(g, _const(~wins, g.dtype))
        share_a = wins + 0.5 * ties
        return mul(g, _const(share_a, g.dtype)), mul(g, _const(1 - share_a, g.dtype))

    return record(np.maximum(a.data, b.data), (a, b), "maximum", backward)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b). d/da = 1 where a < b, 0 where a > b; ties split equally."""
    a, b = _pair(a, b)

    def backward(g: Tensor, out: Tensor) -> tuple:
        wins, ties = a.data < b.data, a.data == b.data
        if not ties.any():  # the usual case: two boolean masks, no float arrays
            return mul(g, _const(wins, g.dtype)), mul(g, _const(~wins, g.dtype))
        share_a = wins + 0.5 * ties
        return mul(g, _const(share_a, g.dtype)), mul(g, _const(1 - share_a, g.dtype))

    return record(np.minimum(a.data, b.data), (a, b), "minimum", backward)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where condition holds, else b.   d/da = condition,  d/db = not condition.
    The condition is a constant: no gradient flows into it."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _pair(a, b)
    return record(
        np.where(cond, a.data, b.data),
        (a, b),
        "where",
        lambda g, out: (
            mul(g, _const(cond, g.dtype)) if a.requires_grad else None,
            mul(g, _const(~cond, g.dtype)) if b.requires_grad else None,
        ),
    )


def clone(a: Tensor) -> Tensor:
    """A copy of a.   d/da = 1."""
    return record(a.data.copy(), (a,), "clone", lambda g, out: (g,))


def astype(a: Tensor, dtype: Any) -> Tensor:
    """a converted to ``dtype``.   d/da = 1, converted back to a's dtype. Converting to an
    integer or boolean dtype leaves the graph: such tensors cannot carry a gradient."""
    data = a.data.astype(dtype)
    if data.dtype.kind != "f":
        return Tensor._wrap(data)
    return record(data, (a,), "astype", lambda g, out: (astype(g, a.dtype),))


# ---------------------------------------------------------------- linear algebra


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with numpy's rules: 2-D, batched (leading axes broadcast), or 1-D operands.
    For C = A B:  dA = G B^T,  dB = A^T G  (batch broadcasting is summed away by the
    engine). A 1-D operand is made 2-D by a reshape, so its gradient comes for free."""
    a, b = _pair(a, b)
    if a.data.ndim < 2 or b.data.ndim < 2:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: operands must have at least one dimension; use * for scalars")
        a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        out = matmul(a2, b2)
        shape = (
            out.shape[:-2]
            + (() if a.ndim == 1 else out.shape[-2:-1])
            + (() if b.ndim == 1 else out.shape[-1:])
        )
        return reshape(out, shape)
    try:
        data = a.data @ b.data
    except ValueError:  # the shapes are checked only when numpy refuses them: the usual call pays nothing
        if a.data.shape[-1] != b.data.shape[-2]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not align ({a.shape[-1]} != {b.shape[-2]})"
            ) from None
        raise ValueError(
            f"matmul: the batch axes of shapes {a.shape} and {b.shape} do not broadcast "
            f"({a.shape[:-2]} against {b.shape[:-2]})"
        ) from None
    return record(
        data,
        (a, b),
        "matmul",
        lambda g, out: (
            matmul(g, swapaxes(b, -1, -2)) if a.requires_grad else None,
            matmul(swapaxes(a, -1, -2), g) if b.requires_grad else None,
        ),
    )


# ---------------------------------------------------------------- reductions


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (None = all, int, or tuple).   d/da = 1 for every summed
    element: the gradient is broadcast back over the summed axes."""
    axes = _axes(axis, a.data.ndim)

    def backward(g: Tensor, out: Tensor) -> tuple:
        # broadcasting puts back missing *leading* axes by itself; others need a reshape
        if not keepdims and axes and axes[-1] != len(axes) - 1:
            g = reshape(g, _keepdims_shape(a.shape, axes))
        return (broadcast_to(g, a.shape),)

    # (np.add.reduce is what np.sum calls, minus a Python-level wrapper: this op is everywhere)
    return record(np.add.reduce(a.data, axis=axes, keepdims=keepdims), (a,), "sum", backward)  # type: ignore[call-overload]


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: sum / n, so its gradient is 1/n for each element. The mean of
    no elements (n = 0) is nan, as in numpy and PyTorch (its input is empty, so there is
    no gradient to give)."""
    axes = _axes(axis, a.data.ndim)
    n = math.prod([a.data.shape[i] for i in axes])
    return mul(sum(a, axes, keepdims), 1.0 / n if n else math.nan)


def _extreme(a: Tensor, axis: Any, keepdims: bool, reduce: Any, name: str) -> Tensor:
    axes = _axes(axis, a.ndim)
    if any(a.shape[i] == 0 for i in axes):  # an empty tensor is fine if the reduced axes are not
        raise ValueError(
            f"{name}() over an axis of length 0 (shape {a.shape}, axis {axis}): "
            f"there is no element to take the {name} of"
        )
    kept = reduce(a.data, axis=axes, keepdims=True)
    data = kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    def backward(g: Tensor, out: Tensor) -> tuple:
        is_extreme = a.data == kept  # built here, not in the forward pass: no cost without backward
        count = is_extreme.sum(axis=axes, keepdims=True)
        share = is_extreme if (count == 1).all() else is_extreme / count  # ties split the gradient equally
        return (mul(broadcast_to(reshape(g, kept.shape), a.shape), _const(share, g.dtype)),)

    return record(data, (a,), name, backward)


def max(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Max over ``axis``.   d/da = 1 at the maximum, 0 elsewhere; when several elements
    tie for the maximum they share the gradient equally (like PyTorch's ``amax``)."""
    return _extreme(a, axis, keepdims, np.max, "max")


def min(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Min over ``axis``; ties share the gradient equally, as in ``max``."""
    return _extreme(a, axis, keepdims, np.min, "min")


def prod(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis``.   d/da_i = prod_{j != i} a_j, the product of the others
    (= out / a_i where a_i != 0; written as the product of the others where a factor is
    0, so a single zero still passes its neighbours' product back)."""
    axes = _axes(axis, a.data.ndim)
    kept = _keepdims_shape(a.shape, axes)

    def backward(g: Tensor, out: Tensor) -> tuple:
        g = reshape(g, kept)
        if (a.data != 0).all():  # the usual case: out / a_i
            return (mul(g, div(reshape(out, kept), a)),)
        return (mul(g, _product_of_others(a, axes)),)

    return record(
        np.multiply.reduce(a.data, axis=axes, keepdims=keepdims),  # type: ignore[call-overload]
        (a,),
        "prod",
        backward,
    )


def _product_of_others(a: Tensor, axes: tuple[int, ...]) -> Tensor:
    """prod_{j != i} a_j for each i, over ``axes``, in recorded ops (so it is differentiable
    in turn): the reduced axes are moved to the end and flattened to n entries v, and the
    row i of the n x n matrix "v with v_i replaced by 1" is multiplied out."""
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = transpose(a, tuple(rest + list(axes)))
    n = math.prod(a.shape[i] for i in axes)
    flat = reshape(moved, moved.shape[: len(rest)] + (n, 1))
    rows = where(np.eye(n, dtype=bool), 1.0, swapaxes(flat, -1, -2))  # (..., n, n)
    others = reshape(prod(rows, -1), moved.shape)
    inverse = [0] * a.ndim
    for i, p in enumerate(rest + list(axes)):
        inverse[p] = i
    return transpose(others, tuple(inverse))


def var(a: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: mean((a - mean(a))^2) with divisor n - ddof (numpy's
    default ddof=0). Composed of primitive ops, so d/da = 2 (a - mean(a)) / (n - ddof)
    comes from them."""
    axes = _axes(axis, a.ndim)
    n = math.prod([a.shape[i] for i in axes])
    d = sub(a, mean(a, axes, keepdims=True))
    if n - ddof <= 0:  # as numpy: a warning, and the sum divided by 0 (inf, or nan for 0 / 0)
        warnings.warn(
            f"var(): degrees of freedom <= 0 (n = {n}, ddof = {ddof}): the variance is inf or nan",
            RuntimeWarning,
            stacklevel=2,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            return div(sum(mul(d, d), axes, keepdims), 0.0)
    return mul(sum(mul(d, d), axes, keepdims), 1.0 / (n - ddof))


def std(a: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over ``axis``: sqrt(var(a, ddof)), numpy's default ddof=0
    (PyTorch's ``std`` defaults to the unbiased ddof=1: pass ``ddof=1`` for it).
    d/da = (a - mean(a)) / ((n - ddof) std), from the ops it is made of (infinite where
    std = 0, as sqrt's slope at 0)."""
    return sqrt(var(a, axis, keepdims, ddof))


# ---------------------------------------------------------------- shape ops


def reshape(a: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape.   d/da = the gradient reshaped back."""
    shape = _shape_arg(shape)
    return record(a.data.reshape(shape), (a,), "reshape", lambda g, out: (reshape(g, a.shape),))


def squeeze(a: Tensor, axis: Any = None) -> Tensor:
    """Remove axes of length 1 (all of them, or those named by ``axis``, an int or a
    tuple; naming an axis whose length is not 1 raises, as numpy does).
    A reshape, so d/da = the gradient reshaped back."""
    axes = tuple(i for i, n in enumerate(a.shape) if n == 1) if axis is None else _axes(axis, a.ndim)
    for i in axes:
        if a.shape[i] != 1:
            raise ValueError(f"squeeze: axis {i} has length {a.shape[i]}, not 1 (shape {a.shape})")
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in axes))


def unsqueeze(a: Tensor, axis: int) -> Tensor:
    """Insert an axis of length 1 at position ``axis`` (in the result: -1 appends, as
    ``np.expand_dims`` and ``torch.unsqueeze``). A reshape, so d/da = the gradient
    reshaped back."""
    ndim = a.ndim + 1
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"unsqueeze: axis must be an int in [{-ndim}, {ndim - 1}], got {axis!r}")
    at = int(axis) % ndim
    return reshape(a, a.shape[:at] + (1,) + a.shape[at:])


expand_dims = unsqueeze  # numpy's name


def flatten(a: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """The axes start_axis..end_axis (inclusive) merged into one, as ``torch.flatten``;
    with the defaults, a 1-D copy of every element in C order, as ``ndarray.flatten``
    (a 0-d tensor gives shape (1,)). A reshape, so d/da = the gradient reshaped back."""
    if a.ndim == 0:
        return reshape(a, (1,))
    start, end = _axes(start_axis, a.ndim)[0], _axes(end_axis, a.ndim)[0]
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    merged = math.prod(a.shape[start : end + 1])
    return reshape(a, a.shape[:start] + (merged,) + a.shape[end + 1 :])


def transpose(a: Tensor, *axes: Any) -> Tensor:
    """Permute the axes (reversed if none are given).   d/da = the gradient permuted
    back by the inverse permutation."""
    ndim = a.data.ndim
    axes = _shape_arg(axes) or tuple(range(ndim - 1, -1, -1))
    perm = [int(x) % ndim for x in axes] if ndim else list(axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {ndim} axes")
    inverse = [0] * ndim  # output axis i is input axis perm[i]: send it back there
    for i, p in enumerate(perm):
        inverse[p] = i
    return record(a.data.transpose(axes), (a,), "transpose", lambda g, out: (transpose(g, tuple(inverse)),))


def swapaxes(a: Tensor, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes.   d/da = the gradient with the same two axes exchanged back."""
    return record(
        a.data.swapaxes(axis1, axis2), (a,), "swapaxes", lambda g, out: (swapaxes(g, axis1, axis2),)
    )


def broadcast_to(a: Tensor, shape: Sequence[int]) -> Tensor:
    """a repeated to ``shape`` by numpy's broadcasting rules.   d/da = the gradient
    summed over the repeated axes (``unbroadcast``)."""
    shape = tuple(shape)
    try:
        data = np.broadcast_to(a.data, shape)
    except ValueError:
        raise ValueError(
            f"broadcast_to: a tensor of shape {a.shape} cannot be broadcast to shape "
            f"{shape} (each axis must match, or be 1 in the tensor; the tensor's axes "
            "line up with the shape's last ones)"
        ) from None
    return record(data, (a,), "broadcast_to", lambda g, out: (unbroadcast(g, a.shape),))


def _plain_index(index: Any) -> Any:
    """Tensors inside an index become arrays; a basic index (ints, slices) is kept."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index: Any) -> bool:
    """True if no element can be selected twice (no integer-array or list index)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def getitem(a: Tensor, index: Any) -> Tensor:
    """a[index], for numpy's basic, integer-array (gather) and boolean indexing.
    d/da = the gradient scattered back to the selected places (added where an element
    was selected more than once)."""
    index = _plain_index(index)
    return record(a.data[index], (a,), "getitem", lambda g, out: (index_add(g, index, a.shape),))


def index_add(g: Tensor, index: Any, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with ``g`` added at ``index`` (the backward of getitem).
    d/dg = the gradient gathered at ``index`` again."""
    data = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        data[index] = g.data
    else:
        np.add.at(data, index, g.data)  # repeated indices accumulate
    return record(data, (g,), "index_add", lambda gg, out: (getitem(gg, index),))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.   d/d(each) = its slice of the gradient."""
    ts = [lift(t) for t in tensors]
    if not ts:
        raise ValueError("concatenate() needs at least one tensor")
    ax = _axes(axis, ts[0].ndim)[0]
    bounds = np.cumsum([0] + [t.shape[ax] for t in ts])

    def backward(g: Tensor, out: Tensor) -> tuple:
        lead = (slice(None),) * ax
        return tuple(
            getitem(g, lead + (slice(int(s), int(e)),)) if t.requires_grad else None
            for t, s, e in zip(ts, bounds[:-1], bounds[1:])
        )

    return record(np.concatenate([t.data for t in ts], axis=ax), tuple(ts), "concatenate", backward)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis: each gets a new axis of length 1 (a reshape), then
    they are concatenated, so the gradient comes from those two ops."""
    ts = [lift(t) for t in tensors]
    if not ts:
        raise ValueError("stack() needs at least one tensor")
    ax = axis if axis >= 0 else axis + ts[0].ndim + 1
    if not 0 <= ax <= ts[0].ndim:
        raise ValueError(f"axis {axis} is out of range for stacking {ts[0].ndim}-d tensors")
    return concatenate([reshape(t, t.shape[:ax] + (1,) + t.shape[ax:]) for t in ts], axis=ax)
