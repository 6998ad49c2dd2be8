"""The reverse-mode engine: grad mode, graph nodes and the backward walk.

A tensor produced by an op carries a ``Node``: the op's name, its input tensors and its
backward rule. ``backward`` orders the graph topologically (iteratively, so a chain of any
depth works), then walks it from the output to the leaves, handing each node the gradient
of the output with respect to that node's result and adding what the rule returns into
the node's inputs. Broadcasting is undone here, once, for every op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tensor import Tensor


class _State:
    """Process-wide switches, read on every op (so kept to two attribute loads)."""

    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


state = _State()


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording on or off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._saved: list[bool] = []  # a stack, so one instance can nest or recurse

    def __enter__(self) -> None:
        self._saved.append(state.grad_enabled)
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._saved.pop()


def no_grad() -> _GradMode:
    """``with no_grad():`` (or ``@no_grad()``): ops inside record no graph."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """``with enable_grad():`` records a graph even inside ``no_grad``."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    return state.grad_enabled


class Node:
    """One recorded op. ``backward(g, out)`` gets the gradient ``g`` flowing into the op's
    result ``out`` and returns one gradient (a Tensor, or None) per input."""

    __slots__ = ("op", "inputs", "backward", "where")

    def __init__(self, op: str, inputs: tuple, backward: Callable) -> None:
        self.op = op
        self.inputs = inputs
        self.backward = backward
        self.where = None  # the user's line that created the op (anomaly mode only)

    def __repr__(self) -> str:
        return f"<{self.op}>"


FREED = (
    "Trying to backward through the graph a second time: its saved tensors were freed by "
    "the first backward(). Pass retain_graph=True to the first call if you need to "
    "backward twice."
)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor that ``root`` depends on and that requires grad, each one listed
    before all the tensors it was computed from (``root`` first). Iterative depth-first
    search: no recursion limit however deep the graph. (Tensors hash by identity, as
    ``==`` is not overloaded, so sets and dicts of tensors need no ``id()`` here.)"""
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, finished = stack.pop()
        if finished:
            order.append(t)
            continue
        if t in visited:
            continue
        visited.add(t)
        node = t._node
        if node is None:  # a leaf root (the other leaves are finished where they are found)
            order.append(t)
            continue
        stack.append((t, True))
        for inp in node.inputs:
            if inp.requires_grad and inp not in visited:
                if inp._node is None:  # a leaf has no inputs to wait for: finished at once
                    visited.add(inp)
                    order.append(inp)
                else:
                    stack.append((inp, False))
    order.reverse()  # post-order reversed: a tensor comes after every tensor that used it
    return order


def _private(g: Tensor, shared: set[Tensor]) -> bool:
    """True if nothing else can see g's array, so ``.grad`` may take it without a copy: g
    is not in ``shared`` (the caller's seed, a gradient already stored as a ``.grad``,
    one handed to a hook) and its array is neither a view (a slice, a read-only
    broadcast) nor read-only. The rules return fresh arrays or views, never an array
    they saved. Optimizers update ``p.data`` from ``.grad``, and users may edit ``.grad``
    in place: a shared array would be a silent bug."""
    return g not in shared and g.data.base is None and g.data.flags.writeable


def _copy(g: Tensor) -> Tensor:
    """A new tensor holding a copy of g's array: a ``.grad`` that shares nothing."""
    from .tensor import Tensor  # (tensor.py imports this module first)

    return Tensor._wrap(g.data.copy())


