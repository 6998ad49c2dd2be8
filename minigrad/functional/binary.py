"""sigmoid, log_sigmoid and the binary cross-entropies."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..tensor import Tensor, record
from .checks import (
    TensorLike,
    as_float,
    check_reduction,
    elementwise_weights,
    same_shape_target,
)
from .reduction import reduce, reduce_composed, upstream

BCE_LOG_FLOOR = -100.0  # PyTorch's BCELoss clamps log(p) and log(1 - p) at -100
BCE_GRAD_EPS = 1e-12  # ... and the p (1 - p) in its gradient's denominator at 1e-12


def sigmoid(x: TensorLike) -> Tensor:
    """sigma(x) = 1 / (1 + exp(-x)), the two-class softmax: softmax([x, 0])[0].

    Stability: with e = exp(-|x|), which lies in (0, 1] and cannot overflow,
    sigma(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.

    Gradient: sigma'(x) = sigma(x) (1 - sigma(x)) = sigma(x) sigma(-x) (1 - out would
    cancel to a few correct digits for large x; sigma(-x) keeps them all).
    """
    x = as_float(x)
    e = np.exp(-np.abs(x.data))
    out = np.where(x.data >= 0, 1, e) / (1 + e)
    return record(out, (x,), "sigmoid", lambda g, out: (g * out * sigmoid(-x),))


def sigmoid_composed(x: TensorLike, stable: bool = True) -> Tensor:
    """sigmoid from primitive ops. ``stable``: ``where(x >= 0, 1 / (1 + exp(-x+)),
    e / (1 + e))`` with x+ = clip(x, 0, None) and e = exp(clip(x, None, 0)): each branch
    takes exp of a number <= 0 only, so neither overflows, even where it is not used, and
    clip's gradient is 1 up to its bound, so the gradient at x = 0 is the true 1/4.
    ``stable=False``: the naive ``1 / (1 + exp(-x))``, whose exp overflows for x below
    about -89 (float32) or -710 (float64): the value is still 0, but the gradient is
    inf * 0 = nan."""
    x = as_float(x)
    if not stable:
        return 1 / (1 + (-x).exp())
    e = x.clip(None, 0.0).exp()
    return ops.where(x.data >= 0, 1 / (1 + (-x.clip(0.0, None)).exp()), e / (1 + e))


def softplus_composed(x: TensorLike) -> Tensor:
    """softplus(x) = log(1 + exp(x)) from primitive ops, without overflow:
    ``where(x >= 0, x + log1p(exp(-x+)), log1p(exp(x-)))`` with x+ = clip(x, 0, None)
    and x- = clip(x, None, 0) (as in ``sigmoid_composed``; d/dx = sigmoid(x), also at 0)."""
    x = as_float(x)
    positive = x + (-x.clip(0.0, None)).exp().log1p()
    negative = x.clip(None, 0.0).exp().log1p()
    return ops.where(x.data >= 0, positive, negative)


def log_sigmoid(x: TensorLike) -> Tensor:
    """log sigma(x) = -log(1 + exp(-x)) = -softplus(-x).

    Stability: min(x, 0) - log1p(exp(-|x|)): the exp is of a non-positive number, and
    log1p keeps the digits of log(1 + e) for tiny e; log(sigmoid(x)) would give -inf
    for x < -745 (float64) or -104 (float32).

    Gradient: d/dx log sigma(x) = 1 - sigma(x) = sigma(-x), computed as sigmoid(-x)
    (not 1 - exp(out), which loses every digit for large x).
    """
    x = as_float(x)
    out = np.minimum(x.data, 0) - np.log1p(np.exp(-np.abs(x.data)))
    return record(out, (x,), "log_sigmoid", lambda g, out: (g * sigmoid(-x),))


def log_sigmoid_composed(x: TensorLike) -> Tensor:
    """log_sigmoid from primitive ops: -softplus(-x) (``softplus_composed``)."""
    return -softplus_composed(-as_float(x))


relu = ops.relu  # max(x, 0); d/dx = 1 where x > 0, else 0
tanh = ops.tanh  # d/dx = 1 - tanh(x)^2


# ====================================================================== binary cross-entropy


def binary_cross_entropy_with_logits(
    logits: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    pos_weight: TensorLike | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of sigma(x) against labels y in [0, 1], from the logits x.

    Formula (PyTorch's): l = -w [pw y log sigma(x) + (1 - y) log(1 - sigma(x))], with
    ``weight`` w broadcast to x's shape and ``pos_weight`` pw weighting the positive term
    (broadcast along the last axis: one per class). 'mean' averages over every entry.
    It equals two-class cross-entropy on logits [x, 0] with target [y, 1 - y].

    Stability: written with -log sigma(x) = softplus(-x), -log(1 - sigma(x)) = softplus(x)
    and softplus(t) = max(t, 0) + log1p(exp(-|t|)):
    ``l = w [pw y softplus(-x) + (1 - y) softplus(x)]``. No exp of a positive number, no
    log of 0: finite for finite logits of any size. At x = +-inf each term is its limit: a
    term whose weight (pw y or 1 - y) is 0 contributes 0 (not 0 * inf = nan), so x = +inf
    gives +inf unless y = 1 (then 0), and x = -inf gives +inf unless y = 0 (then 0).

    Gradient: d l / dx = w (sigmoid(x) - y), prediction minus label again; with
    pos_weight, w ((1 + (pw - 1) y) sigmoid(x) - pw y). For the target (if it requires
    grad): d l / dy = w (pw softplus(-x) - softplus(x)) (= -w x without pos_weight), which
    is -inf at x = +inf and +inf at x = -inf. ``weight`` and ``pos_weight`` are constants.
    """
    op_name = "binary_cross_entropy_with_logits"
    x = as_float(logits)
    reduction = check_reduction(reduction, op_name)
    y = same_shape_target(x, target, op_name, "logits")
    w = elementwise_weights(weight, x.shape, x.dtype, op_name, "weight")
    pw = elementwise_weights(pos_weight, x.shape, x.dtype, op_name, "pos_weight")
    label = y if y.requires_grad else y.data  # kept in the graph only if it needs a gradient
    xd, yd = x.data, y.data
    softplus_tail = np.log1p(np.exp(-np.abs(xd)))  # log(1 + e^-|x|), in [0, log 2]
    minus_log_p = np.maximum(-xd, 0) + softplus_tail  # softplus(-x) = -log sigma(x)
    minus_log_q = np.maximum(xd, 0) + softplus_tail  # softplus(x) = -log(1 - sigma(x))
    positive = yd if pw is None else pw * yd
    losses = _weighted_term(positive, minus_log_p) + _weighted_term(1 - yd, minus_log_q)
    if w is not None:
        losses = losses * w
    denom = float(x.size)

    def backward(g: Tensor, out: Tensor) -> tuple:
        scale = upstream(g, reduction, denom, x.shape)
        if w is not None:
            scale = scale * w
        gx = gy = None
        if x.requires_grad:
            # prediction minus label: sigmoid(x) - y (with pos_weight, the positive term pw times)
            s = sigmoid(x)
            gx = (s - label if pw is None else (1 + (pw - 1) * label) * s - pw * label) * scale
        if y.requires_grad:  # d l / d y = -x (with pos_weight: pw softplus(-x) - softplus(x))
            gy = (-x if pw is None else log_sigmoid(-x) - pw * log_sigmoid(x)) * scale
        return gx, gy

    return record(reduce(losses, reduction, denom), (x, y), op_name, backward)


