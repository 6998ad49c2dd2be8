"""Forward mode from reverse mode: ``jvp(f, x, v)`` = (f(x), J v) by the double-vjp trick.

Reverse mode gives vector-Jacobian products: for any u, backward computes g(u) = J^T u.
That g is *linear* in u, and its own Jacobian with respect to u is (J^T)^T = J. So one
more reverse pass, through g, seeded with v, gives d(v . g)/du = J v: the directional
derivative of f along v, from two backward passes (the first with ``create_graph=True``,
so that g is recorded as a function of u). The value of u does not matter (g is linear
in it); zeros will do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import grad
from .tensor import Tensor


def jvp(f: Callable[[Tensor], Tensor], x: Any, v: Any) -> tuple[Tensor, Tensor]:
    """(f(x), J v) with J = d f / d x at x: how f's output moves when x moves along v.

    Formula: J v = d/du [v . (J^T u)], the gradient with respect to u of the vector-Jacobian
    product J^T u, dotted with v (the double-vjp trick). ``x`` is copied into a new leaf
    (its dtype kept); ``v`` must have x's shape. Both results are constants (no graph).
    """
    xt = Tensor(x, requires_grad=True)
    vt = v.detach() if isinstance(v, Tensor) else Tensor(np.asarray(v), dtype=xt.dtype)
    if vt.shape != xt.shape:
        raise ValueError(f"jvp: v has shape {vt.shape}, but it must have x's shape {xt.shape}")
    y = f(xt)
    if not isinstance(y, Tensor):
        raise TypeError(f"jvp: f must return a Tensor, got {type(y).__name__}")
    if not y.requires_grad:  # f does not depend on x: J = 0
        return y.detach(), Tensor._wrap(np.zeros(y.shape, y.dtype))
    u = Tensor(np.zeros(y.shape, y.dtype), requires_grad=True)  # any value: J^T u is linear in u
    (vjp,) = grad(y, xt, grad_output=u, create_graph=True)  # J^T u, recorded as a function of u
    (jv,) = grad(vjp, u, grad_output=vt.astype(vjp.dtype))  # d(v . J^T u) / du = J v
    return y.detach(), jv.detach()
