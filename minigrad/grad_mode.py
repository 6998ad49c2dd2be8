"""Grad mode and the engine's shared switches.

Every op asks one question before it records a graph node: is grad mode on? ``no_grad``
turns it off (inference, optimizer updates), ``enable_grad`` back on. The backward walk
turns it off too, unless ``create_graph=True`` asks for the backward pass itself to be
recorded (that is how second derivatives work).

This module imports nothing from minigrad, so every other module can import it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any


class _State:
    """Process-wide switches, read on every op (so kept to plain attribute loads).

    ``grad_enabled``: record graph nodes. ``anomaly``: check every op's output (anomaly
    mode). ``in_backward``: a backward pass is running (anomaly mode's messages use it).
    ``changes``: how many in-place changes to tensors minigrad has seen, the clock that
    stamps them (see ``Tensor.bump_version``)."""

    __slots__ = ("grad_enabled", "anomaly", "in_backward", "changes")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.in_backward = False
        self.changes = 0


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

    def __call__(self, fn: Callable) -> Callable:  # type: ignore[override]
        """As a decorator. A generator function gets the mode around each step of its
        body, not just around the call that creates the generator (which runs none of
        the body), and the caller's mode in between, where the caller's code runs."""
        if not inspect.isgeneratorfunction(fn):
            return super().__call__(fn)
        enabled = self.enabled

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            step, value = gen.send, None
            while True:
                with _GradMode(enabled):
                    try:
                        item = step(value)
                    except StopIteration as stop:
                        return stop.value
                try:
                    step, value = gen.send, (yield item)
                except GeneratorExit:  # closed by the caller: its cleanup runs in the mode too
                    with _GradMode(enabled):
                        gen.close()
                    raise
                except BaseException as error:  # thrown in by the caller: pass it on
                    step, value = gen.throw, error

        return generator


def no_grad() -> _GradMode:
    """``with no_grad():`` (or ``@no_grad()``): ops inside record no graph."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """``with enable_grad():`` records a graph even inside ``no_grad``."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    return state.grad_enabled