def run_backward(
    root: Tensor,
    grad: Tensor,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Tensor] | None = None,
) -> dict[int, Tensor] | None:
    """Propagate ``grad`` (d output / d root) through root's graph.

    Without ``capture`` the gradients are accumulated into ``.grad`` of every leaf that
    requires grad (and of intermediates that called ``retain_grad``). With ``capture`` the
    total gradient of each listed tensor is returned by ``id`` instead, and no ``.grad``
    is touched (that is ``minigrad.grad``).
    """
    order = topological_order(root)
    wanted = None if capture is None else {id(t) for t in capture}
    captured: dict[int, Tensor] = {}
    pending: dict[Tensor, Tensor] = {root: grad}  # the gradient reaching each tensor so far
    shared: set[Tensor] = {grad}  # gradients that others can see (see _private)
    owned: set[Tensor] = set()  # sums this walk made and still holds alone: safe to add into in place
    saved_mode = state.grad_enabled
    state.grad_enabled = create_graph  # the rules are Tensor ops: record them only if asked
    try:
        for t in order:
            g = pending.pop(t, None)
            if g is None:
                continue
            if owned:
                owned.discard(g)  # from here on, g is handed out
            if t._hooks:
                shared.add(g)  # a hook may keep the gradient it is shown
                for hook in list(t._hooks.values()):
                    replaced = hook(g)
                    if replaced is not None:
                        g = _checked_hook_result(replaced, g)
                        shared.add(g)
            node = t._node
            if wanted is not None:
                if id(t) in wanted:
                    captured[id(t)] = g
            elif node is None or t._retains_grad:
                if t.grad is not None:
                    t.grad = t.grad + g  # accumulates across calls, like PyTorch
                elif create_graph:
                    t.grad = g  # keep its graph
                else:
                    t.grad = g if _private(g, shared) else _copy(g)
                    shared.add(t.grad)
            if node is None:
                continue
            rule = node.backward
            if rule is None:
                raise RuntimeError(FREED)
            input_grads = rule(g, t)
            if state.anomaly:
                from .anomaly import check_backward

                check_backward(node, input_grads)
            for inp, ig in zip(node.inputs, input_grads):
                if ig is None or not inp.requires_grad:
                    continue
                want = inp.data
                if ig.data.shape != want.shape:
                    ig = ig.sum_to_size(want.shape)  # undo broadcasting
                if ig.data.dtype is not want.dtype and ig.data.dtype != want.dtype:
                    ig = ig.astype(want.dtype)
                before = pending.get(inp)
                if before is None:
                    pending[inp] = ig
                elif before in owned:  # our own sum, seen by no one: add in place
                    before.data += ig.data
                else:
                    pending[inp] = total = before + ig
                    if not create_graph:  # (under create_graph the sum is a graph node)
                        owned.add(total)
            if not retain_graph:  # free the saved tensors: the closure and the inputs
                node.backward = None
                node.inputs = ()
    finally:
        state.grad_enabled = saved_mode
    return captured if wanted is not None else None


def _checked_hook_result(replaced: Any, g: Tensor) -> Tensor:
    """A hook's replacement gradient must be a Tensor of the gradient's shape; it takes
    the gradient's dtype (so a float32 leaf never gets a float64 .grad)."""
    from .tensor import Tensor

    if not isinstance(replaced, Tensor):
        raise TypeError(f"a hook must return a Tensor or None, got {type(replaced).__name__}")
    if replaced.shape != g.shape:
        raise RuntimeError(f"a hook returned a gradient of shape {replaced.shape}, expected {g.shape}")
    return replaced if replaced.dtype == g.dtype else replaced.astype(g.dtype)


def grad(
    output: Tensor,
    inputs: Tensor | Sequence[Tensor],
    grad_output: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """The gradients of ``output`` with respect to ``inputs``, returned rather than
    accumulated into ``.grad`` (like ``torch.autograd.grad``). An input that ``output``
    does not depend on gets a zero gradient. ``retain_graph`` defaults to
    ``create_graph``. With ``create_graph=True`` the results are differentiable."""
    from .tensor import Tensor, _seed_grad

    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"grad(): input {i} is not a Tensor that requires grad")
    if retain_graph is None:
        retain_graph = create_graph
    found: dict[int, Tensor] = {}
    if output.requires_grad:
        seed = _seed_grad(output, grad_output)
        found = run_backward(output, seed, retain_graph, create_graph, capture=inputs) or {}
    results = []
    for t in inputs:
        g = found.get(id(t))
        if g is None:
            g = Tensor(t.data * 0)  # same dtype and shape; the output ignores this input
        results.append(g)
    return tuple(results)
