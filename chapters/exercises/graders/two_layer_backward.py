"""Grader for two_layer_backward.py: the loss and the four gradients against minigrad's
autograd and a float64 closed form, with a diagnosis of the usual slips."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from _checks import expect_close

import minigrad as mg
import minigrad.functional as F

SHAPE_HINTS = {
    "W1": "dW1 = X^T dA (for C = A B, dB = A^T G)",
    "b1": "db1 = the sum of dA over the batch axis (axis 0)",
    "W2": "dW2 = H^T dZ (for C = A B, dB = A^T G)",
    "b2": "db2 = the sum of dZ over the batch axis (axis 0)",
}


def _closed_form(
    X: np.ndarray,
    t: np.ndarray,
    params: dict[str, np.ndarray],
    n_scale: float = 1.0,
    derivative: str = "output",
) -> dict[str, np.ndarray]:
    """The gradients; ``n_scale`` and ``derivative`` reproduce common slips."""
    n = X.shape[0]
    A = X @ params["W1"] + params["b1"]
    H = np.tanh(A)
    Z = H @ params["W2"] + params["b2"]
    p = np.exp(Z - Z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dZ = (p - np.eye(Z.shape[1])[t]) / n * n_scale
    dH = dZ @ params["W2"].T
    tanh_prime = {"output": 1 - H**2, "pre-activation": 1 - A**2, "none": np.ones_like(A)}[derivative]
    dA = dH * tanh_prime
    return {"W1": X.T @ dA, "b1": dA.sum(axis=0), "W2": H.T @ dZ, "b2": dZ.sum(axis=0)}


def _autograd(
    X: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, np.ndarray]]:
    tensors = {k: mg.Tensor(v, requires_grad=True) for k, v in params.items()}
    hidden = (mg.Tensor(X) @ tensors["W1"] + tensors["b1"]).tanh()
    loss = F.cross_entropy(hidden @ tensors["W2"] + tensors["b2"], t)
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in tensors.items()}


def check(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    n, d, h, c = 7, 3, 5, 4
    X = rng.normal(size=(n, d))
    t = rng.integers(0, c, size=n)
    params = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(size=h) * 0.5,
        "W2": rng.normal(size=(h, c)),
        "b2": rng.normal(size=c) * 0.5,
    }
    result = mod.forward_backward(X.copy(), t.copy(), *(v.copy() for v in params.values()))
    if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[1], dict):
        raise AssertionError(
            "forward_backward should return (loss, {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2})"
        )
    loss, grads = result
    loss_ref, grads_ref = _autograd(X, t, params)
    expect_close(
        np.asarray(loss, dtype=np.float64),
        np.asarray(loss_ref),
        "the loss",
        {
            "it is the SUM over the batch; the loss is the mean: divide by N": np.asarray(loss_ref * n),
        },
    )
    missing = sorted(set(params) - set(grads))
    if missing:
        raise AssertionError(f"the gradients lack {', '.join(missing)}: return all of W1, b1, W2, b2")
    closed = _closed_form(X, t, params)
    for name in ("W2", "b2", "W1", "b1"):  # in the order backprop computes them
        got = np.asarray(grads[name])
        if got.shape != params[name].shape:
            raise AssertionError(
                f"d{name} has shape {got.shape}; it must have {name}'s shape "
                f"{params[name].shape}: {SHAPE_HINTS[name]}"
            )
        expect_close(closed[name], grads_ref[name], f"the grader's own d{name}")  # the closed form = autograd
        expect_close(
            got,
            grads_ref[name],
            f"d{name}",
            {
                "every gradient is N times too large: the loss is a mean, so dZ = (p - y) / N": _closed_form(
                    X, t, params, n_scale=n
                )[name],
                "tanh'(a) = 1 - tanh(a)^2 is 1 - H^2, written with the hidden layer H; you used the "
                "pre-activation A, 1 - A^2": _closed_form(X, t, params, derivative="pre-activation")[name],
                "you skipped tanh's derivative: dA = dH * (1 - H^2)": _closed_form(
                    X, t, params, derivative="none"
                )[name],
            },
        )
