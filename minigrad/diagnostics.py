"""The numbers behind minigrad's pictures of p - y, without matplotlib.

``minigrad.plot`` draws these; chapters, tests and your own code can compute them without
a plotting library. They rest on one formula. For a sample with features x, logits z,
probabilities p (sigmoid or softmax of z) and one-hot label y, the mean cross-entropy over
N samples has

    dL/dz = (p - y) / N        and so        dL/dW = sum_i x_i (p_i - y_i)^T / N.

* ``residual_vs_margin_data``: p - y against the margin (how far on the right side of the
  boundary a sample lies).
* ``pull_arrows_data``: sample i's share of the gradient, x_i (p_i - y_i) / N; the shares
  add up to the gradient.
* ``loss_surface_data``: the loss and its gradient on a grid over two weights, in one
  forward and one backward pass.
* ``confusion_counts``: how many samples of each true class got each predicted class.
* ``probability_grid``: a model's probabilities on a grid covering 2-D data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from .autograd import no_grad
from .tensor import Tensor


def class_labels(y: Any) -> np.ndarray:
    """``y`` as an int64 array of class labels, shape (N,); ValueError for anything else."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "biu":
        raise ValueError(f"expected integer class labels of shape (N,), got dtype {y.dtype} shape {y.shape}")
    return y.astype(np.int64)


def float_array(x: Any) -> np.ndarray:
    """A Tensor's data, or an array-like, as a float64 numpy array."""
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)


class ResidualMargin(NamedTuple):
    """Per sample: ``margin``, ``residual``, ``correct`` (margin > 0). See
    ``residual_vs_margin_data``."""

    margin: np.ndarray
    residual: np.ndarray
    correct: np.ndarray


def residual_vs_margin_data(logits: Any, y: Any) -> ResidualMargin:
    """How hard each sample pulls, against how well it is classified.

    Binary (``logits`` of shape (N,), one logit z per sample, p = sigmoid(z), y in {0, 1}):
    margin m = z if y = 1 else -z, and residual p - y, the gradient of the sample's
    loss at its logit. Exactly |p - y| = sigmoid(-m): ~0 for confident correct samples
    (m >> 0), ~1 for confidently wrong ones (m << 0).

    Multi-class (``logits`` of shape (N, K), p = softmax(z)): margin
    m = z_y - max_{k != y} z_k, and residual p_y - 1, the entry of p - y at the true class
    (the other entries are the p_k, k != y, which add up to 1 - p_y). Since
    p_y <= sigmoid(m), the residual is at most -sigmoid(-m)."""
    z = float_array(logits)
    y = class_labels(y)
    if len(z) != len(y):
        raise ValueError(f"logits have {len(z)} rows but y has {len(y)} labels")
    with no_grad():
        if z.ndim == 1:
            if np.any((y != 0) & (y != 1)):
                raise ValueError("binary residuals need labels 0 and 1")
            margin = np.where(y == 1, z, -z)
            residual = F.sigmoid(z).data - y
        elif z.ndim == 2:
            rows = np.arange(len(y))
            others = z.copy()
            others[rows, y] = -np.inf
            margin = z[rows, y] - others.max(axis=1)
            residual = F.softmax(z).data[rows, y] - 1.0
        else:
            raise ValueError(f"logits must have shape (N,) or (N, K), got {z.shape}")
    return ResidualMargin(margin, residual, margin > 0)


class Pulls(NamedTuple):
    """Each sample's share of the gradient of the mean cross-entropy: ``weight`` (N, d)
    for one logit per sample, (N, d, K) for K classes, and ``bias`` (N,) or (N, K).
    They add up (over samples) to the gradient; a sample *pulls* the weights the other
    way, by -share, in a gradient-descent step."""

    weight: np.ndarray
    bias: np.ndarray