def _weighted_term(weight: np.ndarray, term: np.ndarray) -> np.ndarray:
    """weight * term, with 0 wherever the weight is 0: a term the label does not ask for
    adds nothing, even where it is +inf (a logit of +-inf), as 0 log 0 = 0."""
    shape = np.broadcast_shapes(np.shape(weight), term.shape)
    return np.multiply(weight, term, out=np.zeros(shape, term.dtype), where=weight != 0)


def binary_cross_entropy_with_logits_composed(
    logits: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    pos_weight: TensorLike | None = None,
    reduction: str = "mean",
    stable: bool = True,
) -> Tensor:
    """binary_cross_entropy_with_logits from primitive ops. ``stable``: the same formula,
    ``pw y softplus(-x) + (1 - y) softplus(x)``, with ``softplus_composed`` (exact first
    and second derivatives at x = 0 too). Unlike the fused op it gives nan at x = +-inf
    where a term's weight is 0 (0 * inf): the product rule has no 0 log 0 = 0 convention.
    ``stable=False``: the textbook -[pw y log sigma(x) + (1 - y) log(1 - sigma(x))],
    which gives inf once sigma(x) rounds to 0 or 1 (|x| > ~17 in float32, ~37 in
    float64)."""
    op_name = "binary_cross_entropy_with_logits_composed"
    x = as_float(logits)
    check_reduction(reduction, op_name)
    y = same_shape_target(x, target, op_name, "logits")
    w = elementwise_weights(weight, x.shape, x.dtype, op_name, "weight")
    pw = elementwise_weights(pos_weight, x.shape, x.dtype, op_name, "pos_weight")
    pw_t = None if pw is None else Tensor._wrap(pw)
    if stable:
        positive = y if pw_t is None else pw_t * y
        losses = positive * softplus_composed(-x) + (1 - y) * softplus_composed(x)
    else:
        s = sigmoid_composed(x, stable=False)
        positive = y * s.log() if pw_t is None else pw_t * y * s.log()
        losses = -(positive + (1 - y) * (1 - s).log())
    if w is not None:
        losses = losses * Tensor._wrap(w)
    return reduce_composed(losses, reduction, float(x.size), x.shape)


