"""Attention's memory and time, dense against blockwise (the online softmax over key blocks).

    python benchmarks/bench_attention_memory.py                  # the table (a few minutes)
    python benchmarks/bench_attention_memory.py --quick          # L up to 2048, short timing
    python benchmarks/bench_attention_memory.py --lengths 256,1024 --dtypes float64

The workload: one self-attention ``F.scaled_dot_product_attention(q, k, v)`` with q, k, v
of shape (L, d), d = 64, then ``backward()`` of ``sum(w * out)`` with random weights w:
forward + backward. The dense path (``block_size=None``) holds (L, L) scores and weights;
the blockwise path (``block_size=256``) walks the keys 256 at a time and holds (L, 256)
blocks only.

How it measures, for each length, dtype and path: the peak memory of one forward +
backward traced by ``tracemalloc`` (numpy reports its array buffers to it; the inputs,
allocated before the trace starts, are not counted), then the time of forward +
backward without tracing, single-threaded, in rounds: a round times a batch of
consecutive runs (about 50 ms, at least one run) of each path in turn. At least 3
rounds, more while a length has taken under 2 s, at most 50; one round at L = 8192.
The table gives the median over rounds of the time per run, and the median of the
per-round ratios blockwise / dense (so that a busy moment of the shared machine hits
both sides of a ratio). The
dense path is skipped above ``--dense-max-length`` (default 4096): at L = 8192 its (L, L)
float64 arrays are 512 MB each, too much to hold several of on a machine shared with
other jobs, and its timing alone would take most of the run. Before measuring, each
length's blockwise output and gradients are checked against the dense ones.

``--save FILE`` writes the results as JSON (the chapter on the online softmax plots
``benchmarks/results/attention_memory.json``).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one thread for everybody

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import functional as F  # noqa: E402

MB = 2**20


def problem(n: int, d: int, dtype: str, seed: int = 0) -> tuple[list[mg.Tensor], mg.Tensor]:
    rng = np.random.default_rng(seed)
    qkv = [mg.Tensor(rng.standard_normal((n, d)).astype(dtype), requires_grad=True) for _ in range(3)]
    weights = mg.Tensor(rng.standard_normal((n, d)).astype(dtype))
    return qkv, weights


def forward_backward(qkv: list[mg.Tensor], weights: mg.Tensor, block_size: int | None) -> list[np.ndarray]:
    for t in qkv:
        t.grad = None
    out = F.scaled_dot_product_attention(*qkv, block_size=block_size)
    (out * weights).sum().backward()
    return [out.data] + [t.grad.data for t in qkv]


def peak_bytes(qkv: list[mg.Tensor], weights: mg.Tensor, block_size: int | None) -> int:
    """The largest amount of memory held at once during one forward + backward."""
    for t in qkv:
        t.grad = None
    gc.collect()
    tracemalloc.start()
    try:
        forward_backward(qkv, weights, block_size)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def seconds(qkv: list[mg.Tensor], weights: mg.Tensor, block_size: int | None, runs: int = 1) -> float:
    """The time of one forward + backward, averaged over ``runs`` consecutive runs."""
    start = time.perf_counter()
    for _ in range(runs):
        forward_backward(qkv, weights, block_size)
    return (time.perf_counter() - start) / runs


def largest_difference(qkv: list[mg.Tensor], weights: mg.Tensor, block_size: int) -> float:
    """max |blockwise - dense| over the output and the three gradients."""
    dense = forward_backward(qkv, weights, None)
    block = forward_backward(qkv, weights, block_size)
    return max(float(np.abs(a.astype(np.float64) - b).max()) for a, b in zip(block, dense))


def measure(n: int, dtype: str, args: argparse.Namespace) -> dict:
    qkv, weights = problem(n, args.d, dtype)
    dense = n <= args.dense_max_length
    row: dict = {"L": n, "dtype": dtype, "block_size": args.block_size}
    if dense:
        row["max_abs_diff"] = largest_difference(qkv, weights, args.block_size)
        row["dense_peak_mb"] = peak_bytes(qkv, weights, None) / MB
    row["block_peak_mb"] = peak_bytes(qkv, weights, args.block_size) / MB
    batch = max(1, int(0.05 / seconds(qkv, weights, args.block_size)))  # (also the warm-up)
    times: dict[str, list[float]] = {"dense": [], "block": []}
    spent = 0.0
    while len(times["block"]) < args.min_rounds or (spent < args.budget and len(times["block"]) < 50):
        if dense:
            times["dense"].append(seconds(qkv, weights, None, batch))
        times["block"].append(seconds(qkv, weights, args.block_size, batch))
        spent += (times["block"][-1] + (times["dense"][-1] if dense else 0.0)) * batch
        if n > 4096:
            break  # one run: at L = 8192 it takes seconds
    rounds = len(times["block"])
    row["block_s"] = statistics.median(times["block"])
    if dense:
        row["dense_s"] = statistics.median(times["dense"])
        row["time_ratio"] = statistics.median(b / d for b, d in zip(times["block"], times["dense"]))
        row["memory_ratio"] = row["block_peak_mb"] / row["dense_peak_mb"]
    row["rounds"], row["runs_per_round"] = rounds, batch
    return row


def line(row: dict) -> str:
    if "dense_s" in row:
        dense = f"{row['dense_peak_mb']:10.1f} {row['dense_s'] * 1e3:9.1f}"
        ratios = f"{row['memory_ratio']:8.3f} {row['time_ratio']:7.2f}x {row['max_abs_diff']:10.1e}"
    else:
        dense = f"{'skipped':>10} {'':>9}"
        ratios = f"{'':>8} {'':>8} {'':>10}"
    return (
        f"{row['dtype']:>8} {row['L']:6d} | {dense} | {row['block_peak_mb']:10.1f} "
        f"{row['block_s'] * 1e3:9.1f} | {ratios}"
    )


HEADER = (
    f"{'dtype':>8} {'L':>6} | {'dense MB':>10} {'dense ms':>9} | {'block MB':>10} {'block ms':>9} | "
    f"{'mem b/d':>8} {'time b/d':>8} {'max |diff|':>10}"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="256,512,1024,2048,4096,8192")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--d", type=int, default=64, help="feature size of q, k and v")
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument(
        "--dense-max-length", type=int, default=4096, help="skip the dense path above this length"
    )
    parser.add_argument(
        "--min-rounds", type=int, default=3, help="timing rounds per length, at least (one above L = 4096)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=2.0,
        help="seconds of timing per length: more rounds (up to 50) while below it",
    )
    parser.add_argument("--quick", action="store_true", help="L up to 2048, short timing")
    parser.add_argument("--save", type=Path, help="write the results to this JSON file")
    args = parser.parse_args(argv)
    lengths = [int(n) for n in args.lengths.split(",")]
    if args.quick:
        lengths, args.min_rounds, args.budget = [n for n in lengths if n <= 2048], 1, 0.2
    print(
        f"{platform.processor() or platform.machine()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, minigrad {mg.__version__}; one BLAS thread"
    )
    print(
        f"self-attention forward + backward, d = {args.d}, block_size = {args.block_size}; "
        "peak traced memory (MB) and median time (ms); b/d = blockwise / dense"
    )
    print(HEADER)
    print("-" * len(HEADER))
    rows = []
    for dtype in args.dtypes.split(","):
        for n in lengths:
            rows.append(measure(n, dtype, args))
            print(line(rows[-1]), flush=True)
    skipped = [r["L"] for r in rows if "dense_s" not in r]
    if skipped:
        print(
            f"dense skipped at L = {sorted(set(skipped))} (above --dense-max-length "
            f"{args.dense_max_length}: several (L, L) arrays of up to 512 MB each)"
        )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.save.with_suffix(".tmp")
        tmp.write_text(json.dumps({"d": args.d, "rows": rows}, indent=1) + "\n")
        tmp.replace(args.save)  # atomic: write, then rename
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
