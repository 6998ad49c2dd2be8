"""Anomaly mode: find where a NaN or an infinity was born.

Inside ``with detect_anomaly():`` every op's output is checked as it is computed, and
every gradient as the backward pass produces it. The first non-finite value raises
``AnomalyError`` naming the op, the shapes, and the line of your code that created the
op. Outside the context the engine tests one flag per op and does nothing else.
"""

from __future__ import annotations

import linecache
import os
import sys
from typing import Any

import numpy as np

from .autograd import Node, state

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """A NaN or an infinity appeared in anomaly mode."""


class detect_anomaly:
    """``with minigrad.detect_anomaly():`` raise at the first NaN or inf, forward or
    backward, naming the op and the user line that created it."""

    def __enter__(self) -> detect_anomaly:
        self._saved = state.anomaly
        state.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        state.anomaly = self._saved


def user_line() -> str:
    """'file:line: source' of the innermost frame outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno}: {source}" if source else f"{filename}:{lineno}"


def _bad(array: np.ndarray) -> str | None:
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    kinds = [k for k, test in (("nan", np.isnan), ("inf", np.isinf)) if test(array).any()]
    return " and ".join(kinds)


def _describe(tensors: Any) -> str:
    return ", ".join(f"{t.shape} {t.dtype}" for t in tensors)


def check_forward(out: Any, op: str, inputs: tuple) -> None:
    where = user_line()
    if out._node is not None:
        out._node.where = where
    bad = _bad(out.data)
    if bad:
        raise AnomalyError(
            f"'{op}' produced {bad} in its output of shape {out.shape} ({out.dtype}) "
            f"from inputs of shapes [{_describe(inputs)}]; the op was created at {where}")


def check_backward(node: Node, input_grads: tuple) -> None:
    for i, g in enumerate(input_grads):
        if g is None:
            continue
        bad = _bad(g.data)
        if bad:
            raise AnomalyError(
                f"the backward of '{node.op}' produced {bad} in the gradient of its input {i} "
                f"(shape {g.shape}); inputs [{_describe(node.inputs)}]; the op was created at "
                f"{node.where or '<unknown: created outside detect_anomaly>'}")
