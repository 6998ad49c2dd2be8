"""Grader for cross_entropy.py: the loss against minigrad's cross-entropy and the closed
form, the gradient (p - y) / N with a random output weight, stability, and the dtype."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from _checks import expect_close

import minigrad as mg
import minigrad.functional as F


def _run(mod: ModuleType, z: np.ndarray, t: np.ndarray, weight: float) -> tuple[mg.Tensor, mg.Tensor]:
    logits = mg.Tensor(z, requires_grad=True)
    loss = mod.cross_entropy(logits, t.copy())
    if not isinstance(loss, mg.Tensor):
        raise AssertionError(
            f"cross_entropy should return a minigrad Tensor (from record), got {type(loss).__name__}"
        )
    if loss.shape != ():
        raise AssertionError(f"the loss has shape {loss.shape}; it is one number, the mean over the batch")
    try:
        (loss * weight).backward()
    except Exception as err:
        raise AssertionError(
            f"backward() failed inside your rule ({type(err).__name__}: {err}); it must "
            "return a 1-tuple holding a Tensor of the logits' shape"
        ) from err
    return logits, loss


def check(mod: ModuleType) -> None:
    rng = np.random.default_rng(0)
    n, c = 6, 4
    z = rng.normal(size=(n, c)) * 2
    t = rng.integers(0, c, size=n)
    weight = float(rng.normal()) + 3.0  # a random output weight, away from 1
    logits, loss = _run(mod, z, t, weight)
    if loss.op != "cross_entropy":
        raise AssertionError(
            f"the loss's op is {loss.op!r}: make it ONE op with "
            "record(loss, (logits,), 'cross_entropy', backward)"
        )
    log_p = z - z.max(axis=-1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
    picked = log_p[np.arange(n), t]
    expected = -picked.mean()
    expect_close(
        loss,
        np.asarray(expected),
        "the loss",
        {
            "it is the SUM over the batch; cross-entropy here is the mean: divide by N": np.asarray(
                -picked.sum()
            ),
            "its sign is flipped: the loss is -mean log p[t]": np.asarray(picked.mean()),
            "it averages -log p over all N * C entries; pick log_p[arange(N), t]": np.asarray(-log_p.mean()),
        },
    )
    expect_close(loss, np.asarray(F.cross_entropy(mg.Tensor(z), t).item()), "the loss")  # minigrad agrees
    p = np.exp(log_p)
    y = np.eye(c)[t]
    grad = weight * (p - y) / n
    expect_close(
        logits.grad,
        grad,
        "the gradient of w * loss for a random w",
        {
            "your gradient is not divided by N: the loss is a mean, so it is (p - y) / N": weight * (p - y),
            "your backward ignores the incoming gradient g: return (g * Tensor((p - y) / N),)": (p - y) / n,
            "your gradient has the wrong sign: it is p - y, not y - p": -grad,
            "your gradient is p / N: subtract the one-hot targets y": weight * p / n,
            "your gradient subtracts y from the wrong entries: y[n, t_n] = 1 for each row n": weight
            * (p - np.eye(c)[np.roll(t, 1)])
            / n,
        },
    )

    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        big = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4 - 1]], dtype=dtype)
        targets = np.array([2, 1])
        with np.errstate(all="ignore"):
            logits, loss = _run(mod, big, targets, 1.0)
        if loss.dtype != dtype or logits.grad.dtype != dtype:
            raise AssertionError(
                f"{np.dtype(dtype).name} logits gave a {loss.dtype} loss and a "
                f"{logits.grad.dtype} gradient: keep the logits' dtype"
            )
        exact = F.cross_entropy(mg.Tensor(big.astype(np.float64)), targets)
        expect_close(
            loss,
            np.asarray(exact.item()),
            f"the loss at logits of 1e4 ({np.dtype(dtype).name})",
            nonfinite="exp(1e4) overflows: compute log p by the max trick",
            atol=tol,
            rtol=tol,
        )
        s = 1 / (
            1 + np.exp(-1.0)
        )  # row 2's p is (0, sigmoid(1), sigmoid(-1)): the last two logits differ by 1
        expect_close(
            logits.grad,
            np.array([[1.0, 0, -1], [0, s - 1, 1 - s]]) / 2,
            f"the gradient at logits of 1e4 ({np.dtype(dtype).name})",
            nonfinite="compute p as exp(log p), from the max trick",
            atol=tol,
            rtol=tol,
        )
