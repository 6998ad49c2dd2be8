"""The plumbing every example script shares: command-line flags, the progress line,
optimizers, and the bookkeeping of figures, saved parameters and results; plus the data
preparation and training loop of the two regression examples.

The examples themselves hold what is worth reading: the model, the loss, and the checks of
the gradient p - y. Every example accepts::

    --epochs N  --lr X  --batch-size N  --optimizer {sgd,adam}  --seed N
    --out DIR (default out/<name>)  --save PATH  --show  --graph

(the regression examples also ``--dataset``, each dataset with its own default epochs and
lr), prints progress lines ``epoch  3/20  loss 0.4321  test acc  91.2%``, then the final
metric and ``figures written (N):`` with the paths. A bad value is an argparse error: a
message on stderr and exit code 2, before anything runs; that includes an ``--out`` or
``--save`` that could not be written at the end (checked before training, so that a
finished run is never lost). ``--help`` shows every flag's default. Training that
diverges (a loss that is not finite, or that explodes) stops at once with a message and
exit code 1 (``LossGuard``).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import data, optim, plot

# ---------------------------------------------------------------- flags


def _int_at_least(text: str, low: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse turns the error into exit code 2)."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "an integer >= 0")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def positive_floats(text: str) -> list[float]:
    """argparse type: comma-separated numbers > 0, e.g. ``0.2,0.7,1,1.5``."""
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers > 0, got {text!r}")
    return [positive_float(p) for p in parts]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with every flag's default: argparse adds ``(default: ...)`` to each help
    text, unless the text already says it (the per-dataset defaults do)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.help and "(default" in action.help:
            return action.help
        if action.default is None:  # a flag like --animate [GIF] or --save PATH: off unless given
            return f"{action.help} (default: off)"
        if isinstance(action.default, (list, tuple)):  # as it is typed: 0.2,0.7,1
            shown = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in action.default)
            return f"{action.help} (default: {shown.replace('%', '%%')})"
        return super()._get_help_string(action)


def build_parser(
    name: str,
    description: str,
    datasets: Mapping[str, Mapping[str, float]] | None = None,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int = 32,
    optimizer: str = "sgd",
    epochs_help: str = "passes over the training data",
    batch_help: str = "samples per step",
) -> argparse.ArgumentParser:
    """The flags every example shares; add your own with ``parser.add_argument``.

    With ``datasets`` (each dataset's name mapped to its default ``epochs`` and ``lr``, the
    first being the default dataset) there is a ``--dataset`` flag, and ``parse`` fills in
    the chosen dataset's defaults: 64 digit pixels need a smaller step than 2 coordinates.
    Without, ``epochs`` and ``lr`` are the defaults."""
    if datasets is None and (epochs is None or lr is None):
        raise ValueError("build_parser needs either datasets or both epochs and lr as defaults")

    def default(key: str, value: float | None) -> str:
        if datasets is None:
            return f"{value:g}"
        return ", ".join(f"{d}: {v[key]:g}" for d, v in datasets.items())

    parser = argparse.ArgumentParser(
        prog=f"{name}.py", description=description, formatter_class=HelpFormatter
    )
    if datasets is not None:
        parser.add_argument(
            "--dataset",
            choices=list(datasets),
            default=next(iter(datasets)),
            help="the data to train on (default: %(default)s)",
        )
        parser.set_defaults(dataset_defaults=dict(datasets))
        epochs = lr = None  # filled in by parse(), from the chosen dataset
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=epochs,
        help=f"{epochs_help} (default: {default('epochs', epochs)})",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=lr, help=f"learning rate (default: {default('lr', lr)})"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=batch_size, help=f"{batch_help} (default: %(default)s)"
    )
    parser.add_argument(
        "--optimizer",
        choices=("sgd", "adam"),
        default=optimizer,
        help="sgd (with momentum 0.9) or adam (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of every random choice: the data, the initial weights, the batch order "
        "and the sampling (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=os.path.join("out", name),
        help="folder for the figures (default: %(default)s)",
    )
    parser.add_argument(
        "--save",
        metavar="PATH",
        default=None,
        help="also save the trained parameters to PATH (minigrad.save, an .npz file) (default: not saved)",
    )
    parser.add_argument(
        "--show", action="store_true", help="open the figures in windows at the end (default: off)"
    )
    parser.add_argument(
        "--graph",
        action="store_true",
        help="also draw the computation graph of the loss (minigrad.draw_graph) (default: off)",
    )
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the flags (a bad value exits with code 2 and a message), fill in the
    dataset's defaults, and choose matplotlib's backend: Agg unless --show."""
    args = parser.parse_args(argv)
    args.prog = parser.prog  # for LossGuard's message
    per_dataset = vars(args).pop("dataset_defaults", None)
    if per_dataset is not None:
        defaults = per_dataset[args.dataset]
        if args.epochs is None:
            args.epochs = int(defaults["epochs"])
        if args.lr is None:
            args.lr = float(defaults["lr"])
    problem = check_out_folder(args.out)
    if problem:
        parser.error(f"argument --out: {problem}")
    problem = check_save_path(args.save) if args.save is not None else None
    if problem:
        parser.error(f"argument --save: {problem}")
    plot.pyplot(show=args.show)  # before anything imports pyplot
    return args


