"""cross_entropy and nll_loss."""

from __future__ import annotations

import numpy as np

from ..autograd import is_grad_enabled
from ..tensor import Tensor, record
from .checks import (
    TensorLike,
    _check_label_smoothing,
    _check_reduction,
    _class_targets,
    _class_weights,
    _loss_input,
    _target_weights,
)
from .reduction import _flat_positions, _prediction_minus_label, _reduce, _row_max, _upstream
from .softmax_family import _softmax_node, log_softmax, log_softmax_composed


def cross_entropy(logits: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits (classes on the last axis) and a target, with PyTorch's
    semantics.

    Shapes: logits (C,) or (N, C), or (..., C), reduced like the flattened (M, C) case.
    ``target`` holds either integer class indices, of shape logits.shape[:-1], or float
    class probabilities, of the logits' shape. ``weight`` (C,) rescales each class;
    ``reduction`` is 'none' (one loss per sample), 'mean' or 'sum'.

    Formula, with log p = log_softmax(logits) and eps = ``label_smoothing``:

    * class indices t_n:   l_n = (1 - eps) w[t_n] (-log p_n[t_n]) + (eps / C) sum_c w_c (-log p_n[c]),
      0 where t_n == ``ignore_index``. 'mean' divides the sum by sum_n w[t_n] over the
      samples not ignored (the number of them without ``weight``), also with smoothing.
    * class probabilities y_n:   l_n = -sum_c w_c y'_n[c] log p_n[c], with the smoothed
      y' = (1 - eps) y + eps / C; 'mean' divides by the number of samples N (not by the
      weights). ``ignore_index`` does not apply.

    Stability: log p = z - log(sum(exp(z))) with z = logits - max(logits), so the loss is
    finite for logits of any size.

    Gradient (the whole point): with y the (smoothed, weighted) label of a sample and
    a = sum_c y_c (1 without weights),

        d l_n / d logits_n = a p_n - y_n,     i.e. p - y: prediction minus label,

    times the reduction's scale (1 / sum of weights for 'mean'). It is built in place on a
    copy of p (the label subtracted at the target indices: no one-hot matrix), and p is
    handed to create_graph as a softmax node, so the Hessian is diag(p) - p p^T (/ N).

    Decisions: every target ignored (or a zero total weight) gives a 'mean' of nan, as in
    PyTorch (0 / 0), and a zero gradient. Class indices outside [0, C) other than
    ``ignore_index`` raise, naming the value (negative ones are never wrapped around).
    ``weight`` is a constant (no gradient); a probability target that requires grad gets
    its gradient, -(1 - eps) w_c log p_c per sample.
    """
    who = "cross_entropy"
    x = _loss_input(logits, who, "logits")
    _check_reduction(reduction, who)
    eps = _check_label_smoothing(label_smoothing, who)
    w = None if weight is None else _class_weights(weight, x.shape[-1], x.dtype, who)
    kind, t, every_sample_counts = _class_targets(x, target, ignore_index, who)
    if kind == "index" and w is None and not eps and every_sample_counts:
        return _cross_entropy_plain(x, t, reduction)  # the common case, in its own short function
    if kind == "index":
        return _cross_entropy_indices(x, t, w, int(ignore_index), reduction, eps)
    return _cross_entropy_probs(x, t, w, reduction, eps)


def _cross_entropy_plain(x: Tensor, t: np.ndarray, reduction: str) -> Tensor:
    """Cross-entropy of class indices without weights, smoothing or ignored samples: the
    general ``_cross_entropy_indices`` with every weight 1, which leaves out its
    per-sample weight arrays. Same numbers (the tests hold the two paths equal).

    l_n = log sum_c exp(z_nc) - z_n[t_n] with z = logits - max(logits), and
    d l_n / d logits_n = p_n - onehot(t_n): built on one copy of p, the 1 subtracted at
    the target entries."""
    n_classes, m = x.data.shape[-1], t.size
    batch, dtype = x.data.shape[:-1], x.data.dtype
    at = _flat_positions(t, n_classes)
    reshaped = len(batch) != 1  # logits (C,) or (..., C) are worked on as (M, C)
    x2 = x.data.reshape(m, n_classes) if reshaped else x.data
    z = x2 - _row_max(x2)  # the one (M, C) temporary; it becomes p below
    z_target = z.reshape(-1)[at]  # read what the loss needs from z before exp() overwrites it
    p = np.exp(z, out=z)
    total = np.add.reduce(p, axis=1, keepdims=True)  # = p.sum(...), without its Python wrapper
    p /= total
    if reshaped:
        p = p.reshape(x.data.shape)
    losses = np.log(total[:, 0])
    losses -= z_target  # -log p_t = log sum exp(z) - z_t
    denom = float(m)

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, batch + (1,), dtype, one_for_all=True)
        # p as a softmax node of x only if this backward pass is recorded (create_graph)
        probs = _softmax_node(x, p, -1, 1.0) if is_grad_enabled() else p
        hit = f.reshape(-1) if f.ndim else f  # the label's share at each target: f per sample, or one f
        gx = _prediction_minus_label(probs, f, at=at, hit=hit)  # (p - y) * f
        return (gx if g_rest is None else gx * g_rest,)

    return record(_reduce(losses, reduction, denom, batch), (x,), "cross_entropy", backward)


def _cross_entropy_indices(x: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int,
                           reduction: str, eps: float) -> Tensor:
    n_classes, m = x.shape[-1], t.size
    dtype = x.dtype
    valid, safe, wt = _target_weights(t, w, ignore_index, dtype)
    at = _flat_positions(safe, n_classes)
    x2 = x.data.reshape(m, n_classes)
    z = x2 - _row_max(x2)  # the one (M, C) temporary; it becomes p below
    z_target = z.reshape(-1)[at]  # read what the loss needs from z before exp() overwrites it
    if eps:
        w_total = n_classes if w is None else w.sum()
        z_weighted = z.sum(axis=1) if w is None else z @ w
    p = np.exp(z, out=z)
    total = p.sum(axis=1, keepdims=True)
    p /= total
    log_total = np.log(total[:, 0])
    losses = (1 - eps) * wt * (log_total - z_target)  # -log p_t = log sum exp(z) - z_t
    if eps:
        losses += (eps / n_classes) * valid.astype(dtype) * (w_total * log_total - z_weighted)
    if not valid.all():
        losses[~valid] = 0  # an ignored sample's logits never matter, even if they are inf
    denom = float(wt.sum(dtype=np.float64))  # 'mean' divides by the total weight of the targets

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape[:-1] + (1,), dtype)
        f_rows = f.reshape(m)
        hit = (1 - eps) * wt * f_rows  # the label at the target class: weighted, scaled
        spread = None  # the smoothed part of the label, eps / C on every class (weighted)
        label_sum = (1 - eps) * wt  # a = sum_c y_c for each sample
        if eps:
            share = (eps / n_classes) * valid.astype(dtype) * f_rows
            spread = share[:, None] * (np.ones(n_classes, dtype) if w is None else w)
            label_sum = label_sum + (eps / n_classes) * w_total * valid.astype(dtype)
        coef = label_sum.astype(dtype, copy=False).reshape(f.shape) * f
        probs = _softmax_node(x, p.reshape(x.shape), -1, 1.0)
        gx = _prediction_minus_label(probs, coef, None if spread is None else spread.reshape(x.shape),
                                     at, hit)
        return (gx if g_rest is None else gx * g_rest,)

    return record(_reduce(losses, reduction, denom, x.shape[:-1]), (x,), "cross_entropy", backward)


def _cross_entropy_probs(x: Tensor, y: Tensor, w: np.ndarray | None, reduction: str,
                         eps: float) -> Tensor:
    n_classes = x.shape[-1]
    m = x.size // n_classes
    label = y.data.reshape(m, n_classes)
    if eps:
        label = (1 - eps) * label + eps / n_classes
    if w is not None:
        label = label * w
    label_sum = label.sum(axis=1)
    x2 = x.data.reshape(m, n_classes)
    z = x2 - _row_max(x2)
    z_label = np.einsum("ij,ij->i", label, z)  # sum_c y_c z_c, read before exp() overwrites z
    p = np.exp(z, out=z)
    total = p.sum(axis=1, keepdims=True)
    p /= total
    losses = label_sum * np.log(total[:, 0]) - z_label  # -sum_c y_c (z_c - log sum exp(z))
    denom = float(m)  # 'mean' divides by the number of samples, weights or not (PyTorch)

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape[:-1] + (1,), dtype=x.dtype)
        f_rows = f.reshape(m, 1)
        gx = gy = None
        if x.requires_grad:
            probs = _softmax_node(x, p.reshape(x.shape), -1, 1.0)
            if y.requires_grad:  # the label is a function of y: keep it in the graph (create_graph)
                smoothed = y * (1 - eps) + eps / n_classes if eps else y
                y_scaled = smoothed * Tensor._wrap(f if w is None else f * w)
                gx = probs * y_scaled.sum(axis=-1, keepdims=True) - y_scaled
            else:
                gx = _prediction_minus_label(probs, label_sum.reshape(f.shape) * f,
                                             (label * f_rows).reshape(x.shape))
            gx = gx if g_rest is None else gx * g_rest
        if y.requires_grad:  # d l / d y_c = -(1 - eps) w_c log p_c
            scale = -(1 - eps) * f * (1 if w is None else w)
            gy = log_softmax(x) * Tensor._wrap(scale.astype(x.dtype, copy=False))
            gy = gy if g_rest is None else gy * g_rest
        return gx, gy

    return record(_reduce(losses, reduction, denom, x.shape[:-1]), (x, y), "cross_entropy", backward)


def cross_entropy_composed(logits: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                           ignore_index: int = -100, reduction: str = "mean",
                           label_smoothing: float = 0.0, stable: bool = True) -> Tensor:
    """cross_entropy from primitive ops, same arguments and semantics: log p =
    ``log_softmax_composed(logits, stable=stable)``, then a gather (``log_p[rows, t]``),
    products with the weights, sums and the reduction's division. Its backward runs
    through every one of those nodes (the gather's by scatter-add) and arrives at the
    same p - y. Every target ignored gives a nan mean with nan gradients here."""
    who = "cross_entropy_composed"
    x = _loss_input(logits, who, "logits")
    _check_reduction(reduction, who)
    eps = _check_label_smoothing(label_smoothing, who)
    w = None if weight is None else _class_weights(weight, x.shape[-1], x.dtype, who)
    kind, t, _ = _class_targets(x, target, ignore_index, who)
    n_classes, batch = x.shape[-1], x.shape[:-1]
    log_p = log_softmax_composed(x, stable=stable)
    w_t = None if w is None else Tensor._wrap(w)
    if kind == "index":
        m = t.size
        valid, safe, wt = _target_weights(t, w, int(ignore_index), x.dtype)
        log_p2 = log_p.reshape(m, n_classes)
        losses = -(log_p2[np.arange(m), safe] * Tensor._wrap(wt))
        if eps:
            weighted = log_p2 if w_t is None else log_p2 * w_t
            smooth = -weighted.sum(axis=1) * Tensor._wrap(valid.astype(x.dtype))
            losses = losses * (1 - eps) + smooth * (eps / n_classes)
        denom = float(wt.sum(dtype=np.float64))
    else:
        y = t * (1 - eps) + eps / n_classes if eps else t
        weighted = y if w_t is None else y * w_t
        losses = -(log_p * weighted).sum(axis=-1).reshape(-1)
        denom = float(losses.size)
    return _reduce_composed(losses, reduction, denom, batch)


def _reduce_composed(losses: Tensor, reduction: str, denom: float, shape: tuple[int, ...]) -> Tensor:
    if reduction == "none":
        return losses.reshape(shape)
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / denom


# ====================================================================== nll_loss


def nll_loss(log_probs: TensorLike, target: TensorLike, weight: TensorLike | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (classes on the
    last axis; e.g. the output of ``log_softmax``).

    Formula: l_n = -w[t_n] log_probs_n[t_n], 0 where t_n == ``ignore_index``; 'mean'
    divides by sum_n w[t_n] over the samples not ignored (nan if that is 0, as PyTorch).
    No exp or log is taken, so there is nothing to stabilise.

    Gradient: -w[t_n] (times the reduction's scale) at the target entry of each sample,
    0 elsewhere: the loss is linear in log_probs. ``cross_entropy(x, t)`` equals
    ``nll_loss(log_softmax(x), t)``, in one node instead of two.
    """
    who = "nll_loss"
    x = _loss_input(log_probs, who, "log_probs")
    _check_reduction(reduction, who)
    w = _class_weights(weight, x.shape[-1], x.dtype, who)
    _, t, _ = _class_targets(x, target, ignore_index, who, name="log_probs", probs_allowed=False)
    n_classes, m = x.shape[-1], t.size
    rows = np.arange(m)
    valid, safe, wt = _target_weights(t, w, int(ignore_index), x.dtype)
    losses = -wt * x.data.reshape(m, n_classes)[rows, safe]
    if not valid.all():
        losses[~valid] = 0
    denom = float(wt.sum(dtype=np.float64))

    def backward(g: Tensor, out: Tensor) -> tuple:
        f, g_rest = _upstream(g, reduction, denom, x.shape[:-1] + (1,), x.dtype)
        data = np.zeros((m, n_classes), dtype=x.dtype)
        data[rows, safe] = -wt * f.reshape(m)
        gx = Tensor._wrap(data.reshape(x.shape))
        return (gx if g_rest is None else gx * g_rest,)

    return record(_reduce(losses, reduction, denom, x.shape[:-1]), (x,), who, backward)


def nll_loss_composed(log_probs: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                      ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """nll_loss from primitive ops: a gather, a product with the weights, a reduction."""
    who = "nll_loss_composed"
    x = _loss_input(log_probs, who, "log_probs")
    _check_reduction(reduction, who)
    w = _class_weights(weight, x.shape[-1], x.dtype, who)
    _, t, _ = _class_targets(x, target, ignore_index, who, name="log_probs", probs_allowed=False)
    m = t.size
    _, safe, wt = _target_weights(t, w, int(ignore_index), x.dtype)
    losses = -(x.reshape(m, x.shape[-1])[np.arange(m), safe] * Tensor._wrap(wt))
    return _reduce_composed(losses, reduction, float(wt.sum(dtype=np.float64)), x.shape[:-1])


# ====================================================================== sigmoid and log_sigmoid