def pull_arrows_data(X: Any, logits: Any, y: Any) -> Pulls:
    """Sample i's share of dL/dW and dL/db for L = mean cross-entropy:
    x_i (p_i - y_i) / N and (p_i - y_i) / N, with p the sigmoid of ``logits`` of shape
    (N,) (labels 0/1) or the softmax of ``logits`` of shape (N, K) (class labels)."""
    X = float_array(X)
    z = float_array(logits)
    y = class_labels(y)
    n = len(y)
    if X.ndim != 2 or len(X) != n or len(z) != n:
        raise ValueError(
            f"need X of shape (N, d), logits of N rows and N labels; got X {X.shape}, "
            f"logits {z.shape}, y {y.shape}"
        )
    with no_grad():
        if z.ndim == 1:
            residual = F.sigmoid(z).data - y
            return Pulls(X * residual[:, None] / n, residual / n)
        residual = F.softmax(z).data - np.eye(z.shape[1])[y]
    return Pulls(X[:, :, None] * residual[:, None, :] / n, residual / n)


class LossSurface(NamedTuple):
    """A grid over two weights: ``w1``, ``w2`` (from ``np.meshgrid``), the ``loss`` at
    each point and the two components of its gradient, ``grad1`` and ``grad2``."""

    w1: np.ndarray
    w2: np.ndarray
    loss: np.ndarray
    grad1: np.ndarray
    grad2: np.ndarray


def loss_surface_data(loss_fn: Callable[[Tensor], Tensor], w1_values: Any, w2_values: Any) -> LossSurface:
    """Evaluate a loss, and its gradient, at every point of the grid ``w1_values`` x
    ``w2_values`` with ONE forward and ONE backward pass.

    ``loss_fn`` receives a (2, M) Tensor whose M columns are weight pairs and must return
    the M losses, shape (M,), each computed from its own column only (e.g. logits
    ``X @ W2M + b`` of shape (N, M), then a per-column mean). The gradient of their sum
    with respect to column j is then the gradient of loss j: autograd does the whole
    grid at once."""
    g1, g2 = np.meshgrid(np.asarray(w1_values, dtype=np.float64), np.asarray(w2_values, dtype=np.float64))
    grid = Tensor(np.stack([g1.ravel(), g2.ravel()]), requires_grad=True)
    losses = loss_fn(grid)
    if not isinstance(losses, Tensor) or losses.shape != (g1.size,):
        shape = getattr(losses, "shape", type(losses).__name__)
        raise ValueError(
            f"loss_fn must return one loss per column, a Tensor of shape ({g1.size},), got {shape}"
        )
    losses.sum().backward()
    grad = grid.grad.data if grid.grad is not None else np.zeros_like(grid.data)  # None: loss ignores W
    return LossSurface(
        g1, g2, losses.data.reshape(g1.shape), grad[0].reshape(g1.shape), grad[1].reshape(g1.shape)
    )


def confusion_counts(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = how many samples of true class i were predicted as class j."""
    t, p = class_labels(y_true), class_labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}")
    k = n_classes if n_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    for name, labels in (("y_true", t), ("y_pred", p)):
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(
                f"{name} holds labels from {labels.min()} to {labels.max()}, expected 0 to {k - 1}"
            )
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def probability_grid(
    predict_proba: Callable[[np.ndarray], Any], X: Any, resolution: int = 200, padding: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``predict_proba`` (points (M, 2) -> probabilities (M, K)) on a ``resolution`` x
    ``resolution`` grid covering the 2-D points ``X`` with a margin of ``padding`` times
    their range. Returns the grid's x and y coordinates and the probabilities, shape
    (resolution, resolution, K)."""
    X = float_array(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2-D points, X of shape (N, 2); got {X.shape}")
    low, high = X.min(axis=0), X.max(axis=0)
    pad = padding * np.maximum(high - low, 1e-9)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    probs = float_array(predict_proba(np.column_stack([xx.ravel(), yy.ravel()])))
    if probs.ndim != 2 or len(probs) != xx.size:
        raise ValueError(
            f"predict_proba must return probabilities of shape (M, K) for M points, got {probs.shape}"
        )
    return xx, yy, probs.reshape(resolution, resolution, -1)


__all__ = [
    "class_labels",
    "float_array",
    "ResidualMargin",
    "residual_vs_margin_data",
    "Pulls",
    "pull_arrows_data",
    "LossSurface",
    "loss_surface_data",
    "confusion_counts",
    "probability_grid",
]
