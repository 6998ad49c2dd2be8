"""Softmax (multinomial logistic) regression with minigrad: logits = X W + b, p = softmax(logits),
loss = mean cross-entropy.

    python examples/multinomial_regression.py                   # 2-D blobs, a few seconds
    python examples/multinomial_regression.py --dataset digits  # 8x8 handwritten digits
    python examples/multinomial_regression.py --animate         # also a GIF of the training run
    python examples/multinomial_regression.py --help            # every flag

The gradient of the mean cross-entropy over N samples is

    dL/dlogits = (p - Y) / N,      dL/dW = X^T (p - Y) / N,      dL/db = mean over samples of (p - Y),

with Y the one-hot labels: prediction minus label. The script checks this on a real
backward pass (``logits.retain_grad()`` keeps the gradient at the logits), then trains,
and draws: the decision regions (2-D data) or the confusion matrix and each class's
weights as an 8x8 image (digits); the loss and accuracy curves; and the matrix p - Y of one
batch before and after training, as a heat map.
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
from minigrad import animation, data, nn, plot
from minigrad import functional as F

DATASETS = {  # name: default epochs and learning rate
    "blobs": {"epochs": 12, "lr": 0.05},
    "spirals": {"epochs": 12, "lr": 0.05},
    "digits": {"epochs": 15, "lr": 0.01},
}


def load(name: str, seed: int) -> Split:
    if name == "blobs":  # four overlapping clusters, one per class
        # 800 samples, 200 held out: with only 100, an accuracy measured on the test part
        # varies by about 3 points from split to split, and a lucky split scored 8 points
        # above the training accuracy, with a lower loss, which reads like a bug.
        X, y = data.make_blobs(
            n_samples=800, centers=[[-2.5, 0], [0, 2.5], [2.5, 0], [0, -2.5]], cluster_std=1.2, seed=seed
        )
        return split_and_standardize(X, y, seed)
    if name == "spirals":  # three arms: no straight boundary separates them (see the regions)
        X, y = data.make_spirals(n_samples=360, n_classes=3, noise=0.15, seed=seed)
        return split_and_standardize(X, y, seed)
    digits = data.load_digits()
    return split_and_standardize(digits.X, digits.y, seed, class_names=digits.class_names)


def softmax_regression(n_features: int, n_classes: int, seed: int) -> tuple[nn.Linear, Classifier]:
    model = nn.Linear(n_features, n_classes, seed=seed)  # weight (features, classes): logits = X @ W + b
    return model, Classifier(forward=model, loss=F.cross_entropy, predict=lambda z: z.argmax(axis=1))


def gradient_check(
    model: nn.Linear, X: np.ndarray, y: np.ndarray, figures: Figures | None
) -> dict[str, float]:
    """One real backward pass on (X, y), compared with the closed forms, computed here
    with plain numpy."""
    logits = model(mg.Tensor(X, name="X"))
    logits.name = "logits"
    logits.retain_grad()  # an intermediate: without this its gradient is not kept
    loss = F.cross_entropy(logits, y)
    loss.name = "loss"
    if figures is not None:
        figures.graph(loss)  # before backward(), which frees the graph
    loss.backward()

    n, k = logits.shape
    z = logits.data
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    Y = np.eye(k)[y]
    checks = {
        "dL/dlogits - (p - Y) / N": np.abs(logits.grad.data - (p - Y) / n).max(),
        "dL/dW - X^T (p - Y) / N": np.abs(model.weight.grad.data - X.T @ (p - Y) / n).max(),
        "dL/db - mean(p - Y)": np.abs(model.bias.grad.data - (p - Y).mean(axis=0)).max(),
    }
    model.zero_grad()
    return {name: float(v) for name, v in checks.items()}


def batch_residual(model: nn.Linear, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """p - Y of a batch, read off autograd: a hook on the logits records the gradient that
    flows into them during backward, (p - Y) / N."""
    seen = []
    logits = model(mg.Tensor(X))
    logits.register_hook(lambda grad: seen.append(grad.data.copy()))
    F.cross_entropy(logits, y).backward()
    model.zero_grad()
    return seen[0] * len(y)


def main(argv: Sequence[str] | None = None) -> Result:
    parser = build_parser("multinomial_regression", " ".join(__doc__.split("\n\n")[0].split()), DATASETS)
    parser.add_argument(
        "--animate",
        metavar="GIF",
        nargs="?",
        const="",
        help="also write a GIF of training: the decision regions and each sample's "
        "pull, 2-D data only (to GIF; default <out>/<dataset>_training.gif)",
    )
    parser.add_argument(
        "--frames", type=positive_int, default=40, help="frames of the GIF (default: %(default)s)"
    )
    args = parse(parser, argv)
    if args.frames < 2:
        parser.error(f"argument --frames: expected an integer >= 2, got {args.frames}")
    if args.animate and (os.path.isdir(args.animate) or not args.animate.lower().endswith(".gif")):
        parser.error(f"argument --animate: expected a file path ending in .gif, got {args.animate!r}")
    if args.animate is not None and args.dataset == "digits":
        parser.error("argument --animate: draws 2-D data (--dataset blobs or spirals), not the digits")
    split = load(args.dataset, args.seed)
    n, d = split.X_train.shape
    k = len(split.class_names)
    print(f"{args.dataset}: {n} training and {len(split.y_test)} test samples, {d} features, {k} classes")
    figures = Figures(args.out, args.dataset, args.show)
    model, classifier = softmax_regression(d, k, args.seed)

    checks = gradient_check(model, split.X_train, split.y_train, figures if args.graph else None)
    print_check(f"gradient check, one backward pass over the {n} training samples:", checks)

    per_class = max(2, 16 // k)  # a batch of test samples: the first few of each class
    batch = np.concatenate([np.flatnonzero(split.y_test == c)[:per_class] for c in range(k)])
    Xb, yb = split.X_test[batch], split.y_test[batch]
    before = batch_residual(model, Xb, yb)

    print(f"training softmax regression, {args.optimizer} lr={args.lr} batch={args.batch_size}:")
    recorder = animation.Recorder(
        {"weight": model.weight, "bias": model.bias},  # every step, for --animate
        steps=None if args.animate is not None else [],
    )
    history = train(classifier, list(model.parameters()), split, args, after_step=recorder)
    test_accuracy = history.test_acc[-1]

    fig = plot.pyplot().figure(figsize=(12, 2.2 + 0.3 * len(yb)), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot.residual_heatmap(
        before, yb, ax=left, class_names=split.class_names, title="p - Y of a batch, before training"
    )
    plot.residual_heatmap(
        batch_residual(model, Xb, yb),
        yb,
        ax=right,
        class_names=split.class_names,
        title="after training: only the unsure and the wrong still pull",
    )
    fig.suptitle(
        "p - Y = N x the gradient at the logits (read off autograd): each row sums to 0, "
        "its negative entry sits at the true class"
    )
    figures.save(fig, "residual_heatmap")
    figures.save(
        plot.training_curves(history.as_dict(), title=f"softmax regression on {args.dataset}"),
        "training_curves",
    )
    with mg.no_grad():
        test_pred = classifier.predict(model(mg.Tensor(split.X_test)).data)
    if d == 2:

        def predict_proba(points: np.ndarray) -> np.ndarray:
            with mg.no_grad():
                return F.softmax(model(mg.Tensor(points))).data

        ax = plot.decision_regions(
            predict_proba,
            split.X_test,
            split.y_test,
            class_names=split.class_names,
            feature_names=split.feature_names,
            title=f"softmax regression on {args.dataset}: test set, accuracy {100 * test_accuracy:.1f}%",
        )
        figures.save(ax, "decision_regions")
    else:
        figures.save(
            plot.confusion_matrix(
                split.y_test,
                test_pred,
                class_names=split.class_names,
                title=f"{args.dataset}: test set, accuracy {100 * test_accuracy:.1f}%",
            ),
            "confusion_matrix",
        )
        if d == 64:
            figures.save(
                plot.weight_images(
                    model.weight.data,
                    class_names=split.class_names,
                    title="each class's weights W[:, c] as an 8x8 image",
                ),
                "weights",
            )

    if args.animate is not None:  # the frames come from the snapshots of this run

        def logits_at(params: dict[str, np.ndarray], points: np.ndarray) -> np.ndarray:
            return points @ params["weight"] + params["bias"]  # logits = X W + b

        figures.paths.append(
            animation.training_gif(
                logits_at,
                recorder.select(args.frames),
                split.X_train,
                split.y_train,
                args.animate or os.path.join(args.out, f"{args.dataset}_training.gif"),
                title=f"softmax regression on {args.dataset}",
                class_names=split.class_names,
                feature_names=split.feature_names,
            )
        )

    print(f"final test accuracy: {100 * test_accuracy:.1f}%")
    saved = finish(figures, args, model.state_dict(), what="state_dict")
    return Result(test_accuracy, checks, figures.paths, history, saved)


if __name__ == "__main__":
    main(sys.argv[1:])
