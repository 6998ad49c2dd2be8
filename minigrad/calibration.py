"""Calibration: does a classifier's confidence match how often it is right? And temperature
scaling, the one-parameter fix (Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern
Neural Networks", 2017).

A classifier is *calibrated* when, among the samples it gives confidence c (its top-class
probability), a fraction c is classified correctly. Networks trained to near-zero training
loss are typically over-confident: they say 99% and are right 90% of the time.

**Expected calibration error.** Sort the test samples into M equal-width bins by their
confidence c_i = max_k p_ik (bin m holds c in ((m-1)/M, m/M]); in each bin compare the
accuracy with the mean confidence, and weigh by the bin's share of the samples:

    ECE = sum_m |B_m| / n * | acc(B_m) - conf(B_m) |

**Temperature scaling.** Divide every logit by one T > 0 fitted on held-out data: p =
softmax(z / T). argmax z / T = argmax z, so the predictions and the accuracy do not move;
only the confidence does (T > 1 softens it). T minimises the validation negative
log-likelihood (mean cross-entropy), a smooth one-dimensional problem, solved here over
log T (so T stays positive) with L-BFGS.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from .optim import LBFGS
from .tensor import Tensor


class CalibrationBins(NamedTuple):
    """Per bin m (equal width over (0, 1]): its edges (M + 1 of them), the number of
    samples, their accuracy and their mean confidence (nan in an empty bin)."""

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray


def _probs_and_labels(probs: Any, labels: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs.data if isinstance(probs, Tensor) else probs, dtype=np.float64)
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"{who}: probs must have shape (n, C) with n >= 1 samples and C >= 2 classes, got shape {p.shape}"
        )
    if y.shape != (p.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(
            f"{who}: labels must be {p.shape[0]} integer class indices (shape "
            f"({p.shape[0]},)), got shape {y.shape} and dtype {y.dtype}"
        )
    if y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(
            f"{who}: labels must be class indices 0 to {p.shape[1] - 1}, got values "
            f"from {y.min()} to {y.max()}"
        )
    if not np.isfinite(p).all() or p.min() < 0 or np.abs(p.sum(axis=1) - 1).max() > 1e-4:
        raise ValueError(
            f"{who}: probs must be probabilities: finite, >= 0, each row summing to 1 "
            "(pass softmax(logits), not the logits)"
        )
    return p, y


def _check_bins(n_bins: Any, who: str) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"{who}: n_bins must be an int >= 1, got {n_bins!r}")
    return int(n_bins)


def calibration_bins(probs: Any, labels: Any, n_bins: int = 15) -> CalibrationBins:
    """The numbers behind the ECE and the reliability diagram: the samples sorted into
    ``n_bins`` equal-width bins by their top-class probability (bin m: confidence in
    ((m-1)/M, m/M]), with each bin's size, accuracy and mean confidence."""
    p, y = _probs_and_labels(probs, labels, "calibration_bins")
    n_bins = _check_bins(n_bins, "calibration_bins")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # the bin whose interval (lower, upper] holds c; a confidence of exactly 0 cannot occur (c >= 1/C)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins: 0 / 0 = nan, on purpose
        accuracy = np.bincount(which, weights=correct, minlength=n_bins) / counts
        mean_confidence = np.bincount(which, weights=confidence, minlength=n_bins) / counts
    return CalibrationBins(edges, counts, accuracy, mean_confidence)


def expected_calibration_error(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """ECE = sum_m |B_m| / n * |acc(B_m) - conf(B_m)| over ``n_bins`` equal-width bins of
    the top-class confidence (Guo et al. 2017; 15 bins as there). 0 for a perfectly
    calibrated classifier; at most 1. ``probs``: (n, C) probabilities (softmax of the
    logits); ``labels``: n class indices."""
    bins = calibration_bins(probs, labels, n_bins)
    used = bins.counts > 0
    gaps = np.abs(bins.accuracy[used] - bins.confidence[used])
    return float(np.sum(bins.counts[used] / bins.counts.sum() * gaps))


def fit_temperature(logits: Any, labels: Any, max_iter: int = 100) -> float:
    """The temperature T > 0 minimising the mean negative log-likelihood of ``labels``
    under softmax(logits / T):

        T* = argmin_T  -1/n sum_i log softmax(z_i / T)_{y_i}

    Fitted over t = log T (T = exp(t) > 0 whatever t is) with L-BFGS and a strong Wolfe
    line search, from T = 1. Use held-out (validation) logits: on the training set an
    over-fitted model is right so often that it looks well calibrated.

    The NLL as a function of 1/T is convex (a log-sum-exp minus a linear term), so there
    is one minimum, and it is finite unless every sample is classified correctly (then
    T -> 0 keeps lowering the NLL; here the optimisation stops at max_iter)."""
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"fit_temperature: logits must have shape (n, C) with C >= 2, got {z.shape}")
    _probs_and_labels(np.full(z.shape, 1.0 / z.shape[1]), labels, "fit_temperature")  # checks the labels
    if not np.isfinite(z).all():
        raise ValueError("fit_temperature: logits must be finite")
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    log_t = Tensor(np.zeros(()), requires_grad=True)
    z_t = Tensor(z)
    opt = LBFGS([log_t], max_iter=max_iter, tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(z_t / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(math.exp(log_t.item()))


__all__ = ["CalibrationBins", "calibration_bins", "expected_calibration_error", "fit_temperature"]
