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

**Blockwise (``block_size=B``).** The composed path holds the (Lq, Lk) scores and
weights, and its backward a few more arrays of that size. With ``block_size`` set, one
fused op walks the keys B at a time with the online softmax (``minigrad.online_softmax``:
a running max, sum and output per query, rescaled when the max grows), keeps only the
output and each query's logsumexp, and in the backward recomputes each block's weights
from them, using D = rowsum(dO * O) for softmax's row sums. Memory grows like Lq * B;
values and gradients are those of the composed path, to rounding.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import online_softmax as online
from . import ops
from .functional import softmax_family as F
from .grad_mode import is_grad_enabled
from .tensor import Tensor, lift, record

__all__ = ["scaled_dot_product_attention", "causal_mask", "blockwise_attention"]


def causal_mask(n_queries: int, n_keys: int) -> np.ndarray:
    """The (n_queries, n_keys) boolean mask with True where key j <= query i: query i may
    look at positions 0..i only (keys beyond the last query are never visible)."""
    return np.tril(np.ones((n_queries, n_keys), dtype=bool))


def _as_sequence(x: Any, name: str) -> Tensor:
    t = lift(x)
    if t.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: {name} must be floating-point, got dtype {t.dtype}")
    if t.ndim < 2:
        raise ValueError(
            f"scaled_dot_product_attention: {name} must have shape (..., length, features) "
            f"with at least 2 dimensions, got shape {t.shape}"
        )
    return t


