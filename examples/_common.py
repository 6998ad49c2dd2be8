"""The plumbing both example scripts share: command-line flags, data preparation, the
training loop with its progress line, and the bookkeeping of figures and results.

The examples themselves (``logistic_regression.py``, ``multinomial_regression.py``) hold
what is worth reading: the model, the loss, and the checks of the gradient p - y.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import data, optim, plot

# ---------------------------------------------------------------- flags


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse turns the ValueError into exit code 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def build_parser(name: str, description: str, datasets: Mapping[str, Mapping[str, float]],
                 batch_size: int = 32) -> argparse.ArgumentParser:
    """The flags of every example. ``datasets`` maps each dataset's name to its default
    ``epochs`` and ``lr`` (the first dataset is the default one): 64 digit pixels need a
    smaller step than 2 coordinates."""
    def per_dataset(key: str) -> str:
        return ", ".join(f"{d}: {v[key]:g}" for d, v in datasets.items())

    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    parser.add_argument("--dataset", choices=list(datasets), default=next(iter(datasets)),
                        help="the data to train on (default: %(default)s)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"passes over the training set (default: {per_dataset('epochs')})")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help=f"learning rate (default: {per_dataset('lr')})")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help="samples per step (default: %(default)s)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                        help="sgd (with momentum 0.9) or adam (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of the data, the initial weights and the batch order "
                             "(default: %(default)s)")
    parser.add_argument("--out", metavar="DIR", default=os.path.join("out", name),
                        help="folder for the figures (default: %(default)s)")
    parser.add_argument("--save", metavar="PATH", default=None,
                        help="also save the trained state_dict to PATH (minigrad.save, an .npz file)")
    parser.add_argument("--show", action="store_true", help="open the figures in windows at the end")
    parser.add_argument("--graph", action="store_true",
                        help="also draw the computation graph of the loss (minigrad.draw_graph)")
    parser.set_defaults(dataset_defaults=dict(datasets))
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the flags (a bad value exits with code 2 and a message), fill in the
    dataset's defaults, and choose matplotlib's backend: Agg unless --show."""
    args = parser.parse_args(argv)
    defaults = args.dataset_defaults[args.dataset]
    if args.epochs is None:
        args.epochs = int(defaults["epochs"])
    if args.lr is None:
        args.lr = float(defaults["lr"])
    del args.dataset_defaults
    plot.pyplot(show=args.show)  # before anything imports pyplot
    return args


# ---------------------------------------------------------------- data


@dataclass
class Split:
    """Standardised train and test parts of one dataset (statistics from the train part)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]


def split_and_standardize(X: np.ndarray, y: np.ndarray, seed: int, class_names: Sequence[str] | None = None,
                          feature_names: Sequence[str] | None = None) -> Split:
    """A stratified 75/25 split, each feature scaled to mean 0 and std 1 on the train part."""
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=True)
    scaled = data.standardize(X_train, X_test)
    k = int(y.max()) + 1
    return Split(scaled.train, scaled.test, y_train, y_test,
                 tuple(class_names) if class_names else tuple(f"class {i}" for i in range(k)),
                 tuple(f"{f} (standardised)" for f in feature_names) if feature_names else
                 tuple(f"feature {i + 1} (standardised)" for i in range(X.shape[1])))


# ---------------------------------------------------------------- training


def make_optimizer(name: str, params: Any, lr: float) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}: expected 'sgd' or 'adam'")


@dataclass
class History:
    """One entry per epoch, measured after it (accuracies as fractions); epoch 0 is the
    model before training."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return asdict(self)


