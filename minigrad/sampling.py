"""Drawing tokens from softmax: temperature, top-k, top-p (nucleus) and the Gumbel-max trick.

A language model ends in logits ``z`` over a vocabulary of ``V`` tokens; softmax turns them
into a distribution, and generating text means *sampling* from it, one token at a time.
Three knobs reshape that distribution first, applied in this order (the order Hugging Face
transformers' ``generate`` uses: temperature, then top-k, then top-p):

* **temperature** ``T > 0``: sample from ``softmax(z / T)``. ``T < 1`` sharpens the
  distribution (``T -> 0`` puts all the mass on the argmax), ``T > 1`` flattens it
  (``T -> inf`` tends to uniform). ``T = 0`` is not a temperature: for greedy decoding
  (the ``T -> 0`` limit) take ``logits.argmax(axis=-1)``. Temperature is checked, and
  divided in, by ``F.log_softmax``, so bad values raise the same errors as in ``F``.
* **top-k**: keep the ``k`` largest logits, and every logit *equal* to the k-th largest
  (ties at the boundary are kept, so more than ``k`` tokens may survive).
* **top-p** (nucleus): keep the smallest set of most probable tokens whose probabilities
  add up to at least ``p``. A token is kept iff the mass of the tokens ranked above it is
  ``< p``: the token that crosses ``p`` is kept, the one after a sum of exactly ``p`` is
  not, and the most probable token is always kept. It is computed on the distribution
  left after temperature and top-k (renormalised).

Everything here works on the last axis, so logits may be one row ``(V,)`` or a batch
``(..., V)``. Sampling is not differentiable: minigrad Tensors are accepted, but only their
``.data`` is read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from ._seed import make_rng
from .autograd import no_grad
from .tensor import Tensor

__all__ = ["filter_logits", "probabilities", "sample", "gumbel_max_sample"]


# ---------------------------------------------------------------- checks


def _as_logits(logits: Any) -> np.ndarray:
    """A floating-point array of logits with a non-empty last (vocabulary) axis, no NaN or
    +inf, and at least one finite logit per row (-inf marks a token that can't be drawn)."""
    x = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"logits must be numeric, got dtype {x.dtype}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if x.ndim == 0:
        raise ValueError("logits must have at least one dimension (the vocabulary axis), got a scalar")
    if x.size == 0:
        raise ValueError(f"logits is empty (shape {x.shape}): there is nothing to sample from")
    if np.isnan(x).any():
        raise ValueError("logits contain NaN")
    if np.isposinf(x).any():
        raise ValueError("logits contain +inf; use finite values (and -inf to mask a token out)")
    if not np.isfinite(x).any(axis=-1).all():
        raise ValueError("a row of logits is all -inf (every token masked out): there is nothing to sample")
    return x


def _check_top_k(top_k: Any) -> int | None:
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)):
        raise TypeError(f"top_k must be a positive integer or None, got {top_k!r}")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1 (or None to keep every token), got {top_k}")
    return int(top_k)


def _check_top_p(top_p: Any) -> float | None:
    if top_p is None:
        return None
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float, np.integer, np.floating)):
        raise TypeError(f"top_p must be a number in (0, 1] or None, got {top_p!r}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1] (1 keeps every token), got {top_p}")
    return float(top_p)


def _size(size: Any) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(n) for n in size)


def _result(indices: np.ndarray) -> np.ndarray | int:
    """One draw from one row comes back as a plain int; anything else as an int64 array."""
    indices = indices.astype(np.int64)
    return int(indices) if indices.ndim == 0 else indices


# ---------------------------------------------------------------- the pieces


def _softmax(x: np.ndarray) -> np.ndarray:
    """softmax over the last axis: ``F.softmax``, the library's one softmax (it shifts by
    the row max, so exp never overflows; exp(-inf) = 0 drops masked tokens)."""
    with no_grad():
        return F.softmax(Tensor(x), axis=-1).data


def _tempered(x: np.ndarray, temperature: Any) -> np.ndarray:
    """log softmax(z / T) over the last axis, by ``F.log_softmax``: its temperature check
    (the same errors as every softmax), and its shift by the row max *before* dividing by
    T, so a tiny T sends the other logits towards -inf instead of overflowing the largest.
    It differs from z / T by one constant per row, so top-k and top-p filter it exactly as
    they would filter z / T, and its softmax is softmax(z / T)."""
    with no_grad():
        return F.log_softmax(Tensor(x), axis=-1, temperature=temperature).data


