"""One training step of softmax regression: minigrad against hand-written numpy (and PyTorch).

    python benchmarks/bench_train.py            # the full table (about a minute)
    python benchmarks/bench_train.py --quick    # fewer repeats

The workload, in float32: logits = X @ W + b, mean cross-entropy against integer labels,
backward, SGD update. The floor is numpy with the analytic gradient:
p = softmax(logits); g = (p - onehot) / N; dW = X^T g; db = sum(g, 0). Every
implementation runs in the same process, interleaved round by round, single-threaded,
after a warm-up; each figure is the median over rounds of the mean time per step.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one thread for everybody

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import functional as F  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional: its column is left out
    torch = None

SIZES = {"tiny": (32, 2, 3), "small": (256, 64, 10), "digits": (1797, 64, 10),
         "large": (4096, 784, 10)}
LR = 0.1


def problem(n: int, d: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    W = (rng.standard_normal((d, k)) * 0.01).astype(np.float32)
    b = np.zeros(k, np.float32)
    return X, y, W, b


# ---------------------------------------------------------------- softmax regression


def numpy_regression(X, y, W, b) -> Callable[[], None]:
    W, b = W.copy(), b.copy()
    n = len(y)
    rows = np.arange(n)

    def step() -> None:
        logits = X @ W + b
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        p[rows, y] -= 1  # p - onehot, in place
        g = p / n
        W[...] -= LR * (X.T @ g)
        b[...] -= LR * g.sum(axis=0)

    return step


def minigrad_regression(X, y, W, b, loss_fn=F.cross_entropy) -> Callable[[], None]:
    Xt, yt = mg.Tensor(X), mg.Tensor(y)
    Wt, bt = mg.Tensor(W, requires_grad=True), mg.Tensor(b, requires_grad=True)
    opt = mg.optim.SGD([Wt, bt], lr=LR)

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(Xt @ Wt + bt, yt)
        loss.backward()
        opt.step()

    return step


def torch_regression(X, y, W, b) -> Callable[[], None]:
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    opt = torch.optim.SGD([Wt, bt], lr=LR)

    def step() -> None:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xt @ Wt + bt, yt)
        loss.backward()
        opt.step()

    return step


# ---------------------------------------------------------------- two-layer MLP


def mlp_problem(n: int, d: int, k: int, hidden: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    W1 = (rng.standard_normal((d, hidden)) / np.sqrt(d)).astype(np.float32)
    W2 = (rng.standard_normal((hidden, k)) / np.sqrt(hidden)).astype(np.float32)
    return X, y, W1, np.zeros(hidden, np.float32), W2, np.zeros(k, np.float32)


def numpy_mlp(X, y, W1, b1, W2, b2) -> Callable[[], None]:
    W1, b1, W2, b2 = W1.copy(), b1.copy(), W2.copy(), b2.copy()
    n = len(y)
    rows = np.arange(n)

    def step() -> None:
        z = X @ W1 + b1
        h = np.maximum(z, 0)
        logits = h @ W2 + b2
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        p[rows, y] -= 1
        g = p / n
        gh = (g @ W2.T) * (z > 0)
        W2[...] -= LR * (h.T @ g)
        b2[...] -= LR * g.sum(axis=0)
        W1[...] -= LR * (X.T @ gh)
        b1[...] -= LR * gh.sum(axis=0)

    return step


def minigrad_mlp(X, y, W1, b1, W2, b2) -> Callable[[], None]:
    Xt, yt = mg.Tensor(X), mg.Tensor(y)
    params = [mg.Tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    opt = mg.optim.SGD(params, lr=LR)

    def step() -> None:
        w1, c1, w2, c2 = params
        opt.zero_grad()
        loss = F.cross_entropy((Xt @ w1 + c1).relu() @ w2 + c2, yt)
        loss.backward()
        opt.step()

    return step


def torch_mlp(X, y, W1, b1, W2, b2) -> Callable[[], None]:
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    params = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    opt = torch.optim.SGD(params, lr=LR)

    def step() -> None:
        w1, c1, w2, c2 = params
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.relu(Xt @ w1 + c1) @ w2 + c2, yt)
        loss.backward()
        opt.step()

    return step


# ---------------------------------------------------------------- measurement


def measure(steps: dict[str, Callable[[], None]], rounds: int, budget: float) -> dict[str, float]:
    """Median over ``rounds`` of the mean seconds per step; implementations interleaved
    within each round so that they share the machine's state."""
    calls = {}
    for name, step in steps.items():  # warm-up, and how many calls fill the budget
        step()
        t0 = time.perf_counter()
        step()
        one = max(time.perf_counter() - t0, 1e-7)
        calls[name] = max(1, int(budget / one))
        for _ in range(min(calls[name], 50)):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            n = calls[name]
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(ts) for name, ts in times.items()}


def row(label: str, result: dict[str, float], floor: str, names: list[str]) -> str:
    base = result[floor]
    cells = [f"{label:<22}", f"{base * 1e6:>10.1f}"]
    for name in names:
        if name in result:
            cells.append(f"{result[name] * 1e6:>10.1f} {result[name] / base:>6.2f}x")
        else:
            cells.append(f"{'-':>17}")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args()
    rounds, budget = (5, 0.02) if args.quick else (15, 0.05)

    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}; "
          f"one thread; median of {rounds} rounds; microseconds per step and ratio to numpy")
    names = ["minigrad", "torch"]
    head = " | ".join([f"{'workload':<22}", f"{'numpy':>10}"] + [f"{n:>17}" for n in names])
    print(head)
    print("-" * len(head))
    for size, (n, d, k) in SIZES.items():
        X, y, W, b = problem(n, d, k)
        steps = {"numpy": numpy_regression(X, y, W, b), "minigrad": minigrad_regression(X, y, W, b)}
        if torch is not None:
            steps["torch"] = torch_regression(X, y, W, b)
        print(row(f"softmax reg {size}", measure(steps, rounds, budget), "numpy", names), flush=True)
    for size in ("small", "digits"):
        data = mlp_problem(*SIZES[size])
        steps = {"numpy": numpy_mlp(*data), "minigrad": minigrad_mlp(*data)}
        if torch is not None:
            steps["torch"] = torch_mlp(*data)
        print(row(f"2-layer MLP {size}", measure(steps, rounds, budget), "numpy", names), flush=True)

    print("\nfused against composed cross-entropy (minigrad, same regression step)")
    for size in ("small", "digits", "large"):
        X, y, W, b = problem(*SIZES[size])
        steps = {"fused": minigrad_regression(X, y, W, b),
                 "composed": minigrad_regression(X, y, W, b, F.cross_entropy_composed)}
        r = measure(steps, rounds, budget)
        print(f"{size:<8} fused {r['fused'] * 1e6:9.1f} us   composed {r['composed'] * 1e6:9.1f} us   "
              f"composed/fused {r['composed'] / r['fused']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
