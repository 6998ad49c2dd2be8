"""One training step of softmax regression: minigrad against hand-written numpy (and PyTorch).

    python benchmarks/bench_train.py                # every table (about 40 s)
    python benchmarks/bench_train.py --quick        # fewer, shorter rounds
    python benchmarks/bench_train.py --sizes tiny,small --no-torch

The workload, in float32: logits = X @ W + b, mean cross-entropy against integer labels,
backward, SGD update. The floor is numpy with the analytic gradient:
p = softmax(logits); g = (p - onehot) / N; dW = X^T g; db = sum(g, 0). Every
implementation runs in the same process, single-threaded, after a warm-up, interleaved
round by round (numpy, minigrad, torch, numpy, minigrad, ...) so that a busy moment of
the machine hits all of them alike. A round times a batch of consecutive steps; the
table gives the median over rounds of the time per step, and the median over rounds of
each round's ratio to numpy. Before timing, every implementation is checked to compute
the same parameters as numpy after a few steps.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one thread for everybody

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import functional as F  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
except ImportError:  # PyTorch is optional: its column is left out
    torch = None

SIZES = {"tiny": (32, 2, 3), "small": (256, 64, 10), "digits": (1797, 64, 10), "large": (4096, 784, 10)}
MLP_SIZES = ("small", "digits")
LR = 0.1

Step = Callable[[], None]
Params = Callable[[], list[np.ndarray]]  # the current parameters, as numpy arrays


def problem(n: int, d: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    W = (rng.standard_normal((d, k)) * 0.01).astype(np.float32)
    b = np.zeros(k, np.float32)
    return X, y, W, b


# ---------------------------------------------------------------- softmax regression
# Each maker returns the step and a function that reads the parameters back (for the
# agreement check); the bench itself times only the step.


def numpy_regression(X, y, W, b) -> Step:
    return numpy_regression_checked(X, y, W, b)[0]


def numpy_regression_checked(X, y, W, b) -> tuple[Step, Params]:
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

    return step, lambda: [W, b]


def minigrad_regression(X, y, W, b, loss_fn=F.cross_entropy) -> Step:
    return minigrad_regression_checked(X, y, W, b, loss_fn)[0]


def minigrad_regression_checked(X, y, W, b, loss_fn=F.cross_entropy) -> tuple[Step, Params]:
    Xt, yt = mg.Tensor(X), mg.Tensor(y)
    Wt, bt = mg.Tensor(W, requires_grad=True), mg.Tensor(b, requires_grad=True)
    opt = mg.optim.SGD([Wt, bt], lr=LR)

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(Xt @ Wt + bt, yt)
        loss.backward()
        opt.step()

    return step, lambda: [Wt.data, bt.data]


def torch_regression_checked(X, y, W, b) -> tuple[Step, Params]:
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    opt = torch.optim.SGD([Wt, bt], lr=LR)

    def step() -> None:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xt @ Wt + bt, yt)
        loss.backward()
        opt.step()

    return step, lambda: [Wt.detach().numpy(), bt.detach().numpy()]


def numpy_as_minigrad_checked(X, y, W, b) -> tuple[Step, Params]:
    """The numpy calls a minigrad step makes, in the same order, written out in a straight
    line: what the step would cost if the engine's own Python (ops, graph, walk, checks)
    cost nothing. The gap between this and minigrad is the engine; the gap between this
    and the numpy floor is what the design asks numpy to do beyond the floor (the dense
    label distribution and its checks, the label mass, the finiteness check, the seed,
    the gradient copies). It mirrors ``F.cross_entropy`` with class indices and the mean,
    on class scores stored column by column (``functional/class_columns.py``); keep it in
    step when the engine changes."""
    X, W, b = X.copy(), W.copy(), b.copy()  # (minigrad's tensors hold copies too)
    k = W.shape[1]

    def step() -> None:
        # forward: X @ W + b
        logits = X @ W + b
        # cross_entropy: the target check, the label distribution, log p, -(y log p).sum(-1), the mean
        t = y.astype(np.int64, copy=False)
        assert t.min() >= 0 and t.max() < k
        onehot = (np.arange(k)[:, None] == t).astype(logits.dtype).T
        denom = float(np.count_nonzero(t != -100))
        z = np.asfortranarray(logits)
        log_p = z - z.max(axis=-1, keepdims=True, initial=-np.inf)
        log_p -= np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
        assert np.isfinite(log_p).all()
        losses = -(onehot * log_p).sum(axis=-1)
        _loss = losses.sum() / denom
        # backward: the seed, the rule (p * mass - y) * scale, the bias's sum, the weight's product
        scale = np.ones((), logits.dtype) * (1.0 / denom)
        gx = (np.exp(log_p) * onehot.sum(axis=-1, keepdims=True) - onehot) * scale
        gb = np.add.reduce(gx, axis=0).copy()  # a leaf's first gradient is a copy
        gW = (X.swapaxes(-1, -2) @ gx).copy()
        # SGD
        W[...] -= LR * gW
        b[...] -= LR * gb

    return step, lambda: [W, b]


# ---------------------------------------------------------------- two-layer MLP


def mlp_problem(n: int, d: int, k: int, hidden: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    W1 = (rng.standard_normal((d, hidden)) / np.sqrt(d)).astype(np.float32)
    W2 = (rng.standard_normal((hidden, k)) / np.sqrt(hidden)).astype(np.float32)
    return X, y, W1, np.zeros(hidden, np.float32), W2, np.zeros(k, np.float32)


def numpy_mlp_checked(X, y, W1, b1, W2, b2) -> tuple[Step, Params]:
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

    return step, lambda: [W1, b1, W2, b2]


def minigrad_mlp_checked(X, y, W1, b1, W2, b2) -> tuple[Step, Params]:
    Xt, yt = mg.Tensor(X), mg.Tensor(y)
    params = [mg.Tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    opt = mg.optim.SGD(params, lr=LR)

    def step() -> None:
        w1, c1, w2, c2 = params
        opt.zero_grad()
        loss = F.cross_entropy((Xt @ w1 + c1).relu() @ w2 + c2, yt)
        loss.backward()
        opt.step()

    return step, lambda: [p.data for p in params]


def torch_mlp_checked(X, y, W1, b1, W2, b2) -> tuple[Step, Params]:
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    params = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    opt = torch.optim.SGD(params, lr=LR)

    def step() -> None:
        w1, c1, w2, c2 = params
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.relu(Xt @ w1 + c1) @ w2 + c2, yt)
        loss.backward()
        opt.step()

    return step, lambda: [p.detach().numpy() for p in params]


# ---------------------------------------------------------------- agreement and timing


def check_agreement(makers: dict[str, Callable[[], tuple[Step, Params]]], steps: int = 3) -> None:
    """Run every implementation from the same start for a few steps: the parameters must
    agree with numpy's (float32 round-off allowed), or the timing compares different work."""
    results = {}
    for name, make in makers.items():
        step, params = make()
        for _ in range(steps):
            step()
        results[name] = [np.array(a, dtype=np.float64) for a in params()]
    for name, arrays in results.items():
        for ours, floor in zip(arrays, results["numpy"]):
            if not np.allclose(ours, floor, rtol=1e-4, atol=1e-6):
                raise AssertionError(
                    f"{name} disagrees with numpy after {steps} steps "
                    f"(max difference {np.abs(ours - floor).max():.3g})"
                )


