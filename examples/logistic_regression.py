"""Logistic regression with minigrad: one logit z = x.w + b per sample, p = sigmoid(z), loss = mean
binary cross-entropy, on 2-D data.

    python examples/logistic_regression.py                  # two moons, a few seconds
    python examples/logistic_regression.py --dataset blobs  # two Gaussian clusters
    python examples/logistic_regression.py --animate        # also a GIF of the training run
    python examples/logistic_regression.py --help           # every flag

The gradient of the mean binary cross-entropy over N samples is

    dL/dz = (sigmoid(z) - y) / N,      dL/dw = X^T (sigmoid(z) - y) / N,

prediction minus label once more. The script checks this on a real backward pass, trains,
then trains the same data as TWO-CLASS SOFTMAX regression and shows that it is the same
model: softmax over the logits (z0, z1) gives p1 = sigmoid(z1 - z0), so the boundary of
weights (w0, w1) is the sigmoid's with w = w1 - w0. Figures: decision regions of both
models, loss curves, p - y against the margin, each sample's pull on w as arrows, and the
loss surface over (w1, w2) with the optimiser's path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np
from _common import (
    Classifier,
    Figures,
    Result,
    Split,
    build_parser,
    finish,
    parse,
    positive_int,
    print_check,
    split_and_standardize,
    train,
)

import minigrad as mg
from minigrad import animation, data, diagnostics, nn, plot
from minigrad import functional as F

DATASETS = {  # name: default epochs and learning rate
    "moons": {"epochs": 15, "lr": 0.05},
    "blobs": {"epochs": 15, "lr": 0.05},
}


def load(name: str, seed: int) -> Split:
    if name == "moons":  # no straight line separates them: a linear model gets ~85% right
        X, y = data.make_moons(n_samples=240, noise=0.2, seed=seed)
    else:  # two overlapping Gaussian clusters
        X, y = data.make_blobs(n_samples=240, centers=[[-1.0, -1.0], [1.0, 1.0]], cluster_std=1.1, seed=seed)
    return split_and_standardize(X, y, seed)


def logistic_regression(seed: int) -> tuple[nn.Linear, Classifier]:
    model = nn.Linear(2, 1, seed=seed)  # weight (2, 1): z = X @ w + b

    def forward(X: mg.Tensor) -> mg.Tensor:
        return model(X).reshape(-1)  # (N, 1) -> (N,): one logit per sample

    def loss(z: mg.Tensor, y: np.ndarray) -> mg.Tensor:
        return F.binary_cross_entropy_with_logits(z, y.astype(z.dtype))

    return model, Classifier(forward, loss, predict=lambda z: (z > 0).astype(np.int64))


def two_class_softmax(seed: int) -> tuple[nn.Linear, Classifier]:
    model = nn.Linear(2, 2, seed=seed)  # one weight column per class
    return model, Classifier(model, F.cross_entropy, predict=lambda z: z.argmax(axis=1))


def gradient_check(
    model: nn.Linear, classifier: Classifier, X: np.ndarray, y: np.ndarray, figures: Figures | None
) -> dict[str, float]:
    """One real backward pass on (X, y), compared with the closed forms, computed here
    with plain numpy."""
    z = classifier.forward(mg.Tensor(X, name="X"))
    z.name = "z"
    z.retain_grad()
    loss = classifier.loss(z, y)
    loss.name = "loss"
    if figures is not None:
        figures.graph(loss)  # before backward(), which frees the graph
    loss.backward()
    n = len(y)
    residual = 1 / (1 + np.exp(-z.data)) - y  # sigmoid(z) - y
    checks = {
        "dL/dz - (sigmoid(z) - y) / N": np.abs(z.grad.data - residual / n).max(),
        "dL/dw - X^T (sigmoid(z) - y) / N": np.abs(model.weight.grad.data[:, 0] - X.T @ residual / n).max(),
        "dL/db - mean(sigmoid(z) - y)": np.abs(model.bias.grad.data[0] - residual.mean()),
    }
    model.zero_grad()
    return {name: float(v) for name, v in checks.items()}


def boundary(weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The decision boundary w.x + b = 0 as a unit vector (w1, w2, b)."""
    v = np.append(weight, bias)
    return v / np.linalg.norm(v)


