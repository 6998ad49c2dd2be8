"""Optimizers: turn the gradients in ``p.grad`` into updates of ``p.data``.

The training loop is always the same four lines::

    opt.zero_grad()          # backward() adds into .grad, so clear the last step's
    loss = loss_fn(model(x), y)
    loss.backward()          # fills p.grad for every parameter p
    opt.step()               # p <- p - (an update computed from p.grad)

Updates follow PyTorch's ``torch.optim`` formulas (given in each class). They are
applied in place to ``p.data`` with numpy, outside the graph, and keep each parameter's
dtype (a float32 model stays float32), 0-d parameters included. A parameter whose
``.grad`` is None (it did not take part in the loss) is skipped, and its optimizer state
is left untouched.

``opt.state_dict()`` and ``opt.load_state_dict(state)`` save and restore the
hyperparameters and the per-parameter state (momentum buffers, Adam's moments and step
counts) as a flat ``{name: array}``, so that a run saved with its model
(``serialization.save_checkpoint``) resumes exactly where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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


def _array(x: Any) -> np.ndarray:
    """``x`` as an ndarray. Arithmetic on a 0-d array returns a numpy scalar, which the
    in-place updates below (``+=``, ``out=``) cannot write into: for a 0-d parameter they
    would silently update a copy."""
    return np.asarray(x)
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

    # ------------------------------------------------------------ saving and resuming
    # subclasses name their hyperparameters (attributes set by _configure) and the keys of
    # their per-parameter state
    hyperparameters: tuple[str, ...] = ()
    state_keys: tuple[str, ...] = ()

    def _configure(self, **hyperparameters: Any) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything a resumed run needs, as ``{name: array}`` (copies), ready for
        ``minigrad.save``: the hyperparameters as ``"hyper.<name>"`` (e.g. ``"hyper.lr"``)
        and each parameter's state as ``"state.<i>.<key>"``, ``i`` being the parameter's
        position in the list the optimizer was given (e.g. ``"state.0.momentum_buffer"``,
        Adam's ``"state.0.step"``, ``"state.0.m"``, ``"state.0.v"``). A parameter that has
        not been updated yet has no state and no keys.

        PyTorch's ``state_dict`` holds the same information nested
        (``{"state": {i: {...}}, "param_groups": [...]}``); here it is flat and all numeric,
        so that it is saved without pickle."""
        out = {f"hyper.{name}": np.array(getattr(self, name)) for name in self.hyperparameters}
        for i, state in enumerate(self.state):
            for key, value in state.items():
                out[f"state.{i}.{key}"] = np.array(value, copy=True)
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the hyperparameters and per-parameter state saved by ``state_dict``
        (for the same kind of optimizer over parameters of the same shapes, in the same
        order), so that training continues exactly as if it had never stopped.

        Everything is checked before anything changes: on error (a missing or unexpected
        key, a state array whose shape is not its parameter's, a bad hyperparameter) the
        optimizer is left as it was. Arrays are copied, in each parameter's dtype."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict() expects a mapping name -> array (from state_dict() or "
                            f"minigrad.load), got {type(state_dict).__name__}")
        name = type(self).__name__
        hyper = _read_hyperparameters(name, self.hyperparameters, state_dict)
        per_param = self._read_state(name, state_dict)
        try:
            self._configure(**hyper)  # checks every value first, then sets them all
        except (TypeError, ValueError) as err:
            raise ValueError(f"load_state_dict() into {name}: {err}; the optimizer was not changed") from None
        self.state = per_param

    def _read_state(self, name: str, state_dict: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ``"state.<i>.<key>"`` entries as one state dict per parameter, checked."""
        found: list[dict[str, Any]] = [{} for _ in self.params]
        for key, value in state_dict.items():
            if key.startswith("hyper."):
                continue
            i, item = _state_key(name, key, len(self.params), self.state_keys)
            found[i][item] = _state_value(name, key, value, item, self.params[i])
        for i, state in enumerate(found):
            if state and set(state) != set(self.state_keys):
                missing = sorted(set(self.state_keys) - set(state))
                raise ValueError(f"load_state_dict() into {name}: parameter {i} has state "
                                 f"{sorted(state)} but not {missing}; the optimizer was not changed")
        return found


def _read_hyperparameters(name: str, names: tuple[str, ...], state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The ``"hyper.<name>"`` entries as Python values, or an error naming what differs."""
    expected = {f"hyper.{h}" for h in names}
    given = {k for k in state_dict if isinstance(k, str) and k.startswith("hyper.")}
    if given != expected:
        raise ValueError(f"load_state_dict() into {name}: expected the hyperparameters "
                         f"{sorted(expected)}, got {sorted(given)} (a state dict of another optimizer?); "
                         "the optimizer was not changed")
    values = {}
    for h in names:
        array = np.asarray(state_dict[f"hyper.{h}"])
        values[h] = tuple(array.tolist()) if array.ndim else array.item()
    return values


def _state_key(name: str, key: Any, n_params: int, state_keys: tuple[str, ...]) -> tuple[int, str]:
    """``"state.<i>.<item>"`` split into (i, item), or an error saying what was expected."""
    parts = key.split(".") if isinstance(key, str) else []
    if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() or parts[2] not in state_keys:
        raise ValueError(f"load_state_dict() into {name}: unexpected key {key!r} (expected 'hyper.<name>' "
                         f"or 'state.<i>.<key>' with key in {list(state_keys)}); the optimizer was not "
                         "changed")
    i = int(parts[1])
    if i >= n_params:
        raise ValueError(f"load_state_dict() into {name}: {key!r} is for parameter {i}, but the optimizer "
                         f"has {n_params} parameters; the optimizer was not changed")
    return i, parts[2]


def _state_value(name: str, key: str, value: Any, item: str, p: Tensor) -> Any:
    """A saved state entry as the optimizer keeps it: the step count as an int, a buffer
    as an array of ``p``'s shape and dtype (a copy)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"load_state_dict() into {name}: {key!r} has dtype {array.dtype}, expected numbers")
    if item == "step":
        if array.shape != () or array.dtype.kind not in "iu" or array < 0:
            raise ValueError(f"load_state_dict() into {name}: {key!r} must be an integer >= 0, got {value!r}")
        return int(array)
    if array.shape != p.shape:
        raise ValueError(f"load_state_dict() into {name}: {key!r} has shape {array.shape} but the parameter "
                         f"has shape {p.shape}; the optimizer was not changed")
    return array.astype(p.dtype, copy=True)


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

    hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")
    state_keys = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        self._configure(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params)

    def _configure(self, lr: Any, momentum: Any, weight_decay: Any, nesterov: Any) -> None:
        lr = _check_number("SGD: lr", lr)
        momentum = _check_number("SGD: momentum", momentum)
        weight_decay = _check_number("SGD: weight_decay", weight_decay)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0 (Nesterov's method is a "
                             "variant of momentum)")
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, bool(nesterov)

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
            decayed = _array(self.weight_decay * p.data)
            decayed += g  # g + wd * p, in one temporary
            g, ours = decayed, True
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = np.array(g, copy=True)  # an array even for a 0-d p
            else:
                b *= self.momentum
                b += g
            if self.nesterov:
                ahead = _array(self.momentum * b)
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

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    state_keys = ("step", "m", "v")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        self._configure(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params)

    def _configure(self, lr: Any, betas: Any, eps: Any, weight_decay: Any) -> None:
        lr = _check_number("Adam: lr", lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}") from None
        betas = (_check_number("Adam: betas[0]", beta1, high=1.0, high_open=True),
                 _check_number("Adam: betas[1]", beta2, high=1.0, high_open=True))
        eps = _check_number("Adam: eps", eps)
        weight_decay = _check_number("Adam: weight_decay", weight_decay)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["m"] = np.zeros_like(p.data)
            state["v"] = np.zeros_like(p.data)
        state["step"] += 1
        t, m, v = state["step"], state["m"], state["v"]
        if self.weight_decay != 0:
            decayed = _array(self.weight_decay * p.data)
            decayed += g  # g + wd * p, in one temporary
            g = decayed
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        g2 = g * g
        g2 *= 1 - beta2
        v += g2  # v + (1 - beta2) g^2
        # p -= lr * m_hat / (sqrt(v_hat) + eps), with two temporaries updated in place
        denom = _array(v / (1 - beta2 ** t))  # v_hat
        np.sqrt(denom, out=denom)
        denom += self.eps
        update = _array(m / (1 - beta1 ** t))  # m_hat
        update *= self.lr
        update /= denom
        p.data -= update

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"


__all__ = ["Optimizer", "SGD", "Adam"]
