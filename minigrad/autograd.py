"""The reverse-mode engine: graph nodes and the backward walk.

A tensor produced by an op carries a ``Node``: the op's name, its input tensors and its
backward rule. ``backward`` orders the graph topologically (iteratively, so a chain of any
depth works), then walks it from the output to the leaves, handing each node the gradient
of the output with respect to that node's result and adding what the rule returns into
the node's inputs. Broadcasting is undone here, once, for every op.

``run_backward`` is the loop of chapter 2; the few things it must also do (hooks, the
capture for ``minigrad.grad``, anomaly checks, freeing the graph, giving ``.grad`` an
array of its own) are the small named helpers below it.

This module does not import ``tensor.py`` (which imports it): where it must make a new
tensor, it asks the class of a tensor it was handed, ``type(t)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import anomaly
from .grad_mode import enable_grad, is_grad_enabled, no_grad, state

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Node", "topological_order", "run_backward", "grad", "no_grad", "enable_grad", "is_grad_enabled"]


class Node:
    """One recorded op. ``backward(g, out)`` gets the gradient ``g`` flowing into the op's
    result ``out`` and returns one gradient (a Tensor, or None) per input. ``clock`` is
    the count of in-place changes when the op ran: an input (or ``out``) whose version
    is later was changed since, and backward refuses to run the rule on it."""

    __slots__ = ("op", "inputs", "backward", "where", "clock")

    def __init__(self, op: str, inputs: tuple, backward: Callable) -> None:
        self.op = op
        self.inputs = inputs
        self.backward: Callable | None = backward
        self.clock = state.changes  # one number, not one per input: see Tensor.bump_version
        self.where: str | None = None  # the user's line that created the op (anomaly mode only)

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
    search: no recursion limit however deep the graph. (Tensors hash by identity, so
    sets of tensors need no ``id()``.)"""
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)  # post-order: after everything it was computed from
            continue
        if t in visited:
            continue
        visited.add(t)
        if t._node is None:  # a leaf: nothing to wait for
            order.append(t)
            continue
        stack.append((t, True))
        for inp in t._node.inputs:
            if inp.requires_grad and inp not in visited:
                stack.append((inp, False))
    order.reverse()  # reversed post-order: a tensor comes before the tensors it was computed from
    return order


def run_backward(
    root: Tensor,
    grad: Tensor,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Tensor] | None = None,
) -> dict[int, Tensor | None]:
    """Propagate ``grad`` (d output / d root) through root's graph.

    Without ``capture`` the gradients are accumulated into ``.grad`` of every leaf that
    requires grad (and of intermediates that called ``retain_grad``). With ``capture`` the
    total gradient of each listed tensor is returned by ``id`` instead (None for one that
    no gradient reached), and no ``.grad`` is touched (that is ``minigrad.grad``).
    """
    order = topological_order(root)
    grads: dict[Tensor, Tensor] = {root: grad}  # the gradient reaching each tensor so far
    captured = None if capture is None else dict.fromkeys(map(id, capture))
    with _backward_pass(create_graph):
        for t in order:
            g = grads.pop(t, None)
            if g is None:  # nothing reached t (its users' rules returned None for it)
                continue
            if t._hooks:
                g = _run_hooks(t, g)
            _keep_gradient(t, g, captured, create_graph)
            node = t._node
            if node is None:  # a leaf: nothing further back
                continue
            for inp, g_inp in zip(node.inputs, _call_rule(node, g, t)):
                if g_inp is not None and inp.requires_grad:
                    g_inp = _as_gradient_of(inp, g_inp)  # undo broadcasting, match the dtype
                    grads[inp] = g_inp if inp not in grads else grads[inp] + g_inp
            if not retain_graph:
                _free(node)
    return captured or {}


# ------------------------------------------------------------- the backward walk's helpers


class _backward_pass:
    """Grad mode during the walk: the rules are Tensor ops, recorded only under
    ``create_graph`` (then the gradients are themselves differentiable)."""

    def __init__(self, create_graph: bool) -> None:
        self.create_graph = create_graph

    def __enter__(self) -> None:
        self.saved = state.grad_enabled, state.in_backward
        state.grad_enabled, state.in_backward = self.create_graph, True

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled, state.in_backward = self.saved


def _call_rule(node: Node, g: Tensor, out: Tensor) -> tuple:
    """The node's backward rule applied to ``g``; checked in anomaly mode."""
    rule = node.backward
    if rule is None:
        raise RuntimeError(FREED)
    if state.changes != node.clock:  # something changed in place since the op ran: was it ours?
        for t in (*node.inputs, out):
            if t._version > node.clock:
                raise RuntimeError(_modified_message(node, t, out))
    if state.anomaly:
        return anomaly.checked_rule(node, g, out)
    return rule(g, out)


