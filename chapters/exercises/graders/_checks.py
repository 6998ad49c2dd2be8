"""Helpers the graders share: compare an answer with the right one and, when it is
wrong, say which common mistake it matches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def array_of(value: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a numpy array (a minigrad Tensor is unwrapped), checked for shape."""
    data = getattr(value, "data", None)  # a minigrad Tensor holds its array in .data
    if not isinstance(data, np.ndarray):
        data = value
    try:
        array = np.asarray(data, dtype=None if isinstance(data, np.ndarray) else np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be an array of numbers, got {type(value).__name__}") from None
    if array.dtype.kind not in "fiu":
        raise AssertionError(
            f"{what} should be an array of numbers, got {type(value).__name__} of {array.dtype}"
        )
    if shape is not None and array.shape != tuple(shape):
        raise AssertionError(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


def matches(actual: np.ndarray, expected: np.ndarray, atol: float = 1e-10, rtol: float = 1e-10) -> bool:
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, atol=atol, rtol=rtol))


def expect_close(
    actual: Any,
    expected: np.ndarray,
    what: str,
    mistakes: Mapping[str, np.ndarray] | None = None,
    nonfinite: str = "",
    atol: float = 1e-10,
    rtol: float = 1e-10,
) -> None:
    """Pass if ``actual`` equals ``expected`` to the tolerances. Otherwise raise an
    AssertionError: ``nonfinite`` explains an inf or nan where the right answer is
    finite; else the message of the first of ``mistakes`` (message -> what that mistake
    would give) that ``actual`` matches; else the worst element."""
    expected = np.asarray(expected)
    actual = array_of(actual, what, expected.shape)
    if not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
        bad = np.argwhere(~np.isfinite(actual))[0]
        raise AssertionError(
            f"{what} is not finite: {actual[tuple(bad)]} at index "
            f"{tuple(int(i) for i in bad)}" + (f"; {nonfinite}" if nonfinite else "")
        )
    if matches(actual, expected, atol, rtol):
        return
    for message, wrong in (mistakes or {}).items():
        if matches(actual, np.asarray(wrong), 1e-8, 1e-8):
            raise AssertionError(f"{what} is wrong: {message}")
    error = np.abs(actual - expected)
    worst = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
    raise AssertionError(
        f"{what} is wrong: at index {tuple(int(i) for i in worst)} you have "
        f"{actual[worst]:.6g}, the right value is {expected[worst]:.6g}"
    )