def measure(steps: dict[str, Step], rounds: int, budget: float) -> dict[str, list[float]]:
    """Seconds per step in each of ``rounds`` rounds; within a round the implementations
    run one after another, each for about ``budget`` seconds of consecutive steps."""
    calls = {}
    for name, step in steps.items():  # warm-up, and how many calls fill the budget
        step()
        t0 = time.perf_counter()
        step()
        one = max(time.perf_counter() - t0, 1e-7)
        calls[name] = max(1, int(budget / one))
        for _ in range(min(calls[name], 200)):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            n = calls[name]
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            times[name].append((time.perf_counter() - t0) / n)
    return times


def row(label: str, times: dict[str, list[float]], names: list[str]) -> str:
    floor = times["numpy"]
    cells = [f"{label:<22}", f"{statistics.median(floor) * 1e6:>9.1f}"]
    for name in names:
        if name in times:
            ratio = statistics.median(t / f for t, f in zip(times[name], floor))  # round by round
            cells.append(f"{statistics.median(times[name]) * 1e6:>9.1f} {ratio:>6.2f}x")
        else:
            cells.append(f"{'-':>16}")
    return " | ".join(cells)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS"))
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}, minigrad {mg.__version__}; {blas}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: tiny,small,digits,large")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    parser.add_argument("--no-extras", action="store_true", help="only the softmax-regression table")
    args = parser.parse_args()
    rounds, budget = (7, 0.02) if args.quick else (21, 0.05)
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = sorted(set(sizes) - set(SIZES))
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    use_torch = torch is not None and not args.no_torch

    print(machine())
    print(
        f"one thread everywhere; {rounds} interleaved rounds; microseconds per step (median) "
        f"and the median per-round ratio to numpy"
    )
    names = ["minigrad"] + (["torch"] if use_torch else [])
    head = " | ".join([f"{'workload':<22}", f"{'numpy':>9}"] + [f"{n:>16}" for n in names])
    print(head)
    print("-" * len(head))
    workloads = [
        (
            f"softmax reg {size}",
            problem(*SIZES[size]),
            numpy_regression_checked,
            minigrad_regression_checked,
            torch_regression_checked,
        )
        for size in sizes
    ]
    if not args.no_extras:
        workloads += [
            (
                f"2-layer MLP {size}",
                mlp_problem(*SIZES[size]),
                numpy_mlp_checked,
                minigrad_mlp_checked,
                torch_mlp_checked,
            )
            for size in MLP_SIZES
            if size in sizes
        ]
    for label, data, np_make, mg_make, torch_make in workloads:
        makers = {"numpy": partial(np_make, *data), "minigrad": partial(mg_make, *data)}
        if use_torch:
            makers["torch"] = partial(torch_make, *data)
        check_agreement(makers)
        times = measure({name: make()[0] for name, make in makers.items()}, rounds, budget)
        print(row(label, times, names), flush=True)

    if args.no_extras:
        return
    print("\nfused against composed cross-entropy (minigrad, the same regression step)")
    for size in [s for s in sizes if s != "tiny"]:
        X, y, W, b = problem(*SIZES[size])
        steps = {
            "fused": minigrad_regression(X, y, W, b),
            "composed": minigrad_regression(X, y, W, b, F.cross_entropy_composed),
        }
        t = measure(steps, rounds, budget)
        fused, composed = statistics.median(t["fused"]), statistics.median(t["composed"])
        ratio = statistics.median(c / f for c, f in zip(t["composed"], t["fused"]))
        print(
            f"{size:<8} fused {fused * 1e6:9.1f} us   composed {composed * 1e6:9.1f} us   "
            f"composed/fused {ratio:.2f}x",
            flush=True,
        )

    print("\nwhere a step's time goes: minigrad's numpy calls alone, written out in a straight line")
    for size in sizes:
        data = problem(*SIZES[size])
        makers = {
            "numpy": partial(numpy_regression_checked, *data),
            "array work": partial(numpy_as_minigrad_checked, *data),
            "minigrad": partial(minigrad_regression_checked, *data),
        }
        check_agreement(makers)
        t = measure({name: make()[0] for name, make in makers.items()}, rounds, budget)
        floor, work, ours = (statistics.median(t[name]) for name in makers)
        print(
            f"{size:<8} numpy {floor * 1e6:9.1f} us   array work {work * 1e6:9.1f} us "
            f"({statistics.median(w / f for w, f in zip(t['array work'], t['numpy'])):.2f}x)   "
            f"minigrad {ours * 1e6:9.1f} us   engine {max(ours - work, 0.0) * 1e6:7.1f} us per step",
            flush=True,
        )


if __name__ == "__main__":
    main()
