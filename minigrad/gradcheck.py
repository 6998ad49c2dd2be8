"""Checking gradients against finite differences, and Jacobians and Hessians.

``gradcheck`` differentiates ``sum(w * fn(*inputs))`` with *random* weights ``w``. A plain
``sum(fn(x))`` is blind to a whole class of bugs: softmax's outputs always sum to 1, so
the gradient of their plain sum is 0 whether softmax's backward is right or wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import grad as _grad
from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def _as_float64_inputs(inputs: Any) -> list:
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    out = []
    for x in items:
        if isinstance(x, Tensor) and x.requires_grad:
            out.append(Tensor(x.data.astype(np.float64), requires_grad=True))
        else:
            out.append(x)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in out):
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    return out


def _outputs(result: Any) -> list[Tensor]:
    outs = list(result) if isinstance(result, (list, tuple)) else [result]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):  # e.g. a function that computed with .data or numpy
            which = f"output {i}" if isinstance(result, (list, tuple)) else "result"
            raise TypeError(
                f"gradcheck: the function must return a Tensor (or a list or tuple of "
                f"Tensors); its {which} is a {type(o).__name__}, which carries no "
                "gradient (did it compute with .data or numpy functions?)"
            )
    return outs


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare minigrad's gradient of ``sum(w * fn(*inputs))`` (random ``w``, drawn with
    ``seed``) with central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, in float64,
    for every input tensor that requires grad. Returns True, or raises ``GradcheckError``
    naming the input, its worst element and both values; the test per element is
    ``|analytic - numerical| <= atol + rtol * |numerical|``."""
    xs = _as_float64_inputs(inputs)
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*xs))
    weights = [rng.standard_normal(o.shape) for o in outs]

    def objective() -> float:
        with no_grad():
            return float(
                sum(np.sum(w * np.asarray(o, dtype=np.float64)) for w, o in zip(weights, _outputs(fn(*xs))))
            )

    total: Tensor = sum(((o * Tensor(w)).sum() for o, w in zip(outs, weights)), Tensor(0.0))
    checked = [(k, x) for k, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    tensors = [x for _, x in checked]
    analytic = _grad(total, tensors) if total.requires_grad else [Tensor(x.data * 0) for x in tensors]
    for (k, x), g in zip(checked, analytic):  # k: the position in `inputs`, for the message
        ga = np.asarray(g, dtype=np.float64)
        if ga.shape != x.shape:
            raise GradcheckError(
                f"gradcheck: the gradient of input {k} has shape {ga.shape}, expected {x.shape}"
            )
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = objective()
            flat[i] = original - eps
            minus = objective()
            flat[i] = original
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        excess = np.abs(ga - numeric) - (atol + rtol * np.abs(numeric))
        if np.any(np.isnan(excess) | (excess > 0)):  # a nan anywhere is a failure too
            worst = np.unravel_index(int(np.argmax(np.nan_to_num(excess, nan=np.inf))), x.shape)
            raise GradcheckError(
                f"gradcheck failed for input {k} (shape {x.shape}) at element {tuple(map(int, worst))}: "
                f"analytic {float(ga[worst])!r}, numerical {float(numeric[worst])!r} "
                f"(tolerance atol={atol} + rtol={rtol} * |numerical|)"
            )
    return True


def jacobian(fn: Callable[[Tensor], Tensor], x: Any) -> np.ndarray:
    """d fn(x) / dx as an array of shape ``fn(x).shape + x.shape``, one backward pass per
    output element (x keeps its dtype; pass float64 for exact comparisons)."""
    xt = Tensor(x, requires_grad=True)
    y = fn(xt)
    result = np.zeros(y.shape + xt.shape, dtype=np.result_type(y.dtype, xt.dtype))
    rows = result.reshape(y.size, *xt.shape) if y.size else result
    for i in range(y.size):
        seed = np.zeros(y.size, dtype=y.dtype)
        seed[i] = 1
        (g,) = _grad(y, [xt], grad_output=seed.reshape(y.shape), retain_graph=True)
        rows[i] = g.data
    return result


def hessian(fn: Callable[[Tensor], Tensor], x: Any) -> np.ndarray:
    """Second derivatives of a scalar ``fn`` at ``x``, shape ``x.shape + x.shape``: the
    Jacobian of the gradient, which backward computes with ``create_graph=True``."""
    xt = Tensor(x, requires_grad=True)
    y = fn(xt)
    if y.size != 1:
        raise ValueError(f"hessian() needs a function with one output, this one has shape {y.shape}")
    (g,) = _grad(y, [xt], create_graph=True)
    result = np.zeros(xt.shape + xt.shape, dtype=xt.dtype)
    if not g.requires_grad:  # the gradient does not depend on x: fn is linear
        return result
    rows = result.reshape(xt.size, *xt.shape)
    for i in range(xt.size):
        seed = np.zeros(xt.size, dtype=g.dtype)
        seed[i] = 1
        (h,) = _grad(g, [xt], grad_output=seed.reshape(g.shape), retain_graph=True)
        rows[i] = h.data
    return result


__all__: Sequence[str] = ["gradcheck", "jacobian", "hessian", "GradcheckError"]
