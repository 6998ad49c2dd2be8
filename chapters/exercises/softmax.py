"""Exercise: softmax, forward and backward.

Chapter 4 derives softmax, its max trick and its Jacobian, diag(p) - p p^T; chapter 3
shows why a gradient check must weight the outputs randomly. Grade your work with

    python chapters/exercises/grade.py softmax
"""

from __future__ import annotations

import numpy as np


def softmax_forward(z: np.ndarray) -> np.ndarray:
    """p = softmax(z) along the LAST axis:  p_i = exp(z_i) / sum_j exp(z_j).

    ``z`` has shape (..., C) (one row of C scores per example); ``p`` has the same shape
    and dtype, and each row sums to 1. Subtract each row's max before exp(): softmax
    does not change when every score of a row moves by the same amount, and then no
    exp() can overflow, so scores of size 1e4 work in float32 and float64. (Use
    ``axis=-1, keepdims=True`` for the row max and the row sum.)
    """
    raise NotImplementedError("TODO: softmax_forward, with the max trick")


def softmax_backward(p: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The vector-Jacobian product of softmax, row by row.

    Given ``p`` = softmax(z) and ``g`` = dL/dp (same shape), return dL/dz:

        dL/dz_j = sum_i g_i dp_i/dz_j = sum_i g_i p_i (delta_ij - p_j) = p_j (g_j - sum_i g_i p_i)

    without building the C x C Jacobian. The sum over i runs within each row.
    """
    raise NotImplementedError("TODO: softmax_backward, the vector-Jacobian product")
