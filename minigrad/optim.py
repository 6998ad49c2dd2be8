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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .autograd import enable_grad
from .tensor import Tensor


def _check_number(
    name: str, value: Any, low: float = 0.0, high: float | None = None, high_open: bool = False
) -> float:
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
            raise TypeError(
                f"{type(self).__name__} expects an iterable of tensors (e.g. "
                "model.parameters() or [w, b]), got a single Tensor; wrap it in a list"
            )
        params = list(params)
        if not params:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list: nothing to optimize "
                "(did the model register its parameters? did a generator run out?)"
            )
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, expected a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(
                    f"parameter {i} has dtype {p.dtype}; only floating-point tensors can be optimized"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"parameter {i} is the result of an op (op={p.op}), not a leaf tensor; "
                    "optimize the tensors it was computed from"
                )
            if id(p) in seen:
                raise ValueError(
                    f"parameter {i} appears more than once in the list; it would be updated twice per step"
                )
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
            i = next(i for i, q in enumerate(self.params) if q is p)  # (not .index: == is elementwise)
            raise ValueError(f"parameter {i} has shape {p.shape} but its .grad has shape {g.shape}")
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
            raise TypeError(
                f"load_state_dict() expects a mapping name -> array (from state_dict() or "
                f"minigrad.load), got {type(state_dict).__name__}"
            )
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
                raise ValueError(
                    f"load_state_dict() into {name}: parameter {i} has state "
                    f"{sorted(state)} but not {missing}; the optimizer was not changed"
                )
        return found


