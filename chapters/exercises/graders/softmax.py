"""Grader for softmax.py: values, the axis, the max trick, the dtype, and the
vector-Jacobian product against diag(p) - p p^T with random output weights."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from _checks import array_of, expect_close

import minigrad as mg
from minigrad.tensor import record


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_forward(mod: ModuleType, rng: np.random.Generator) -> None:
    z = rng.normal(size=(5, 4)) * 2
    p = mod.softmax_forward(z.copy())
    e = np.exp(z)
    es = np.exp(z - z.max(axis=-1, keepdims=True))  # the same mistakes made after the max trick
    axis0 = "it normalises over axis 0 (the batch); each ROW must sum to 1: use axis=-1, keepdims=True"
    whole = (
        "it normalises over the whole array; each row must sum to 1 on its own: use axis=-1, keepdims=True"
    )
    expect_close(
        p,
        _softmax(z),
        "softmax_forward(z) for z of shape (5, 4)",
        {
            axis0: e / e.sum(axis=0, keepdims=True),
            axis0 + " ": es / es.sum(axis=0, keepdims=True),
            whole: e / e.sum(),
            whole + " ": es / es.sum(),
            "it is not normalised: divide exp(z) by the sum of its row": e,
            "it is not normalised: divide exp(z - max) by the sum of its row": es,
        },
    )
    z1 = rng.normal(size=6)
    expect_close(mod.softmax_forward(z1.copy()), _softmax(z1), "softmax_forward of a single row, shape (6,)")
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        big = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 1, 5.0]], dtype=dtype)
        with np.errstate(all="ignore"):
            p = mod.softmax_forward(big.copy())
        if array_of(p, "softmax_forward(z)").dtype != dtype:
            raise AssertionError(
                f"softmax_forward turned {np.dtype(dtype).name} scores into "
                f"{np.asarray(p).dtype}: keep the input's dtype"
            )
        expect_close(
            p,
            _softmax(big.astype(np.float64)),
            f"softmax_forward at scores of 1e4 ({np.dtype(dtype).name})",
            nonfinite="exp(1e4) overflows: subtract each row's max before exp()",
            atol=tol,
            rtol=tol,
        )


def _check_backward(mod: ModuleType, rng: np.random.Generator) -> None:
    z = rng.normal(size=(5, 4)) * 2
    p = _softmax(z)
    g = rng.normal(size=(5, 4))  # random output weights: a plain sum (g = 1) would hide mistakes
    jacobians = [np.diag(row) - np.outer(row, row) for row in p]  # symmetric, so J^T g = J g
    expected = np.stack([jac @ gi for jac, gi in zip(jacobians, g)])
    row_dot = (g * p).sum(axis=-1, keepdims=True)
    dz = mod.softmax_backward(p.copy(), g.copy())
    expect_close(
        dz,
        expected,
        "softmax_backward(p, g)",
        {
            "your softmax backward ignores the sum over i: dL/dz_j = p_j (g_j - sum_i g_i p_i)": p * g,
            "your softmax backward uses only the Jacobian's diagonal, p_j (1 - p_j) g_j; the off-diagonal "
            "terms -p_i p_j give the sum over i: p_j (g_j - sum_i g_i p_i)": p * (1 - p) * g,
            "your softmax backward misses the factor p_j in front: p_j (g_j - sum_i g_i p_i)": g - row_dot,
            "your sum is sum_i g_i; it must be sum_i g_i p_i": p * (g - g.sum(axis=-1, keepdims=True)),
            "your sum over i runs over the whole batch; each row has its own: use axis=-1, keepdims=True": p
            * (g - (g * p).sum()),
            "your sum over i runs over axis 0 (the batch), not along each row: axis=-1, keepdims=True": p
            * (g - (g * p).sum(axis=0, keepdims=True)),
            "your softmax backward has the wrong sign": -expected,
        },
    )
    p32, g32 = p.astype(np.float32), g.astype(np.float32)
    dz32 = array_of(mod.softmax_backward(p32, g32), "softmax_backward(p, g)")
    if dz32.dtype != np.float32:
        raise AssertionError(f"softmax_backward turned float32 inputs into {dz32.dtype}: keep the dtype")

    def op(x: mg.Tensor) -> mg.Tensor:  # your two functions as one minigrad op
        return record(
            mod.softmax_forward(x.data),
            (x,),
            "softmax",
            lambda g, out: (mg.Tensor(mod.softmax_backward(out.data, g.data)),),
        )

    try:
        mg.gradcheck(op, (mg.Tensor(rng.normal(size=(3, 5)), requires_grad=True),))
    except mg.GradcheckError as err:
        raise AssertionError(f"your softmax, made a minigrad op, fails the gradient check: {err}") from err


def check(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    _check_forward(mod, rng)
    _check_backward(mod, rng)
