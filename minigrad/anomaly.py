"""Anomaly mode: find where a NaN or an infinity was born.

Inside ``with detect_anomaly():`` (or on a function decorated with ``@detect_anomaly()``)
every op's output is checked as it is computed, and every gradient as the backward pass
produces it. The first non-finite value raises ``AnomalyError`` naming the op, the shapes,
and the line of *your* code that created the op (the innermost frame outside the minigrad
package), so a NaN in a gradient points at the forward line whose derivative blew up.

Outside the context the engine tests one flag per op and does nothing else: no stack
walking, and no ``node.where`` is stored.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

from .grad_mode import state

if TYPE_CHECKING:
    from .autograd import Node

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# True while one of minigrad's own backward rules runs (set by ``checked_rule``): the ops it
# computes are steps of the rule, whose result is checked as a gradient instead.
_in_builtin_rule = False


class AnomalyError(FloatingPointError):
    """A NaN or an infinity appeared in anomaly mode."""


class detect_anomaly(contextlib.ContextDecorator):
    """``with minigrad.detect_anomaly():`` raise ``AnomalyError`` at the first NaN or
    infinity, forward or backward, naming the op and the line of your code that created
    it. Also a decorator: ``@minigrad.detect_anomaly()``. ``enabled=False`` turns the
    checks off inside the block (handy as ``detect_anomaly(debug)``). The previous state
    is restored on exit, also when the block raises.

    Run the forward pass inside the block too: a backward anomaly names the line that
    created the op only if the op was created in anomaly mode."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = bool(enabled)
        self._saved: list[bool] = []  # a stack, so one instance can nest or recurse

    def __enter__(self) -> detect_anomaly:
        self._saved.append(state.anomaly)
        state.anomaly = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        state.anomaly = self._saved.pop()


def is_anomaly_enabled() -> bool:
    return state.anomaly


def _in_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def _creation_site(frame: FrameType | None) -> str:
    """'file:line: source' of the innermost frame outside minigrad, starting at ``frame``."""
    while frame is not None and _in_package(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno}: {source}" if source else f"{filename}:{lineno}"


def user_line() -> str:
    """'file:line: source' of the innermost calling frame outside the minigrad package."""
    return _creation_site(sys._getframe(1))


def _bad(array: np.ndarray) -> str | None:
    """None if ``array`` is finite (or not floating point), else e.g. 'nan at index (1,)'
    or '-inf and nan (3 values) at index (0, 2)'."""
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    kinds = []
    if np.isnan(array).any():
        kinds.append("nan")
    if (array == np.inf).any():
        kinds.append("+inf")
    if (array == -np.inf).any():
        kinds.append("-inf")
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
    many = f" ({count} values)" if count > 1 else ""
    return f"{' and '.join(kinds)}{many} at index {first}"


def _describe(tensors: Any) -> str:
    return ", ".join(f"{t.shape} {t.dtype}" for t in tensors)


def check_forward(out: Any, op: str, inputs: tuple) -> None:
    """Called by ``tensor.record`` for every op in anomaly mode: remember where the op was
    created, and raise if its output is not finite."""
    where = _creation_site(sys._getframe(1))
    if out._node is not None:
        out._node.where = where
    if _in_builtin_rule:
        return  # a step of a built-in backward rule: checked_rule checks what the rule returns
    bad = _bad(out.data)
    if bad:
        # in a backward pass, the op is in your own backward rule, or in a hook
        during = " during the backward pass" if state.in_backward else ""
        raise AnomalyError(
            f"'{op}' produced {bad}{during} in its output of shape {out.shape} ({out.dtype}) "
            f"from inputs of shapes [{_describe(inputs)}]; the op was created at {where}"
        )


def checked_rule(node: Node, g: Any, out: Any) -> tuple:
    """Run a node's backward rule in anomaly mode (the backward walk calls this), then
    check the gradients it returned. While a rule of minigrad's own runs, the ops it
    computes are not checked one by one: what counts is the gradient it returns."""
    global _in_builtin_rule
    rule = node.backward
    assert rule is not None  # (the walk checked that the graph was not freed)
    saved = _in_builtin_rule
    code = getattr(rule, "__code__", None)  # (a callable object or a partial: not ours)
    _in_builtin_rule = code is not None and _in_package(code.co_filename)
    try:
        input_grads = rule(g, out)
    finally:
        _in_builtin_rule = saved
    check_backward(node, input_grads)
    return input_grads


def check_backward(node: Node, input_grads: tuple) -> None:
    """Called by the backward walk in anomaly mode with the gradients a node's rule
    returned: raise if one of them is not finite, naming the op's forward line."""
    for i, g in enumerate(input_grads):
        if g is None:
            continue
        bad = _bad(np.asarray(g.data))
        if bad:
            raise AnomalyError(
                f"the backward of '{node.op}' produced {bad} in the gradient of its input {i} "
                f"(shape {g.shape}); the op's inputs are [{_describe(node.inputs)}]; the op was "
                f"created at {node.where or '<unknown: created outside detect_anomaly>'}"
            )
