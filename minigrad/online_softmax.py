"""The online softmax: the max trick, one block at a time.

``logsumexp(x) = m + log sum_i exp(x_i - m)`` with m = max(x) needs the maximum *before*
the sum. The online softmax (Milakov and Gimelshein, 2018) needs neither the whole of x
nor two passes over it: it reads x one block at a time and keeps only a pair

    (m, s)   with   m = max of the entries seen so far,
                    s = sum over them of exp(x_i - m),

so that the sum of exp over everything seen is ``s exp(m)`` and ``logsumexp = m + log s``.
Two pairs, from two disjoint parts of the data, merge into the pair of their union::

    m = max(m1, m2)
    s = s1 exp(m1 - m) + s2 exp(m2 - m)

This is exact, not an approximation: s1 exp(m1) = sum_A exp(x_i), so
s1 exp(m1 - m) = sum_A exp(x_i - m), and adding the same for part B gives the sum over
A and B shifted by their common maximum. Both factors exp(m_i - m) are <= 1 (m is the
larger), so rescaling never overflows, and the one equal to exp(0) = 1 keeps s >= 1.

**Empty parts.** A part whose entries are all -inf (or that has no entries) has nothing
to add: its pair is (m, s) = (-inf, 0). Merging two of them would ask for
exp(-inf - -inf) = exp(nan); we define that factor as 0 (``s`` stays 0), so the pair of
an all -inf stream is (-inf, 0) and its logsumexp is -inf + log 0 = -inf, never nan.

The merge is associative and commutative (the maximum is; and the sum of exp(x_i - m)
over a union does not depend on the order it is gathered in), so blocks may be merged
in any order or as a tree, up to rounding. Logits must be finite or -inf; +inf and nan
are not supported (their pairs are nan).

``minigrad.attention`` uses ``rescale`` to walk key blocks in its blockwise
(``block_size=``) path. These functions work on numpy arrays: they are the algorithm,
not graph ops.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["block_max_and_sum", "rescale", "merge", "online_logsumexp", "online_softmax"]


def _shift(m: np.ndarray) -> np.ndarray:
    """m, with the -inf entries (empty parts) replaced by 0: the shift to subtract.
    An empty part's entries are all -inf, and exp(-inf - 0) = 0 is the right weight."""
    return np.where(np.isneginf(m), 0.0, m).astype(m.dtype, copy=False)


def block_max_and_sum(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """The pair of one block: ``m = max(x)`` and ``s = sum(exp(x - m))`` along ``axis``
    (kept, with length 1). An all -inf (or empty) slice gives (-inf, 0)."""
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    s = np.exp(x - _shift(m)).sum(axis=axis, keepdims=True)
    return m, s


def rescale(m1: np.ndarray, m2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The common maximum ``m = max(m1, m2)`` and the factors ``exp(m1 - m)`` and
    ``exp(m2 - m)`` (each in [0, 1]) that move a sum taken relative to m1 or m2 onto m.
    Where both are -inf, both factors are 0 (not exp(nan)): empty parts stay empty."""
    m = np.maximum(m1, m2)
    shift = _shift(m)
    return m, np.exp(m1 - shift), np.exp(m2 - shift)


def merge(m1: np.ndarray, s1: np.ndarray, m2: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge the pairs of two disjoint parts: ``m = max(m1, m2)``,
    ``s = s1 exp(m1 - m) + s2 exp(m2 - m)``."""
    m, c1, c2 = rescale(m1, m2)
    return m, s1 * c1 + s2 * c2


def _fold(blocks: Iterable[np.ndarray], axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Fold a stream of blocks into one pair, starting from the empty pair (-inf, 0)."""
    pair: tuple[np.ndarray, np.ndarray] | None = None
    for block in blocks:
        mb, sb = block_max_and_sum(block, axis)
        pair = (mb, sb) if pair is None else merge(*pair, mb, sb)
    if pair is None:
        raise ValueError("online_logsumexp: got no blocks (expected at least one array)")
    return pair


def online_logsumexp(blocks: Iterable[np.ndarray], axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log sum exp`` along ``axis`` of the concatenation of ``blocks`` (all of the same
    shape except along ``axis``), reading each block once: fold the blocks' pairs with
    ``merge``, then ``logsumexp = m + log s``. Equals ``F.logsumexp`` of the whole to
    rounding; an all -inf slice gives -inf."""
    m, s = _fold(blocks, axis)
    with np.errstate(divide="ignore"):  # log 0 = -inf: the answer for an all -inf slice
        out = m + np.log(s)
    return out if keepdims else np.squeeze(out, axis=axis)


def online_softmax(blocks: Iterable[np.ndarray], axis: int = -1) -> list[np.ndarray]:
    """softmax along ``axis`` of the concatenation of ``blocks``, returned block by block:
    one pass to fold (m, s), a second to form ``exp(x - m) / s`` for each block. An all
    -inf slice gives zeros (the fully masked rule of ``F.softmax``)."""
    blocks = [np.asarray(b) for b in blocks]
    m, s = _fold(blocks, axis)
    total = np.where(s > 0, s, 1.0)  # an all -inf slice: 0 / 1 = 0, not 0 / 0
    return [np.exp(b - _shift(m)) / total for b in blocks]
