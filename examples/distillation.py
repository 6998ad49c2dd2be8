"""Knowledge distillation: a small student learns from a teacher's softened probabilities.

A teacher network (64 -> 128 -> 10) is trained on 1347 labelled digit images. A student
an eighth of its size (64 -> 16 -> 10) then gets only a few labelled images (by default 10
per class). Trained on their hard labels alone, it over-fits them. Trained with the
distillation loss

    alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, y)

on the SAME few images, it also learns what the teacher thinks each image resembles (a 4
that looks a bit like a 9), and generalises better: a higher test accuracy and a lower
test NLL. Both students start from the same weights and see the same batches.

    python examples/distillation.py             # a few seconds; figures in out/distillation
    python examples/distillation.py --help      # every flag
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from _common import (
    Figures,
    History,
    Result,
    build_parser,
    finish,
    make_optimizer,
    parse,
    positive_float,
    positive_int,
    split_and_standardize,
)

import minigrad as mg
from minigrad import data, nn, plot
from minigrad import functional as F


def mlp(hidden: int, seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(64, hidden, rng=rng), nn.ReLU(), nn.Linear(hidden, 10, rng=rng))


def logits_of(model: nn.Module, X: np.ndarray) -> np.ndarray:
    with mg.no_grad():
        return model(mg.Tensor(X)).data


def evaluate(model: nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean NLL) on (X, y)."""
    z = logits_of(model, X)
    return float(np.mean(z.argmax(axis=1) == y)), F.cross_entropy(z, y).item()


def train(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    args: Any,
    loss_fn: Any,
    record: tuple[np.ndarray, np.ndarray] | None = None,
    draw: Any = None,
) -> list[float]:
    """Minibatch training with ``loss_fn(logits, rows)``; the batch order depends only on
    the seed, so two students see the same batches. Returns the test accuracy after each
    epoch if ``record`` holds the test set. ``draw(loss)``, if given, sees the first loss."""
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr)
    rng = np.random.default_rng(args.seed + 1)
    curve = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(order), args.batch_size):
            rows = order[start : start + args.batch_size]
            loss = loss_fn(model(mg.Tensor(X[rows])), rows)
            if draw is not None:
                draw(loss)
                draw = None
            opt.zero_grad()
            loss.backward()
            opt.step()
        if record is not None:
            curve.append(evaluate(model, *record)[0])
    return curve


def few_per_class(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The indices of ``k`` random samples of each class."""
    rng = np.random.default_rng(seed)
    return np.sort(
        np.concatenate([rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c in np.unique(y)])
    )


def main(argv: Sequence[str] | None = None) -> Result:
    parser = build_parser(
        "distillation",
        __doc__.split("\n\n")[0],
        epochs=150,
        lr=0.01,
        batch_size=32,
        optimizer="adam",
        epochs_help="passes of each student over its few images",
    )
    parser.add_argument("--teacher-epochs", type=positive_int, default=20, help="passes of the teacher")
    parser.add_argument("--per-class", type=positive_int, default=10, help="labelled images per class")
    parser.add_argument("--student-hidden", type=positive_int, default=16, help="the student's hidden units")
    parser.add_argument("--temperature", type=positive_float, default=4.0, help="distillation temperature T")
    parser.add_argument(
        "--alpha", type=float, default=0.9, help="weight of the soft (teacher) term, in [0, 1]"
    )
    args = parse(parser, argv)
    if not 0 <= args.alpha <= 1:
        parser.error(f"argument --alpha: expected a number in [0, 1], got {args.alpha}")

    X, y = data.load_digits()
    split = split_and_standardize(X, y, args.seed)
    test = (split.X_test, split.y_test)
    teacher = mlp(128, args.seed)
    train(
        teacher,
        split.X_train,
        split.y_train,
        args.teacher_epochs,
        args,
        lambda z, rows: F.cross_entropy(z, split.y_train[rows]),
    )
    teacher_acc, teacher_nll = evaluate(teacher, *test)
    print(
        f"teacher (64-128-10, {len(split.y_train)} labelled images): "
        f"test accuracy {100 * teacher_acc:.1f}%  NLL {teacher_nll:.4f}"
    )

    few = few_per_class(split.y_train, args.per_class, args.seed)
    X_few, y_few = split.X_train[few], split.y_train[few]
    soft = logits_of(teacher, X_few)  # the teacher's logits on the student's images
    n_params = sum(p.size for p in mlp(args.student_hidden, 0).parameters())
    print(
        f"students (64-{args.student_hidden}-10, {n_params} parameters) on {len(few)} labelled images, "
        f"{args.epochs} epochs; distillation at T = {args.temperature:g}, alpha = {args.alpha:g}"
    )

    figures = Figures(args.out, "distillation", args.show)
    results, curves = {}, {}
    T, alpha = args.temperature, args.alpha
    losses = {
        "hard labels only": lambda z, rows: F.cross_entropy(z, y_few[rows]),
        "distilled": lambda z, rows: F.distillation_loss(
            z, soft[rows], y_few[rows], temperature=T, alpha=alpha
        ),
    }
    for name, loss_fn in losses.items():
        student = mlp(args.student_hidden, args.seed + 7)  # the same start for both
        draw = figures.graph if args.graph and name == "distilled" else None  # the distillation loss's graph
        curves[name] = train(student, X_few, y_few, args.epochs, args, loss_fn, record=test, draw=draw)
        results[name] = evaluate(student, *test)
        print(f"student, {name:<17} test accuracy {100 * results[name][0]:.1f}%  NLL {results[name][1]:.4f}")
    gain = results["distilled"][0] - results["hard labels only"][0]
    print(
        f"distillation gain: {100 * gain:+.1f} accuracy points, test NLL "
        f"{results['hard labels only'][1]:.4f} -> {results['distilled'][1]:.4f}"
    )

    ax = plot.pyplot().figure(figsize=(6.4, 4.2), layout="constrained").add_subplot()
    epochs = np.arange(1, args.epochs + 1)
    for name, curve in curves.items():
        ax.plot(epochs, 100 * np.array(curve), label=f"student, {name}")
    ax.axhline(100 * teacher_acc, color="0.4", linestyle="--", label="teacher")
    ax.set_xlabel("epoch (passes over the few labelled images)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"a 64-{args.student_hidden}-10 student on {len(few)} digit images", fontsize=10)
    ax.legend(fontsize=8)
    figures.save(ax, "students")
    saved = finish(figures, args, teacher.state_dict(), what="teacher's state_dict")
    extra = {"teacher": (teacher_acc, teacher_nll), "students": results, "curves": curves}
    return Result(results["distilled"][0], {}, figures.paths, History(), saved, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