def scaled_dot_product_attention(
    q: Any,
    k: Any,
    v: Any,
    mask: Any = None,
    causal: bool = False,
    scale: float | None = None,
    return_weights: bool = False,
    block_size: int | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
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

    ``block_size=None`` (the default) composes the op from matmul, a scale and
    ``F.softmax``, holding the (Lq, Lk) scores and weights. ``block_size=B`` (an int >= 1)
    runs ONE fused op that walks the keys and values B at a time with the online softmax
    (``minigrad.online_softmax``) and never forms an (Lq, Lk) array, forward or backward:
    its memory grows like Lq * B instead of Lq * Lk. Same values and gradients to
    rounding; see ``blockwise_attention``. It cannot give ``return_weights`` (there is no
    weight matrix), and its backward cannot be differentiated again (``create_graph=True``
    through it raises a RuntimeError; use the default path for second derivatives).

    Gradient: that of the composition; masked scores get none. A query with no key to
    attend to gives weights 0, output 0 and gradient 0 (no NaN, forward or backward).
    Float32 inputs give float32 outputs and gradients.
    """
    op_name = "scaled_dot_product_attention"
    q, k, v = _as_sequence(q, "q"), _as_sequence(k, "k"), _as_sequence(v, "v")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"{op_name}: q and k must have the same feature size (last axis), got q {q.shape} and k {k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{op_name}: k and v must hold one row per key (same length on axis -2), got "
            f"k {k.shape} and v {v.shape}"
        )
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op_name}: the batch axes of q {q.shape}, k {k.shape} and v {v.shape} do not broadcast"
        ) from None
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    elif isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ValueError(f"{op_name}: scale must be a finite number (or None for 1/sqrt(d)), got {scale!r}")
    if block_size is not None:
        block_size = _check_block_size(block_size, return_weights, op_name)
        scores_shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])
        user_mask = _check_mask(mask, scores_shape, op_name)
        _check_causal(causal, op_name)
        return blockwise_attention(q, k, v, user_mask, bool(causal), float(scale), block_size)

    scores = (q @ ops.swapaxes(k, -1, -2)) * float(scale)  # python float: float32 stays float32
    allowed = _combined_mask(mask, causal, scores.shape, op_name)
    if allowed is not None and allowed.shape != scores.shape:
        scores = ops.broadcast_to(scores, allowed.shape)  # the mask has extra batch axes
    weights = F.softmax(scores, axis=-1, where=allowed)
    out = weights @ v
    return (out, weights) if return_weights else out


def _check_causal(causal: Any, op_name: str) -> None:
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"{op_name}: causal must be True or False, got {causal!r}")


def _check_mask(mask: Any, shape: tuple[int, ...], op_name: str) -> np.ndarray | None:
    """The user's mask as a boolean array broadcastable to ``shape`` (not broadcast)."""
    if mask is None:
        return None
    allowed = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if allowed.dtype != np.bool_:
        raise TypeError(
            f"{op_name}: mask must be boolean (True where a query may attend to a key), "
            f"got dtype {allowed.dtype}"
        )
    try:
        full = np.broadcast_shapes(allowed.shape, shape)
    except ValueError:
        raise ValueError(
            f"{op_name}: mask has shape {allowed.shape}, which does not broadcast against "
            f"the scores' shape {shape} (..., Lq, Lk)"
        ) from None
    if full[-2:] != shape[-2:]:
        raise ValueError(
            f"{op_name}: mask has shape {allowed.shape}, which would stretch the scores' "
            f"(Lq, Lk) = {shape[-2:]}; expected its last two axes to be 1 or those sizes"
        )
    return allowed


def _check_block_size(block_size: Any, return_weights: Any, op_name: str) -> int:
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(
            f"{op_name}: block_size must be a positive int (keys per block), or None for the "
            f"dense path, got {block_size!r}"
        )
    if return_weights:
        raise ValueError(
            f"{op_name}: return_weights=True needs the (Lq, Lk) weight matrix, which the "
            "blockwise path (block_size set) never forms; use block_size=None"
        )
    return int(block_size)


def _combined_mask(mask: Any, causal: bool, shape: tuple[int, ...], op_name: str) -> np.ndarray | None:
    """``mask`` AND the causal pattern, as a boolean array broadcastable to ``shape``."""
    _check_causal(causal, op_name)
    allowed = _check_mask(mask, shape, op_name)
    if causal:
        pattern = causal_mask(shape[-2], shape[-1])
        allowed = pattern if allowed is None else allowed & pattern
    if allowed is None:
        return None
    return np.broadcast_to(allowed, np.broadcast_shapes(allowed.shape, shape))


# ====================================================================== blockwise


def _block_scores(
    q: np.ndarray, k_blk: np.ndarray, start: int, mask: np.ndarray | None, causal: bool, scale: float
) -> np.ndarray:
    """The scores of every query against keys start..start+B-1, ``q k_blk^T * scale``,
    with the entries a query may not attend to set to -inf (exp gives them weight 0).
    Only the block's slice of the mask and of the causal pattern is ever formed."""
    s = q @ np.swapaxes(k_blk, -1, -2)
    s *= scale
    stop = start + k_blk.shape[-2]
    allowed = None
    if mask is not None:
        allowed = mask if mask.ndim == 0 or mask.shape[-1] == 1 else mask[..., start:stop]
    if causal:
        keys, queries = np.arange(start, stop), np.arange(q.shape[-2])
        pattern = keys[None, :] <= queries[:, None]  # key j <= query i
        allowed = pattern if allowed is None else allowed & pattern
    return s if allowed is None else np.where(allowed, s, -np.inf).astype(s.dtype, copy=False)


def _blockwise_forward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None,
    causal: bool,
    scale: float,
    block: int,
    batch: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk the key blocks, keeping per query the running max m, sum s and (unnormalised)
    output acc; each block's contribution is moved onto the new max by ``rescale``::

        m_b, s_b = max and sum of exp(S_b - m_b)     P_b = exp(S_b - m_b)
        m, c, c_b = rescale(m, m_b)
        s   = s c + s_b c_b
        acc = acc c + (P_b v_b) c_b

    Returns out = acc / s (0 for a query with no key) and the per-query logsumexp
    L = m + log s as its two terms, m and log s (both 0 for a query with no key, whose
    scores are all -inf: exp(-inf - 0) = 0). Why not their sum: in float32 a score of
    1e5 has neighbours 0.008 apart, so m + log s would round log s to that spacing, and
    every recomputed weight exp(S - L) would be off by up to 0.4%; S - m is exact for
    the largest score and then log s (between 0 and log Lk) is subtracted at full
    precision."""
    lq, dtype = q.shape[-2], q.dtype
    m = np.full(batch + (lq, 1), -np.inf, dtype=dtype)
    s = np.zeros(batch + (lq, 1), dtype=dtype)
    acc = np.zeros(batch + (lq, v.shape[-1]), dtype=dtype)
    for start in range(0, k.shape[-2], block):
        scores = _block_scores(q, k[..., start : start + block, :], start, mask, causal, scale)
        m_b, s_b = online.block_max_and_sum(scores)
        p = np.exp(scores - np.where(np.isneginf(m_b), 0.0, m_b), out=scores)  # (reuses scores)
        m, c, c_b = online.rescale(m, m_b)
        s = s * c + s_b * c_b
        acc *= c
        acc += (p @ v[..., start : start + block, :]) * c_b
    empty = s == 0  # a query with no key to attend to
    out = acc / np.where(empty, 1.0, s)  # 0 / 1 = 0
    m[empty], s[empty] = 0.0, 1.0  # log 1 = 0
    return out.astype(dtype, copy=False), m, np.log(s)


def blockwise_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray | None, causal: bool, scale: float, block_size: int
) -> Tensor:
    """Attention as one fused op over key blocks of ``block_size`` (arguments already
    checked by ``scaled_dot_product_attention``, which is the function to call).

    Forward: the online softmax over the key blocks (see ``_blockwise_forward``). Saved
    for the backward: only the output O and the per-query logsumexp L = m + log s (as
    its two terms m and log s, for precision: see ``_blockwise_forward``).

    Backward, by recomputation. With P = exp(S - L) the weights and dO the gradient of O,
    the dense rules are dV = P^T dO, dP = dO V^T, dS = P * (dP - D), dQ = dS K * scale,
    dK = dS^T Q * scale, where D_i = sum_j P_ij dP_ij is the softmax backward's row sum.
    Every one of them is a sum over key blocks, or local to one block, once D is known,
    and D needs no P at all::

        D_i = sum_j P_ij (dO_i . V_j) = dO_i . (sum_j P_ij V_j) = dO_i . O_i

    so D = rowsum(dO * O), from the saved output. Each block's P_b = exp(S_b - L) is then
    recomputed from its scores and the saved L, used, and dropped: exactly the weights of
    the forward pass, since P_ij = exp(S_ij - m_i) / s_i = exp(S_ij - L_i).
    """
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    qd, kd, vd = (t.data.astype(dtype, copy=False) for t in (q, k, v))
    batch = np.broadcast_shapes(
        q.shape[:-2], k.shape[:-2], v.shape[:-2], () if mask is None else mask.shape[:-2]
    )
    out, m, log_s = _blockwise_forward(qd, kd, vd, mask, causal, scale, block_size, batch)

    def backward(g: Tensor, out: Tensor) -> tuple:
        if is_grad_enabled():
            raise RuntimeError(
                "scaled_dot_product_attention with block_size set has a fused backward "
                "written in numpy, which cannot be differentiated again "
                "(create_graph=True); use block_size=None for second derivatives"
            )
        do = g.data.astype(dtype, copy=False)
        d = np.sum(do * out.data, axis=-1, keepdims=True)  # D = rowsum(dO * O)
        dq = np.zeros(batch + qd.shape[-2:], dtype=dtype)
        dk = np.zeros(batch + kd.shape[-2:], dtype=dtype)
        dv = np.zeros(batch + vd.shape[-2:], dtype=dtype)
        for start in range(0, kd.shape[-2], block_size):
            k_b, v_b = kd[..., start : start + block_size, :], vd[..., start : start + block_size, :]
            scores = _block_scores(qd, k_b, start, mask, causal, scale)
            scores -= m
            scores -= log_s
            p = np.exp(scores, out=scores)  # the weights P_b = exp(S_b - L), recomputed
            dv[..., start : start + block_size, :] = np.swapaxes(p, -1, -2) @ do
            ds = do @ np.swapaxes(v_b, -1, -2)  # dP_b
            ds -= d
            ds *= p  # dS_b = P_b * (dP_b - D)
            ds *= scale  # (the scale of S = Q K^T * scale, once for both dQ and dK)
            dq += ds @ k_b
            dk[..., start : start + block_size, :] = np.swapaxes(ds, -1, -2) @ qd
        return Tensor._wrap(dq), Tensor._wrap(dk), Tensor._wrap(dv)

    return record(out, (q, k, v), "blockwise_attention", backward)