@dataclass
class Classifier:
    """A model seen through the three functions the loop needs: ``forward`` (features
    Tensor -> logits Tensor), ``loss`` (logits, labels -> scalar Tensor) and ``predict``
    (logits array -> class labels)."""

    forward: Callable[[mg.Tensor], mg.Tensor]
    loss: Callable[[mg.Tensor, np.ndarray], mg.Tensor]
    predict: Callable[[np.ndarray], np.ndarray]

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(mean loss, accuracy) on all of X, without recording a graph."""
        with mg.no_grad():
            logits = self.forward(mg.Tensor(X))
            return float(self.loss(logits, y).item()), float(np.mean(self.predict(logits.data) == y))


def train(model: Classifier, params: list[mg.Tensor], split: Split, args: argparse.Namespace,
          lr: float | None = None, after_step: Callable[[], None] | None = None,
          label: str = "") -> History:
    """Minibatch training for ``args.epochs`` epochs with ``args.optimizer``; prints one
    progress line per epoch (unless ``label`` is None). The batch order depends only on
    ``args.seed``, so two models trained with the same args see the same batches."""
    loader = data.DataLoader(split.X_train, split.y_train, batch_size=args.batch_size, shuffle=True,
                             seed=args.seed)
    opt = make_optimizer(args.optimizer, params, args.lr if lr is None else lr)
    history = History()
    width = len(str(args.epochs))
    for epoch in range(args.epochs + 1):  # epoch 0: the untrained model, for reference
        for xb, yb in loader if epoch else ():
            opt.zero_grad()
            loss = model.loss(model.forward(mg.Tensor(xb)), yb)
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step()
        train_loss, train_acc = model.evaluate(split.X_train, split.y_train)
        test_loss, test_acc = model.evaluate(split.X_test, split.y_test)
        for key, value in (("epoch", epoch), ("train_loss", train_loss), ("test_loss", test_loss),
                           ("train_acc", train_acc), ("test_acc", test_acc)):
            getattr(history, key).append(value)
        if label is not None:
            print(f"{label}epoch {epoch:>{width}}/{args.epochs}  loss {train_loss:.4f}  "
                  f"train acc {100 * train_acc:5.1f}%  test acc {100 * test_acc:5.1f}%")
    return history


def print_check(title: str, checks: dict[str, float]) -> None:
    """The gradient checks as aligned lines ``  max |a - b| = 1.2e-17``."""
    print(title)
    width = max(len(name) for name in checks)
    for name, value in checks.items():
        print(f"  max |{name}|{' ' * (width - len(name))} = {value:.2e}")


# ---------------------------------------------------------------- outputs


class Figures:
    """Saves figures as ``<out>/<prefix>_<name>.png`` and remembers their paths."""

    def __init__(self, out_dir: str, prefix: str, show: bool) -> None:
        self.out_dir = out_dir
        self.prefix = prefix
        self.show = show
        self.paths: list[str] = []

    def save(self, fig: Any, name: str) -> str:
        path = plot.save(fig, os.path.join(self.out_dir, f"{self.prefix}_{name}.png"))
        self.paths.append(path)
        if not self.show:  # keep memory flat; with --show the windows need them
            plot.pyplot().close(getattr(fig, "figure", fig))
        return path

    def graph(self, loss: mg.Tensor, name: str = "graph") -> str:
        """Draw the graph that computed ``loss`` (call before loss.backward())."""
        return self.save(mg.draw_graph(loss).figure, name)


@dataclass
class Result:
    """What ``main`` returns, for tests and notebooks."""

    test_accuracy: float
    checks: dict[str, float]
    figures: list[str]
    history: History
    saved: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def finish(result: Result, model: mg.nn.Module, args: argparse.Namespace) -> Result:
    """Save the model if asked, print the summary, and open windows if asked."""
    if args.save:
        folder = os.path.dirname(os.path.abspath(args.save))
        os.makedirs(folder, exist_ok=True)
        mg.save(model.state_dict(), args.save)
        result.saved = args.save
        print(f"saved the trained state_dict to {args.save}")
    print(f"final test accuracy: {100 * result.test_accuracy:.1f}%")
    print(f"figures written ({len(result.figures)}):")
    for path in result.figures:
        print(f"  {path}")
    if args.show:
        plot.pyplot(show=True).show()
    return result
