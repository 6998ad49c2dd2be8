"""gumbel_softmax: a differentiable stand-in for drawing a category."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .checks import TensorLike, as_float, check_axis
from .softmax_family import softmax


def _check_tau(tau: Any) -> float:
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not math.isfinite(tau) or tau <= 0:
        raise ValueError(f"gumbel_softmax: tau must be a finite number > 0, got {tau!r}")
    return float(tau)


def _generator(rng: Any) -> np.random.Generator:
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"gumbel_softmax: rng must be an int seed >= 0, a numpy.random.Generator or None, got {rng!r}"
    )


def gumbel_softmax(
    logits: TensorLike,
    tau: float = 1.0,
    hard: bool = False,
    axis: int = -1,
    rng: np.random.Generator | int | None = None,
) -> Tensor:
    """A sample from the Gumbel-softmax (Concrete) distribution over ``axis``: a point of
    the probability simplex near a one-hot vector, differentiable in ``logits``.

        g_i ~ Gumbel(0, 1), independent: g_i = -log(-log u_i), u_i ~ Uniform(0, 1)
        y   = softmax((logits + g) / tau)

    The Gumbel-max trick says that argmax_i (logits_i + g_i) is a draw from
    softmax(logits); replacing the argmax by a softmax at temperature tau gives y, which
    tends to that one-hot draw as tau -> 0, and is a smooth function of the logits for
    any tau > 0 (the noise g does not depend on them: the *reparameterisation trick*).
    Small tau: nearly one-hot samples, but high-variance gradients; large tau: smooth,
    biased towards the uniform vector.

    ``hard=True`` returns the one-hot vector of argmax y in the forward pass, with the
    gradient of the soft y (the *straight-through* estimator): computed as
    ``y_hard - y.detach() + y``, whose value is y_hard and whose gradient is y's.

    ``rng``: an int seed, a ``numpy.random.Generator`` (advanced by the draw) or None
    (fresh entropy). The noise has the logits' dtype.
    """
    tau = _check_tau(tau)
    if not isinstance(hard, (bool, np.bool_)):
        raise ValueError(f"gumbel_softmax: hard must be True or False, got {hard!r}")
    gen = _generator(rng)
    x = as_float(logits)
    axis = check_axis(axis, x.ndim, "gumbel_softmax")
    # -log E with E ~ Exp(1) is Gumbel(0, 1): the same as -log(-log u), as -log u ~ Exp(1)
    g = -np.log(gen.standard_exponential(x.shape)).astype(x.dtype)
    y = softmax(x + g, axis=axis, temperature=tau)
    if not hard:
        return y
    one_hot = np.zeros_like(y.data)
    np.put_along_axis(one_hot, np.expand_dims(np.argmax(y.data, axis=axis), axis), 1.0, axis=axis)
    return ops.add(y - y.detach(), one_hot)  # value: one_hot; gradient: y's
