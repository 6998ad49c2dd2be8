"""Grader of the exercise ``online_softmax_merge`` (chapter 13): ``check(mod)`` raises
AssertionError saying what is wrong, or returns None when the merge rule is right."""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """The closed form, in float64, along the last axis (an all -inf row gives -inf)."""
    m = np.max(x, axis=-1, initial=-np.inf)
    shift = np.where(np.isneginf(m), 0.0, m)
    with np.errstate(divide="ignore"):
        return shift + np.log(np.exp(x - shift[:, None]).sum(axis=-1))


def _pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.max(x, axis=-1, initial=-np.inf)
    shift = np.where(np.isneginf(m), 0.0, m)
    return m, np.exp(x - shift[:, None]).sum(axis=-1)


def _merge(mod: ModuleType, *args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a nan is reported below, with its cause
        result = mod.merge(*(np.array(a, dtype=np.float64) for a in args))
    assert isinstance(result, tuple) and len(result) == 2, "merge must return the pair (m, s)"
    return np.asarray(result[0], dtype=np.float64), np.asarray(result[1], dtype=np.float64)


def _check_merge(mod: ModuleType) -> None:
    # parts A = [1, 2] and B = [5]: m = 5, s = (e^-1 + 1) e^-3 + 1
    (m1, s1), (m2, s2) = _pair(np.array([[1.0, 2.0]])), _pair(np.array([[5.0]]))
    m, s = _merge(mod, m1, s1, m2, s2)
    assert np.array_equal(m, [5.0]), f"merge: m should be max(m1, m2) = 5, got {m}"
    want = (np.exp(-1) + 1) * np.exp(-3) + 1
    if np.allclose(s, np.exp(-1) + 1 + 1):
        raise AssertionError(
            "merge: s1 was added without rescaling: when m2 > m1, s1 must be multiplied by exp(m1 - m)"
        )
    assert np.allclose(s, want, rtol=1e-12, atol=0), f"merge([1, 2] with [5]): s should be {want!r}, got {s}"
    m, s = _merge(mod, m2, s2, m1, s1)  # the other order: now the first part has the larger max
    if np.allclose(s, 1 + 1 + np.exp(-1)):
        raise AssertionError(
            "merge: s2 was added without rescaling: when m1 > m2, s2 must be multiplied by exp(m2 - m)"
        )
    assert np.allclose(s, want, rtol=1e-12, atol=0), (
        f"merge([5] with [1, 2]): s should be {want!r} (the merge is symmetric), got {s}"
    )
    # empty parts
    m, s = _merge(mod, [-np.inf], [0.0], [-np.inf], [0.0])
    assert not np.isnan(s).any() and not np.isnan(m).any(), (
        "merging two empty parts (-inf, 0) gave nan: where m = -inf, take exp(m_i - m) as 0"
    )
    assert m[0] == -np.inf and s[0] == 0, f"two empty parts should merge into (-inf, 0), got ({m[0]}, {s[0]})"
    m, s = _merge(mod, [-np.inf], [0.0], m1, s1)
    assert m[0] == m1[0] and np.isclose(s[0], s1[0], rtol=1e-15), (
        "merging with an empty part (-inf, 0) should change nothing"
    )
    # huge logits: never exp(m) itself
    big = np.array([[1e4, 1e4 - 1.0]])
    m, s = _merge(mod, *_pair(big[:, :1]), *_pair(big[:, 1:]))
    assert np.all(np.isfinite(s)), (
        "merge: s overflowed at logits of 1e4: rescale with exp(m_i - m) (<= 1), never with exp(m_i) itself"
    )
    assert np.allclose(s, 1 + np.exp(-1.0), rtol=1e-12), (
        f"merge at logits of 1e4: s should be 1 + e^-1, got {s}"
    )


def _check_fold(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    for magnitude in (1.0, 1e4):
        x = rng.standard_normal((4, 17)) * magnitude
        x[1, 5:11] = -np.inf  # a block of -inf inside a row
        x[2] = -np.inf  # a row with nothing in it
        for cuts in ([17], [3, 9, 17], [1, 2, 3, 10, 16, 17]):
            blocks = [x[:, a:b] for a, b in zip([0, *cuts[:-1]], cuts)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = np.asarray(mod.logsumexp_of_blocks(blocks), dtype=np.float64)
            want = _logsumexp(x)
            assert got.shape == want.shape, (
                f"logsumexp_of_blocks should return shape {want.shape}, got {got.shape}"
            )
            assert not np.isnan(got).any(), (
                "logsumexp_of_blocks gave nan: an all -inf row or block has the pair (-inf, 0)"
            )
            assert got[2] == -np.inf, "the log-sum-exp of a row of all -inf is -inf"
            assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (
                f"logsumexp_of_blocks with blocks ending at {cuts} (logits ~{magnitude:g}) gave {got}, "
                f"expected {want}"
            )


def check(mod: ModuleType) -> None:
    """Grade a module defining ``merge`` and ``logsumexp_of_blocks``."""
    for part in (_check_merge, _check_fold):
        part(mod)  # an untouched starter raises NotImplementedError: grade.py says "not done yet"