def _filter(x: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    vocab = x.shape[-1]
    if top_k is not None and top_k < vocab:
        # the k-th largest value of each row; everything >= it stays, so ties at the boundary stay
        kth = np.partition(x, vocab - top_k, axis=-1)[..., vocab - top_k : vocab - top_k + 1]
        x = np.where(x >= kth, x, -np.inf)
    if top_p is not None and top_p < 1.0:
        p = _softmax(x)  # renormalised over what top-k left
        order = np.argsort(-x, axis=-1, kind="stable")  # most probable first; equal ones by index
        sorted_p = np.take_along_axis(p, order, axis=-1)
        # mass strictly above each token, summed directly (not cumsum - p, which rounds)
        above = np.zeros_like(sorted_p)
        above[..., 1:] = np.cumsum(sorted_p[..., :-1], axis=-1)
        keep = np.empty(x.shape, dtype=bool)
        np.put_along_axis(keep, order, above < top_p, axis=-1)  # the first token has 0 < p above it
        x = np.where(keep, x, -np.inf)
    return x


# ---------------------------------------------------------------- public API


def filter_logits(logits: Any, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """The logits with ``-inf`` outside the kept set, same shape and dtype (a copy).

    top-k runs first: it keeps every logit ``>= the k-th largest`` of its row (so ties at the
    boundary all stay; ``k >= V`` keeps everything). top-p then runs on softmax of what is
    left: sorting tokens by probability, token ``i`` stays iff ``sum of p_j ranked above i < p``,
    i.e. the smallest set of top tokens whose mass reaches ``p`` (``p = 1`` keeps all).
    Tokens with equal probability are ranked by index, lowest first.

    Temperature is not applied here: pass ``logits / T`` yourself, or use ``probabilities``.
    """
    return _filter(_as_logits(logits), _check_top_k(top_k), _check_top_p(top_p))


def probabilities(
    logits: Any, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> np.ndarray:
    """The distribution ``sample`` draws from, over the last axis::

        q = softmax(filter_logits(z / T, top_k, top_p))

    i.e. ``softmax(z / T)`` restricted to the kept tokens and renormalised (``q_i = 0``
    outside). Floating dtypes are kept (float32 in, float32 out); stays finite for logits
    of any finite magnitude because the row max is subtracted before ``exp``.
    """
    x = _tempered(_as_logits(logits), temperature)
    return _softmax(_filter(x, _check_top_k(top_k), _check_top_p(top_p)))


def sample(
    logits: Any,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | int | None = None,
    size: int | tuple[int, ...] | None = None,
) -> np.ndarray | int:
    """Draw token indices ``i ~ q = probabilities(logits, temperature, top_k, top_p)``.

    By inversion: with ``u ~ Uniform[0, 1)``, the drawn index is the number of entries of
    the cumulative sum ``c_i = q_0 + ... + q_i`` that are ``<= u``, i.e. the ``i`` with
    ``c_{i-1} <= u < c_i``, which happens with probability ``c_i - c_{i-1} = q_i``.

    ``rng``: a ``numpy.random.Generator``, or an integer seed >= 0 (same seed, same draws),
    or None for fresh entropy; anything else raises. ``size``: None for one draw per row,
    or the shape of independent draws: the result has shape ``size + logits.shape[:-1]``.
    One draw from a 1-D row is returned as a Python int, everything else as an int64 array.
    """
    gen = make_rng(rng, "sample: rng")
    q = probabilities(logits, temperature, top_k, top_p).astype(np.float64)
    batch = q.shape[:-1]
    cdf = np.cumsum(q, axis=-1)
    # scale u by the row total so a total that rounded to 1 - 1e-16 can't be overshot
    u = gen.random(_size(size) + batch + (1,)) * cdf[..., -1:]
    idx = (cdf <= u).sum(axis=-1)
    # u * total may still round up to the total: fall back to the last token that can be drawn
    last_possible = q.shape[-1] - 1 - np.argmax(q[..., ::-1] > 0, axis=-1)
    return _result(np.minimum(idx, last_possible))


def gumbel_max_sample(
    logits: Any,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | int | None = None,
    size: int | tuple[int, ...] | None = None,
) -> np.ndarray | int:
    """The Gumbel-max trick: a second route to the same distribution as ``sample``::

        i = argmax_j ( z_j / T + g_j ),   g_j = -log(-log(U_j)),  U_j ~ Uniform(0, 1) i.i.d.

    ``g_j`` is standard Gumbel: P(g <= x) = exp(-exp(-x)). Then
    ``P(argmax = i) = exp(z_i/T) / sum_j exp(z_j/T) = softmax(z / T)_i``: adding independent
    Gumbel noise and taking the argmax *is* sampling from softmax, with no normalising sum
    and no cumulative sum. Filtered tokens are ``-inf`` and so never win. Arguments and
    result shape as for ``sample``; the noise comes from ``rng`` in a different order, so
    the two samplers agree in distribution, not draw by draw.
    """
    x = _tempered(_as_logits(logits), temperature)
    z = _filter(x, _check_top_k(top_k), _check_top_p(top_p))
    gen = make_rng(rng, "gumbel_max_sample: rng")
    # U in [tiny, 1): never 0 or 1, so both logs stay finite
    u = gen.uniform(np.finfo(np.float64).tiny, 1.0, size=_size(size) + x.shape)
    gumbel = -np.log(-np.log(u))
    return _result(np.argmax(z + gumbel, axis=-1))
