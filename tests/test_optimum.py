"""Training with minigrad reaches the same optimum as an independent solver.

L2-regularised logistic and multinomial regression have one minimiser (the objective is
strictly convex in the weights), so minigrad's full-batch gradient descent and
scikit-learn's ``LogisticRegression`` (a Newton solver, no shared code) must land on the
same coefficients.

Matching the objectives: scikit-learn minimises

    sum_i CE_i + 1/(2C) ||W||^2      (the intercept is not penalised),

and dividing by N gives minigrad's form, with the same minimiser:

    mean_i CE_i + (lam/2) ||W||^2,      lam = 1 / (C N).

The step size is 1/L, with L an upper bound on the curvature: the Hessian of the mean
cross-entropy with respect to (W, b) is at most c * lambda_max([X 1]^T [X 1] / N), with
c = 1/4 for the sigmoid (p (1 - p) <= 1/4) and c = 1/2 for softmax (the largest
eigenvalue of diag(p) - p p^T is at most 1/2); plus lam for the penalty.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import minigrad as mg
from minigrad import data, nn, optim
from minigrad import functional as F

GRAD_TOL = 1e-9  # stop when every gradient entry is below this
MAX_STEPS = 20000


def iris_multiclass() -> tuple[np.ndarray, np.ndarray]:
    X, y = data.load_iris()
    return data.standardize(X).train, y


def iris_binary() -> tuple[np.ndarray, np.ndarray]:
    """versicolor (0) against virginica (1): the two species that overlap, so the
    problem is not separable and the optimum is well inside the data."""
    X, y = data.load_iris()
    keep = y > 0
    return data.standardize(X[keep]).train, y[keep] - 1


def fit_minigrad(X: np.ndarray, y: np.ndarray, lam: float, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent, float64, until the largest gradient entry is below
    GRAD_TOL; returns (W of shape (d, K) or (d,), b)."""
    n, d = X.shape
    k = 1 if binary else int(y.max()) + 1
    model = nn.Linear(d, k, seed=0)
    with_ones = np.column_stack([X, np.ones(n)])
    curvature = (0.25 if binary else 0.5) * np.linalg.eigvalsh(with_ones.T @ with_ones / n).max() + lam
    opt = optim.SGD(model.parameters(), lr=1.0 / curvature)
    X_t, target = mg.Tensor(X), (y.astype(np.float64) if binary else y)
    for _ in range(MAX_STEPS):
        opt.zero_grad()
        logits = model(X_t)
        if binary:
            data_loss = F.binary_cross_entropy_with_logits(logits.reshape(-1), target)
        else:
            data_loss = F.cross_entropy(logits, target)
        loss = data_loss + (lam / 2) * (model.weight * model.weight).sum()  # the bias is not penalised
        loss.backward()
        if max(np.abs(p.grad.data).max() for p in model.parameters()) < GRAD_TOL:
            break
        opt.step()
    else:
        pytest.fail(f"gradient descent did not reach a gradient below {GRAD_TOL} in {MAX_STEPS} steps")
    W, b = model.weight.data.copy(), model.bias.data.copy()
    return (W[:, 0], b[0]) if binary else (W, b)


def fit_sklearn(X: np.ndarray, y: np.ndarray, C: float) -> LogisticRegression:
    return LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=10000).fit(X, y)


def objective_gradient(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray, lam: float) -> float:
    """The largest entry of the gradient of mean CE + lam/2 |W|^2, in plain numpy
    (softmax form; a binary model is the two-class case with logits (0, z))."""
    z = X @ W + b
    if z.ndim == 1:
        residual = 1 / (1 + np.exp(-z)) - y
        return max(np.abs(X.T @ residual / len(y) + lam * W).max(), abs(residual.mean()))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    residual = p - np.eye(W.shape[1])[y]
    return max(np.abs(X.T @ residual / len(y) + lam * W).max(), np.abs(residual.mean(axis=0)).max())


@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_logistic_regression_reaches_sklearns_optimum(C):
    X, y = iris_binary()
    lam = 1.0 / (C * len(y))
    ref = fit_sklearn(X, y, C)
    assert objective_gradient(X, y, ref.coef_[0], ref.intercept_[0], lam) < 1e-8  # the reference is tight
    w, b = fit_minigrad(X, y, lam, binary=True)
    np.testing.assert_allclose(w, ref.coef_[0], rtol=0, atol=1e-4)
    assert abs(b - ref.intercept_[0]) < 1e-4
    assert np.abs(ref.coef_).max() > 0.3  # a real model, not the all-zero one (too strong a penalty)


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_multinomial_regression_reaches_sklearns_optimum(C):
    X, y = iris_multiclass()
    lam = 1.0 / (C * len(y))
    ref = fit_sklearn(X, y, C)
    W_ref = ref.coef_.T  # scikit-learn stores (classes, features); minigrad's Linear (features, classes)
    assert objective_gradient(X, y, W_ref, ref.intercept_, lam) < 1e-8
    W, b = fit_minigrad(X, y, lam, binary=False)
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-4)
    # softmax ignores a constant added to every intercept and the intercepts are not
    # penalised, so only their differences are determined: compare them centred
    np.testing.assert_allclose(b - b.mean(), ref.intercept_ - ref.intercept_.mean(), rtol=0, atol=1e-4)
    # the penalty does fix W's columns: shifting them all by a vector only adds to |W|^2
    np.testing.assert_allclose(W.sum(axis=1), 0, atol=1e-6)


def test_the_comparison_notices_a_wrongly_scaled_penalty():
    """Forgetting the 1/N (lam = 1/C instead of 1/(C N)) gives a clearly different
    optimum: the comparison above is sensitive to the scaling it claims to match."""
    X, y = iris_binary()
    C = 1.0
    ref = fit_sklearn(X, y, C)
    w_wrong, _ = fit_minigrad(X, y, 1.0 / C, binary=True)
    assert np.abs(w_wrong - ref.coef_[0]).max() > 1e-2
