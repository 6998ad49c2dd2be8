"""Grader for log_softmax.py: values, the max trick (underflow and overflow), the dtype,
and the vector-Jacobian product against I - 1 p^T with random output weights."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from _checks import array_of, expect_close

import minigrad as mg
from minigrad.tensor import record


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_forward(mod: ModuleType, rng: np.random.Generator) -> None:
    z = rng.normal(size=(5, 4)) * 2 + 3
    m = z.max(axis=-1, keepdims=True)
    log_sums = np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    expect_close(
        mod.log_softmax_forward(z.copy()),
        _log_softmax(z),
        "log_softmax_forward(z), shape (5, 4)",
        {
            "each row is off by its max: logsumexp(z) = m + log(sum_j exp(z_j - m)), add m back": z
            - log_sums,
            "you returned softmax, not its log": np.exp(_log_softmax(z)),
            "it normalises over axis 0 (the batch); use axis=-1, keepdims=True": z
            - np.log(np.exp(z).sum(axis=0, keepdims=True)),
            "it normalises over the whole array; each row on its own: use axis=-1, keepdims=True": z
            - np.log(np.exp(z).sum()),
        },
    )
    z1 = rng.normal(size=6)
    expect_close(
        mod.log_softmax_forward(z1.copy()), _log_softmax(z1), "log_softmax_forward of one row, shape (6,)"
    )
    # far-apart scores: exp(-1000) underflows to 0, yet log p = -1000 is an ordinary number
    apart = np.array([[0.0, -1000.0, 3.0]])
    with np.errstate(all="ignore"):
        out = mod.log_softmax_forward(apart.copy())
    expect_close(
        out,
        _log_softmax(apart),
        "log_softmax_forward([0, -1000, 3])",
        nonfinite="you took log(softmax(z)): p = exp(-1003) underflows to 0 and log(0) = -inf; "
        "compute (z - m) - log(sum(exp(z - m))) instead",
    )
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-4)):
        big = np.array([[1e4, 1e4 - 2.0, 1e4 - 5.0], [-1e4, -1e4 + 1.0, -1e4 + 3.0]], dtype=dtype)
        with np.errstate(all="ignore"):
            out = mod.log_softmax_forward(big.copy())
        if array_of(out, "log_softmax_forward(z)").dtype != dtype:
            raise AssertionError(
                f"log_softmax_forward turned {np.dtype(dtype).name} scores into "
                f"{np.asarray(out).dtype}: keep the input's dtype"
            )
        expect_close(
            out,
            _log_softmax(big.astype(np.float64)),
            f"log_softmax_forward at scores of +-1e4 ({np.dtype(dtype).name})",
            atol=tol,
            rtol=tol,
            nonfinite="exp(1e4) overflows (and exp(-1e4) underflows): subtract each row's max before exp()",
        )


def _check_backward(mod: ModuleType, rng: np.random.Generator) -> None:
    z = rng.normal(size=(5, 4)) * 2
    log_p = _log_softmax(z)
    p = np.exp(log_p)
    g = rng.normal(size=(5, 4))  # random output weights
    expected = np.stack([(np.eye(4) - np.outer(np.ones(4), row)).T @ gi for row, gi in zip(p, g)])
    dz = mod.log_softmax_backward(log_p.copy(), g.copy())
    g_sum = g.sum(axis=-1, keepdims=True)
    expect_close(
        dz,
        expected,
        "log_softmax_backward(log_p, g)",
        {
            "your backward ignores the sum over i: dL/dz_j = g_j - p_j sum_i g_i, not g_j - p_j g_j": g
            - p * g,
            "your p_j term lacks the factor sum_i g_i: dL/dz_j = g_j - p_j sum_i g_i": g - p,
            "you used log p where p = exp(log_p) belongs: dL/dz_j = g_j - p_j sum_i g_i": g - log_p * g_sum,
            "your sum over i runs over the whole batch; each row has its own: axis=-1, keepdims=True": g
            - p * g.sum(),
            "your sum over i runs over axis 0 (the batch); use axis=-1, keepdims=True": g
            - p * g.sum(axis=0, keepdims=True),
            "you wrote softmax's backward, p_j (g_j - sum_i g_i p_i); log-softmax's is g_j - p_j sum_i g_i": p
            * (g - (g * p).sum(axis=-1, keepdims=True)),
        },
    )
    dz32 = array_of(
        mod.log_softmax_backward(log_p.astype(np.float32), g.astype(np.float32)),
        "log_softmax_backward(log_p, g)",
    )
    if dz32.dtype != np.float32:
        raise AssertionError(f"log_softmax_backward turned float32 inputs into {dz32.dtype}: keep the dtype")

    def op(x: mg.Tensor) -> mg.Tensor:  # your two functions as one minigrad op
        return record(
            mod.log_softmax_forward(x.data),
            (x,),
            "log_softmax",
            lambda g, out: (mg.Tensor(mod.log_softmax_backward(out.data, g.data)),),
        )

    try:
        mg.gradcheck(op, (mg.Tensor(rng.normal(size=(3, 5)), requires_grad=True),))
    except mg.GradcheckError as err:
        raise AssertionError(
            f"your log-softmax, made a minigrad op, fails the gradient check: {err}"
        ) from err


def check(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    _check_forward(mod, rng)
    _check_backward(mod, rng)
