"""Exercise: log-softmax by the max trick, forward and backward.

Chapter 5 derives log_softmax(z) = z - logsumexp(z), the max trick that keeps it finite,
and its Jacobian I - 1 p^T. Grade your work with

    python chapters/exercises/grade.py log_softmax
"""

from __future__ import annotations

import numpy as np


def log_softmax_forward(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the LAST axis, computed in log space:

        log p_i = z_i - logsumexp(z),   logsumexp(z) = m + log(sum_j exp(z_j - m)),  m = max_j z_j

    Do NOT take log(softmax(z)): a probability that underflows to 0 gives log(0) = -inf,
    although its log is a perfectly ordinary number like -1000. Do not drop the max
    either: exp(1e4) overflows. ``z`` has shape (..., C); keep its shape and dtype.
    """
    raise NotImplementedError("TODO: log_softmax_forward, by the max trick")


def log_softmax_backward(log_p: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The vector-Jacobian product of log-softmax, row by row.

    Given ``log_p`` = log_softmax(z) and ``g`` = dL/d(log p) (same shape), return dL/dz.
    From d log p_i / dz_j = delta_ij - p_j:

        dL/dz_j = sum_i g_i (delta_ij - p_j) = g_j - p_j sum_i g_i,   with p = exp(log_p)
    """
    raise NotImplementedError("TODO: log_softmax_backward")
