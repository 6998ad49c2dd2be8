"""Cross-entropy and negative log-likelihood: one fused op each, and their composed twins.

The lesson of the whole project fits in three lines. With p = softmax(logits) and y the
label as a distribution over the classes (one-hot, perhaps smoothed and weighted),

    loss             = -sum_c y_c log p_c
    d loss / d logit = p sum_c y_c - y          = p - y for a label that sums to 1

*prediction minus label*. ``cross_entropy`` builds y from whatever target it is given
(``label_distribution``), then computes exactly those two lines (``_cross_entropy``).
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor, record
from .checks import (
    TensorLike,
    check_ignore_index,
    check_label_smoothing,
    check_reduction,
    class_targets,
    class_weights,
    loss_input,
)
from .class_columns import columns, one_hot
from .reduction import reduce, reduce_composed, upstream
from .softmax_family import log_softmax, log_softmax_array, log_softmax_composed, softmax_node


def cross_entropy(
    logits: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits (classes on the last axis) and a target, with PyTorch's
    semantics.

    Shapes: logits (C,) or (N, C), or (..., C), reduced like the flattened (M, C) case.
    ``target`` holds either integer class indices, of shape logits.shape[:-1], or float
    class probabilities, of the logits' shape. ``weight`` (C,) rescales each class;
    ``reduction`` is 'none' (one loss per sample), 'mean' or 'sum'.

    Formula: l_n = -sum_c y_nc log p_nc, with log p = log_softmax(logits) and the label
    distribution y of each sample (see ``label_distribution``; eps = ``label_smoothing``):

    * class indices t_n: y_n = w * ((1 - eps) onehot(t_n) + eps / C), a zero row where
      t_n == ``ignore_index``; 'mean' divides by sum_n w[t_n] over the samples not
      ignored (their number without ``weight``), also with smoothing.
    * class probabilities: y_n = w * ((1 - eps) target_n + eps / C); 'mean' divides by
      the number of samples N (not by the weights). ``ignore_index`` does not apply.

    Stability: log p = z - log(sum(exp(z))) with z = logits - max(logits), so the loss is
    finite for logits of any size.

    Gradient (the whole point), with a = sum_c y_c (1 without weights and ignoring):

        d l_n / d logits_n = a p_n - y_n,     i.e. p - y: prediction minus label,

    times the reduction's scale (1 / sum of weights for 'mean'). Under create_graph, p is
    handed on as a softmax node, so the Hessian is diag(p) - p p^T (/ N).

    Decisions: a 'mean' over zero total weight (every target ignored) is nan, as in
    PyTorch (0 / 0), with a zero gradient. Class indices outside [0, C) other than
    ``ignore_index`` raise, naming the value (negative ones are never wrapped around).
    ``weight`` is a constant (no gradient); a probability target that requires grad gets
    its gradient, d l / d target_c = -(1 - eps) w_c log p_c per sample.
    """
    op_name = "cross_entropy"
    x = loss_input(logits, op_name, "logits")
    reduction = check_reduction(reduction, op_name)
    eps = check_label_smoothing(label_smoothing, op_name)
    w = class_weights(weight, x.shape[-1], x.dtype, op_name)
    ignore_index = check_ignore_index(ignore_index, op_name)
    target = class_targets(x, target, ignore_index, op_name)
    y, denom = label_distribution(target, x.shape[-1], x.dtype, w, ignore_index, eps)
    return _cross_entropy(x, y, denom, reduction)


def _cross_entropy(x: Tensor, y: np.ndarray | Tensor, denom: float, reduction: str) -> Tensor:
    """The fused node: loss = -(y * log p).sum(-1), reduced; its backward is p - y."""
    log_p = log_softmax_array(x.data)
    losses = -label_times(y, log_p).sum(axis=-1)
    per_sample = losses.shape + (1,)

    def backward(g: Tensor, out: Tensor) -> tuple:
        scale = upstream(g, reduction, denom, per_sample)
        p = np.exp(log_p)  # the prediction (computed here: inference never needs it)
        probs = softmax_node(x, p, -1, 1.0) if is_grad_enabled() else p  # a node only under create_graph
        # prediction minus label: d l / d logits = p * sum_c y_c - y  (= p - y when y sums to 1)
        gx = (probs * y.sum(axis=-1, keepdims=True) - y) * scale
        if not isinstance(y, Tensor):
            return (gx,)
        log_probs = log_softmax(x) if is_grad_enabled() else log_p
        return gx, -log_probs * scale  # d l / d y_c = -log p_c

    inputs = (x, y) if isinstance(y, Tensor) else (x,)
    return record(reduce(losses, reduction, denom), inputs, "cross_entropy", backward)


