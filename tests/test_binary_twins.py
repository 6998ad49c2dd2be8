"""The binary ops against their composed twins, at kinks (x = 0) and at large logits:
values, first derivatives (random output weights), and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F

RNG = np.random.default_rng(11)
X = np.array([0.0, -0.0, 1e-9, -3.0, 2.5, 0.0, 40.0, -40.0])  # kinks first
W = RNG.standard_normal(X.shape)  # random output weights: a plain sum hides errors


# The fused binary cross-entropy's gradient is written as prediction minus label, a p - b with
# a and b of order 1: where the exact value is ~e^-x (x > ~37 in float64) it cancels to 0, an
# absolute error below 1e-16 (the composed twin keeps those digits).
ROUNDED_TO_ONE = 1e-16


def grad_of(fn, x):
    t = mg.Tensor(x, requires_grad=True)
    (fn(t) * W).sum().backward()
    return t.grad.data


def second_of(fn, x):
    """d/dx of (d/dx sum(w * fn(x))), elementwise ops: the diagonal of the Hessian."""
    t = mg.Tensor(x, requires_grad=True)
    (g,) = mg.grad((fn(t) * W).sum(), t, create_graph=True)
    (h,) = mg.grad(g.sum(), t)
    return h.data


def sigmoid64(x):
    return 1 / (1 + np.exp(-x))


PAIRS = {  # the derivative in a form that keeps its digits at large |x|
    "sigmoid": (F.sigmoid, F.sigmoid_composed, lambda x: sigmoid64(x) * sigmoid64(-x)),
    "log_sigmoid": (F.log_sigmoid, F.log_sigmoid_composed, lambda x: sigmoid64(-x)),
}


@pytest.mark.parametrize("name", PAIRS)
def test_fused_and_composed_agree_with_the_closed_form_at_kinks(name):
    fused, composed, derivative = PAIRS[name]
    np.testing.assert_allclose(fused(X).data, composed(X).data, rtol=1e-12, atol=1e-300)
    expected = W * derivative(X)
    np.testing.assert_allclose(grad_of(fused, X), expected, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(grad_of(composed, X), expected, rtol=1e-10, atol=1e-300)


def test_composed_sigmoid_has_the_true_slope_at_zero():
    np.testing.assert_allclose(grad_of(F.sigmoid_composed, np.zeros(8)), W * 0.25, rtol=1e-15)


@pytest.mark.parametrize("pos_weight", [None, 2.5])
def test_bce_with_logits_twins_agree_to_second_order_at_zero(pos_weight):
    y = (RNG.random(X.shape) > 0.5).astype(float)
    kw = {"pos_weight": None if pos_weight is None else np.full(X.shape, pos_weight), "reduction": "none"}
    fused = lambda t: F.binary_cross_entropy_with_logits(t, y, **kw)
    composed = lambda t: F.binary_cross_entropy_with_logits_composed(t, y, **kw)
    np.testing.assert_allclose(fused(X).data, composed(X).data, rtol=1e-12)
    np.testing.assert_allclose(grad_of(fused, X), grad_of(composed, X), rtol=1e-10, atol=ROUNDED_TO_ONE)
    s = sigmoid64(X)
    pw = 1.0 if pos_weight is None else pos_weight
    expected_second = W * (1 + (pw - 1) * y) * s * sigmoid64(-X)
    np.testing.assert_allclose(second_of(composed, X), expected_second, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(second_of(fused, X), expected_second, rtol=1e-10, atol=ROUNDED_TO_ONE)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_twins_agree_inside_the_open_interval(dtype):
    p = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.99], dtype)
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype)
    fused = lambda t: F.binary_cross_entropy(t, y, reduction="none")
    composed = lambda t: F.binary_cross_entropy_composed(t, y, reduction="none")
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(fused(p).data, composed(p).data, rtol=tol)
    assert composed(p).dtype == dtype and grad_of(composed, p).dtype == dtype
    np.testing.assert_allclose(grad_of(fused, p), grad_of(composed, p), rtol=tol)
    np.testing.assert_allclose(grad_of(fused, p.astype(np.float64)), W * (p - y) / (p * (1 - p)), rtol=1e-6)
