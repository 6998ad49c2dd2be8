"""Turning a ``seed`` argument into a ``numpy.random.Generator``, with a clear error for
anything that is not a seed. Shared by ``data`` (generators, splits, ``DataLoader``) and
``sampling``, so that every function takes seeds the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

Seed = int | np.random.Generator | None


def make_rng(seed: Any, argument: str) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for a seed that is an integer >= 0 (the same seed
    gives the same draws), None (fresh entropy from the system), or a Generator (used as
    is and advanced, so that several calls can share one stream). Anything else (a
    negative integer, a float, a string, a bool) raises, naming ``argument``, before
    numpy's own message from deep inside ``SeedSequence`` could."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{argument} must be an integer >= 0, None or a numpy.random.Generator, "
            f"got {seed!r} ({type(seed).__name__})"
        )
    if seed < 0:
        raise ValueError(f"{argument} must be an integer >= 0, None or a numpy.random.Generator, got {seed}")
    return np.random.default_rng(int(seed))
