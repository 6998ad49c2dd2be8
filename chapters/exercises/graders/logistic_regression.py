"""Grader for logistic_regression.py: the trained w, b and the losses against the same
gradient descent written in float64 numpy with the closed-form gradient X^T (p - y) / N."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from _checks import array_of, expect_close


def _descend(
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    steps: int,
    sign: float = 1.0,
    reset: bool = True,
    train_bias: bool = True,
) -> tuple[np.ndarray, float, list[float]]:
    """Reference gradient descent (and, through its switches, the usual mistakes)."""
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    gw_sum, gb_sum = np.zeros(d), 0.0
    losses = []
    for _ in range(steps):
        z = X @ w + b
        losses.append(float(np.mean(np.logaddexp(0, z) - y * z)))  # -[y log s(z) + (1 - y) log(1 - s(z))]
        p = 1 / (1 + np.exp(-z))
        gw, gb = X.T @ (p - y) / n, float(np.mean(p - y))
        gw_sum, gb_sum = (gw_sum + gw, gb_sum + gb) if not reset else (gw, gb)
        w = w - sign * lr * gw_sum
        b = b - sign * lr * gb_sum if train_bias else b
    return w, b, losses


def _data(rng: np.random.Generator, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping blobs in 2-D (not separable, so the optimum is finite)."""
    y = np.repeat([0.0, 1.0], 15)
    X = rng.normal(size=(30, 2)) + np.where(y[:, None] == 1, [1.0, 0.5], [-0.5, -1.0])
    return X.astype(dtype), y.astype(dtype)


def check(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    X, y = _data(rng, np.float64)
    lr, steps = 0.5, 40
    result = mod.train(X.copy(), y.copy(), lr, steps)
    if not isinstance(result, tuple) or len(result) != 3:
        raise AssertionError("train should return a tuple (w, b, losses)")
    w, b, losses = result
    losses = array_of(list(losses), "losses")
    if losses.shape != (steps,):
        raise AssertionError(
            f"you returned {losses.shape[0] if losses.ndim else 1} losses for {steps} steps: "
            "append one loss per step"
        )
    w_ref, b_ref, losses_ref = _descend(X, y, lr, steps)
    shifted = np.array(losses_ref[1:] + [np.nan])
    expect_close(
        losses,
        np.array(losses_ref),
        "the losses",
        {
            f"each loss is the one AFTER the update; append the loss computed at the start of the step "
            f"(the first one, at w = 0 and b = 0, is log 2 = {np.log(2):.4f})": shifted,
            "they match a loop that never resets .grad: backward() adds into .grad, so set w.grad = None "
            "and b.grad = None before each backward()": np.array(_descend(X, y, lr, steps, reset=False)[2]),
            "they rise: you stepped WITH the gradient; subtract lr * grad": np.array(
                _descend(X, y, lr, steps, -1.0)[2]
            ),
            "they match a loop that never updates b: update the bias too": np.array(
                _descend(X, y, lr, steps, train_bias=False)[2]
            ),
        },
        nonfinite="the loss blew up: check the sign of your step and the reset of .grad",
    )
    expect_close(w, w_ref, "the trained w")
    expect_close(np.asarray(b, dtype=np.float64), np.asarray(b_ref), "the trained b")

    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    w32, b32, _ = mod.train(X32, y32, lr, steps)
    if array_of(w32, "w").dtype != np.float32:
        raise AssertionError(f"float32 data gave a {np.asarray(w32).dtype} w: create w and b in X's dtype")
    expect_close(w32, w_ref, "the trained w with float32 data", atol=1e-4, rtol=1e-4)
