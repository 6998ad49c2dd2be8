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
from typing import Any

import numpy as np

from . import autograd as _autograd
from .autograd import Node, state

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# The backward walk's code object: an op computed while it is on the stack is a step of a
# backward rule, whose result is checked as a gradient instead (by ``check_backward``).
_BACKWARD_CODE = getattr(getattr(_autograd, "run_backward", None), "__code__", None)


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


def _in_package(frame: FrameType) -> bool:
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)


def _creation_site(frame: FrameType | None) -> tuple[str, bool]:
    """('file:line: source' of the innermost frame outside minigrad, starting at
    ``frame``; whether a backward rule is running between ``frame`` and that one)."""
    in_backward = False
    while frame is not None and _in_package(frame):
        in_backward = in_backward or frame.f_code is _BACKWARD_CODE
        frame = frame.f_back
    if frame is None:
        return "<unknown>", in_backward
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, lineno).strip()
    return (f"{filename}:{lineno}: {source}" if source else f"{filename}:{lineno}"), in_backward


def user_line() -> str:
    """'file:line: source' of the innermost calling frame outside the minigrad package."""
    return _creation_site(sys._getframe(1))[0]


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


def _backward_running(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is _BACKWARD_CODE:
            return True
        frame = frame.f_back
    return False


def check_forward(out: Any, op: str, inputs: tuple) -> None:
    """Called by ``tensor.record`` for every op in anomaly mode: remember where the op was
    created, and raise if its output is not finite."""
    caller = sys._getframe(1)
    where, engine_rule = _creation_site(caller)
    if out._node is not None:
        out._node.where = where
    if engine_rule:
        return  # a step of a built-in backward rule: check_backward checks what the rule returns
    bad = _bad(out.data)
    if bad:
        # still here in a backward pass: the op is in your own backward rule, or in a hook
        during = " during the backward pass" if _backward_running(caller) else ""
        raise AnomalyError(
            f"'{op}' produced {bad}{during} in its output of shape {out.shape} ({out.dtype}) "
            f"from inputs of shapes [{_describe(inputs)}]; the op was created at {where}")


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
                f"created at {node.where or '<unknown: created outside detect_anomaly>'}")