def label_distribution(
    target: np.ndarray | Tensor,
    n_classes: int,
    dtype: np.dtype,
    w: np.ndarray | None,
    ignore_index: int,
    eps: float,
) -> tuple[np.ndarray | Tensor, float]:
    """Each sample's label as a distribution over the C classes, and the normaliser of
    the 'mean' reduction.

    Class indices t: y = onehot(t), a zero row where t == ignore_index; normaliser
    sum_n w[t_n] over the samples that count. Class probabilities (a Tensor): y is the
    target itself (kept in the graph if it requires grad); normaliser N. Then label
    smoothing, y = (1 - eps) y + eps / C (not for ignored samples), and the class
    weights, y = y * w."""
    if isinstance(target, Tensor):  # class probabilities
        y = target if target.requires_grad else target.data
        denom = float(target.data.size // n_classes)
        counts = 1.0  # every sample counts
    else:  # class indices
        y = one_hot(target, n_classes, dtype)  # row n has a 1 at t_n
        if 0 <= ignore_index < n_classes:  # (an ignore_index outside 0..C-1 matches no column)
            y[target == ignore_index] = 0  # an ignored sample's row is all zeros
        counts = y.sum(axis=-1, keepdims=True) if eps else 1.0  # 1 for a sample that counts, else 0
        counted = target != ignore_index
        denom = float(np.count_nonzero(counted) if w is None else w[target[counted]].sum(dtype=np.float64))
    if eps:
        y = (1 - eps) * y + (eps / n_classes) * counts
    if w is not None:
        y = y * w
    return y, denom


def label_times(y: np.ndarray | Tensor, log_p: np.ndarray) -> np.ndarray:
    """y * log p, with 0 wherever y is 0: a class the label gives no weight contributes
    nothing, even where log p is -inf (a logit of -inf) or nan (a row with a logit of
    +inf, say an ignored sample's), as 0 log 0 = 0."""
    y = y.data if isinstance(y, Tensor) else y
    if np.isfinite(log_p).all():  # only infinite logits make log p infinite or nan
        return y * log_p
    with np.errstate(invalid="ignore"):  # 0 * -inf is nan: replaced by 0 next
        product = y * log_p
    product[np.broadcast_to(y, product.shape) == 0] = 0
    return product


def nll_loss(
    log_probs: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (classes on the
    last axis; e.g. the output of ``log_softmax``).

    Formula: l_n = -sum_c y_nc log_probs_nc = -w[t_n] log_probs_n[t_n], with y the
    one-hot, weighted label (``label_distribution``), 0 where t_n == ``ignore_index``;
    'mean' divides by sum_n w[t_n] over the samples not ignored (nan if that is 0, as
    PyTorch). No exp or log is taken, so there is nothing to stabilise.

    Gradient: -y (times the reduction's scale): the loss is linear in log_probs.
    ``cross_entropy(x, t)`` equals ``nll_loss(log_softmax(x), t)``, in one node instead
    of two.
    """
    op_name = "nll_loss"
    x = loss_input(log_probs, op_name, "log_probs")
    reduction = check_reduction(reduction, op_name)
    w = class_weights(weight, x.shape[-1], x.dtype, op_name)
    ignore_index = check_ignore_index(ignore_index, op_name)
    target = class_targets(x, target, ignore_index, op_name, name="log_probs", probs_allowed=False)
    y, denom = label_distribution(target, x.shape[-1], x.dtype, w, ignore_index, 0.0)
    losses = -label_times(y, columns(x.data, -1)).sum(axis=-1)

    def backward(g: Tensor, out: Tensor) -> tuple:
        return (-y * upstream(g, reduction, denom, losses.shape + (1,)),)

    return record(reduce(losses, reduction, denom), (x,), op_name, backward)


# ====================================================================== the composed twins


def cross_entropy_composed(
    logits: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    stable: bool = True,
) -> Tensor:
    """cross_entropy from primitive ops, same arguments and semantics: log p =
    ``log_softmax_composed(logits, stable=stable)``, then a gather (``log_p[rows, t]``),
    products with the weights, sums and the reduction's division. Its backward runs
    through every one of those nodes (the gather's by scatter-add) and arrives at the
    same p - y. As in the fused op, every target ignored gives a nan mean with a zero
    gradient, and an ignored sample adds 0 to the loss even if its logits are not finite
    (its gathered log p is masked out with ``where``, not multiplied by a weight of 0)."""
    op_name = "cross_entropy_composed"
    x = loss_input(logits, op_name, "logits")
    reduction = check_reduction(reduction, op_name)
    eps = check_label_smoothing(label_smoothing, op_name)
    w = class_weights(weight, x.shape[-1], x.dtype, op_name)
    ignore_index = check_ignore_index(ignore_index, op_name)
    target = class_targets(x, target, ignore_index, op_name)
    n_classes, batch = x.shape[-1], x.shape[:-1]
    log_p = log_softmax_composed(x, stable=stable)
    w_t = None if w is None else Tensor._wrap(w)
    if isinstance(target, Tensor):  # class probabilities
        y = target * (1 - eps) + eps / n_classes if eps else target
        weighted = y if w_t is None else y * w_t
        losses = -(log_p * weighted).sum(axis=-1).reshape(-1)
        denom = float(losses.size)
    else:
        m = target.size
        valid, safe, wt = _target_weights(target.reshape(-1), w, ignore_index, x.dtype)
        log_p2 = log_p.reshape(m, n_classes)
        losses = -_drop_ignored(log_p2[np.arange(m), safe] * Tensor._wrap(wt), valid)
        if eps:
            weighted = log_p2 if w_t is None else log_p2 * w_t
            smooth = -_drop_ignored(weighted.sum(axis=1), valid)
            losses = losses * (1 - eps) + smooth * (eps / n_classes)
        denom = float(wt.sum(dtype=np.float64))
    return reduce_composed(losses, reduction, denom, batch)


def nll_loss_composed(
    log_probs: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """nll_loss from primitive ops: a gather, a product with the weights, a reduction.
    Ignored samples are masked out with ``where`` (0 even where log_probs is -inf or nan),
    and every target ignored gives a nan mean with a zero gradient, as in ``nll_loss``."""
    op_name = "nll_loss_composed"
    x = loss_input(log_probs, op_name, "log_probs")
    reduction = check_reduction(reduction, op_name)
    w = class_weights(weight, x.shape[-1], x.dtype, op_name)
    ignore_index = check_ignore_index(ignore_index, op_name)
    target = class_targets(x, target, ignore_index, op_name, name="log_probs", probs_allowed=False)
    m = target.size
    valid, safe, wt = _target_weights(target.reshape(-1), w, ignore_index, x.dtype)
    losses = -_drop_ignored(x.reshape(m, x.shape[-1])[np.arange(m), safe] * Tensor._wrap(wt), valid)
    return reduce_composed(losses, reduction, float(wt.sum(dtype=np.float64)), x.shape[:-1])


def _drop_ignored(losses: Tensor, valid: np.ndarray) -> Tensor:
    """The per-sample losses with 0 for the ignored samples: ``where``, not a product with
    a weight of 0, which would keep a nan or inf of an ignored sample (0 * inf = nan).
    (No node at all when nothing is ignored.)"""
    return losses if valid.all() else ops.where(valid, losses, 0.0)


def _target_weights(
    t: np.ndarray, w: np.ndarray | None, ignore_index: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the composed twins' gather: which samples count, a column that is safe to
    gather for every sample (ignored ones point at class 0), and each sample's weight
    w[target] (0 for ignored samples)."""
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    weights = np.ones(t.shape, dtype=dtype) if w is None else w[safe]  # fancy indexing copies
    weights[~valid] = 0
    return valid, safe, weights
