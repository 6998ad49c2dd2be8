"""Reference solution: the logistic-regression training loop."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.functional as F


def train(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, float, list[float]]:
    """Gradient descent on mean binary cross-entropy of sigmoid(X w + b) against y."""
    Xt, yt = mg.Tensor(X), mg.Tensor(y)
    w = mg.Tensor(np.zeros(X.shape[1], dtype=X.dtype), requires_grad=True)
    b = mg.Tensor(np.zeros((), dtype=X.dtype), requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(Xt @ w + b, yt)
        w.grad = b.grad = None  # backward() adds into .grad
        loss.backward()
        with mg.no_grad():
            w.data -= lr * w.grad.data
            b.data -= lr * b.grad.data
        losses.append(loss.item())
    return w.numpy(), float(b.item()), losses
