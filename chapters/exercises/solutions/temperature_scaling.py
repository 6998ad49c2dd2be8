"""Temperature scaling, by hand: reference solution (chapter 11, exercise 1)."""

from __future__ import annotations

import numpy as np


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """ECE = sum_m |B_m| / n * |accuracy(B_m) - mean confidence(B_m)|, bins ((m-1)/M, m/M]."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    ece = 0.0
    for m in range(n_bins):
        inside = (confidence > m / n_bins) & (confidence <= (m + 1) / n_bins)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def _scaled(logits: np.ndarray, labels: np.ndarray, T: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u = logits / T, p = softmax(u), and the one-hot labels Y."""
    u = logits / T
    e = np.exp(u - u.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return u, p, np.eye(logits.shape[1])[labels]


def nll_grad_log_temperature(logits: np.ndarray, labels: np.ndarray, T: float) -> float:
    """d NLL / dt = -1/n sum_i (p_i - y_i) . u_i with u = logits / T, T = e^t."""
    u, p, Y = _scaled(logits, labels, T)
    return float(-((p - Y) * u).sum(axis=1).mean())


def _second_derivative(logits: np.ndarray, labels: np.ndarray, T: float) -> float:
    """d^2 NLL / dt^2 = 1/n sum_i (Var_{p_i}(u_i) + (p_i - y_i) . u_i)."""
    u, p, Y = _scaled(logits, labels, T)
    variance = (p * u**2).sum(axis=1) - (p * u).sum(axis=1) ** 2
    return float((variance + ((p - Y) * u).sum(axis=1)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Newton's method on t = log T from t = 0, until |NLL'(t)| < 1e-10."""
    t = 0.0
    for _ in range(100):
        gradient = nll_grad_log_temperature(logits, labels, np.exp(t))
        if abs(gradient) < 1e-10:
            break
        t -= gradient / _second_derivative(logits, labels, np.exp(t))
    return float(np.exp(t))
