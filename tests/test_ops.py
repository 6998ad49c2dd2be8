"""Every primitive op: forward value against numpy, gradient against finite differences
(random shapes, broadcasting included), second derivatives, float32 preservation, the
documented tie rules, gather accumulation and every error message of ops.py.

Each entry of CASES draws one random instance of an op: the input arrays, the op applied
to Tensors, and the numpy reference. The smooth ops get kink points mixed into their
inputs (exact zeros and ties), where they are still differentiable. The ops with a kink
(relu/abs/clip/maximum/max ...) are kept away from it for the finite differences, and
``test_gradient_at_kinks_is_the_documented_subgradient`` puts them on it (x = 0, x at a
clip bound, equal operands, tied maxima) against PyTorch's subgradient conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import ops

# ---------------------------------------------------------------- drawing inputs


class Draw:
    """Draws shapes and choices from hypothesis and values from a numpy generator seeded
    by hypothesis (so failures shrink and replay). ``side`` caps every dimension."""

    def __init__(self, data: st.DataObject, side: int = 4) -> None:
        self.data = data
        self.side = side
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))

    def __call__(self, strategy: st.SearchStrategy, label: str | None = None):
        return self.data.draw(strategy, label=label)

    def shape(self, min_dims: int = 0, max_dims: int = 3) -> tuple[int, ...]:
        return self(
            hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=self.side), "shape"
        )

    def broadcast_shapes(self, n: int) -> tuple[tuple[int, ...], ...]:
        """n shapes that broadcast together (sizes of 1 and missing axes included)."""
        return self(
            hnp.mutually_broadcastable_shapes(
                num_shapes=n, min_dims=0, max_dims=3, min_side=1, max_side=self.side
            ),
            "shapes",
        ).input_shapes

    def axis(self, ndim: int):
        """None, an int (negative allowed) or a tuple of distinct axes (maybe empty)."""
        kind = self(st.sampled_from(["none", "int", "tuple"] if ndim else ["none", "tuple"]), "axis kind")
        if kind == "none":
            return None
        if kind == "int":
            return self(st.integers(-ndim, ndim - 1), "axis")
        axes = st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda a: a % ndim, max_size=ndim)
        return tuple(self(axes, "axes")) if ndim else ()

    # value generators: each keeps its op's finite differences valid
    def smooth(self, shape):
        """Uniform in [-2, 2], with kink points mixed in: about a quarter of the entries
        exactly 0 (ties among them), and one entry copied onto another (a tie)."""
        x = np.asarray(self.rng.uniform(-2.0, 2.0, size=shape))
        flat = x.reshape(-1)
        flat[self.rng.random(flat.size) < 0.25] = 0.0
        if flat.size >= 2:
            i, j = self.rng.choice(flat.size, 2, replace=False)
            flat[j] = flat[i]
        return x

    def positive(self, shape):
        return self.rng.uniform(0.5, 2.0, size=shape)

    def nonzero(self, shape):
        return self.rng.choice([-1.0, 1.0], size=shape) * self.rng.uniform(0.5, 2.0, size=shape)

    def off_grid(self, shape):
        """At least 0.075 away from every multiple of 0.25 (0 and the clip bounds included)."""
        return self.rng.integers(-8, 8, size=shape) * 0.25 + 0.125 + self.rng.uniform(-0.05, 0.05, size=shape)

    def on_grid(self, shape):
        """Multiples of 0.25: never within 0.075 of an ``off_grid`` value."""
        return self.rng.integers(-8, 8, size=shape) * 0.25

    def distinct(self, shape):
        """All elements at least 0.15 apart: max and min have no ties."""
        size = int(np.prod(shape))
        ranks = self.rng.permutation(size).reshape(shape)
        return (ranks - size / 2) * 0.25 + self.rng.uniform(-0.05, 0.05, size=shape)


class Case:
    """One drawn instance: ``fn(*tensors)`` should equal ``ref(*arrays)``."""

    def __init__(self, arrays: list, fn: Callable, ref: Callable) -> None:
        self.arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        self.fn = fn
        self.ref = ref


# ---------------------------------------------------------------- the ops, one case each


def unary(values: str, fn: Callable, ref: Callable) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        return Case([getattr(d, values)(d.shape())], fn, ref)

    return make


def binary(values_a: str, values_b: str, fn: Callable, ref: Callable) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        sa, sb = d.broadcast_shapes(2)
        return Case([getattr(d, values_a)(sa), getattr(d, values_b)(sb)], fn, ref)

    return make


def case_clip(d: Draw) -> Case:
    lo, hi = sorted(d(st.lists(st.integers(-6, 6), min_size=2, max_size=2, unique=True), "bounds"))
    lo, hi = lo * 0.25, hi * 0.25
    which = d(st.sampled_from(["both", "min", "max"]), "bounds given")
    lo = None if which == "max" else lo
    hi = None if which == "min" else hi
    return Case([d.off_grid(d.shape())], lambda x: x.clip(lo, hi), lambda x: np.clip(x, lo, hi))


def case_pow_scalar(d: Draw) -> Case:
    p = d(st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, -1.5, 2.5]), "exponent")
    x = d.positive(d.shape()) if isinstance(p, float) else d.nonzero(d.shape())
    return Case([x], lambda t: t**p, lambda a: a**p)


def case_where(d: Draw) -> Case:
    sc, sa, sb = d.broadcast_shapes(3)
    cond = d.rng.random(sc) < 0.5
    return Case(
        [d.smooth(sa), d.smooth(sb)], lambda a, b: mg.where(cond, a, b), lambda a, b: np.where(cond, a, b)
    )


def case_matmul(d: Draw) -> Case:
    kind = d(
        st.sampled_from(["2d", "1d@1d", "1d@2d", "2d@1d", "batched", "1d@batched", "batched@1d"]),
        "matmul kind",
    )
    n, k, m = (d(st.integers(1, d.side), label) for label in "nkm")
    batch_a, batch_b = d(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, min_side=1, max_side=3), "batch"
    ).input_shapes
    shape_a = {"1d@1d": (k,), "1d@2d": (k,), "1d@batched": (k,)}.get(kind, (n, k))
    shape_b = {"1d@1d": (k,), "2d@1d": (k,), "batched@1d": (k,)}.get(kind, (k, m))
    if kind in ("batched", "batched@1d"):
        shape_a = batch_a + shape_a
    if kind in ("batched", "1d@batched"):
        shape_b = batch_b + shape_b
    return Case([d.smooth(shape_a), d.smooth(shape_b)], lambda a, b: a @ b, np.matmul)


def reduction(name: str, values: str) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        x = getattr(d, values)(d.shape())
        axis = d.axis(x.ndim)
        keepdims = d(st.booleans(), "keepdims")
        return Case(
            [x],
            lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
            lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims),
        )

    return make


def case_var(d: Draw) -> Case:
    x = d.smooth(d.shape())
    axis = d.axis(x.ndim)
    keepdims = d(st.booleans(), "keepdims")
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    ddof = d(st.integers(0, 1), "ddof") if n > 1 else 0
    return Case(
        [x],
        lambda t: t.var(axis=axis, keepdims=keepdims, ddof=ddof),
        lambda a: np.var(a, axis=axis, keepdims=keepdims, ddof=ddof),
    )


def case_std(d: Draw) -> Case:
    x = d.distinct(d.shape(min_dims=1) + (2,))  # distinct values: std > 0, where sqrt is smooth
    axis = d(st.sampled_from([-1, None, (0, -1)]), "axis")
    keepdims = d(st.booleans(), "keepdims")
    ddof = d(st.integers(0, 1), "ddof")
    return Case(
        [x],
        lambda t: t.std(axis=axis, keepdims=keepdims, ddof=ddof),
        lambda a: np.std(a, axis=axis, keepdims=keepdims, ddof=ddof),
    )


def case_clip_tensor(d: Draw) -> Case:
    """Tensor bounds, lo < hi, away from the values (on and off the 0.25 grid)."""
    sa, sl, sh = d.broadcast_shapes(3)
    lo = d.on_grid(sl)
    hi_offset = d.rng.integers(1, 4, size=sh) * 0.25
    return Case(
        [d.off_grid(sa), lo, hi_offset],
        lambda a, lo, off: mg.clip(a, lo, lo + off),
        lambda a, lo, off: np.minimum(np.maximum(a, lo), lo + off),
    )


def case_squeeze(d: Draw) -> Case:
    shape = d.shape()
    at = d(st.integers(0, len(shape)), "at")
    x = d.smooth(shape[:at] + (1,) + shape[at:])
    how = d(st.sampled_from(["all", "axis"]), "how")
    axis = None if how == "all" else at
    return Case([x], lambda t: t.squeeze(axis), lambda a: np.squeeze(a, axis))


def case_unsqueeze(d: Draw) -> Case:
    x = d.smooth(d.shape())
    axis = d(st.integers(-x.ndim - 1, x.ndim), "axis")
    return Case([x], lambda t: mg.unsqueeze(t, axis), lambda a: np.expand_dims(a, axis))


def case_flatten(d: Draw) -> Case:
    x = d.smooth(d.shape(min_dims=1))
    start = d(st.integers(0, x.ndim - 1), "start")
    end = d(st.integers(start, x.ndim - 1), "end")
    shape = x.shape[:start] + (int(np.prod(x.shape[start : end + 1])),) + x.shape[end + 1 :]
    return Case([x], lambda t: t.flatten(start, end), lambda a: a.reshape(shape))


def case_mean_function(d: Draw) -> Case:
    x = d.smooth(d.shape())
    axis = d.axis(x.ndim)
    return Case([x], lambda t: mg.mean(t, axis), lambda a: np.mean(a, axis=axis))


def case_reshape(d: Draw) -> Case:
    x = d.smooth(d.shape())
    target = d(
        st.sampled_from([(-1,), x.shape[::-1], x.shape + (1,), (1,) + x.shape, (x.size,)]), "new shape"
    )
    return Case([x], lambda t: t.reshape(target), lambda a: a.reshape(target))


def case_transpose(d: Draw) -> Case:
    x = d.smooth(d.shape())
    how = d(st.sampled_from(["perm", "negative perm", "reverse", "T", "permute"]), "how")
    perm = tuple(d(st.permutations(range(x.ndim)), "perm"))
    if how == "negative perm":
        perm = tuple(p - x.ndim for p in perm)
    fns = {
        "perm": lambda t: t.transpose(perm),
        "negative perm": lambda t: t.transpose(*perm),
        "reverse": lambda t: t.transpose(),
        "T": lambda t: t.T,
        "permute": lambda t: t.permute(*perm),
    }
    axes = None if how in ("reverse", "T") else perm
    return Case([x], fns[how], lambda a: np.transpose(a, axes))


def case_swapaxes(d: Draw) -> Case:
    x = d.smooth(d.shape(min_dims=1))
    i, j = (d(st.integers(-x.ndim, x.ndim - 1), label) for label in "ij")
    return Case([x], lambda t: t.swapaxes(i, j), lambda a: np.swapaxes(a, i, j))


def case_broadcast_to(d: Draw) -> Case:
    shape = d.shape()
    other = d(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=4, min_side=1, max_side=d.side), "other")
    target = np.broadcast_shapes(shape, other)
    how = d(st.sampled_from(["method", "function", "expand"]), "how")
    fns = {
        "method": lambda t: t.broadcast_to(target),
        "function": lambda t: mg.broadcast_to(t, target),
        "expand": lambda t: t.expand(*target),
    }
    return Case([d.smooth(shape)], fns[how], lambda a: np.broadcast_to(a, target))


def draw_basic_index(d: Draw, shape: tuple[int, ...]) -> tuple:
    """Ints, slices (any step), None and Ellipsis: no element is selected twice."""
    parts: list = []
    for n in shape:
        kind = d(st.sampled_from(["int", "slice", "all"]), "index kind")
        if kind == "int":
            parts.append(d(st.integers(-n, n - 1), "int"))
        elif kind == "slice":
            parts.append(d(st.slices(n), "slice"))
        else:
            parts.append(slice(None))
    if parts and d(st.booleans(), "ellipsis"):
        parts = parts[: d(st.integers(0, len(parts) - 1), "ellipsis at")] + [Ellipsis]
    if d(st.booleans(), "newaxis"):
        parts.insert(d(st.integers(0, len(parts)), "newaxis at"), None)
    return tuple(parts)


def draw_advanced_index(d: Draw, shape: tuple[int, ...]):
    """Integer arrays (repeats likely: the sides are small), lists and boolean masks."""
    n0 = shape[0]
    kinds = ["array", "list", "mask", "mask on axis 0"] + (
        ["two arrays", "slice then array"] if len(shape) >= 2 else []
    )
    kind = d(st.sampled_from(kinds), "advanced kind")
    index_shape = d(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5), "index shape")
    if kind == "array":
        return d.rng.integers(-n0, n0, size=index_shape)
    if kind == "list":
        return d.rng.integers(-n0, n0, size=index_shape[:1]).tolist()
    if kind == "mask":
        return d.rng.random(shape) < 0.5
    if kind == "mask on axis 0":
        return d.rng.random(n0) < 0.5
    if kind == "two arrays":
        return d.rng.integers(0, n0, size=index_shape), d.rng.integers(0, shape[1], size=index_shape[-1:])
    return slice(None), d.rng.integers(0, shape[1], size=index_shape)


def case_getitem(d: Draw) -> Case:
    x = d.smooth(d.shape(min_dims=1))
    index = draw_basic_index(d, x.shape) if d(st.booleans(), "basic") else draw_advanced_index(d, x.shape)
    as_tensor = isinstance(index, np.ndarray) and d(st.booleans(), "index as Tensor")
    key = mg.Tensor(index) if as_tensor else index
    return Case([x], lambda t: t[key], lambda a: a[index])


def case_index_add(d: Draw) -> Case:
    """index_add(g, index, shape), the backward of getitem, is getitem's adjoint:
    sum(index_add(g) * y) = sum(g * y[index]) for every y."""
    shape = d.shape(min_dims=1)
    index = draw_basic_index(d, shape) if d(st.booleans(), "basic") else draw_advanced_index(d, shape)
    g = d.smooth(np.zeros(shape)[index].shape)
    y = d.smooth(shape)
    return Case(
        [g],
        lambda t: (ops.index_add(t, index, shape) * y.astype(t.dtype)).sum(),
        lambda a: np.sum(a * y[index]),
    )


def case_concatenate(d: Draw) -> Case:
    shape = d.shape(min_dims=1)
    axis = d(st.integers(-len(shape), len(shape) - 1), "axis")
    count = d(st.integers(1, 3), "count")
    arrays = []
    for _ in range(count):
        s = list(shape)
        s[axis] = d(st.integers(1, 3), "length")
        arrays.append(d.smooth(tuple(s)))
    return Case(arrays, lambda *ts: mg.concatenate(ts, axis=axis), lambda *a: np.concatenate(a, axis=axis))


def case_stack(d: Draw) -> Case:
    shape = d.shape()
    axis = d(st.integers(-len(shape) - 1, len(shape)), "axis")
    arrays = [d.smooth(shape) for _ in range(d(st.integers(1, 3), "count"))]
    return Case(arrays, lambda *ts: mg.stack(ts, axis=axis), lambda *a: np.stack(a, axis=axis))


CASES: dict[str, Callable[[Draw], Case]] = {
    "add": binary("smooth", "smooth", lambda a, b: a + b, np.add),
    "sub": binary("smooth", "smooth", lambda a, b: a - b, np.subtract),
    "mul": binary("smooth", "smooth", lambda a, b: a * b, np.multiply),
    "div": binary("smooth", "nonzero", lambda a, b: a / b, np.divide),
    "neg": unary("smooth", lambda x: -x, np.negative),
    "pow_scalar": case_pow_scalar,
    "pow_tensor": binary("positive", "smooth", lambda a, b: a**b, np.power),
    "exp": unary("smooth", lambda x: x.exp(), np.exp),
    "exp_function": unary("smooth", mg.exp, np.exp),
    "log": unary("positive", lambda x: x.log(), np.log),
    "log_function": unary("positive", mg.log, np.log),
    "log1p": unary("positive", lambda x: x.log1p(), np.log1p),
    "expm1": unary("smooth", mg.expm1, np.expm1),
    "sqrt": unary("positive", lambda x: x.sqrt(), np.sqrt),
    "tanh": unary("smooth", lambda x: x.tanh(), np.tanh),
    "relu": unary("off_grid", lambda x: x.relu(), lambda a: np.maximum(a, 0)),
    "relu_function": unary("off_grid", mg.relu, lambda a: np.maximum(a, 0)),
    "abs": unary("off_grid", abs, np.abs),
    "abs_function": unary("off_grid", mg.abs, np.abs),
    "clip": case_clip,
    "maximum": binary("off_grid", "on_grid", mg.maximum, np.maximum),
    "minimum": binary("off_grid", "on_grid", mg.minimum, np.minimum),
    "where": case_where,
    "matmul": case_matmul,
    "sum": reduction("sum", "smooth"),
    "mean": reduction("mean", "smooth"),
    "mean_function": case_mean_function,
    "max": reduction("max", "distinct"),
    "min": reduction("min", "distinct"),
    "var": case_var,
    "std": case_std,
    "prod": reduction("prod", "on_grid"),  # a polynomial: smooth at its zeros and ties
    "clip_tensor": case_clip_tensor,
    "squeeze": case_squeeze,
    "unsqueeze": case_unsqueeze,
    "flatten": case_flatten,
    "reshape": case_reshape,
    "transpose": case_transpose,
    "swapaxes": case_swapaxes,
    "broadcast_to": case_broadcast_to,
    "getitem": case_getitem,
    "index_add": case_index_add,
    "concatenate": case_concatenate,
    "stack": case_stack,
}
NAMES = sorted(CASES)


def leaves(arrays: list, dtype=np.float64) -> list[mg.Tensor]:
    return [mg.Tensor(a.astype(dtype), requires_grad=True) for a in arrays]


# ---------------------------------------------------------------- the generic checks


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_forward_matches_numpy_and_gradient_passes_gradcheck(name, data):
    case = CASES[name](Draw(data))
    xs = leaves(case.arrays)
    out = case.fn(*xs)
    expected = np.asarray(case.ref(*case.arrays))
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert mg.gradcheck(case.fn, xs)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_second_derivatives_pass_gradcheck(name, data):
    """create_graph=True makes the gradient (with random upstream weights W) a function of
    the inputs; gradcheck it: that checks every backward rule is itself differentiated
    correctly."""
    d = Draw(data, side=3)
    case = CASES[name](d)
    xs = leaves(case.arrays)
    weights = mg.Tensor(d.rng.standard_normal(case.fn(*xs).shape))

    def gradient(*ts):
        with mg.enable_grad():  # gradcheck evaluates under no_grad; this needs a graph
            return mg.grad((case.fn(*ts) * weights).sum(), ts, create_graph=True)

    assert mg.gradcheck(gradient, xs)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_float32_stays_float32_in_value_and_gradient(name, data):
    d = Draw(data)
    case = CASES[name](d)
    xs32 = leaves(case.arrays, np.float32)
    out32 = case.fn(*xs32)
    assert out32.dtype == np.float32
    expected = np.asarray(case.ref(*[a.astype(np.float32).astype(np.float64) for a in case.arrays]))
    # float32 rounding (eps 1.2e-7) over sums of up to 64 terms of size <= 2: about 2e-5
    np.testing.assert_allclose(out32.data, expected, rtol=1e-5, atol=1e-4)

    weights = d.rng.standard_normal(out32.shape)
    (out32 * mg.Tensor(weights, dtype=np.float32)).sum().backward(create_graph=True)
    xs64 = leaves([x.data for x in xs32])  # the same values, in float64
    (case.fn(*xs64) * mg.Tensor(weights)).sum().backward()
    for x32, x64 in zip(xs32, xs64):
        assert x32.grad.dtype == np.float32
        np.testing.assert_allclose(x32.grad.data, x64.grad.data, rtol=1e-4, atol=1e-4)

    # and the second derivative too
    second = sum((x.grad * mg.Tensor(d.rng.standard_normal(x.shape), dtype=np.float32)).sum() for x in xs32)
    if isinstance(second, mg.Tensor) and second.requires_grad:
        assert second.dtype == np.float32
        for x in xs32:
            x.grad = None
        second.backward()
        for x in xs32:
            assert x.grad is None or x.grad.dtype == np.float32


# ---------------------------------------------------------------- on the kinks


def kink_case(name: str, d: Draw) -> tuple[list, Callable, Callable]:
    """Inputs ON the kinks (multiples of 0.25: x = 0, the clip bounds, equal operands,
    tied maxima), the op, and its documented subgradient: given the inputs and the
    output weights w, the gradient of sum(w * op) for each input."""
    shape = d.shape(min_dims=1)
    x = d.on_grid(shape)
    if name in ("maximum", "minimum"):
        y = d.on_grid(shape)
        wins = (x > y) if name == "maximum" else (x < y)
        share = wins + 0.5 * (x == y)  # ties split half and half
        return [x, y], getattr(mg, name), lambda x, y, w: (w * share, w * (1 - share))
    if name in ("max", "min"):
        axis = d.axis(x.ndim)
        reduce = getattr(np, name)
        extreme = reduce(x, axis=axis, keepdims=True)
        hit = x == extreme
        share = hit / hit.sum(axis=axis, keepdims=True)  # tied extremes share equally

        def rule(x, w):
            kept = np.reshape(w, extreme.shape)
            return (share * kept,)

        return [x], lambda t: getattr(t, name)(axis=axis), rule
    rules = {
        "relu": (lambda t: t.relu(), lambda x, w: (w * (x > 0),)),  # 0 at x = 0
        "abs": (abs, lambda x, w: (w * np.sign(x),)),  # 0 at x = 0
        "clip": (lambda t: t.clip(-0.5, 0.5), lambda x, w: (w * ((x >= -0.5) & (x <= 0.5)),)),  # bounds in
    }
    fn, rule = rules[name]
    return [x], fn, rule


@pytest.mark.parametrize("name", ["relu", "abs", "clip", "maximum", "minimum", "max", "min"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_gradient_at_kinks_is_the_documented_subgradient(name, data):
    d = Draw(data)
    arrays, fn, rule = kink_case(name, d)
    xs = leaves(arrays)
    out = fn(*xs)
    w = d.rng.standard_normal(out.shape)  # random output weights
    (out * mg.Tensor(w)).sum().backward()
    for x, expected in zip(xs, rule(*arrays, w)):
        np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14, atol=1e-15)


# ---------------------------------------------------------------- float32 with Python scalars


SCALAR_EXPRESSIONS = [
    "t + 2.5",
    "2.5 + t",
    "t - 2",
    "2 - t",
    "t * 3.0",
    "3 * t",
    "t / 7.0",
    "1 / t",
    "t ** 2",
    "t ** 0.5",
    "2 ** t",
    "2.0 ** t",
    "np.float64(1.5) * t",
    "t * np.float64(1.5)",
    "mg.maximum(t, 0.75)",
    "mg.minimum(0.75, t)",
    "mg.where(t > 1, t, 0.0)",
    "mg.where(t > 1, 0.0, t)",
    "t.clip(0.75, 1.25)",
    "t.clip(np.float64(0.75), None)",
    "t.mean()",
    "t.var()",
    "t.astype(np.float64).astype(np.float32)",
]


@pytest.mark.parametrize("expression", SCALAR_EXPRESSIONS)
def test_python_scalar_never_upcasts_float32(expression):
    x = mg.Tensor(np.array([0.5, 1.0, 1.5], dtype=np.float32), requires_grad=True)
    out = eval(expression, {"np": np, "mg": mg, "t": x})
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_tensor_with_float64_array_follows_numpy_promotion():
    """A float64 *array* operand is not weak like a scalar: numpy promotes, and so do we;
    the float32 leaf still gets a float32 gradient."""
    x = mg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out = x * np.array([1.0, 2.0, 3.0])
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])


def test_astype_gradient_returns_to_the_input_dtype():
    x = mg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.op == "astype"
    (y * mg.Tensor([3.0, 4.0])).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_astype_to_integer_leaves_the_graph():
    x = mg.Tensor([1.7, -2.2], requires_grad=True)
    labels = x.astype(np.int64)
    np.testing.assert_array_equal(labels.data, [1, -2])
    assert not labels.requires_grad and labels.op is None


# ---------------------------------------------------------------- ties (documented rules)


def test_max_ties_split_the_gradient_equally():
    x = mg.Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5, 0.0])


def test_min_ties_split_the_gradient_equally_along_an_axis():
    x = mg.Tensor([[1.0, 1.0, 1.0], [2.0, 0.0, 5.0]], requires_grad=True)
    (x.min(axis=1) * mg.Tensor([3.0, 10.0])).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1.0, 1.0, 1.0], [0.0, 10.0, 0.0]])


def test_max_over_tuple_axis_with_ties_and_keepdims():
    x = mg.Tensor(np.array([[[4.0, 4.0], [1.0, 4.0]], [[0.0, 2.0], [2.0, -1.0]]]), requires_grad=True)
    m = x.max(axis=(1, 2), keepdims=True)
    assert m.shape == (2, 1, 1)
    (m * mg.Tensor([[[1.0]], [[6.0]]])).sum().backward()
    third, half = 1 / 3, 3.0
    np.testing.assert_allclose(x.grad.data, [[[third, third], [0, third]], [[0, half], [half, 0]]])


@pytest.mark.parametrize(
    "fn, grad_a, grad_b",
    [
        (mg.maximum, [0.0, 0.5, 1.0], [1.0, 0.5, 0.0]),
        (mg.minimum, [1.0, 0.5, 0.0], [0.0, 0.5, 1.0]),
    ],
)
def test_maximum_minimum_ties_split_half_half(fn, grad_a, grad_b):
    a = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.Tensor([3.0, 2.0, 1.0], requires_grad=True)
    fn(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, grad_a)
    np.testing.assert_array_equal(b.grad.data, grad_b)


def test_maximum_tie_with_a_broadcast_operand_sums_the_halves():
    x = mg.Tensor([1.0, 2.0, 2.0], requires_grad=True)
    c = mg.Tensor(2.0, requires_grad=True)
    mg.maximum(x, c).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])
    assert c.grad.item() == 2.0  # 1 from x[0] < c, plus 1/2 + 1/2 from the two ties


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda x: x.relu(), [0.0, 0.0, 1.0]),
        (lambda x: x.abs(), [-1.0, 0.0, 1.0]),
        (lambda x: x.clip(-1.0, 0.0), [1.0, 1.0, 0.0]),  # bounds included, as PyTorch's clamp
    ],
)
def test_kinks_use_the_documented_subgradient(fn, expected):
    x = mg.Tensor([-1.0, 0.0, 1.0], requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, expected)


def test_pow_with_zero_exponent_has_zero_gradient_even_at_zero():
    x = mg.Tensor([0.0, 2.0], requires_grad=True)
    p = mg.Tensor([0.0, 0.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    x.grad = None
    (x**p).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    np.testing.assert_allclose(p.grad.data, [0.0, np.log(2.0)])  # d/dp a^p = a^p log a, 0 at a = 0


# ---------------------------------------------------------------- constants among the inputs


def test_constants_mixed_with_tensors_get_no_gradient_and_lists_are_lifted():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    c = mg.Tensor([5.0, 6.0])
    joined = mg.concatenate([x, c, np.array([7.0])])
    stacked = mg.stack([x, [1.0, 1.0]], axis=1)
    np.testing.assert_array_equal(joined.data, [1.0, 2.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(stacked.data, [[1.0, 1.0], [2.0, 1.0]])
    (
        (joined * mg.Tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum()
        + (stacked * mg.Tensor([[10.0, 20.0], [30.0, 40.0]])).sum()
    ).backward()
    np.testing.assert_array_equal(x.grad.data, [1.0 + 10.0, 2.0 + 30.0])
    assert c.grad is None
    y = mg.Tensor([1.0, -1.0], requires_grad=True)
    (mg.where([True, False], y, 0.0) + mg.where([True, False], 3.0, y * 2)).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1.0, 2.0])


# ---------------------------------------------------------------- indexing


def test_repeated_gather_indices_accumulate():
    x = mg.Tensor([10.0, 20.0, 30.0], requires_grad=True)
    (x[[0, 0, 2, 0]] * mg.Tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 0.0, 3.0])


def test_repeated_gather_with_integer_tensor_labels_on_rows_and_columns():
    logits = mg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = mg.Tensor(np.array([0, 2, 0]))
    labels = mg.Tensor(np.array([1, 0, 1]))
    picked = logits[rows, labels]
    np.testing.assert_array_equal(picked.data, [1.0, 4.0, 1.0])
    picked.sum().backward()
    np.testing.assert_array_equal(logits.grad.data, [[0, 2], [0, 0], [1, 0]])


def test_boolean_mask_selects_and_routes_gradient():
    x = mg.Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]  # a comparison gives a boolean tensor outside the graph
    np.testing.assert_array_equal(picked.data, [1.0, 4.0])
    (picked * mg.Tensor([5.0, 6.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[5.0, 0.0], [0.0, 6.0]])


# ---------------------------------------------------------------- errors of ops.py


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: x.sum(axis=2), r"axis 2 is out of range for a tensor with 2 dimensions"),
        (lambda x: x.max(axis=(0, -3)), r"axis -3 is out of range"),
        (lambda x: x.clip(), r"clip\(\) needs at least one of min and max"),
        (lambda x: x @ mg.Tensor(3.0), r"matmul: operands must have at least one dimension"),
        (
            lambda x: x @ mg.Tensor(np.ones((2, 3))),
            r"matmul: shapes \(2, 3\) and \(2, 3\) do not align \(3 != 2\)",
        ),
        (lambda x: x[:, :0].max(), r"max\(\) over an axis of length 0 \(shape \(2, 0\), axis None\)"),
        (lambda x: x[:0].min(axis=0), r"min\(\) over an axis of length 0 \(shape \(0, 3\), axis 0\)"),
        (lambda x: x.transpose(0, 0), r"transpose: axes \(0, 0\) are not a permutation of 2 axes"),
        (lambda x: x.transpose(0), r"are not a permutation of 2 axes"),
        (lambda x: mg.concatenate([]), r"concatenate\(\) needs at least one tensor"),
        (lambda x: mg.stack([]), r"stack\(\) needs at least one tensor"),
        (lambda x: mg.stack([x, x], axis=3), r"axis 3 is out of range for stacking 2-d tensors"),
        (lambda x: mg.stack([x, x], axis=-4), r"axis -4 is out of range for stacking 2-d tensors"),
    ],
)
def test_op_errors_say_what_was_expected(call, message):
    x = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        call(x)
