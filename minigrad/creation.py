"""Creation functions, named and shaped as in numpy and PyTorch: ``zeros``, ``ones``,
``full``, ``arange``, ``eye``, the ``*_like`` ones, and the random ``randn`` and ``rand``.

Every one returns a leaf Tensor, float64 unless ``dtype`` says otherwise (as
``Tensor([...])``), and takes ``requires_grad=``. Shapes may be given as ``zeros(2, 3)`` or
``zeros((2, 3))``. The random ones take ``seed=``: an integer >= 0 (the same seed gives
the same numbers), None (fresh entropy) or a ``numpy.random.Generator`` (used and
advanced, so several calls can share one stream).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._seed import Seed, make_rng
from .ops import _shape_arg
from .tensor import Tensor


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data)
    return t.requires_grad_(True) if requires_grad else t


def _shape(shape: tuple, name: str) -> tuple[int, ...]:
    dims = _shape_arg(shape)
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name}: the shape must be integers >= 0, got {dims!r}")
    return tuple(int(n) for n in dims)


def _flag(requires_grad: Any, name: str) -> bool:
    if not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(f"{name}: requires_grad must be True or False, got {requires_grad!r}")
    return bool(requires_grad)


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of 0s of the given shape."""
    return full(_shape(shape, "zeros"), 0, dtype=dtype, requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of 1s of the given shape."""
    return full(_shape(shape, "ones"), 1, dtype=dtype, requires_grad=requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape with every entry ``fill_value``."""
    dims = _shape((shape,) if isinstance(shape, (int, np.integer)) else (tuple(shape),), "full")
    return _leaf(np.full(dims, fill_value, dtype=dtype), _flag(requires_grad, "full"))


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to but excluding stop (``arange(n)`` = 0 .. n - 1), as
    ``np.arange``; float64 by default like every Tensor (pass ``dtype=np.int64`` for
    indices)."""
    if step == 0:
        raise ValueError("arange: step must not be 0")
    data = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _leaf(data.astype(dtype), _flag(requires_grad, "arange"))


def eye(n: int, m: int | None = None, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default): 1 where row == column, else 0."""
    _shape((n,) if m is None else (n, m), "eye")
    return _leaf(np.eye(n, m, dtype=dtype), _flag(requires_grad, "eye"))


def _like(t: Any) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """0s of t's shape and dtype (or ``dtype``)."""
    return full_like(t, 0, dtype=dtype, requires_grad=requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """1s of t's shape and dtype (or ``dtype``)."""
    return full_like(t, 1, dtype=dtype, requires_grad=requires_grad)


def full_like(t: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in every entry, of t's shape and dtype (or ``dtype``). A new leaf:
    nothing of t's graph is kept."""
    return _leaf(np.full_like(_like(t), fill_value, dtype=dtype), _flag(requires_grad, "full_like"))


def randn(*shape: Any, seed: Seed = None, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution N(0, 1), of the given shape."""
    rng = make_rng(seed, "randn: seed")
    return _leaf(
        rng.standard_normal(_shape(shape, "randn")).astype(dtype, copy=False), _flag(requires_grad, "randn")
    )


def rand(*shape: Any, seed: Seed = None, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1), of the given shape."""
    rng = make_rng(seed, "rand: seed")
    return _leaf(rng.random(_shape(shape, "rand")).astype(dtype, copy=False), _flag(requires_grad, "rand"))


__all__ = ["zeros", "ones", "full", "arange", "eye", "zeros_like", "ones_like", "full_like", "randn", "rand"]