def _modified_message(node: Node, t: Tensor, out: Tensor) -> str:
    """Why a rule may not run: ``t``, an input or the result of the op, was changed in
    place since the op ran, and the gradient would be taken at the wrong point. (minigrad
    checks every input and the result, also where the rule would not read them; PyTorch
    checks only the tensors a rule saved.)"""
    what = "output" if t is out else f"input {[i is t for i in node.inputs].index(True)}"
    return (
        f"a tensor needed for the gradient was modified in place: the {what} of "
        f"'{node.op}', of shape {t.shape} ({t.dtype}), is at version {t._version}, "
        f"later than the op (version {node.clock}); was there an optimizer step, a "
        "load_state_dict or an assignment to .data between the forward and the "
        "backward pass? Run the forward pass again after the change."
    )


def _as_gradient_of(t: Tensor, g: Any) -> Tensor:
    """``g`` summed back to t's shape (a rule may return the broadcast shape) and cast to
    t's dtype (so a float32 tensor gets a float32 gradient). A rule that records nothing
    may return a plain array; it becomes a tensor here."""
    if not isinstance(g, type(t)):
        g = type(t)._wrap(np.asarray(g))
    if g._data.shape != t._data.shape:
        g = g.sum_to_size(t._data.shape)
    if g._data.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    return g


def _keep_gradient(
    t: Tensor, g: Tensor, captured: dict[int, Tensor | None] | None, create_graph: bool
) -> None:
    """Where t's finished gradient goes: into ``captured`` if t is one of the tensors
    ``minigrad.grad`` asked for; else into ``.grad`` of a leaf, or of a tensor that
    called ``retain_grad``."""
    if captured is not None:
        if id(t) in captured:
            captured[id(t)] = g
    elif t._node is None or t._retains_grad:
        _accumulate_grad(t, g, create_graph)


def _accumulate_grad(t: Tensor, g: Tensor, create_graph: bool) -> None:
    """Add ``g`` into ``t.grad``: gradients accumulate across backward calls, as in
    PyTorch. A first gradient is copied unless it is part of a recorded graph: ``g`` may
    be the caller's own array, one a hook kept, or one that also reaches another tensor,
    and optimizers (and users) update ``.grad`` in place."""
    if t._grad is not None:  # (_grad, not the checked .grad: g already has t's shape and dtype)
        t._grad = t._grad + g
    else:
        t._grad = g if create_graph else type(g)._wrap(g._data.copy())


def _run_hooks(t: Tensor, g: Tensor) -> Tensor:
    """Show ``g`` to each of t's hooks; a hook that returns a tensor replaces it."""
    for hook in list((t._hooks or {}).values()):
        replaced = hook(g)
        if replaced is not None:
            g = _checked_hook_result(replaced, g)
    return g


def _checked_hook_result(replaced: Any, g: Tensor) -> Tensor:
    """A hook's replacement gradient must be a Tensor of the gradient's shape; it takes
    the gradient's dtype (so a float32 leaf never gets a float64 .grad)."""
    if not isinstance(replaced, type(g)):
        raise TypeError(f"a hook must return a Tensor or None, got {type(replaced).__name__}")
    if replaced.shape != g.shape:
        raise RuntimeError(f"a hook returned a gradient of shape {replaced.shape}, expected {g.shape}")
    return replaced if replaced.dtype == g.dtype else replaced.astype(g.dtype)


def _free(node: Node) -> None:
    """Drop what the node saved for its backward (its closure and its inputs), so the
    forward pass's arrays can be freed as soon as the walk has passed them."""
    node.backward = None
    node.inputs = ()


# ------------------------------------------------------------- gradients returned, not stored


def seed_gradient(output: Tensor, grad: Any) -> Tensor:
    """The gradient that starts a backward pass: 1 for a one-element output, else
    ``grad``, which must have the output's shape (it takes the output's dtype)."""
    tensor = type(output)
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward() without grad= needs a one-element output, this one has shape "
                f"{output.shape}; pass grad= of that shape (or reduce it with .sum())"
            )
        return tensor._wrap(np.ones(output.data.shape, output.data.dtype))
    g = grad if isinstance(grad, tensor) else tensor(np.asarray(grad, dtype=output.dtype))
    if g.data.shape != output.data.shape:
        raise RuntimeError(f"grad has shape {g.shape} but the output has shape {output.shape}")
    return g if g.data.dtype == output.data.dtype else g.astype(output.dtype)  # float32 stays float32


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
    tensor = type(output)
    inputs = (inputs,) if isinstance(inputs, tensor) else tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, tensor) or not t.requires_grad:
            raise ValueError(f"grad(): input {i} is not a Tensor that requires grad")
    if retain_graph is None:
        retain_graph = create_graph
    found: dict[int, Tensor | None] = {}
    if output.requires_grad:
        seed = seed_gradient(output, grad_output)
        found = run_backward(output, seed, retain_graph, create_graph, capture=inputs)
    # an input the output does not depend on: a zero gradient of its shape and dtype
    return tuple(_or_zeros(found.get(id(t)), t) for t in inputs)


def _or_zeros(g: Tensor | None, t: Tensor) -> Tensor:
    """``g``, or for an input the output does not depend on, zeros of t's shape and dtype."""
    return g if g is not None else type(t)._wrap(np.zeros_like(t.data))
