"""Optimizers: turn the gradients in ``p.grad`` into updates of ``p.data``.

The training loop is always the same four lines::

    opt.zero_grad()          # backward() adds into .grad, so clear the last step's
    loss = loss_fn(model(x), y)
    loss.backward()          # fills p.grad for every parameter p
    opt.step()               # p <- p - (an update computed from p.grad)

Updates follow PyTorch's ``torch.optim`` formulas (given in each class). They are
applied in place to ``p.data`` with numpy, outside the graph, and keep each parameter's
dtype (a float32 model stays float32). A parameter whose ``.grad`` is None (it did not
take part in the loss) is skipped, and its optimizer state is left untouched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor


def _check_number(name: str, value: Any, low: float = 0.0, high: float | None = None,
                  high_open: bool = False) -> float:
    """``value`` as a float, or a ValueError saying which range was expected."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    too_high = high is not None and (x >= high if high_open else x > high)
    if not math.isfinite(x) or x < low or too_high:
        bound = "" if high is None else (f" and < {high}" if high_open else f" and <= {high}")
        raise ValueError(f"{name} must be >= {low}{bound}, got {value!r}")
    return x


def zero_grad(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Forget the gradients of the last backward pass (backward *adds* into ``.grad``).
    By default ``.grad`` becomes None; with ``set_to_none=False`` an existing gradient
    becomes zeros (a None gradient stays None). ``Module.zero_grad`` and
    ``Optimizer.zero_grad`` both call this."""
    for p in params:
        if set_to_none or p.grad is None:
            p.grad = None
        else:
            p.grad = Tensor(np.zeros_like(p.data))


class Optimizer:
    """Holds the parameter list and one state dict per parameter; subclasses define
    ``_update(p, g, state)`` for one parameter with gradient array ``g``."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__} expects an iterable of tensors (e.g. "
                            "model.parameters() or [w, b]), got a single Tensor; wrap it in a list")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: nothing to optimize "
                             "(did the model register its parameters? did a generator run out?)")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, expected a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"parameter {i} has dtype {p.dtype}; only floating-point tensors can be "
                                "optimized")
            if not p.is_leaf:
                raise ValueError(f"parameter {i} is the result of an op (op={p.op}), not a leaf tensor; "
                                 "optimize the tensors it was computed from")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears more than once in the list; it would be "
                                 "updated twice per step")
            seen.add(id(p))
        self.params: list[Tensor] = params
        self.state: list[dict[str, Any]] = [{} for _ in params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` before the next backward pass adds into it
        (see the function ``zero_grad``)."""
        zero_grad(self.params, set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p, self._gradient(p, p.grad), state)

    def _gradient(self, p: Tensor, grad: Tensor) -> np.ndarray:
        """p.grad's array, checked against p's shape and in p's dtype (the engine already
        gives a leaf's gradient the leaf's dtype; a hand-set .grad may differ)."""
        g = grad.data
        if g.shape != p.data.shape:
            raise ValueError(f"parameter {self.params.index(p)} has shape {p.shape} but its .grad "
                             f"has shape {g.shape}")
        return g if g.dtype == p.data.dtype else g.astype(p.data.dtype)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    For each parameter p with gradient g, at every step:

        g <- g + weight_decay * p                  (L2 penalty (wd/2)|p|^2 adds wd * p)
        if momentum mu != 0:
            b <- g                 on the first step
            b <- mu * b + g        afterwards      (b: the "velocity" buffer)
            g <- g + mu * b        if nesterov     (look one step ahead)
            g <- b                 otherwise
        p <- p - lr * g

    These are PyTorch's ``torch.optim.SGD`` formulas with ``dampening=0``.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        self.lr = _check_number("SGD: lr", lr)
        self.momentum = _check_number("SGD: momentum", momentum)
        self.weight_decay = _check_number("SGD: weight_decay", weight_decay)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0 (Nesterov's method is a "
                             "variant of momentum)")
        self.nesterov = bool(nesterov)
        super().__init__(params)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        if self.momentum != 0 or self.weight_decay != 0:
            super().step()
            return
        lr = self.lr
        for p in self.params:  # plain SGD, the usual case, in one loop: p <- p - lr * g
            if p.grad is not None:
                p.data -= lr * self._gradient(p, p.grad)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        # g is p.grad's own array: never changed in place. An array made here ("ours") may be.
        ours = False
        if self.weight_decay != 0:
            decayed = self.weight_decay * p.data
            decayed += g  # g + wd * p, in one temporary
            g, ours = decayed, True
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum
                b += g
            if self.nesterov:
                ahead = self.momentum * b
                ahead += g  # g + mu * b
                g, ours = ahead, True
            else:
                g, ours = b, False  # the buffer itself: it must survive this step unchanged
        if ours:
            g *= self.lr
            p.data -= g
        else:
            p.data -= self.lr * g

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay}, "
                f"nesterov={self.nesterov})")


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): a step along a running mean of the gradient, scaled
    per element by a running root-mean-square of the gradient.

    For each parameter p with gradient g, at step t = 1, 2, ...:

        g <- g + weight_decay * p                 (L2 penalty, added to the gradient)
        m <- beta1 * m + (1 - beta1) * g          (m, v start at 0)
        v <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)                 (bias correction: m, v start at 0,
        v_hat = v / (1 - beta2^t)                  so early averages are too small)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    These are PyTorch's ``torch.optim.Adam`` formulas (weight decay as L2 added to the
    gradient, not AdamW's decoupled decay). ``t`` counts the steps in which p had a
    gradient.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        self.lr = _check_number("Adam: lr", lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_check_number("Adam: betas[0]", beta1, high=1.0, high_open=True),
                      _check_number("Adam: betas[1]", beta2, high=1.0, high_open=True))
        self.eps = _check_number("Adam: eps", eps)
        self.weight_decay = _check_number("Adam: weight_decay", weight_decay)
        super().__init__(params)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["m"] = np.zeros_like(p.data)
            state["v"] = np.zeros_like(p.data)
        state["step"] += 1
        t, m, v = state["step"], state["m"], state["v"]
        if self.weight_decay != 0:
            decayed = self.weight_decay * p.data
            decayed += g  # g + wd * p, in one temporary
            g = decayed
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        g2 = g * g
        g2 *= 1 - beta2
        v += g2  # v + (1 - beta2) g^2
        # p -= lr * m_hat / (sqrt(v_hat) + eps), with two temporaries updated in place
        denom = v / (1 - beta2 ** t)  # v_hat
        np.sqrt(denom, out=denom)
        denom += self.eps
        update = m / (1 - beta1 ** t)  # m_hat
        update *= self.lr
        update /= denom
        p.data -= update

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"


__all__ = ["Optimizer", "SGD", "Adam"]
