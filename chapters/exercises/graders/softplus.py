"""Grader for softplus.py: the value, the overflow, the op, the gradient, the dtype."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from _checks import expect_close

import minigrad as mg


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


def _forward(mod: ModuleType, x: np.ndarray) -> tuple[mg.Tensor, mg.Tensor]:
    xt = mg.Tensor(x, requires_grad=True)
    y = mod.softplus(xt)
    if not isinstance(y, mg.Tensor):
        raise AssertionError(
            f"softplus should return a minigrad Tensor (from record), got {type(y).__name__}"
        )
    return xt, y


def _backward(y: mg.Tensor, w: np.ndarray) -> None:
    try:
        (y * mg.Tensor(w.astype(y.dtype))).sum().backward()
    except Exception as err:
        raise AssertionError(
            f"backward() failed inside your rule ({type(err).__name__}: {err}). The rule is called as "
            "backward(g, out) with Tensors and must return a tuple with one Tensor per input, "
            "like (g * Tensor(s),)"
        ) from err


def check(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=7) * 3
    xt, y = _forward(mod, x)
    if y.op != "softplus":
        raise AssertionError(
            f"the result's op is {y.op!r}: make softplus ONE op with "
            "record(data, (x,), 'softplus', backward), not a composition of other ops"
        )
    expect_close(
        y,
        np.logaddexp(0, x),
        "softplus(x)",
        {
            "it returns exp(x); softplus is log(1 + exp(x))": np.exp(x),
            "it returns log(exp(x)) = x; softplus is log(1 + exp(x))": x,
            "it drops max(x, 0): log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))": np.log1p(
                np.exp(-np.abs(x))
            ),
        },
    )

    # random output weights: the gradient must be w * sigmoid(x), with w the incoming gradient
    w = rng.normal(size=7)
    _backward(y, w)
    expect_close(
        xt.grad,
        w * _sigmoid(x),
        "the gradient of sum(w * softplus(x))",
        {
            "your backward ignores the incoming gradient g: return (g * sigmoid(x),)": _sigmoid(x),
            "your derivative is sigmoid(-x) = 1 / (1 + exp(x)); softplus' = sigmoid(x) = 1/(1 + exp(-x))": w
            * _sigmoid(-x),
            "your derivative is exp(x); d/dx log(1 + exp(x)) = exp(x) / (1 + exp(x)) = sigmoid(x)": w
            * np.exp(x),
            "your derivative is softplus(x) itself; it is sigmoid(x)": w * np.logaddexp(0, x),
            "your rule returned a bare Tensor; return a tuple, one gradient per input: (g * s,)": np.full(
                7, w[0] * _sigmoid(x[0])
            ),
        },
    )

    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        big = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=dtype)
        with np.errstate(all="ignore"):  # a naive version overflows: say so below, not as a warning
            xt, y = _forward(mod, big)
            if y.dtype != dtype:
                raise AssertionError(f"a {np.dtype(dtype).name} x gave a {y.dtype} result: keep x's dtype")
            expect_close(
                y,
                np.logaddexp(0, big.astype(np.float64)),
                f"softplus at x = +-1000 ({np.dtype(dtype).name})",
                nonfinite="log(1 + exp(x)) overflows at x = 1000; compute max(x, 0) + log1p(exp(-|x|))",
                atol=tol,
                rtol=tol,
            )
            w = rng.normal(size=5)
            _backward(y, w)
        if xt.grad.dtype != dtype:
            raise AssertionError(
                f"a {np.dtype(dtype).name} x got a {xt.grad.dtype} gradient: build the "
                "sigmoid from x.data so it keeps x's dtype"
            )
        expect_close(
            xt.grad,
            w * _sigmoid(big.astype(np.float64)),
            f"the gradient at x = +-1000 ({np.dtype(dtype).name})",
            nonfinite="use a sigmoid that cannot overflow, like 0.5 * (1 + tanh(x / 2))",
            atol=tol,
            rtol=tol,
        )

    try:
        mg.gradcheck(mod.softplus, (mg.Tensor(rng.normal(size=(3, 4)), requires_grad=True),))
    except mg.GradcheckError as err:
        raise AssertionError(f"the gradient disagrees with central differences: {err}") from err
