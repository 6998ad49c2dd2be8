"""gradcheck, jacobian and hessian: they accept right gradients, CATCH wrong ones (and
say where), and the Jacobians and Hessians match closed forms."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops import mul, sub
from minigrad.tensor import record

# ---------------------------------------------------------------- ops broken on purpose


def square_wrong_at(bad: int, delta: float):
    """x^2 whose backward adds ``delta`` to d/dx at flat position ``bad`` only."""

    def square(x: mg.Tensor) -> mg.Tensor:
        error = np.zeros(x.shape)
        error.reshape(-1)[bad] = delta
        return record(x.data**2, (x,), "bad_square", lambda g, out: (mul(g, x * 2.0 + mg.Tensor(error)),))

    return square


def softmax_with_sign_bug(x: mg.Tensor) -> mg.Tensor:
    """Softmax over the last axis whose backward has the wrong sign. For an upstream
    gradient of ones both the right rule, p * (g - sum(g p)), and this one give 0 (softmax
    sums to 1), so a check on plain sum(f(x)) cannot see the bug."""
    e = np.exp(x.data - x.data.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)

    def backward(g, out):
        inner = (g * out).sum(axis=-1, keepdims=True)
        return (mul(out, sub(inner, g)),)  # right: mul(out, sub(g, inner))

    return record(p, (x,), "bad_softmax", backward)


def softmax(x: mg.Tensor) -> mg.Tensor:
    e = (x - x.max(axis=-1, keepdims=True)).exp()
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- gradcheck


def test_gradcheck_accepts_correct_gradients_of_several_inputs_and_outputs():
    rng = np.random.default_rng(0)
    a = mg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = mg.Tensor(rng.standard_normal(2), requires_grad=True)
    constant = mg.Tensor(rng.standard_normal((3, 2)))
    a.data[0, 0], a.data[1, 1], b.data[1] = 0.0, a.data[1, 0], 0.0  # kink points: zeros and a tie
    assert mg.gradcheck(lambda a, c, b: ((a * c + b).tanh(), (a @ b).exp()), [a, constant, b]) is True


def test_gradcheck_catches_a_wrong_gradient_and_names_input_element_and_values():
    x = mg.Tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    constant = mg.Tensor(np.ones((2, 3)))
    broken = square_wrong_at(bad=4, delta=0.5)
    with pytest.raises(mg.GradcheckError) as caught:
        mg.gradcheck(lambda c, t: broken(t) * c, [constant, x])
    message = str(caught.value)
    assert "input 1 (shape (2, 3))" in message  # position in the inputs list: 0 is the constant
    assert "element (1, 1)" in message  # flat position 4
    analytic, numerical = map(float, re.search(r"analytic (\S+), numerical (\S+) ", message).groups())
    weight = np.random.default_rng(0).standard_normal((2, 3))[1, 1]  # gradcheck's output weight, seed 0
    assert numerical == pytest.approx(weight * 2 * x.data[1, 1], abs=1e-8)
    assert analytic == pytest.approx(weight * (2 * x.data[1, 1] + 0.5), abs=1e-12)


def test_gradcheck_catches_a_small_error_and_tolerates_a_tiny_one():
    x = mg.Tensor([0.3, 0.6, 0.9], requires_grad=True)
    assert mg.gradcheck(square_wrong_at(bad=1, delta=1e-7), [x])  # far inside atol: passes
    with pytest.raises(mg.GradcheckError, match=r"element \(1,\)"):
        mg.gradcheck(square_wrong_at(bad=1, delta=1e-2), [x])  # 1% of d/dx


def test_a_plain_sum_check_misses_the_softmax_bug_but_random_weights_catch_it():
    x = mg.Tensor(np.random.default_rng(3).standard_normal((2, 4)), requires_grad=True)
    x.data[0, 1], x.data[1, 2] = x.data[0, 0], 0.0  # a tie and a zero: the bug is still caught

    # the plain-sum check: gradient of sum(f(x)) against central differences of sum(f(x))
    softmax_with_sign_bug(x).sum().backward()
    numerical = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        for sign in (1, -1):
            shifted = x.data.copy()
            shifted[i] += sign * 1e-6
            numerical[i] += sign * softmax(mg.Tensor(shifted)).data.sum() / 2e-6
    np.testing.assert_allclose(x.grad.data, numerical, atol=1e-6)  # the bug goes unnoticed

    assert mg.gradcheck(softmax, [x])  # the composed softmax is right
    with pytest.raises(mg.GradcheckError, match=r"gradcheck failed for input 0 \(shape \(2, 4\)\)"):
        mg.gradcheck(softmax_with_sign_bug, [x])


def test_gradcheck_catches_a_gradient_lost_by_leaving_the_graph():
    x = mg.Tensor([0.5, 1.5], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"analytic 0.0, numerical"):
        mg.gradcheck(lambda t: mg.Tensor(t.data).exp(), [x])  # a copy of the data: no graph at all
    with pytest.raises(mg.GradcheckError, match=r"input 0"):
        mg.gradcheck(lambda t: t.detach() * t, [x])  # half the product rule is lost


def test_gradcheck_catches_nan_gradients():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    nan_rule = lambda t: record(t.data * 3, (t,), "nan_grad", lambda g, out: (mul(g, float("nan")),))
    with pytest.raises(mg.GradcheckError, match=r"analytic nan"):
        mg.gradcheck(nan_rule, [x])


def test_gradcheck_works_in_float64_and_leaves_the_inputs_alone():
    x = mg.Tensor(np.array([0.25, 0.5], dtype=np.float32), requires_grad=True)
    before = x.data.copy()
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return t.log()

    assert mg.gradcheck(fn, [x])
    assert set(seen) == {np.dtype(np.float64)}  # checked in float64, not in float32
    np.testing.assert_array_equal(x.data, before)
    assert x.dtype == np.float32 and x.grad is None


def test_gradcheck_accepts_a_single_tensor_and_constant_outputs():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(lambda t: t * 0.0 + 1.0, x)
    assert mg.gradcheck(lambda t: mg.Tensor([5.0]), x)  # does not depend on x: both gradients 0


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(
        ValueError,
        match=r"gradcheck: no input has requires_grad=True, so there is "
        r"nothing to check",
    ):
        mg.gradcheck(lambda t: t * 2, [mg.Tensor([1.0])])


def test_gradcheck_reports_a_gradient_of_the_wrong_shape(monkeypatch):
    """The engine always returns input-shaped gradients, so this guard is reached only by
    a broken engine, simulated here."""
    module = sys.modules["minigrad.gradcheck"]  # the name minigrad.gradcheck is the function
    monkeypatch.setattr(module, "_grad", lambda output, inputs: [mg.Tensor(np.zeros(5))])
    with pytest.raises(mg.GradcheckError, match=r"the gradient of input 0 has shape \(5,\), expected \(2,\)"):
        mg.gradcheck(lambda t: t * 2, [mg.Tensor([1.0, 2.0], requires_grad=True)])


def test_np_asarray_of_grad_matches_numerical_gradients():
    rng = np.random.default_rng(7)
    W = mg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    X = rng.standard_normal((5, 3))
    y = np.eye(4)[rng.integers(0, 4, 5)]

    def loss_of(w):
        p = softmax(mg.Tensor(X) @ w)
        return -(mg.Tensor(y) * p.log()).sum() / 5

    loss_of(W).backward()
    numerical = np.zeros(W.shape)
    for i in np.ndindex(W.shape):
        up, down = W.data.copy(), W.data.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        numerical[i] = (loss_of(mg.Tensor(up)).item() - loss_of(mg.Tensor(down)).item()) / 2e-6
    np.testing.assert_allclose(np.asarray(W.grad), numerical, rtol=1e-6, atol=1e-9)
    p = softmax(mg.Tensor(X @ W.data)).data
    np.testing.assert_allclose(np.asarray(W.grad), X.T @ (p - y) / 5, rtol=1e-10, atol=1e-12)  # p - y


# ---------------------------------------------------------------- jacobian


def test_jacobian_of_elementwise_and_linear_maps():
    x = np.array([0.5, -1.0, 2.0])
    J = mg.jacobian(lambda t: t.exp(), x)
    assert isinstance(J, np.ndarray) and J.shape == (3, 3)
    np.testing.assert_allclose(J, np.diag(np.exp(x)), rtol=1e-14)
    A = np.random.default_rng(0).standard_normal((2, 2, 3))
    J = mg.jacobian(lambda t: mg.Tensor(A) @ t, x)
    assert J.shape == (2, 2, 3)
    np.testing.assert_allclose(J, A, rtol=1e-14)


def test_jacobian_of_softmax_is_diag_p_minus_p_pT():
    x = np.array([0.1, 0.0, 1.5, 0.0])  # a tie at 0
    J = mg.jacobian(softmax, x)
    p = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(J, np.diag(p) - np.outer(p, p), atol=1e-15)


def test_jacobian_with_matrix_input_and_output():
    X = np.arange(6.0).reshape(2, 3) / 6
    J = mg.jacobian(lambda t: t.T * t.T, X)  # out[j, i] = X[i, j]^2
    assert J.shape == (3, 2, 2, 3)
    expected = np.zeros((3, 2, 2, 3))
    for i, j in np.ndindex(2, 3):
        expected[j, i, i, j] = 2 * X[i, j]
    np.testing.assert_allclose(J, expected, rtol=1e-14)


# ---------------------------------------------------------------- hessian


def test_hessian_of_a_cubic():
    """f = sum(x^3) + x0 x1 x2:  H = diag(6x) + [[0, x2, x1], [x2, 0, x0], [x1, x0, 0]]."""
    x = np.array([1.0, -2.0, 0.5])
    H = mg.hessian(lambda t: (t**3).sum() + t[0] * t[1] * t[2], x)
    x0, x1, x2 = x
    expected = np.diag(6 * x) + np.array([[0, x2, x1], [x2, 0, x0], [x1, x0, 0]])
    assert isinstance(H, np.ndarray) and H.shape == (3, 3)
    np.testing.assert_allclose(H, expected, rtol=1e-14)


@pytest.mark.parametrize(
    "fn, second",
    [
        (lambda t: t.exp().sum(), np.exp),
        (lambda t: t.log().sum(), lambda x: -1 / x**2),
        (lambda t: t.tanh().sum(), lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
        (lambda t: t.sqrt().sum(), lambda x: -0.25 * x**-1.5),
        (lambda t: (t**3).sum(), lambda x: 6 * x),
    ],
)
def test_hessian_of_separable_functions_is_diagonal(fn, second):
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(mg.hessian(fn, x), np.diag(second(x)), rtol=1e-12)


def test_hessian_of_mul_div_and_pow_of_two_variables():
    a, b = 1.5, 0.8
    x = np.array([a, b])
    np.testing.assert_allclose(mg.hessian(lambda t: t[0] * t[1], x), [[0, 1], [1, 0]])
    np.testing.assert_allclose(
        mg.hessian(lambda t: t[0] / t[1], x), [[0, -1 / b**2], [-1 / b**2, 2 * a / b**3]], rtol=1e-14
    )
    ln = np.log(a)
    np.testing.assert_allclose(
        mg.hessian(lambda t: t[0] ** t[1], x),
        [
            [b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * ln)],
            [a ** (b - 1) * (1 + b * ln), a**b * ln**2],
        ],
        rtol=1e-13,
    )


def test_hessian_of_quadratic_forms_with_matmul():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 3))
    X = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    np.testing.assert_allclose(mg.hessian(lambda t: t @ (mg.Tensor(A) @ t), x), A + A.T, rtol=1e-13)
    np.testing.assert_allclose(
        mg.hessian(lambda t: ((mg.Tensor(X) @ t) ** 2).sum(), x), 2 * X.T @ X, rtol=1e-13
    )


def test_hessian_of_log_sum_exp_is_diag_p_minus_p_pT():
    x = np.array([2.0, -1.0, 2.0, 0.0])  # a tie at the max (the max's share cancels out), and 0
    H = mg.hessian(lambda t: (t - t.max()).exp().sum().log() + t.max(), x)
    p = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-12)


def test_hessian_of_a_matrix_input_has_shape_x_shape_twice():
    """f(X) = sum(X^3) + X[0, 2] X[1, 0]:  H[i, j, k, l] = d^2 f / dX[i, j] dX[k, l]."""
    X = np.arange(1.0, 7.0).reshape(2, 3) / 4
    H = mg.hessian(lambda t: (t**3).sum() + t[0, 2] * t[1, 0], X)
    expected = np.zeros((2, 3, 2, 3))
    for i, j in np.ndindex(2, 3):
        expected[i, j, i, j] = 6 * X[i, j]
    expected[0, 2, 1, 0] = expected[1, 0, 0, 2] = 1.0
    np.testing.assert_allclose(H, expected, rtol=1e-14)


def test_hessian_matches_create_graph_second_derivatives():
    x = np.array([0.7, -0.4])
    fn = lambda t: (t[0] * t[1].exp() + t.tanh()).sum()
    xt = mg.Tensor(x, requires_grad=True)
    (g,) = mg.grad(fn(xt), xt, create_graph=True)
    rows = [mg.grad(g[i], xt, retain_graph=True)[0].data for i in range(2)]
    np.testing.assert_allclose(mg.hessian(fn, x), np.stack(rows), rtol=1e-14)


def test_hessian_of_a_linear_function_is_zero():
    np.testing.assert_array_equal(mg.hessian(lambda t: (t * 3.0).sum(), np.ones(3)), np.zeros((3, 3)))


def test_hessian_needs_a_scalar_function():
    with pytest.raises(
        ValueError,
        match=r"hessian\(\) needs a function with one output, this one has "
        r"shape \(2,\)",
    ):
        mg.hessian(lambda t: t * t, np.ones(2))
