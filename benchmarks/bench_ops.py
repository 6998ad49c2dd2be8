"""How much does minigrad cost on top of numpy, op by op?

For each common op and for 1, 1e3 and 1e6 elements, times in ONE run:

  numpy fwd     the numpy call itself
  mg fwd        the same op through minigrad, inputs without requires_grad (no graph)
  mg fwd rg     the same, inputs with requires_grad=True (the graph is recorded)
  numpy f+b     the numpy call plus a hand-written numpy backward for it
  mg f+b        minigrad forward + backward(grad) into the leaves' .grad

Each time is the median over repeats (after a warm-up) of timeit's per-call time, in
microseconds. "x" is minigrad / numpy and "+us" the overhead minigrad adds per call.
The target is under 3 us of overhead per op on small arrays.

    python benchmarks/bench_ops.py            # the full table, well under a minute
    python benchmarks/bench_ops.py --sizes 1 --ops add,exp
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy is imported: stable, comparable numbers

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402

# ---------------------------------------------------------------- the ops
# Each op: how to make its inputs for n elements, the minigrad call, the numpy call, and
# the hand-written numpy backward (upstream gradient g, inputs, forward result) -> grads.


def _flat(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, n)]


def _rows(n: int) -> tuple[int, int]:
    """A 2-D shape with about n elements: (n/16, 16), or (1, 1) for n = 1."""
    return (max(n // 16, 1), min(n, 16))


def _matrix(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.uniform(0.5, 2.0, _rows(n))]


def _linear(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    rows, cols = _rows(n)
    return [rng.standard_normal((rows, cols)), rng.standard_normal((cols, cols))]


def _unary(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    return _flat(n, rng)[:1]


def _gather_index(n: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, n, n)


def _sliced_back(g, x, out):
    z = np.zeros_like(x)
    z[::2] = g
    return (z,)


def _gathered_back(idx):
    def back(g, x, out):
        z = np.zeros_like(x)
        np.add.at(z, idx, g)
        return (z,)

    return back


def _max_back(g, x, out):
    hit = x == out
    return (hit * (g / hit.sum()),)


Op = tuple[Callable, Callable, Callable, Callable]


def make_ops(n: int) -> dict[str, Op]:
    """name -> (make inputs, minigrad fn, numpy fn, numpy backward)."""
    idx = _gather_index(n)
    mask = np.random.default_rng(2).random(n) < 0.5
    return {
        "add": (_flat, lambda a, b: a + b, np.add, lambda g, a, b, out: (g, g)),
        "sub": (_flat, lambda a, b: a - b, np.subtract, lambda g, a, b, out: (g, -g)),
        "mul": (_flat, lambda a, b: a * b, np.multiply, lambda g, a, b, out: (g * b, g * a)),
        "div": (_flat, lambda a, b: a / b, np.divide, lambda g, a, b, out: (g / b, -g * out / b)),
        "neg": (_unary, lambda a: -a, np.negative, lambda g, a, out: (-g,)),
        "pow 2": (_unary, lambda a: a**2, lambda a: a**2, lambda g, a, out: (g * 2 * a,)),
        "exp": (_unary, mg.exp, np.exp, lambda g, a, out: (g * out,)),
        "log": (_unary, mg.log, np.log, lambda g, a, out: (g / a,)),
        "sqrt": (_unary, mg.sqrt, np.sqrt, lambda g, a, out: (g * 0.5 / out,)),
        "tanh": (_unary, mg.tanh, np.tanh, lambda g, a, out: (g * (1 - out * out),)),
        "relu": (_unary, mg.relu, lambda a: np.maximum(a, 0), lambda g, a, out: (g * (a > 0),)),
        "maximum": (_flat, mg.maximum, np.maximum, lambda g, a, b, out: (g * (a > b), g * (a <= b))),
        "where": (
            _flat,
            lambda a, b: mg.where(mask, a, b),
            lambda a, b: np.where(mask, a, b),
            lambda g, a, b, out: (g * mask, g * ~mask),
        ),
        "clip": (
            _unary,
            lambda a: a.clip(0.8, 1.5),
            lambda a: np.clip(a, 0.8, 1.5),
            lambda g, a, out: (g * ((a >= 0.8) & (a <= 1.5)),),
        ),
        "matmul": (_linear, lambda x, w: x @ w, np.matmul, lambda g, x, w, out: (g @ w.T, x.T @ g)),
        "sum": (_unary, lambda a: a.sum(), np.sum, lambda g, a, out: (np.full_like(a, g),)),
        "mean": (_unary, lambda a: a.mean(), np.mean, lambda g, a, out: (np.full_like(a, g / a.size),)),
        "sum axis=0": (
            _matrix,
            lambda a: a.sum(axis=0),
            lambda a: a.sum(axis=0),
            lambda g, a, out: (np.broadcast_to(g, a.shape).copy(),),
        ),
        "max": (_unary, lambda a: a.max(), np.max, _max_back),
        "reshape": (
            _matrix,
            lambda a: a.reshape(-1),
            lambda a: a.reshape(-1),
            lambda g, a, out: (g.reshape(a.shape),),
        ),
        "transpose": (_matrix, lambda a: a.T, lambda a: a.T, lambda g, a, out: (g.T,)),
        "getitem [::2]": (_unary, lambda a: a[::2], lambda a: a[::2], _sliced_back),
        "gather a[idx]": (_unary, lambda a: a[idx], lambda a: a[idx], _gathered_back(idx)),
    }


# ---------------------------------------------------------------- timing


def per_call(
    fns: dict[str, Callable[[], object]], repeats: int = 9, min_time: float = 0.01
) -> dict[str, float]:
    """Median seconds per call of each function. Each is warmed up and given a loop count
    so that one repeat lasts at least ``min_time``; the repeats of all the functions are
    interleaved, so a slow moment of the machine hits numpy and minigrad alike."""
    timers, numbers = {}, {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn()  # warm-up, and a first estimate of the time per call
        once = max(time.perf_counter() - start, 1e-7)
        numbers[name] = max(1, int(min_time / once))
        timers[name] = timeit.Timer(fn)
        timers[name].timeit(numbers[name])  # warm-up at the chosen loop count
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(numbers[name]) / numbers[name])
    return {name: statistics.median(times) for name, times in samples.items()}


def measure(name: str, op: Op, n: int) -> dict[str, float]:
    make, mg_fn, np_fn, np_back = op
    arrays = make(n, np.random.default_rng(0))
    consts = [mg.Tensor(a) for a in arrays]
    leaves = [mg.Tensor(a, requires_grad=True) for a in arrays]
    out_np = np_fn(*arrays)
    g_np = np.ones_like(out_np)
    g_mg = mg.Tensor(g_np)

    def numpy_forward_backward():
        out = np_fn(*arrays)
        return np_back(g_np, *arrays, out)

    def minigrad_forward_backward():
        for leaf in leaves:
            leaf.grad = None
        mg_fn(*leaves).backward(g_mg)

    # the minigrad result and gradients must be the numpy ones, or the timing means nothing
    minigrad_forward_backward()
    np.testing.assert_allclose(mg_fn(*consts).data, out_np, rtol=1e-12)
    for leaf, expected in zip(leaves, numpy_forward_backward()):
        np.testing.assert_allclose(leaf.grad.data, expected, rtol=1e-12, err_msg=name)

    return per_call(
        {
            "np fwd": lambda: np_fn(*arrays),
            "mg fwd": lambda: mg_fn(*consts),
            "mg fwd rg": lambda: mg_fn(*leaves),
            "np f+b": numpy_forward_backward,
            "mg f+b": minigrad_forward_backward,
        }
    )


# ---------------------------------------------------------------- the table


def us(seconds: float) -> str:
    v = seconds * 1e6
    return f"{v:9.2f}" if v < 100 else f"{v:9.0f}"


def compare(ours: float, theirs: float) -> str:
    return f"{ours / theirs:6.1f} {us(ours - theirs)}"


HEADER = (
    f"{'op':<14}{'n':>8} |{'np fwd':>9}{'mg fwd':>9}{'x':>7}{'+us':>9} |{'mg fwd rg':>9}"
    f"{'x':>7}{'+us':>9} |{'np f+b':>9}{'mg f+b':>9}{'x':>7}{'+us':>9}"
)


def row(name: str, n: int, t: dict[str, float]) -> str:
    return (
        f"{name:<14}{n:>8} |{us(t['np fwd'])}{us(t['mg fwd'])} {compare(t['mg fwd'], t['np fwd'])} |"
        f"{us(t['mg fwd rg'])} {compare(t['mg fwd rg'], t['np fwd'])} |"
        f"{us(t['np f+b'])}{us(t['mg f+b'])} {compare(t['mg f+b'], t['np f+b'])}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,1000,1000000", help="comma-separated element counts")
    parser.add_argument("--ops", default="", help="comma-separated op names (default: all)")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    wanted = [s.strip() for s in args.ops.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(make_ops(1)))
    if unknown:
        parser.error(f"unknown op(s) {unknown}; choose from {sorted(make_ops(1))}")

    started = time.perf_counter()
    print(
        f"minigrad {mg.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    )
    print("times in microseconds per call (median); x = minigrad / numpy; +us = minigrad - numpy")
    print(HEADER)
    print("-" * len(HEADER))
    small_overheads: dict[str, list[float]] = {"mg fwd": [], "mg fwd rg": [], "mg f+b": []}
    for n in sizes:
        ops = make_ops(n)
        for name in wanted or ops:
            t = measure(name, ops[name], n)
            print(row(name, n, t), flush=True)
            if n == 1:
                small_overheads["mg fwd"].append(t["mg fwd"] - t["np fwd"])
                small_overheads["mg fwd rg"].append(t["mg fwd rg"] - t["np fwd"])
                small_overheads["mg f+b"].append(t["mg f+b"] - t["np f+b"])
        print("-" * len(HEADER))
    if small_overheads["mg fwd"]:
        print("overhead at n=1, median over ops (target < 3 us per op):")
        for key, values in small_overheads.items():
            med = statistics.median(values) * 1e6
            within = sum(v * 1e6 < 3 for v in values)
            print(f"  {key:<10} {med:6.2f} us   ({within} of {len(values)} ops under 3 us)")
    print(f"total time {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
