"""Time to the optimum of L2-regularised multinomial regression: minigrad's L-BFGS against
scikit-learn's lbfgs solver, and against minigrad's gradient descent (SGD, full batch)
and Adam on the same objective.

    python benchmarks/bench_lbfgs.py            # iris and digits, about a minute
    python benchmarks/bench_lbfgs.py --quick    # fewer repeats, shorter budgets

The objective is scikit-learn's own, unscaled (the intercept b is not penalised):

    C * sum_i CE(x_i W + b, y_i) + ||W||^2 / 2

"The optimum" is scikit-learn's Newton-CG solution at tol 1e-12; a run has reached it
when every coefficient of W and every centred intercept (softmax ignores a shift of all
of them) is within 1e-6 of it (and, as a looser target, 1e-4: scikit-learn's lbfgs stops
on a relative change of the objective and may never get within 1e-6).

How it measures: one thread for everybody (set before numpy loads). For each L-BFGS
(minigrad's and scikit-learn's), a ladder of gradient tolerances is tried from loose to
tight, and the time of the loosest one that reaches the optimum is reported: what a user
who picks the right tolerance pays (the median of at least 5 repeats, and of up to 50
while they add up to less than half a second). SGD (step 1/L, L the
curvature bound of the objective) and Adam (lr 0.01) run with the optimum as an oracle,
checked every 10 steps, until they reach it or run out of their time budget.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one thread for everybody

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn import __version__ as sklearn_version  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import data, optim  # noqa: E402
from minigrad import functional as F  # noqa: E402

THRESHOLDS = (1e-4, 1e-6)  # max |coefficient - optimum|
PROBLEMS = (("iris", 1.0), ("digits", 0.1), ("digits", 1.0))


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = getattr(data, f"load_{name}")()
    return data.standardize(X).train, y


def error(W: np.ndarray, b: np.ndarray, ref: LogisticRegression) -> float:
    """The largest distance to the optimum, over W and the centred intercepts."""
    return max(
        np.abs(W - ref.coef_.T).max(), np.abs((b - b.mean()) - (ref.intercept_ - ref.intercept_.mean())).max()
    )


class Objective:
    """C * sum CE + ||W||^2 / 2 on minigrad tensors W (d, K), b (K,), from zero."""

    def __init__(self, X: np.ndarray, y: np.ndarray, C: float) -> None:
        self.X, self.y, self.C = mg.Tensor(X), y, C
        k = int(y.max()) + 1
        self.W = mg.Tensor(np.zeros((X.shape[1], k)), requires_grad=True)
        self.b = mg.Tensor(np.zeros(k), requires_grad=True)

    def loss(self) -> mg.Tensor:
        logits = self.X @ self.W + self.b
        return self.C * F.cross_entropy(logits, self.y, reduction="sum") + 0.5 * (self.W * self.W).sum()


def minigrad_lbfgs(X: np.ndarray, y: np.ndarray, C: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    obj = Objective(X, y, C)
    opt = optim.LBFGS([obj.W, obj.b], max_iter=5000, max_eval=10000, tolerance_grad=tol, tolerance_change=0)

    def closure():
        opt.zero_grad()
        loss = obj.loss()
        loss.backward()
        return loss

    opt.step(closure)
    return obj.W.data, obj.b.data


def sklearn_lbfgs(X: np.ndarray, y: np.ndarray, C: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=C, solver="lbfgs", tol=tol, max_iter=100000).fit(X, y)
    return model.coef_.T, model.intercept_


def ladder(fit, X, y, C, ref, tols, repeats) -> dict[float, tuple[float | None, str]]:
    """For each threshold: (median time, setting) of the loosest tolerance whose result is
    that close to the optimum, or (None, the closest it got)."""
    found: dict[float, tuple[float | None, str]] = {}
    best = np.inf
    for tol in tols:
        times: list[float] = []
        while len(times) < repeats or (sum(times) < 0.5 and len(times) < 50):  # quick fits: more runs
            start = time.perf_counter()
            W, b = fit(X, y, C, tol)
            times.append(time.perf_counter() - start)
        err = error(W, b, ref)
        best = min(best, err)
        for threshold in THRESHOLDS:
            if threshold not in found and err <= threshold:
                found[threshold] = (statistics.median(times), f"tol {tol:g}")
        if len(found) == len(THRESHOLDS):
            break
    return {t: found.get(t, (None, f"closest {best:.1e}")) for t in THRESHOLDS}


def first_order(X, y, C, ref, which: str, budget: float) -> dict[float, tuple[float | None, str]]:
    """Full-batch SGD (step 1/L) or Adam until the optimum or the time budget, checked
    every 10 steps: for each threshold, (time, steps) or (None, the closest it got)."""
    obj = Objective(X, y, C)
    if which == "sgd":
        ones = np.column_stack([X, np.ones(len(X))])
        curvature = C * 0.5 * np.linalg.eigvalsh(ones.T @ ones).max() + 1.0  # softmax: diag(p) - pp^T <= 1/2
        opt = optim.SGD([obj.W, obj.b], lr=1.0 / curvature)
    else:
        opt = optim.Adam([obj.W, obj.b], lr=0.01)
    found: dict[float, tuple[float | None, str]] = {}
    start, steps, err = time.perf_counter(), 0, np.inf
    while time.perf_counter() - start < budget and len(found) < len(THRESHOLDS):
        for _ in range(10):
            opt.zero_grad()
            obj.loss().backward()
            opt.step()
        steps += 10
        err = error(obj.W.data, obj.b.data, ref)
        for threshold in THRESHOLDS:
            if threshold not in found and err <= threshold:
                found[threshold] = (time.perf_counter() - start, f"{steps} steps")
    return {t: found.get(t, (None, f"closest {err:.1e} in {budget:g} s")) for t in THRESHOLDS}


def cell(result: tuple[float | None, str], reference: float | None) -> str:
    t, setting = result
    if t is None:
        return f"{'-':>8} {'':>7} {setting:<22}"
    ratio = f"{t / reference:6.2f}x" if reference else f"{'':>7}"
    return f"{t:7.3f}s {ratio} {setting:<22}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, 5 s budgets")
    args = parser.parse_args()
    repeats, budget = (1, 5.0) if args.quick else (5, 30.0)
    tols = [10.0**-k for k in range(2, 15)]
    print(
        f"{platform.processor() or platform.machine()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scikit-learn {sklearn_version}; one thread"
    )
    print("time until every coefficient is within the threshold of the optimum (Newton-CG at tol 1e-12);")
    print("ratio: to scikit-learn's lbfgs; L-BFGS times: median of the loosest tolerance that gets there")
    header = f"{'problem':<13}| {'method':<19}| " + " | ".join(
        f"{'within ' + format(t, 'g'):<38}" for t in THRESHOLDS
    )
    print(header)
    print("-" * len(header))
    for name, C in PROBLEMS:
        X, y = load(name)
        ref = LogisticRegression(C=C, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, y)
        rows = {
            "scikit-learn lbfgs": ladder(sklearn_lbfgs, X, y, C, ref, tols, repeats),
            "minigrad LBFGS": ladder(minigrad_lbfgs, X, y, C, ref, tols, repeats),
            "minigrad SGD": first_order(X, y, C, ref, "sgd", budget),
            "minigrad Adam": first_order(X, y, C, ref, "adam", budget),
        }
        sk = rows["scikit-learn lbfgs"]
        for method, result in rows.items():
            cells = " | ".join(cell(result[t], sk[t][0]) for t in THRESHOLDS)
            print(f"{name + ' C=' + format(C, 'g'):<13}| {method:<19}| {cells}".rstrip())


if __name__ == "__main__":
    main()
