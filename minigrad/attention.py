"""Scaled dot-product attention: softmax used to *look things up*.

Each query asks "which of the keys look like me?" and gets back a weighted average of the
values, weighted by a softmax over the keys::

    scores  = q k^T / sqrt(d)                 (..., Lq, Lk)   one score per (query, key)
    weights = softmax(scores, axis=-1)        each row sums to 1 over the keys
    out     = weights v                       (..., Lq, dv)   a mix of the values

It is a soft, differentiable dictionary look-up: as the scores of one key grow, its weight
tends to 1 and ``out`` to that key's value. Why divide by sqrt(d)? For q and k with
independent entries of variance 1, q . k has variance d; dividing keeps the scores, and so
the softmax's sharpness, independent of the width d.

Nothing here has its own backward rule: attention is composed of matmul, a scale and
``F.softmax``, so its gradient is theirs, and softmax's part is the familiar
``p * (g - sum(g * p))``.

**Masks.** ``mask`` is boolean and True means "this query may attend to this key". Masked
keys are left out of the softmax (their weight is exactly 0, not merely tiny), which is
what ``F.softmax``'s ``where`` does. A query whose keys are *all* masked (a padding
query, say) gets zero weights, a zero output and a zero gradient, never NaN: the fully
masked slice rule of ``F.softmax``. ``causal=True`` adds the mask j <= i (query i sees
keys 0..i), as in a language model that must not peek at the future.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import ops
from .functional import softmax_family as F
from .tensor import Tensor, lift

__all__ = ["scaled_dot_product_attention", "causal_mask"]


def causal_mask(n_queries: int, n_keys: int) -> np.ndarray:
    """The (n_queries, n_keys) boolean mask with True where key j <= query i: query i may
    look at positions 0..i only (keys beyond the last query are never visible)."""
    return np.tril(np.ones((n_queries, n_keys), dtype=bool))


def _as_sequence(x: Any, name: str) -> Tensor:
    t = lift(x)
    if t.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: {name} must be floating-point, got dtype {t.dtype}")
    if t.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: {name} must have shape (..., length, features) "
                         f"with at least 2 dimensions, got shape {t.shape}")
    return t


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None, causal: bool = False,
                                 scale: float | None = None,
                                 return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """``softmax(q k^T / sqrt(d), where=mask) v`` over the last two axes.

    Shapes: ``q`` (..., Lq, d), ``k`` (..., Lk, d), ``v`` (..., Lk, dv); the leading
    (batch, head, ...) axes broadcast as in ``matmul``. Returns ``out`` (..., Lq, dv), and
    with ``return_weights=True`` the pair ``(out, weights)``, weights (..., Lq, Lk) (to
    draw them; they are part of the graph).

    ``mask``: boolean, broadcastable against the scores' shape (..., Lq, Lk), True where
    the query may attend to the key: (Lk,) masks padded keys for every query, (Lq, Lk) is
    a pattern shared by the batch, (B, 1, Lk) a per-example key mask. A mask with more
    leading axes than q and k broadcasts the result too. ``causal=True``: query i attends
    to keys j <= i only (combined with ``mask`` by AND). ``scale`` replaces 1/sqrt(d).

    Gradient: that of the composition; masked scores get none. A query with no key to
    attend to gives weights 0, output 0 and gradient 0 (no NaN, forward or backward).
    Float32 inputs give float32 outputs and gradients.
    """
    who = "scaled_dot_product_attention"
    q, k, v = _as_sequence(q, "q"), _as_sequence(k, "k"), _as_sequence(v, "v")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{who}: q and k must have the same feature size (last axis), got q {q.shape} "
                         f"and k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{who}: k and v must hold one row per key (same length on axis -2), got "
                         f"k {k.shape} and v {v.shape}")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{who}: the batch axes of q {q.shape}, k {k.shape} and v {v.shape} do not "
                         "broadcast") from None
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    elif isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ValueError(f"{who}: scale must be a finite number (or None for 1/sqrt(d)), got {scale!r}")

    scores = (q @ ops.swapaxes(k, -1, -2)) * float(scale)  # python float: float32 stays float32
    allowed = _combined_mask(mask, causal, scores.shape, who)
    if allowed is not None and allowed.shape != scores.shape:
        scores = ops.broadcast_to(scores, allowed.shape)  # the mask has extra batch axes
    weights = F.softmax(scores, axis=-1, where=allowed)
    out = weights @ v
    return (out, weights) if return_weights else out


def _combined_mask(mask: Any, causal: bool, shape: tuple[int, ...], who: str) -> np.ndarray | None:
    """``mask`` AND the causal pattern, as a boolean array broadcastable to ``shape``."""
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"{who}: causal must be True or False, got {causal!r}")
    allowed = None
    if mask is not None:
        allowed = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if allowed.dtype != np.bool_:
            raise TypeError(f"{who}: mask must be boolean (True where a query may attend to a key), "
                            f"got dtype {allowed.dtype}")
        try:
            full = np.broadcast_shapes(allowed.shape, shape)
        except ValueError:
            raise ValueError(f"{who}: mask has shape {allowed.shape}, which does not broadcast against "
                             f"the scores' shape {shape} (..., Lq, Lk)") from None
        if full[-2:] != shape[-2:]:
            raise ValueError(f"{who}: mask has shape {allowed.shape}, which would stretch the scores' "
                             f"(Lq, Lk) = {shape[-2:]}; expected its last two axes to be 1 or those sizes")
    if causal:
        pattern = causal_mask(shape[-2], shape[-1])
        allowed = pattern if allowed is None else allowed & pattern
    if allowed is None:
        return None
    return np.broadcast_to(allowed, np.broadcast_shapes(allowed.shape, shape))