def binary_cross_entropy(
    probs: TensorLike, target: TensorLike, weight: TensorLike | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of probabilities p in [0, 1] against labels y.

    Formula: l = -w [y log p + (1 - y) log(1 - p)], each log clamped at -100 as PyTorch's
    BCELoss does, so p = 0 or 1 gives a finite loss (100 per wrong certain answer).
    Prefer ``binary_cross_entropy_with_logits``: sigmoid followed by this loses the
    digits that the logits form keeps.

    Gradient: d l / dp = w (p - y) / (p (1 - p)), with p (1 - p) clamped below at 1e-12
    (as PyTorch does) so it stays finite at p = 0 or 1. For the target:
    d l / dy = w (log(1 - p) - log p), clamped logs. ``weight`` is a constant.
    Probabilities or targets outside [0, 1] (or nan) raise, as in PyTorch ("all elements
    of target should be between 0 and 1"): such a target would give a negative loss.
    """
    op_name = "binary_cross_entropy"
    p = as_float(probs)
    reduction = check_reduction(reduction, op_name)
    y = same_shape_target(p, target, op_name, "probs")
    w = elementwise_weights(weight, p.shape, p.dtype, op_name, "weight")
    pd, yd = p.data, y.data
    outside = ~((pd >= 0) & (pd <= 1))
    if outside.any():
        raise ValueError(
            f"{op_name}: probs must lie in [0, 1], got {float(pd[outside].flat[0])} "
            f"(for logits, "
            f"use binary_cross_entropy_with_logits)"
        )
    outside = ~((yd >= 0) & (yd <= 1))
    if outside.any():
        raise ValueError(
            f"{op_name}: all elements of target must lie in [0, 1], got {float(yd[outside].flat[0])}"
        )
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped next
        log_p = np.maximum(np.log(pd), BCE_LOG_FLOOR)
        log_q = np.maximum(np.log1p(-pd), BCE_LOG_FLOOR)
    losses = -(yd * log_p + (1 - yd) * log_q)
    if w is not None:
        losses = losses * w
    denom = float(p.size)

    def backward(g: Tensor, out: Tensor) -> tuple:
        scale = upstream(g, reduction, denom, p.shape)
        if w is not None:
            scale = scale * w
        gp = gy = None
        if p.requires_grad:  # (p - y) / (p (1 - p)): prediction minus label, over the variance
            gp = (p - y) / ops.maximum(p * (1 - p), BCE_GRAD_EPS) * scale
        if y.requires_grad:
            with np.errstate(divide="ignore"):
                gy = (_clamped_log(1 - p) - _clamped_log(p)) * scale
        return gp, gy

    return record(reduce(losses, reduction, denom), (p, y), op_name, backward)


def binary_cross_entropy_composed(
    probs: TensorLike, target: TensorLike, weight: TensorLike | None = None, reduction: str = "mean"
) -> Tensor:
    """binary_cross_entropy from primitive ops: -w [y log p + (1 - y) log(1 - p)], each log
    clamped at -100 with ``maximum``. Its gradient is the fused op's except where p is 0
    or 1 (there the clamp stops it; the fused op clamps p (1 - p) instead)."""
    op_name = "binary_cross_entropy_composed"
    p = as_float(probs)
    check_reduction(reduction, op_name)
    y = same_shape_target(p, target, op_name, "probs")
    w = elementwise_weights(weight, p.shape, p.dtype, op_name, "weight")
    with np.errstate(divide="ignore"):
        losses = -(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p))
    if w is not None:
        losses = losses * Tensor._wrap(w)
    return reduce_composed(losses, reduction, float(p.size), p.shape)


def _clamped_log(t: Tensor) -> Tensor:
    return ops.maximum(t.log(), BCE_LOG_FLOOR)