def main(argv: Sequence[str] | None = None) -> Result:
    parser = build_parser("logistic_regression", " ".join(__doc__.split("\n\n")[0].split()), DATASETS)
    parser.add_argument(
        "--animate",
        metavar="GIF",
        nargs="?",
        const="",
        help="also write a GIF of training: the decision regions, each sample's pull, "
        "the loss surface and the path (to GIF; default <out>/<dataset>_training.gif)",
    )
    parser.add_argument(
        "--frames", type=positive_int, default=40, help="frames of the GIF (default: %(default)s)"
    )
    args = parse(parser, argv)
    if args.frames < 2:
        parser.error(f"argument --frames: expected an integer >= 2, got {args.frames}")
    if args.animate and (os.path.isdir(args.animate) or not args.animate.lower().endswith(".gif")):
        parser.error(f"argument --animate: expected a file path ending in .gif, got {args.animate!r}")
    split = load(args.dataset, args.seed)
    n = len(split.y_train)
    print(f"{args.dataset}: {n} training and {len(split.y_test)} test samples, 2 features, 2 classes")
    figures = Figures(args.out, args.dataset, args.show)
    model, classifier = logistic_regression(args.seed)
    w_start, b_start = model.weight.data[:, 0].copy(), model.bias.data.copy()

    checks = gradient_check(model, classifier, split.X_train, split.y_train, figures if args.graph else None)
    print_check(f"gradient check, one backward pass over the {n} training samples:", checks)

    print(f"training logistic regression, {args.optimizer} lr={args.lr} batch={args.batch_size}:")
    path = [w_start.copy()]  # (w1, w2) after every step, for the loss surface
    recorder = animation.Recorder(
        {"weight": model.weight, "bias": model.bias},  # every step, for --animate
        steps=None if args.animate is not None else [],
    )
    history = train(
        classifier,
        list(model.parameters()),
        split,
        args,
        after_step=lambda: (path.append(model.weight.data[:, 0].copy()), recorder()),
    )
    w, b = model.weight.data[:, 0], model.bias.data

    # The same data as two-class softmax regression. Each weight column gets gradient
    # +-X^T (p1 - y) / N, so w1 - w0 moves twice as far per step as the sigmoid's w: from
    # the same start (w0, w1) = (-w/2, w/2) with the same batches and HALF the learning
    # rate, the two runs are the same model, step for step.
    twin, twin_classifier = two_class_softmax(args.seed)
    twin.weight.data[...] = np.column_stack([-w_start / 2, w_start / 2])
    twin.bias.data[...] = [-b_start[0] / 2, b_start[0] / 2]
    twin_history = train(twin_classifier, list(twin.parameters()), split, args, lr=args.lr / 2, label=None)
    W2, b2 = twin.weight.data, twin.bias.data
    with mg.no_grad():
        p_sigmoid = F.sigmoid(classifier.forward(mg.Tensor(split.X_test))).data
        p_softmax = F.softmax(twin(mg.Tensor(split.X_test))).data[:, 1]
    same = {
        "boundary(softmax) - boundary(sigmoid)": np.abs(
            boundary(W2[:, 1] - W2[:, 0], b2[1] - b2[0]) - boundary(w, b)
        ).max(),
        "P_softmax(class 1) - P_sigmoid (test set)": np.abs(p_softmax - p_sigmoid).max(),
    }
    print_check("two-class softmax (same start and batches, half the lr) against the sigmoid model:", same)
    print(
        f"  test accuracy: sigmoid {100 * history.test_acc[-1]:.1f}%, "
        f"two-class softmax {100 * twin_history.test_acc[-1]:.1f}%"
    )

    # ----- figures
    plt = plot.pyplot()
    fig = plt.figure(figsize=(12, 5.2), layout="constrained")
    left, right = fig.subplots(1, 2)

    def sigmoid_proba(points: np.ndarray) -> np.ndarray:
        with mg.no_grad():
            p1 = F.sigmoid(classifier.forward(mg.Tensor(points))).data
        return np.column_stack([1 - p1, p1])

    def softmax_proba(points: np.ndarray) -> np.ndarray:
        with mg.no_grad():
            return F.softmax(twin(mg.Tensor(points))).data

    plot.decision_regions(
        sigmoid_proba,
        split.X_test,
        split.y_test,
        ax=left,
        feature_names=split.feature_names,
        title=f"sigmoid, w = ({w[0]:.3f}, {w[1]:.3f}), b = {b[0]:.3f}",
    )
    plot.decision_regions(
        softmax_proba,
        split.X_test,
        split.y_test,
        ax=right,
        feature_names=split.feature_names,
        title=f"two-class softmax, w1 - w0 = ({W2[0, 1] - W2[0, 0]:.3f}, "
        f"{W2[1, 1] - W2[1, 0]:.3f}), b1 - b0 = {b2[1] - b2[0]:.3f}",
    )
    fig.suptitle(
        f"the same boundary: logistic regression is two-class softmax regression ({args.dataset}, test set)"
    )
    figures.save(fig, "decision_regions")
    figures.save(
        plot.training_curves(history.as_dict(), title=f"logistic regression on {args.dataset}"),
        "training_curves",
    )

    with mg.no_grad():
        z_train = classifier.forward(mg.Tensor(split.X_train)).data
    figures.save(
        plot.residual_vs_margin(
            z_train, split.y_train, title=f"p - y against the margin, trained model ({n} training samples)"
        ),
        "residual_vs_margin",
    )

    fig = plt.figure(figsize=(12, 5.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    z_start = split.X_train @ w_start + b_start[0]
    # (N, 2): each sample's share of dL/dw
    start = diagnostics.pull_arrows_data(split.X_train, z_start, split.y_train).weight
    scale = 0.15 * np.ptp(split.X_train) / np.linalg.norm(start, axis=1).max()  # one scale for both panels
    sum_scale = 0.35 * np.ptp(split.X_train) / np.linalg.norm(start.sum(axis=0))
    plot.pull_arrows(
        split.X_train,
        z_start,
        split.y_train,
        ax=left,
        weight=w_start,
        bias=b_start[0],
        arrow_scale=scale,
        sum_scale=sum_scale,
        feature_names=split.feature_names,
        title=f"before training: every sample pulls (arrows x {scale:.0f})",
    )
    plot.pull_arrows(
        split.X_train,
        z_train,
        split.y_train,
        ax=right,
        weight=w,
        bias=b[0],
        arrow_scale=scale,
        sum_scale=sum_scale,
        feature_names=split.feature_names,
        title=f"trained: the mistakes and the unsure pull, and balance (arrows x {scale:.0f})",
    )
    fig.suptitle("each sample's pull (y - p) x / N on the weights; the pulls add up to -dL/dw")
    figures.save(fig, "pull_arrows")

    X_train, Y = mg.Tensor(split.X_train), split.y_train.astype(np.float64)[:, None]

    def loss_at(W: mg.Tensor) -> mg.Tensor:  # W: (2, M), M weight pairs at once
        z = X_train @ W + b[0]  # (N, M): column j holds the logits of model j
        losses = F.binary_cross_entropy_with_logits(z, np.broadcast_to(Y, z.shape), reduction="none")
        return losses.mean(axis=0)

    figures.save(
        plot.loss_surface(
            loss_at,
            np.array(path),
            title=f"loss over (w1, w2) at b = {b[0]:.3f} (its final value), {args.optimizer} path",
        ),
        "loss_surface",
    )

    if args.animate is not None:  # the frames come from the snapshots of this run

        def logits_at(params: dict[str, np.ndarray], points: np.ndarray) -> np.ndarray:
            return points @ params["weight"][:, 0] + params["bias"][0]  # z = x.w + b

        figures.paths.append(
            animation.training_gif(
                logits_at,
                recorder.select(args.frames),
                split.X_train,
                split.y_train,
                args.animate or os.path.join(args.out, f"{args.dataset}_training.gif"),
                surface=animation.Surface(loss_at, np.array(path), f"loss over (w1, w2) at b = {b[0]:.3f}"),
                title=f"logistic regression on {args.dataset}",
                feature_names=split.feature_names,
            )
        )

    print(f"final test accuracy: {100 * history.test_acc[-1]:.1f}%")
    saved = finish(figures, args, model.state_dict(), what="state_dict")
    return Result(
        history.test_acc[-1],
        checks,
        figures.paths,
        history,
        saved,
        extra={"softmax_vs_sigmoid": {k: float(v) for k, v in same.items()}},
    )


if __name__ == "__main__":
    main(sys.argv[1:])