def _read_hyperparameters(name: str, names: tuple[str, ...], state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The ``"hyper.<name>"`` entries as Python values, or an error naming what differs."""
    expected = {f"hyper.{h}" for h in names}
    given = {k for k in state_dict if isinstance(k, str) and k.startswith("hyper.")}
    if given != expected:
        raise ValueError(
            f"load_state_dict() into {name}: expected the hyperparameters "
            f"{sorted(expected)}, got {sorted(given)} (a state dict of another optimizer?); "
            "the optimizer was not changed"
        )
    values = {}
    for h in names:
        array = np.asarray(state_dict[f"hyper.{h}"])
        values[h] = tuple(array.tolist()) if array.ndim else array.item()
    return values


def _state_key(name: str, key: Any, n_params: int, state_keys: tuple[str, ...]) -> tuple[int, str]:
    """``"state.<i>.<item>"`` split into (i, item), or an error saying what was expected."""
    parts = key.split(".") if isinstance(key, str) else []
    if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() or parts[2] not in state_keys:
        raise ValueError(
            f"load_state_dict() into {name}: unexpected key {key!r} (expected 'hyper.<name>' "
            f"or 'state.<i>.<key>' with key in {list(state_keys)}); the optimizer was not "
            "changed"
        )
    i = int(parts[1])
    if i >= n_params:
        raise ValueError(
            f"load_state_dict() into {name}: {key!r} is for parameter {i}, but the optimizer "
            f"has {n_params} parameters; the optimizer was not changed"
        )
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
        raise ValueError(
            f"load_state_dict() into {name}: {key!r} has shape {array.shape} but the parameter "
            f"has shape {p.shape}; the optimizer was not changed"
        )
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

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self._configure(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params)

    def _configure(self, lr: Any, momentum: Any, weight_decay: Any, nesterov: Any) -> None:  # type: ignore[override]
        lr = _check_number("SGD: lr", lr)
        momentum = _check_number("SGD: momentum", momentum)
        weight_decay = _check_number("SGD: weight_decay", weight_decay)
        if nesterov and momentum == 0:
            raise ValueError(
                "SGD: nesterov=True needs momentum > 0 (Nesterov's method is a variant of momentum)"
            )
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
        return (
            f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay}, "
            f"nesterov={self.nesterov})"
        )


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

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self._configure(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params)

    def _configure(self, lr: Any, betas: Any, eps: Any, weight_decay: Any) -> None:  # type: ignore[override]
        lr = _check_number("Adam: lr", lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}") from None
        betas = (
            _check_number("Adam: betas[0]", beta1, high=1.0, high_open=True),
            _check_number("Adam: betas[1]", beta2, high=1.0, high_open=True),
        )
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
        denom = _array(v / (1 - beta2**t))  # v_hat
        np.sqrt(denom, out=denom)
        denom += self.eps
        update = _array(m / (1 - beta1**t))  # m_hat
        update *= self.lr
        update /= denom
        p.data -= update

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"


# ====================================================================== L-BFGS


def _cubic_minimum(
    t1: float, f1: float, d1: float, t2: float, f2: float, d2: float, low: float, high: float
) -> float:
    """The minimiser, clamped to [low, high], of the cubic through (t1, f1) and (t2, f2)
    with slopes d1 and d2 (Nocedal & Wright, eq. 3.59):

        e1 = d1 + d2 - 3 (f1 - f2) / (t1 - t2),   e2 = sign(t2 - t1) sqrt(e1^2 - d1 d2)
        t  = t2 - (t2 - t1) (d2 + e2 - e1) / (d2 - d1 + 2 e2)

    If the cubic has no minimiser (e1^2 < d1 d2), the middle of [low, high]."""
    if t1 == t2:
        return (low + high) / 2
    e1 = d1 + d2 - 3 * (f1 - f2) / (t1 - t2)
    square = e1 * e1 - d1 * d2
    if square < 0:
        return (low + high) / 2
    e2 = math.copysign(math.sqrt(square), t2 - t1)
    denominator = d2 - d1 + 2 * e2
    if denominator == 0:
        return (low + high) / 2
    t = t2 - (t2 - t1) * (d2 + e2 - e1) / denominator
    return min(max(t, low), high)


class _Point:
    """One trial step t along the direction: phi(t) = f(x + t d), its gradient g and slope
    phi'(t) = g . d."""

    def __init__(self, t: float, f: float, g: np.ndarray, d: np.ndarray) -> None:
        self.t, self.f, self.g, self.slope = t, f, g, float(g @ d)


def _above(a: _Point, b: _Point, start: _Point) -> bool:
    """phi(a) >= phi(b) by more than the rounding error of phi (taken as 1e-12 |phi(0)|);
    values closer than that cannot be ranked."""
    return a.f >= b.f + 1e-12 * abs(start.f)


class LBFGS(Optimizer):
    """Limited-memory BFGS: a quasi-Newton method. It steps along d = -H g, where H is an
    estimate of the inverse Hessian built from the last ``history_size`` steps
    s_k = x_{k+1} - x_k and gradient changes y_k = g_{k+1} - g_k, with a line search
    choosing how far to go. On smooth deterministic objectives (full-batch regression,
    calibration's single temperature) it reaches the optimum in tens of steps where
    gradient descent needs thousands.

    The closure protocol (as PyTorch's): the line search must evaluate the loss at several
    points, so ``step`` takes a function that re-computes it::

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        opt.step(closure)      # up to max_iter iterations; returns the first loss

    **Direction: the two-loop recursion.** With rho_i = 1 / (y_i . s_i), H g is computed
    without ever forming H (m = the stored pairs, newest first):

        q <- g
        for i = k-1, ..., k-m:   a_i = rho_i s_i . q;   q <- q - a_i y_i
        r <- gamma q,            gamma = (s_{k-1} . y_{k-1}) / (y_{k-1} . y_{k-1})
        for i = k-m, ..., k-1:   b = rho_i y_i . r;     r <- r + (a_i - b) s_i
        d = -r

    A pair is stored only if y . s > 1e-10 (the curvature condition, which keeps H
    positive definite); the oldest is dropped beyond ``history_size``. The first step is
    steepest descent, t = lr * min(1, 1 / |g|_1).

    **Step length: the strong Wolfe conditions** (``line_search_fn="strong_wolfe"``). With
    phi(t) = f(x + t d), a step t is accepted when

        phi(t) <= phi(0) + c1 t phi'(0)          (sufficient decrease, c1 = 1e-4)
        |phi'(t)| <= c2 |phi'(0)|                (curvature: the slope has flattened, c2 = 0.9)

    found by bracketing (growing t until it overshoots) and then zooming into the bracket,
    each trial at the minimiser of the cubic through the two ends (Nocedal & Wright,
    Algorithms 3.5 and 3.6). With ``line_search_fn=None`` the step is t = lr, fixed.

    Stopping (within one ``step`` call): after ``max_iter`` iterations or ``max_eval``
    closure calls (default max_iter * 5 / 4), or when max |g| <= ``tolerance_grad``, or when
    the step max |t d| or the change in loss is below ``tolerance_change``.

    Argument names and the closure follow PyTorch's ``torch.optim.LBFGS``; the defaults
    differ where PyTorch's suit large networks: ``history_size=10`` (PyTorch: 100) and the
    line search on (PyTorch: off). All parameters are treated as one flat vector; the
    arithmetic is done in float64 and the parameters keep their dtype.
    """

    C1, C2 = 1e-4, 0.9  # the Wolfe constants
    MAX_LINE_SEARCH = 25  # closure calls per line search

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 10,
        line_search_fn: str | None = "strong_wolfe",
    ) -> None:
        self.lr = _check_number("LBFGS: lr", lr)
        self.max_iter = self._check_count("max_iter", max_iter)
        self.max_eval = (
            self.max_iter * 5 // 4 if max_eval is None else self._check_count("max_eval", max_eval)
        )
        self.tolerance_grad = _check_number("LBFGS: tolerance_grad", tolerance_grad)
        self.tolerance_change = _check_number("LBFGS: tolerance_change", tolerance_change)
        self.history_size = self._check_count("history_size", history_size)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be 'strong_wolfe' or None, got {line_search_fn!r}")
        self.line_search_fn = line_search_fn
        super().__init__(params)
        # the memory, kept across step() calls: pairs (s, y, rho), the last direction,
        # step length and gradient, and the iteration count
        self.memory: dict[str, Any] = {"pairs": [], "d": None, "t": None, "g": None, "n_iter": 0}

    @staticmethod
    def _check_count(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"LBFGS: {name} must be an int >= 1, got {value!r}")
        return int(value)

    # ---------------------------------------------------------------- the flat vector

    def _flat_params(self) -> np.ndarray:
        return np.concatenate([p.data.reshape(-1).astype(np.float64) for p in self.params])

    def _set_params(self, x: np.ndarray) -> None:
        start = 0
        for p in self.params:
            p.data[...] = x[start : start + p.data.size].reshape(p.data.shape)
            p.bump_version()  # a write into the array: tell the graph the values changed
            start += p.data.size

    def _flat_grad(self) -> np.ndarray:
        """Every gradient as one float64 vector; a parameter without .grad counts as 0."""
        return np.concatenate(
            [
                self._gradient(p, p.grad).reshape(-1).astype(np.float64)
                if p.grad is not None
                else np.zeros(p.data.size)
                for p in self.params
            ]
        )

    def _evaluate(self, closure: Callable[[], Any], raw: bool = False) -> Any:
        """(loss as a float, flat gradient) after one closure call; ``raw``: what the
        closure returned, as it returned it."""
        with enable_grad():  # the closure calls backward, even if step() runs under no_grad
            loss = closure()
        if raw:
            return loss
        return float(loss.item() if isinstance(loss, Tensor) else loss), self._flat_grad()

    # ---------------------------------------------------------------- direction

    def _direction(self, g: np.ndarray) -> np.ndarray:
        """d = -H g by the two-loop recursion over the stored (s, y, rho) pairs."""
        pairs = self.memory["pairs"]
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(pairs):  # newest first
            a = rho * (s @ q)
            q -= a * y
            alphas.append(a)
        if pairs:
            s, y, _ = pairs[-1]
            q *= (s @ y) / (y @ y)  # gamma: the scale of the newest curvature
        for (s, y, rho), a in zip(pairs, reversed(alphas)):  # oldest first
            b = rho * (y @ q)
            q += (a - b) * s
        return -q

    def _remember(self, g: np.ndarray) -> None:
        """Store the pair (s, y) of the step just taken, if it has positive curvature."""
        s = self.memory["d"] * self.memory["t"]
        y = g - self.memory["g"]
        ys = float(y @ s)
        if ys > 1e-10:
            pairs = self.memory["pairs"]
            pairs.append((s, y, 1.0 / ys))
            if len(pairs) > self.history_size:
                pairs.pop(0)

    # ---------------------------------------------------------------- step length

    def _decreased(self, start: _Point, trial: _Point) -> bool:
        """Sufficient decrease, phi(t) <= phi(0) + c1 t phi'(0). Near the optimum the
        promised decrease falls below the rounding error of f itself and this test turns
        into noise; then, with f unchanged up to rounding, the slope decides instead:
        phi'(t) <= (2 c1 - 1) phi'(0), the same inequality for a quadratic (Hager & Zhang's
        approximate Wolfe condition)."""
        if trial.f <= start.f + self.C1 * trial.t * start.slope:
            return True
        return not _above(trial, start, start) and trial.slope <= (2 * self.C1 - 1) * start.slope

    def _strong_wolfe(
        self, closure: Callable[[], Any], x: np.ndarray, d: np.ndarray, start: _Point, t: float
    ) -> tuple[_Point, int]:
        """Bracketing phase: grow t until phi(t) rises above the sufficient-decrease line,
        stops decreasing, or slopes upwards; then zoom. Returns the accepted point (the
        parameters are left at x + t d) and the number of closure calls."""

        def phi(t: float) -> _Point:
            self._set_params(x + t * d)
            f, g = self._evaluate(closure)
            return _Point(t, f, g, d)

        previous, evals = start, 0
        while True:
            trial = phi(t)
            evals += 1
            too_high = not self._decreased(start, trial) or (evals > 1 and _above(trial, previous, start))
            if too_high:
                return self._zoom(phi, start, previous, trial, evals)
            if abs(trial.slope) <= -self.C2 * start.slope or evals >= self.MAX_LINE_SEARCH:
                return trial, evals
            if trial.slope >= 0:
                return self._zoom(phi, start, trial, previous, evals)
            # extrapolate: the cubic's minimum, at least a little beyond t, at most 10 t
            t_next = _cubic_minimum(
                previous.t,
                previous.f,
                previous.slope,
                t,
                trial.f,
                trial.slope,
                t + 0.01 * (t - previous.t),
                10 * t,
            )
            previous, t = trial, t_next

    def _zoom(
        self, phi: Callable[[float], _Point], start: _Point, lo: _Point, hi: _Point, evals: int
    ) -> tuple[_Point, int]:
        """Shrink the bracket [lo, hi] (lo: the lowest point meeting sufficient decrease)
        until a point meets both Wolfe conditions. The parameters are at hi on entry."""
        at = hi.t  # where the parameters are now
        while evals < self.MAX_LINE_SEARCH:
            left, right = min(lo.t, hi.t), max(lo.t, hi.t)
            if (right - left) * np.abs(self.memory["d"]).max() <= self.tolerance_change:
                break  # the bracket is too small to make progress
            # the cubic's minimum, kept 10% away from the ends so the bracket shrinks
            margin = 0.1 * (right - left)
            t = _cubic_minimum(lo.t, lo.f, lo.slope, hi.t, hi.f, hi.slope, left + margin, right - margin)
            trial, at = phi(t), t
            evals += 1
            if not self._decreased(start, trial) or _above(trial, lo, start):
                hi = trial
                continue
            if abs(trial.slope) <= -self.C2 * start.slope:
                return trial, evals
            if trial.slope * (hi.t - lo.t) >= 0:
                hi = lo
            lo = trial
        if at != lo.t:
            lo = phi(lo.t)  # leave the parameters (and their .grad) at the best point found
            evals += 1
        return lo, evals

    # ---------------------------------------------------------------- the iteration

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` zeroes the gradients,
        computes the loss, calls backward, and returns the loss. Returns the loss of the
        first evaluation (at the parameters as they were on entry)."""
        if closure is None or not callable(closure):
            raise TypeError(
                "LBFGS.step needs a closure: a function that zeroes the gradients, "
                "computes the loss, calls loss.backward() and returns the loss"
            )
        first_loss = self._evaluate(closure, raw=True)
        loss, g = float(first_loss), self._flat_grad()
        previous_loss = loss
        evals = 1
        if np.abs(g).max() <= self.tolerance_grad:
            return first_loss
        for iteration in range(1, self.max_iter + 1):
            self.memory["n_iter"] += 1
            t, d = self._next_direction(g)
            if g @ d > -self.tolerance_change:
                break  # not a descent direction any more: nothing left to gain
            loss, g, t, used = self._take_step(closure, d, t, loss, g, last=iteration == self.max_iter)
            self.memory["t"] = t
            evals += used
            if self._converged(evals, g, d * t, loss, previous_loss):
                break
            previous_loss = loss
        return first_loss

    def _next_direction(self, g: np.ndarray) -> tuple[float, np.ndarray]:
        """The initial step length and the direction for this iteration."""
        memory = self.memory
        if memory["d"] is None:  # the first iteration ever: steepest descent, a cautious step
            d = -g
            t = min(1.0, 1.0 / np.abs(g).sum()) * self.lr
        else:
            self._remember(g)
            d = self._direction(g)
            t = self.lr
        memory["d"], memory["g"] = d, g.copy()
        return t, d

    def _take_step(
        self, closure: Callable[[], Any], d: np.ndarray, t: float, loss: float, g: np.ndarray, last: bool
    ) -> tuple[float, np.ndarray, float, int]:
        """Move along d: by a strong Wolfe line search, or by the fixed step t (then the
        loss is re-evaluated unless this is the last iteration, as in PyTorch)."""
        x = self._flat_params()
        if self.line_search_fn == "strong_wolfe":
            point, used = self._strong_wolfe(closure, x, d, _Point(0.0, loss, g, d), t)
            return point.f, point.g, point.t, used
        self._set_params(x + t * d)
        if last:
            return loss, g, t, 0
        loss, g = self._evaluate(closure)
        return loss, g, t, 1

    def _converged(
        self, evals: int, g: np.ndarray, step: np.ndarray, loss: float, previous_loss: float
    ) -> bool:
        return (
            evals >= self.max_eval
            or np.abs(g).max() <= self.tolerance_grad
            or np.abs(step).max() <= self.tolerance_change
            or abs(loss - previous_loss) < self.tolerance_change
        )

    def __repr__(self) -> str:
        return (
            f"LBFGS(lr={self.lr}, max_iter={self.max_iter}, max_eval={self.max_eval}, "
            f"tolerance_grad={self.tolerance_grad}, tolerance_change={self.tolerance_change}, "
            f"history_size={self.history_size}, line_search_fn={self.line_search_fn!r})"
        )


__all__ = ["Optimizer", "SGD", "Adam", "LBFGS"]
