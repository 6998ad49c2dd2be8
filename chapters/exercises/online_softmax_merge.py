"""Exercise (chapter 13): the online softmax's merge rule.

A part of a row of logits is summarised by a pair (m, s): its maximum m and the sum
s = sum_i exp(x_i - m) over its entries. Two disjoint parts merge into the pair of
their union with

    m = max(m1, m2)
    s = s1 exp(m1 - m) + s2 exp(m2 - m)

and the log-sum-exp of everything seen is m + log s. An empty part (no entries, or
only -inf ones) has the pair (-inf, 0); merging two of those must give (-inf, 0), not
nan: where m is -inf, take both factors exp(m_i - m) as 0.

Work with numpy arrays (the pairs of several rows at once) and never form exp(m) or
exp(x) unshifted: logits of size 1e4 must stay finite.

Grade it with:  python chapters/exercises/grade.py online_softmax_merge
"""

from __future__ import annotations

import numpy as np


def merge(m1: np.ndarray, s1: np.ndarray, m2: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pair (m, s) of the union of two disjoint parts with pairs (m1, s1) and (m2, s2),
    elementwise over arrays of the same shape: m = max(m1, m2),
    s = s1 exp(m1 - m) + s2 exp(m2 - m), with exp(-inf - -inf) taken as 0."""
    raise NotImplementedError("TODO: the common maximum, then rescale both sums onto it and add them")


def logsumexp_of_blocks(blocks: list[np.ndarray]) -> np.ndarray:
    """log sum exp along the last axis of the concatenation of ``blocks`` (arrays of shape
    (rows, n_b)), reading each block once: start from the empty pair (-inf, 0), merge in
    each block's own pair (its row max m_b, and s_b = sum exp(x - m_b), 0 for an all -inf
    row), and return m + log s, shape (rows,)."""
    raise NotImplementedError("TODO: fold the blocks' pairs with merge, then return m + log s")
