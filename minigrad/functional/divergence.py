"""kl_div and the distillation loss built on it: the KL divergence between two
distributions, and a student learning from a teacher's softened probabilities."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .checks import TensorLike, as_float, check_temperature
from .losses import cross_entropy
from .softmax_family import log_softmax

_KL_REDUCTIONS = ("none", "sum", "mean", "batchmean")


def _check_kl_reduction(reduction: Any) -> None:
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be 'none', 'sum', 'mean' or 'batchmean', got {reduction!r}")


def kl_div(
    input: TensorLike, target: TensorLike, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """The Kullback-Leibler divergence KL(target || q), with q given by its LOG-probabilities
    ``input`` (PyTorch's argument order: the model's log-probabilities first, the
    reference distribution second).

    Pointwise, with t = target (probabilities) and log q = input:

        loss_i = t_i (log t_i - log q_i)            (0 log 0 = 0: a zero t_i adds nothing)
        loss_i = exp(t_i) (t_i - log q_i)           with ``log_target=True`` (t = log-probabilities)

    Summed over a distribution's entries this is KL(t || q) = sum_i t_i log(t_i / q_i) >= 0,
    zero exactly when q = t. Reductions (as PyTorch's):

        'none'       the pointwise losses, input's shape
        'sum'        their sum
        'mean'       their mean over EVERY entry (not the KL per sample: divides by N * C)
        'batchmean'  sum / N with N = input.shape[0]: the mean KL per sample (0-d input: N = 1)

    Gradients: d loss_i / d log q_i = -t_i (so through log_softmax: q - t, prediction minus
    target again); d loss_i / d t_i = log t_i + 1 - log q_i (with ``log_target``:
    exp(t_i) (t_i + 1 - log q_i)). At t_i = 0 the t-gradient is taken as -log q_i (the
    t log t term's derivative, log t + 1, has no finite value there).

    ``input`` and ``target`` must have the same shape; target is converted to input's dtype.
    """
    if not isinstance(log_target, (bool, np.bool_)):
        raise ValueError(f"kl_div: log_target must be True or False, got {log_target!r}")
    _check_kl_reduction(reduction)
    log_q = as_float(input)
    t = as_float(target)
    if t.shape != log_q.shape:
        raise ValueError(
            f"kl_div: target has shape {t.shape}, but it must have input's shape "
            f"{log_q.shape} (one target probability per log-probability)"
        )
    if t.dtype != log_q.dtype:
        t = ops.astype(t, log_q.dtype)
    if log_target:
        pointwise = t.exp() * (t - log_q)
    else:
        positive = t.data > 0
        log_t = ops.where(positive, t, 1.0).log()  # log 1 = 0 where t = 0, so 0 log 0 = 0
        pointwise = t * (log_t - log_q)
    if reduction == "none":
        return pointwise
    total = pointwise.sum()
    if reduction == "sum":
        return total
    n = log_q.size if reduction == "mean" else (log_q.shape[0] if log_q.ndim else 1)
    return total / max(n, 1) if n else total * np.nan


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be a number in [0, 1], got {alpha!r}")
    return float(alpha)


def distillation_loss(
    student_logits: TensorLike,
    teacher_logits: TensorLike,
    target: Any = None,
    temperature: float = 4.0,
    alpha: float = 0.9,
) -> Tensor:
    """Knowledge distillation (Hinton, Vinyals & Dean 2015): the student matches the
    teacher's probabilities at temperature T, mixed with the usual cross-entropy on the
    hard labels.

        loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
               + (1 - alpha) * CE(student, target)

    Both terms are means over the N samples (the KL is ``kl_div(..., 'batchmean')``).
    Classes are on the last axis; logits of shape (N, C).

    Gradient with respect to the student's logits z (per sample, before the 1/N):

        d/dz  T^2 KL = T^2 * (p_student,T - p_teacher,T) / T = T (p_student,T - p_teacher,T)
        d/dz  CE     = p_student - y

    prediction minus (soft) label, twice. Why T^2: softening divides the logits by T, and
    the chain rule divides the gradient by T once more through the difference of two
    softened distributions (for large T, p_s,T - p_t,T ~ (z_s - z_t) / (C T)), so the soft
    term's gradient shrinks like 1/T^2. Multiplying by T^2 keeps its size comparable to the
    hard term's as T changes, so alpha means the same thing at every temperature.

    The teacher is a fixed reference: ``teacher_logits`` is detached (no gradient flows
    into the teacher). ``target``: class indices (or probabilities) as for cross_entropy;
    it may be None only when alpha = 1 (pure distillation, no labels).
    """
    temperature = check_temperature(temperature, "distillation_loss")
    alpha = _check_alpha(alpha)
    student = as_float(student_logits)
    teacher = as_float(teacher_logits).detach()
    if teacher.shape != student.shape:
        raise ValueError(
            f"distillation_loss: teacher_logits has shape {teacher.shape}, but it must have "
            f"student_logits' shape {student.shape}"
        )
    if student.ndim != 2:
        raise ValueError(f"distillation_loss: student_logits must have shape (N, C), got {student.shape}")
    if target is None and alpha != 1.0:
        raise ValueError(
            "distillation_loss: target is None, but alpha < 1 weighs in the hard-label "
            "cross-entropy; pass the class labels, or alpha=1 for pure distillation"
        )
    soft = kl_div(
        log_softmax(student, temperature=temperature),
        log_softmax(teacher, temperature=temperature),
        reduction="batchmean",
        log_target=True,
    )
    loss = (alpha * temperature**2) * soft
    if alpha != 1.0:
        loss = loss + (1.0 - alpha) * cross_entropy(student, target)
    return loss
