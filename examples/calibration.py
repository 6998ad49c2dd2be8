"""Calibrating an over-confident classifier by temperature scaling.

A two-layer network is trained on the handwritten digits until its training loss is
nearly zero. It then says "99%" about almost every test image, and is right less often
than that: it is over-confident. Temperature scaling divides its logits by one number T,
fitted on a held-out validation set by minimising the negative log-likelihood (with
L-BFGS, over log T). The predictions (the argmax) cannot change, so neither does the
accuracy; the test NLL and the expected calibration error (ECE, 15 bins) go down, and the
reliability diagram's bars move onto the diagonal.

    python examples/calibration.py              # a few seconds; figures in out/calibration
    python examples/calibration.py --help       # every flag
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from _common import Figures, Result, build_parser, finish, make_optimizer, parse, positive_int, progress

import minigrad as mg
from minigrad import data, nn
from minigrad import functional as F
from minigrad.calibration import expected_calibration_error, fit_temperature
from minigrad.plot_calibration import reliability_diagrams

N_BINS = 15


def split_digits(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train (50%), validation (25%, for T) and test (25%) parts of the digits, stratified,
    standardised with the training part's statistics."""
    X, y = data.load_digits()
    X_rest, X_test, y_rest, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=True)
    X_train, X_val, y_train, y_val = data.train_test_split(
        X_rest, y_rest, test_size=1 / 3, seed=seed, stratify=True
    )
    scaled = data.standardize(X_train, np.concatenate([X_val, X_test]))
    X_val, X_test = scaled.test[: len(y_val)], scaled.test[len(y_val) :]
    return {"train": (scaled.train, y_train), "val": (X_val, y_val), "test": (X_test, y_test)}


def logits_of(model: nn.Module, X: np.ndarray) -> np.ndarray:
    with mg.no_grad():
        return model(mg.Tensor(X)).data


def report(name: str, logits: np.ndarray, y: np.ndarray, T: float = 1.0) -> dict[str, float]:
    """Accuracy, NLL and ECE of softmax(logits / T), printed on one line."""
    probs = F.softmax(logits, temperature=T).data
    figures = {
        "accuracy": float(np.mean(probs.argmax(axis=1) == y)),
        "nll": F.cross_entropy(logits / T, y).item(),
        "ece": expected_calibration_error(probs, y, N_BINS),
        "confidence": float(probs.max(axis=1).mean()),
    }
    print(
        f"{name:<28} accuracy {100 * figures['accuracy']:5.1f}%  NLL {figures['nll']:.4f}  "
        f"ECE {figures['ece']:.4f}  mean confidence {figures['confidence']:.3f}"
    )
    return figures


def main(argv: Sequence[str] | None = None) -> Result:
    parser = build_parser(
        "calibration", __doc__.split("\n\n")[0], epochs=60, lr=0.01, batch_size=64, optimizer="adam"
    )
    parser.add_argument("--hidden", type=positive_int, default=128, help="hidden units")
    args = parse(parser, argv)

    parts = split_digits(args.seed)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = parts["train"], parts["val"], parts["test"]
    print(f"digits: {len(y_train)} training, {len(y_val)} validation, {len(y_test)} test images")
    rng = np.random.default_rng(args.seed)
    model = nn.Sequential(nn.Linear(64, args.hidden, rng=rng), nn.ReLU(), nn.Linear(args.hidden, 10, rng=rng))
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr)
    figures = Figures(args.out, "calibration", args.show)
    history: dict[str, list[float]] = {"train_loss": []}
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(y_train))
        for start in range(0, len(order), args.batch_size):
            rows = order[start : start + args.batch_size]
            loss = F.cross_entropy(model(mg.Tensor(X_train[rows])), y_train[rows])
            if args.graph and epoch == 1 and start == 0:
                figures.graph(loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch in (1, args.epochs) or epoch % max(1, args.epochs // 6) == 0:
            train_loss = F.cross_entropy(logits_of(model, X_train), y_train).item()
            history["train_loss"].append(train_loss)
            progress(epoch, args.epochs, train_loss)

    T = fit_temperature(logits_of(model, X_val), y_val)
    print(f"fitted temperature (validation NLL): T = {T:.3f}")
    test_logits = logits_of(model, X_test)
    before = report("test, before scaling (T=1)", test_logits, y_test)
    after = report(f"test, after scaling (T={T:.2f})", test_logits, y_test, T)
    if before["accuracy"] != after["accuracy"]:
        raise AssertionError("temperature scaling changed the accuracy: argmax(z / T) must equal argmax(z)")

    fig = reliability_diagrams(
        [
            (f"before: ECE {before['ece']:.3f}, NLL {before['nll']:.3f}", F.softmax(test_logits).data),
            (
                f"after T = {T:.2f}: ECE {after['ece']:.3f}, NLL {after['nll']:.3f}",
                F.softmax(test_logits, temperature=T).data,
            ),
        ],
        y_test,
        N_BINS,
    )
    fig.suptitle("digits MLP, test set: reliability before and after temperature scaling", fontsize=10)
    figures.save(fig, "reliability")
    saved = finish(figures, args, {**model.state_dict(), "temperature": np.asarray(T)})
    extra: dict[str, Any] = {
        "temperature": T,
        "before": before,
        "after": after,
        "test_logits": test_logits,
        "y_test": y_test,
    }
    return Result(after["accuracy"], {}, figures.paths, history, saved, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
