"""Reference solution of the exercise ``online_softmax_merge`` (chapter 13)."""

from __future__ import annotations

import numpy as np


def merge(m1: np.ndarray, s1: np.ndarray, m2: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pair (m, s) of the union of two disjoint parts with pairs (m1, s1) and (m2, s2),
    elementwise over arrays of the same shape: m = max(m1, m2),
    s = s1 exp(m1 - m) + s2 exp(m2 - m), with exp(-inf - -inf) taken as 0."""
    m = np.maximum(m1, m2)
    shift = np.where(np.isneginf(m), 0.0, m)  # both parts empty: exp(-inf - 0) = 0, not exp(nan)
    return m, s1 * np.exp(m1 - shift) + s2 * np.exp(m2 - shift)


def logsumexp_of_blocks(blocks: list[np.ndarray]) -> np.ndarray:
    """log sum exp along the last axis of the concatenation of ``blocks`` (arrays of shape
    (rows, n_b)), reading each block once: start from the empty pair (-inf, 0), merge in
    each block's own pair (its row max m_b, and s_b = sum exp(x - m_b), 0 for an all -inf
    row), and return m + log s, shape (rows,)."""
    rows = blocks[0].shape[0]
    m, s = np.full(rows, -np.inf), np.zeros(rows)
    for x in blocks:
        m_b = np.max(x, axis=-1, initial=-np.inf)
        shift = np.where(np.isneginf(m_b), 0.0, m_b)
        s_b = np.exp(x - shift[:, None]).sum(axis=-1)
        m, s = merge(m, s, m_b, s_b)
    with np.errstate(divide="ignore"):  # an all -inf row: log 0 = -inf
        return m + np.log(s)
