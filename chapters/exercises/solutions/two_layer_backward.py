"""Reference solution: a two-layer tanh network's backward pass by hand."""

from __future__ import annotations

import numpy as np


def forward_backward(
    X: np.ndarray, targets: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of softmax(tanh(X W1 + b1) W2 + b2), and its gradients."""
    n = X.shape[0]
    H = np.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_p[rows, targets].mean()

    dZ = np.exp(log_p)  # (p - y) / N
    dZ[rows, targets] -= 1
    dZ /= n
    dW2 = H.T @ dZ  # C = A B: dB = A^T G
    db2 = dZ.sum(axis=0)  # the bias was broadcast over the N rows
    dH = dZ @ W2.T  # dA = G B^T
    dA = dH * (1 - H**2)  # tanh'(a) = 1 - tanh(a)^2
    dW1 = X.T @ dA
    db1 = dA.sum(axis=0)
    return float(loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
