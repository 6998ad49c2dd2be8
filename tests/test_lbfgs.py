"""L-BFGS reaches exact optima: the Rosenbrock valley's (1, 1), and scikit-learn's
L2-regularised multinomial regression on iris and digits; plus its pieces (the cubic
step, the two-loop recursion, the Wolfe conditions) and the closure protocol.

The regression objective is scikit-learn's own, unscaled:

    C * sum_i CE_i + ||W||^2 / 2          (the intercept is not penalised)

and the reference is scikit-learn's Newton-CG solver at tol 1e-12 (no shared code).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import minigrad as mg
from minigrad import data, optim
from minigrad import functional as F
from minigrad.optim import _cubic_minimum


def rosenbrock(x: mg.Tensor) -> mg.Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def minimise(fn, start, **kwargs):
    x = mg.Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = optim.LBFGS([x], **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = fn(x)
        loss.backward()
        calls.append(loss.item())
        return loss

    first = opt.step(closure)
    return x, opt, calls, first


def test_rosenbrock_from_the_textbook_start_reaches_one_one():
    x, opt, calls, first = minimise(
        rosenbrock, [-1.5, 2.0], max_iter=200, tolerance_grad=1e-10, tolerance_change=1e-14
    )
    np.testing.assert_allclose(x.data, [1.0, 1.0], rtol=0, atol=1e-6)
    assert first.item() == pytest.approx(12.5)  # step returns the loss at the start, as PyTorch
    assert opt.memory["n_iter"] < 100, opt.memory["n_iter"]  # quasi-Newton: tens of iterations
    assert len(calls) < 2 * opt.memory["n_iter"]  # the line search mostly accepts its first trial


def test_rosenbrock_in_float32_keeps_the_dtype():
    x = mg.Tensor(np.array([-1.5, 2.0], dtype=np.float32), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=200)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    opt.step(closure)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-3)


def test_a_quadratic_is_solved_to_rounding_in_a_few_times_its_dimension_of_iterations():
    """On f(x) = x^T A x / 2 - b^T x, BFGS with exact line searches is conjugate gradients
    and needs n iterations; with the inexact (Wolfe) line search a few more."""
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    A, b = M @ M.T + 6 * np.eye(6), rng.normal(size=6)
    x, opt, _, _ = minimise(
        lambda x: 0.5 * (x @ (mg.Tensor(A) @ x)) - (mg.Tensor(b) * x).sum(),
        np.zeros(6),
        max_iter=30,
        tolerance_grad=1e-12,
        tolerance_change=0,
    )
    np.testing.assert_allclose(x.data, np.linalg.solve(A, b), rtol=0, atol=1e-10)
    assert opt.memory["n_iter"] <= 4 * 6


def test_without_line_search_the_step_is_lr():
    """line_search_fn=None: fixed steps of length lr along the L-BFGS direction (the first
    one scaled by min(1, 1 / |g|_1)); a small lr still converges on a gentle quadratic."""
    x, opt, calls, _ = minimise(
        lambda x: ((x - 3.0) ** 2).sum(),
        [0.0, 1.0],
        lr=0.5,
        max_iter=50,
        line_search_fn=None,
        tolerance_change=0,
        tolerance_grad=1e-9,
    )
    np.testing.assert_allclose(x.data, [3.0, 3.0], atol=1e-8)
    # the first step: g = (-6, -4), |g|_1 = 10: x <- x - 0.5 * 0.1 * g
    y, _, _, _ = minimise(
        lambda x: ((x - 3.0) ** 2).sum(), [0.0, 1.0], lr=0.5, max_iter=1, line_search_fn=None
    )
    np.testing.assert_allclose(y.data, [0.3, 1.2], rtol=1e-12)


def test_the_search_continues_across_step_calls():
    """The memory (pairs, direction) lives in the optimizer, as in PyTorch: ten calls with
    max_iter=5 get as far as one with max_iter=50."""
    x = mg.Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=5, tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    for _ in range(20):
        opt.step(closure)
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-6)


def test_two_loop_recursion_with_one_pair_matches_the_bfgs_update_of_the_scaled_identity():
    """With one pair (s, y) and H0 = gamma I, gamma = s.y / y.y, the two-loop result equals
    H g for the BFGS inverse-Hessian update H = (I - rho s y^T) H0 (I - rho y s^T) + rho s s^T."""
    rng = np.random.default_rng(1)
    s, y, g = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    y = y if y @ s > 0 else -y
    opt = optim.LBFGS([mg.Tensor(np.zeros(4), requires_grad=True)])
    rho = 1 / (y @ s)
    opt.memory["pairs"] = [(s, y, rho)]
    gamma = (s @ y) / (y @ y)
    V = np.eye(4) - rho * np.outer(y, s)
    H = V.T @ (gamma * np.eye(4)) @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(opt._direction(g), -H @ g, rtol=1e-12)
    assert np.allclose(H @ y, s)  # the secant equation H y = s


def test_the_cubic_step_finds_the_minimum_of_a_cubic():
    f = lambda t: (t - 0.7) ** 2 * (t + 2)  # a local minimum at t = 0.7
    df = lambda t: 2 * (t - 0.7) * (t + 2) + (t - 0.7) ** 2
    assert _cubic_minimum(0.0, f(0.0), df(0.0), 1.5, f(1.5), df(1.5), 0.0, 1.5) == pytest.approx(0.7)
    assert _cubic_minimum(0.0, f(0.0), df(0.0), 1.5, f(1.5), df(1.5), 0.0, 0.5) == 0.5  # clamped


def test_accepted_steps_meet_the_strong_wolfe_conditions():
    rng = np.random.default_rng(2)
    A = np.diag(rng.uniform(1, 50, size=5))
    fn = lambda x: 0.5 * (x @ (mg.Tensor(A) @ x)) + (x**4).sum()
    x0 = rng.normal(size=5)
    g0 = A @ x0 + 4 * x0**3
    x, _, _, _ = minimise(fn, x0, max_iter=1, tolerance_change=0)
    t_d = x.data - x0  # the first step: t * d with d = -g0
    g1 = A @ x.data + 4 * x.data**3
    f = lambda v: 0.5 * v @ A @ v + (v**4).sum()
    assert f(x.data) <= f(x0) + 1e-4 * (g0 @ t_d)
    assert abs(g1 @ -g0) <= 0.9 * abs(g0 @ -g0)


# ---------------------------------------------------------------- scikit-learn's optimum


def objective_gradient(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray, C: float) -> float:
    """The largest entry of the objective's gradient, in plain numpy: C X^T (p - Y) + W
    and C sum_i (p_i - y_i)."""
    z = X @ W + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    residual = p - np.eye(W.shape[1])[y]
    return max(np.abs(C * X.T @ residual + W).max(), np.abs(C * residual.sum(axis=0)).max())


def fit_lbfgs(X: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray, int]:
    d, k = X.shape[1], int(y.max()) + 1
    W, b = mg.Tensor(np.zeros((d, k)), requires_grad=True), mg.Tensor(np.zeros(k), requires_grad=True)
    X_t = mg.Tensor(X)
    opt = optim.LBFGS([W, b], max_iter=1000, max_eval=2000, tolerance_grad=1e-8, tolerance_change=0)

    def closure():
        opt.zero_grad()
        loss = C * F.cross_entropy(X_t @ W + b, y, reduction="sum") + 0.5 * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return W.data, b.data, opt.memory["n_iter"]


@pytest.mark.parametrize("dataset, C", [("iris", 1.0), ("iris", 10.0), ("digits", 0.1)])
def test_multinomial_regression_reaches_scikit_learns_optimum(dataset, C):
    X, y = getattr(data, f"load_{dataset}")()
    X = data.standardize(X).train
    ref = LogisticRegression(C=C, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, y)
    assert objective_gradient(X, y, ref.coef_.T, ref.intercept_, C) < 1e-8  # the reference is tight
    W, b, iterations = fit_lbfgs(X, y, C)
    np.testing.assert_allclose(W, ref.coef_.T, rtol=0, atol=1e-6)
    # softmax ignores a constant added to every intercept (unpenalised): compare them centred
    np.testing.assert_allclose(b - b.mean(), ref.intercept_ - ref.intercept_.mean(), rtol=0, atol=1e-6)
    assert np.abs(ref.coef_).max() > 0.5  # a real model, not the all-zero one
    assert iterations < 500, iterations


# ---------------------------------------------------------------- arguments


def test_step_needs_a_closure():
    opt = optim.LBFGS([mg.Tensor(np.zeros(2), requires_grad=True)])
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        opt.step()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"line_search_fn": "backtracking"},
            "line_search_fn must be 'strong_wolfe' or None, got 'backtracking'",
        ),
        ({"history_size": 0}, "history_size must be an int >= 1, got 0"),
        ({"max_iter": 2.5}, "max_iter must be an int >= 1, got 2.5"),
        ({"lr": -1}, "lr must be >= 0.0, got -1"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=f"LBFGS: {message}"):
        optim.LBFGS([mg.Tensor(np.zeros(2), requires_grad=True)], **kwargs)


def test_an_optimum_on_entry_returns_at_once():
    x, opt, calls, _ = minimise(lambda x: (x**2).sum(), [0.0, 0.0])
    assert len(calls) == 1 and opt.memory["n_iter"] == 0


def test_step_works_under_no_grad_and_leaves_unused_parameters_alone():
    """The closure runs with gradients enabled even inside no_grad, and a parameter that
    does not take part in the loss (its .grad stays None) counts as gradient 0."""
    x = mg.Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    unused = mg.Tensor(np.array([7.0]), requires_grad=True)
    opt = optim.LBFGS([x, unused], max_iter=200, tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    with mg.no_grad():
        opt.step(closure)
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-6)
    assert unused.data.tolist() == [7.0]
