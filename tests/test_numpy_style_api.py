"""What a PyTorch or numpy user expects to find: creation functions, squeeze / unsqueeze /
flatten, std, prod, log1p, expm1, argmax(keepdims=), clip with tensor bounds, softmax over
several axes, one_hot, mse_loss, and forward mode (jvp). Gradients are checked with random
output weights against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F

rng = np.random.default_rng(2024)


def weighted_grad(fn, *arrays):
    """Gradients of sum(w * fn(*xs)) with random output weights w, and w."""
    ts = [mg.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    w = rng.standard_normal(out.shape)
    (out * w).sum().backward()
    return out, w, [t.grad.data for t in ts]


# ---------------------------------------------------------------- creation


@pytest.mark.parametrize("make, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_and_ones_take_a_shape_either_way(make, value):
    for t in (make(2, 3), make((2, 3))):
        assert t.shape == (2, 3) and t.dtype == np.float64 and t.is_leaf and not t.requires_grad
        np.testing.assert_array_equal(t.data, value)
    t = make(4, dtype=np.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad


def test_full_arange_eye():
    np.testing.assert_array_equal(mg.full((2, 2), 7.5).data, [[7.5, 7.5], [7.5, 7.5]])
    np.testing.assert_array_equal(mg.arange(4).data, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(mg.arange(1, 2, 0.25).data, [1.0, 1.25, 1.5, 1.75])
    assert mg.arange(3).dtype == np.float64 and mg.arange(3, dtype=np.int64).dtype == np.int64
    np.testing.assert_array_equal(mg.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 3).data, np.eye(2, 3))
    with pytest.raises(ValueError, match="step must not be 0"):
        mg.arange(0, 1, 0)
    with pytest.raises(ValueError, match="shape must be integers >= 0"):
        mg.zeros(2, -1)
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        mg.ones(2, requires_grad="no")


def test_like_functions_keep_shape_and_dtype_and_leave_the_graph():
    x = mg.Tensor(np.ones((2, 3), np.float32), requires_grad=True) * 2
    for t, value in ((mg.zeros_like(x), 0), (mg.ones_like(x), 1), (mg.full_like(x, 3.5), 3.5)):
        assert t.shape == (2, 3) and t.dtype == np.float32 and t.is_leaf and not t.requires_grad
        np.testing.assert_array_equal(t.data, value)
    assert mg.zeros_like(np.arange(3), dtype=np.float64).dtype == np.float64
    assert mg.ones_like(x, requires_grad=True).requires_grad


@pytest.mark.parametrize(
    "make, check",
    [
        (mg.randn, lambda d: abs(d.mean()) < 0.1 and abs(d.std() - 1) < 0.1),
        (mg.rand, lambda d: d.min() >= 0 and d.max() < 1 and abs(d.mean() - 0.5) < 0.05),
    ],
)
def test_random_tensors_take_a_seed_or_a_generator(make, check):
    a, b = make(1000, seed=3), make((1000,), seed=3)
    np.testing.assert_array_equal(a.data, b.data)
    assert check(a.data)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    first, second = make(5, seed=g1), make(5, seed=g1)  # the generator advances
    assert not np.array_equal(first.data, second.data)
    np.testing.assert_array_equal(make(5, seed=g2).data, first.data)
    assert make(2, 3, seed=0, dtype=np.float32).dtype == np.float32
    for bad in (-1, 1.5, "7"):
        with pytest.raises((TypeError, ValueError), match="seed must be an integer >= 0"):
            make(3, seed=bad)


# ---------------------------------------------------------------- shape ops


def test_squeeze_unsqueeze_flatten_shapes_and_gradients():
    x = rng.standard_normal((1, 3, 1, 2))
    assert mg.squeeze(mg.Tensor(x)).shape == (3, 2)
    assert mg.Tensor(x).squeeze(axis=(0, 2)).shape == (3, 2)
    assert mg.Tensor(x).squeeze(2).shape == (1, 3, 2)
    with pytest.raises(ValueError, match="axis 1 has length 3, not 1"):
        mg.Tensor(x).squeeze(1)
    assert mg.unsqueeze(mg.Tensor(np.ones((3, 2))), 0).shape == (1, 3, 2)
    assert mg.Tensor(np.ones((3, 2))).unsqueeze(-1).shape == (3, 2, 1)
    assert mg.expand_dims(mg.Tensor(np.ones((3, 2))), 1).shape == np.expand_dims(np.ones((3, 2)), 1).shape
    with pytest.raises(ValueError, match="unsqueeze: axis must be an int in \\[-3, 2\\]"):
        mg.unsqueeze(mg.Tensor(np.ones((3, 2))), 3)
    y = rng.standard_normal((2, 3, 4))
    assert mg.flatten(mg.Tensor(y)).shape == (24,)
    assert mg.Tensor(y).flatten(1).shape == (2, 12)
    assert mg.Tensor(y).flatten(0, 1).shape == (6, 4)
    assert mg.Tensor(2.0).flatten().shape == (1,)
    np.testing.assert_array_equal(mg.Tensor(y).flatten().data, y.flatten())
    for fn in (lambda t: t.squeeze().unsqueeze(0), lambda t: t.flatten()):
        out, w, (g,) = weighted_grad(fn, x)
        np.testing.assert_array_equal(g, w.reshape(x.shape))


# ---------------------------------------------------------------- std, prod, log1p, expm1


@pytest.mark.parametrize("ddof", [0, 1])
def test_std_matches_numpy_and_its_gradient_the_closed_form(ddof):
    x = rng.standard_normal((3, 5))
    out, w, (g,) = weighted_grad(lambda t: t.std(axis=1, ddof=ddof), x)
    s = x.std(axis=1, ddof=ddof, keepdims=True)
    np.testing.assert_allclose(out.data, s[:, 0], rtol=1e-13)
    expected = w[:, None] * (x - x.mean(axis=1, keepdims=True)) / ((5 - ddof) * s)
    np.testing.assert_allclose(g, expected, rtol=1e-10)
    np.testing.assert_allclose(mg.std(mg.Tensor(x)).item(), x.std(), rtol=1e-13)


def others(x, axis):
    """prod_{j != i} x_j along axis, by brute force."""
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        line = np.moveaxis(x, axis, -1)[tuple(i for k, i in enumerate(idx) if k != axis)]
        out[idx] = np.prod(np.delete(line, idx[axis]))
    return out


@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_prod_gradient_is_the_product_of_the_others_even_at_zeros(zeros):
    x = rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4))
    x[0, :zeros] = 0.0  # a row with no, one or two zero factors
    out, w, (g,) = weighted_grad(lambda t: t.prod(axis=1), x)
    np.testing.assert_allclose(out.data, x.prod(axis=1), rtol=1e-14)
    np.testing.assert_allclose(g, w[:, None] * others(x, 1), rtol=1e-12)
    out, w, (g,) = weighted_grad(lambda t: mg.prod(t, axis=(0, 1), keepdims=True), x)
    np.testing.assert_allclose(g, w * others(x.reshape(-1), 0).reshape(x.shape), rtol=1e-12)


@pytest.mark.parametrize(
    "x", [np.array([1.5, -2.0, 0.7]), np.array([1.5, 0.0, 0.7]), np.array([0.0, 0.0, 3.0])]
)
def test_prod_second_derivatives(x):
    # d2/dx_i dx_j prod(x) = prod of the entries other than i and j (0 on the diagonal)
    expected = np.array(
        [[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_allclose(mg.hessian(lambda t: t.prod(), x), expected, rtol=1e-12)


def test_prod_keeps_float32():
    out, _, (g,) = weighted_grad(lambda t: t.prod(axis=0), np.array([[1.0, 0.0], [2.0, 3.0]], np.float32))
    assert out.dtype == g.dtype == np.float32


def test_log1p_and_expm1_as_methods_and_functions():
    x = np.array([0.0, 1e-10, -0.5, 3.0])
    out, w, (g,) = weighted_grad(lambda t: t.log1p(), x)
    np.testing.assert_allclose(out.data, np.log1p(x), rtol=1e-15)
    np.testing.assert_allclose(g, w / (1 + x), rtol=1e-14)
    out, w, (g,) = weighted_grad(mg.expm1, x)
    np.testing.assert_allclose(out.data, np.expm1(x), rtol=1e-15)
    np.testing.assert_allclose(g, w * np.exp(x), rtol=1e-14)
    assert mg.log1p(mg.Tensor(1e-20)).item() == 1e-20  # log(1 + 1e-20) would be 0


def test_argmax_and_argmin_keepdims():
    x = mg.Tensor(np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 2.0]]))
    np.testing.assert_array_equal(x.argmax(axis=1, keepdims=True).data, [[1], [0]])  # first of a tie
    np.testing.assert_array_equal(x.argmin(axis=1, keepdims=True).data, [[0], [1]])
    assert x.argmax(axis=0, keepdims=True).shape == (1, 3)
    assert x.argmax().item() == 3 and x.argmax(axis=1).shape == (2,)


# ---------------------------------------------------------------- clip with tensor bounds


def test_clip_with_tensor_bounds_follows_torch_clamp():
    a = np.array([1.0, 5.0, 9.0, 2.0, 8.0, 4.0, 3.0])
    lo = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 6.0, 5.0])
    hi = np.array([8.0, 8.0, 8.0, 8.0, 8.0, 5.0, 5.0])  # a == lo, a == hi, then lo > hi, lo == hi
    out, w, (ga, glo, ghi) = weighted_grad(lambda x, low, high: mg.clip(x, low, high), a, lo, hi)
    np.testing.assert_array_equal(out.data, np.minimum(np.maximum(a, lo), hi))
    # a inside [lo, hi], bounds included; lo where a < lo < hi; hi where a > hi or hi < lo
    np.testing.assert_array_equal(ga, w * [0, 1, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(glo, w * [1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(ghi, w * [0, 0, 1, 0, 0, 1, 0])


def test_clip_with_one_tensor_bound_and_broadcasting():
    a = rng.standard_normal((3, 4))
    a[0, 0] = 0.25  # a tie with the bound: the gradient goes to a
    lo = np.array([0.25, -0.5, 0.0, 0.5])
    out, w, (ga, glo) = weighted_grad(lambda x, low: x.clip(low, None), a, lo)
    np.testing.assert_array_equal(out.data, np.maximum(a, lo))
    np.testing.assert_array_equal(ga, w * (a >= lo))
    np.testing.assert_allclose(glo, (w * (a < lo)).sum(axis=0), rtol=1e-14)
    out, w, (ga,) = weighted_grad(lambda x: x.clip(None, mg.Tensor(lo)), a)
    np.testing.assert_array_equal(ga, w * (a <= lo))


# ---------------------------------------------------------------- softmax over several axes


@pytest.mark.parametrize("axis", [(1, 2), (0, 2), None, (-1,)])
@pytest.mark.parametrize(
    "fused, composed", [(F.softmax, F.softmax_composed), (F.log_softmax, F.log_softmax_composed)]
)
def test_softmax_family_over_several_axes(axis, fused, composed):
    x = rng.standard_normal((2, 3, 4)) * 3
    x[0, 0, :2] = x[0, 0, 2]  # ties
    axes = tuple(range(3)) if axis is None else axis
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    p = e / e.sum(axis=axes, keepdims=True)
    out, w, (g,) = weighted_grad(lambda t: fused(t, axis=axis), x)
    tc = mg.Tensor(x, requires_grad=True)
    ref = composed(tc, axis=axis)
    (ref * w).sum().backward()  # the same output weights as the fused op's
    gc = tc.grad.data
    expected = p if fused is F.softmax else np.log(p)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ref.data, expected, rtol=1e-12, atol=1e-15)
    if fused is F.softmax:  # p * (w - sum(w p))
        closed = p * (w - (w * p).sum(axis=axes, keepdims=True))
    else:  # w - p sum(w)
        closed = w - p * w.sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(g, closed, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gc, closed, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_over_all_axes_stays_finite_at_1e4(dtype):
    x = np.array([[1e4, -1e4], [0.0, 1e4]], dtype)
    out, w, (g,) = weighted_grad(lambda t: F.log_softmax(t, axis=None), x)
    assert out.dtype == g.dtype == dtype and np.isfinite(out.data).all() and np.isfinite(g).all()
    np.testing.assert_allclose(F.softmax(x, axis=None).data, [[0.5, 0], [0, 0.5]], atol=1e-7)


def test_softmax_axes_errors():
    with pytest.raises(ValueError, match="names the same axis twice"):
        F.softmax(np.ones((2, 3)), axis=(1, -1))
    with pytest.raises(ValueError, match="out of range"):
        F.log_softmax(np.ones((2, 3)), axis=(0, 2))


# ---------------------------------------------------------------- one_hot, mse_loss


def test_one_hot():
    t = np.array([[0, 2], [1, 2]])
    out = F.one_hot(t, 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.int64
    np.testing.assert_array_equal(out.data, np.eye(4, dtype=np.int64)[t])
    assert F.one_hot(mg.Tensor(np.array([1, 0]))).shape == (2, 2)  # num_classes inferred
    with pytest.raises(ValueError, match="class index 4 is outside \\[0, 4\\)"):
        F.one_hot(np.array([0, 4]), 4)
    with pytest.raises(ValueError, match="class index -1"):
        F.one_hot(np.array([0, -1]), 4)
    with pytest.raises(ValueError, match="integer class indices"):
        F.one_hot(np.array([0.0, 1.0]), 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_and_its_gradient(reduction):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x[0, 0] = y[0, 0]  # a zero residual
    out, w, (gx, gy) = weighted_grad(lambda a, b: F.mse_loss(a, b, reduction=reduction), x, y)
    sq = (x - y) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    scale = {"mean": 1 / x.size, "sum": 1.0, "none": 1.0}[reduction]
    np.testing.assert_allclose(gx, w * 2 * (x - y) * scale, rtol=1e-13)
    np.testing.assert_allclose(gy, -w * 2 * (x - y) * scale, rtol=1e-13)


def test_mse_loss_checks_and_edges():
    with pytest.raises(ValueError, match="target has shape \\(3,\\)"):
        F.mse_loss(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="reduction must be"):
        F.mse_loss(np.ones(2), np.ones(2), reduction="avg")
    x = mg.Tensor(np.ones(2, np.float32), requires_grad=True)
    out = F.mse_loss(x, np.zeros(2))
    out.backward()
    assert out.dtype == x.grad.dtype == np.float32
    assert np.isnan(F.mse_loss(np.ones(0), np.ones(0)).item())  # a mean of nothing, as PyTorch


# ---------------------------------------------------------------- jvp


def f_nonlinear(t):
    return (t * t).sum(axis=0) * t[0] + F.softmax(t, axis=0)[1]


@pytest.mark.parametrize(
    "fn", [f_nonlinear, lambda t: t.exp().prod(axis=1), lambda t: t, lambda t: t * 0.0 + 1.0]
)
def test_jvp_equals_jacobian_times_v_and_finite_differences(fn):
    x, v = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    y, jv = mg.jvp(fn, x, v)
    np.testing.assert_allclose(y.data, fn(mg.Tensor(x)).data, rtol=1e-15)
    jac = mg.jacobian(fn, x).reshape(y.size, x.size)
    np.testing.assert_allclose(jv.data, (jac @ v.reshape(-1)).reshape(y.shape), rtol=1e-10, atol=1e-13)
    h = 1e-6  # central difference along v
    fd = (fn(mg.Tensor(x + h * v)).data - fn(mg.Tensor(x - h * v)).data) / (2 * h)
    np.testing.assert_allclose(jv.data, fd, rtol=1e-6, atol=1e-8)
    assert not y.requires_grad and not jv.requires_grad


def test_jvp_checks():
    with pytest.raises(ValueError, match="v has shape \\(2,\\), but it must have x's shape \\(3,\\)"):
        mg.jvp(lambda t: t * 2, np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="f must return a Tensor"):
        mg.jvp(lambda t: 3.0, np.ones(3), np.ones(3))
