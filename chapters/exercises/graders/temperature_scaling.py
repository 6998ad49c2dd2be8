"""Grader for chapters/exercises/temperature_scaling.py: the ECE against minigrad's and a
hand-made case, the derivative against central differences in float64, and the fitted
temperature against minigrad's L-BFGS fit."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import calibration


def _call(mod: Any, name: str, *args: Any) -> Any:
    return getattr(mod, name)(*args)  # an untouched starter raises NotImplementedError


def _nll(logits: np.ndarray, labels: np.ndarray, T: float) -> float:
    u = logits / T
    top = u.max(axis=1, keepdims=True)
    log_p = u - top - np.log(np.exp(u - top).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


def _problem(seed: int, n: int = 400, C: int = 5, T0: float = 1.8) -> tuple[np.ndarray, np.ndarray]:
    """Over-confident logits: the labels are drawn from softmax(z / T0)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, C)) * 3
    p = np.exp(z / T0 - (z / T0).max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, labels


def _check_ece(mod: Any) -> None:
    # 0.8 sits on the edge of bins (0.7, 0.8] and (0.8, 0.9]; with 0.75 it forms one bin
    probs = np.array([[0.8, 0.2], [0.25, 0.75], [0.95, 0.05], [0.6, 0.4]])
    labels = np.array([1, 1, 0, 0])
    expected = calibration.expected_calibration_error(probs, labels, 10)
    got = _call(mod, "expected_calibration_error", probs, labels, 10)
    if abs(got - expected) > 1e-12:
        left_closed = (abs(0 - 0.8) + abs(1 - 0.75) + abs(1 - 0.95) + abs(1 - 0.6)) / 4
        hint = ""
        if abs(got - left_closed) < 1e-12:
            hint = (
                " (a confidence exactly on a bin edge, like 0.8 with 10 bins, belongs to the bin "
                "(0.7, 0.8]: the bins are closed on the right)"
            )
        raise AssertionError(f"your ECE on a hand-made case is {got!r}, expected {expected!r}{hint}")
    for seed, n_bins in ((0, 15), (1, 5), (2, 40)):
        z, y = _problem(seed)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        expected = calibration.expected_calibration_error(p, y, n_bins)
        got = _call(mod, "expected_calibration_error", p, y, n_bins)
        if abs(got - expected) > 1e-12:
            counts = calibration.calibration_bins(p, y, n_bins)
            used = counts.counts > 0
            unweighted = np.abs(counts.accuracy[used] - counts.confidence[used]).mean()
            hint = (
                " - it equals the plain mean over the bins: weigh each bin by its share of the "
                "samples, |B_m| / n"
                if abs(got - unweighted) < 1e-12
                else ""
            )
            raise AssertionError(f"your ECE with {n_bins} bins is {got:.6f}, expected {expected:.6f}{hint}")


def _check_gradient(mod: Any) -> None:
    z, y = _problem(3)
    for T in (0.7, 1.0, 2.5):
        h = 1e-5  # central differences in t = log T
        numeric = (_nll(z, y, T * np.exp(h)) - _nll(z, y, T * np.exp(-h))) / (2 * h)
        got = _call(mod, "nll_grad_log_temperature", z, y, T)
        if abs(got - numeric) <= 1e-7 * max(1.0, abs(numeric)):
            continue
        if abs(got + numeric) <= 1e-7 * max(1.0, abs(numeric)):
            raise AssertionError(f"your dNLL/dt at T={T} has the wrong sign: du/dt = -u for u = z e^(-t)")
        if abs(got * T - numeric) <= 1e-6 * max(1.0, abs(numeric)) or abs(got / T - numeric) <= 1e-6:
            raise AssertionError(
                f"your dNLL/dt at T={T} is off by a factor T: it must be the derivative "
                "with respect to t = log T, in terms of u = z / T"
            )
        raise AssertionError(
            f"your dNLL/dt at T={T} is {got:.8f}, but central differences give "
            f"{numeric:.8f}: the gradient at the logits u is p - y (prediction minus label)"
        )


def _check_fit(mod: Any) -> None:
    for seed, T0 in ((4, 1.8), (5, 0.6)):
        z, y = _problem(seed, T0=T0)
        expected = calibration.fit_temperature(z, y)
        got = _call(mod, "fit_temperature", z, y)
        if not np.isfinite(got) or got <= 0:
            raise AssertionError(f"your fit_temperature returned {got!r}: T must be a finite number > 0")
        if abs(got - expected) > 1e-6 * expected:
            raise AssertionError(
                f"your fitted T is {got:.8f}, but the NLL's minimum is at {expected:.8f} "
                f"(NLL {_nll(z, y, got):.10f} against {_nll(z, y, expected):.10f})"
            )


def check(mod: Any) -> None:
    """Raise AssertionError saying what is wrong, or return None if everything is right."""
    _check_ece(mod)
    _check_gradient(mod)
    _check_fit(mod)