# The outputs are checked before training, so that a run is not lost at its very end for
# want of a place to write it. The checks create nothing.


def _nearest_existing(path: str) -> str:
    """``path`` itself if it exists, else its closest existing parent folder (or file)."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        path = os.path.dirname(path)
    return path


def _writable_folder(folder: str, path: str) -> str | None:
    """Why folders could not be created at ``path`` inside ``folder`` (None if they can)."""
    if not os.path.isdir(folder):
        return f"{path!r} lies under {folder!r}, which is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write into the folder {folder!r} (permission denied)"
    return None


def check_out_folder(out: str) -> str | None:
    """Why ``--out`` cannot hold the figures (None if it can): it, or one of its parents,
    is a file, or the folder where it is (to be) is not writable."""
    existing = _nearest_existing(out)
    if existing == os.path.abspath(out) and not os.path.isdir(existing):
        return f"{out!r} exists and is not a folder"
    return _writable_folder(existing, out)


def check_save_path(save: str) -> str | None:
    """Why ``--save`` cannot be written (None if it can): it is a folder (or names one
    with a trailing slash), lies under a file, or its folder is not writable."""
    if os.path.isdir(save) or save.endswith(("/", os.sep)):
        return f"{save!r} is a folder, expected a file path"
    folder = os.path.dirname(os.path.abspath(save))
    return _writable_folder(_nearest_existing(folder), save)


# ---------------------------------------------------------------- progress


def progress(
    epoch: int, total: int, loss: float, metrics: Sequence[tuple[str, float, str]] = (), prefix: str = ""
) -> None:
    """``epoch  3/20  loss 0.4321  test acc  91.2%``: ``metrics`` are (name, value, kind)
    with kind "%" for a fraction shown as a percentage, "" for a plain number."""
    width = len(str(total))
    shown = "".join(
        f"  {name} {100 * value:5.1f}%" if kind == "%" else f"  {name} {value:.4f}"
        for name, value, kind in metrics
    )
    print(f"{prefix}epoch {epoch:>{width}}/{total}  loss {loss:.4f}{shown}", flush=True)


def should_log(epoch: int, total: int, every: int) -> bool:
    """For runs of many short epochs: log the first, every ``every``-th (0: about ten
    lines in all) and the last."""
    every = every or max(1, total // 10)
    return epoch in (1, total) or epoch % every == 0


def print_check(title: str, checks: dict[str, float]) -> None:
    """The gradient checks as aligned lines ``  max |a - b| = 1.2e-17``."""
    print(title)
    width = max(len(name) for name in checks)
    for name, value in checks.items():
        print(f"  max |{name}|{' ' * (width - len(name))} = {value:.2e}")


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


def split_and_standardize(
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
) -> Split:
    """A stratified 75/25 split, each feature scaled to mean 0 and std 1 on the train part."""
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=True)
    scaled = data.standardize(X_train, X_test)
    k = int(y.max()) + 1
    return Split(
        scaled.train,
        scaled.test,
        y_train,
        y_test,
        tuple(class_names) if class_names else tuple(f"class {i}" for i in range(k)),
        tuple(f"{f} (standardised)" for f in feature_names)
        if feature_names
        else tuple(f"feature {i + 1} (standardised)" for i in range(X.shape[1])),
    )


# ---------------------------------------------------------------- training


class TrainingDiverged(SystemExit):
    """Raised by ``LossGuard``: as a SystemExit with a message, it ends a script with that
    message on stderr and exit code 1 (and ``main()`` called from Python raises it)."""


class LossGuard:
    """Stops a training run that diverges, instead of training on (and printing
    300-digit losses or nan) until the end.

    ``check(loss, epoch)`` after each step's forward pass raises ``TrainingDiverged`` when
    the loss is not finite, or when it has *exploded*: ``|loss| > EXPLODED x max(|first
    loss|, 1)``, the first loss being the first one checked (the ``max`` with 1 keeps a
    first loss near 0, as a policy-gradient surrogate may have, from making every later
    loss look like an explosion)."""

    EXPLODED = 1e6

    def __init__(self, args: argparse.Namespace, what: str = "") -> None:
        self.lr = args.lr
        self.prog = getattr(args, "prog", "")
        self.what = what
        self.first: float | None = None

    def check(self, loss: Any, epoch: int) -> None:
        value = float(loss.item() if isinstance(loss, mg.Tensor) else loss)
        if self.first is None and math.isfinite(value):
            self.first = abs(value)
            return
        if math.isfinite(value) and abs(value) <= self.EXPLODED * max(self.first or 0.0, 1.0):
            return
        reason = (
            f"the loss is {value}"
            if not math.isfinite(value)
            else f"the loss reached {value:.3g}, more than {self.EXPLODED:g} times its first value "
            f"{self.first:.4g}"
        )
        raise TrainingDiverged(
            f"{self.prog}: error: training{self.what} diverged in epoch {epoch}: "
            f"{reason}; nothing was saved. The learning rate --lr {self.lr:g} is "
            "probably too large: try a smaller one."
        )


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


def train(
    model: Classifier,
    params: list[mg.Tensor],
    split: Split,
    args: argparse.Namespace,
    lr: float | None = None,
    after_step: Callable[[], None] | None = None,
    label: str = "",
) -> History:
    """Minibatch training for ``args.epochs`` epochs with ``args.optimizer``; prints one
    progress line per epoch (unless ``label`` is None). The batch order depends only on
    ``args.seed``, so two models trained with the same args see the same batches."""
    loader = data.DataLoader(
        split.X_train, split.y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed
    )
    opt = make_optimizer(args.optimizer, params, args.lr if lr is None else lr)
    guard = LossGuard(args)
    history = History()
    for epoch in range(args.epochs + 1):  # epoch 0: the untrained model, for reference
        for xb, yb in loader if epoch else ():
            opt.zero_grad()
            loss = model.loss(model.forward(mg.Tensor(xb)), yb)
            guard.check(loss, epoch)
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step()
        train_loss, train_acc = model.evaluate(split.X_train, split.y_train)
        test_loss, test_acc = model.evaluate(split.X_test, split.y_test)
        for key, value in (
            ("epoch", epoch),
            ("train_loss", train_loss),
            ("test_loss", test_loss),
            ("train_acc", train_acc),
            ("test_acc", test_acc),
        ):
            getattr(history, key).append(value)
        if label is not None:
            progress(
                epoch,
                args.epochs,
                train_loss,
                [("train acc", train_acc, "%"), ("test acc", test_acc, "%")],
                prefix=label,
            )
    return history


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


def save_state(path: str | None, state: Mapping[str, Any], what: str = "parameters") -> str | None:
    """Save ``state`` (names to arrays) to ``path`` with minigrad.save, if a path is given."""
    if not path:
        return None
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    mg.save(state, path)
    print(f"saved the trained {what} to {path}")
    return path


def finish(
    figures: Figures, args: argparse.Namespace, state: Mapping[str, Any], what: str = "parameters"
) -> str | None:
    """The end of every example: save ``state`` if --save asked for it, list the figures
    written, and open windows if --show asked for them. Returns the saved path (or None)."""
    saved = save_state(args.save, state, what)
    print(f"figures written ({len(figures.paths)}):")
    for path in figures.paths:
        print(f"  {path}")
    if args.show:
        plot.pyplot(show=True).show()
    return saved
