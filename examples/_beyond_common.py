"""Command-line plumbing of the "softmax beyond classification" examples (attention.py,
temperature_sampling.py, policy_gradient.py), on top of ``_common.py`` (the regression
examples' plumbing): the same flag types, optimizers, figure saving and output format,
without the ``--dataset`` and ``--graph`` flags, which only make sense there.

Every example accepts::

    --epochs N  --lr X  --batch-size N  --optimizer {sgd,adam}  --seed N
    --out DIR (default out/<name>)  --save PATH  --show

prints progress lines ``epoch  3/20  loss 0.4321  test acc  91.2%``, then the final metric
and ``figures written (N):`` with the paths. A bad value is an argparse error: a message
on stderr and exit code 2, before anything runs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from _common import Figures, make_optimizer, non_negative_int, positive_float, positive_int, print_check

import minigrad as mg
from minigrad import plot

__all__ = ["Figures", "make_optimizer", "non_negative_int", "positive_float", "positive_int", "print_check",
           "positive_floats", "make_parser", "parse", "progress", "should_log", "save_parameters",
           "finish_figures"]


def positive_floats(text: str) -> list[float]:
    """argparse type: comma-separated numbers > 0, e.g. ``0.2,0.7,1,1.5``."""
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers > 0, got {text!r}")
    return [positive_float(p) for p in parts]


def make_parser(name: str, description: str, *, epochs: int, lr: float, batch_size: int,
                optimizer: str = "adam", epochs_help: str = "passes over the training data",
                batch_help: str = "samples per step") -> argparse.ArgumentParser:
    """The flags every example shares; add your own with ``parser.add_argument``."""
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help=f"{epochs_help} (default: %(default)s)")
    parser.add_argument("--lr", type=positive_float, default=lr, help="learning rate (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help=f"{batch_help} (default: %(default)s)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default=optimizer,
                        help="sgd (with momentum 0.9) or adam (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of the data, the initial weights and the sampling (default: %(default)s)")
    parser.add_argument("--out", metavar="DIR", default=os.path.join("out", name),
                        help="folder for the figures (default: %(default)s)")
    parser.add_argument("--save", metavar="PATH", default=None,
                        help="also save the trained parameters to PATH (minigrad.save, an .npz file)")
    parser.add_argument("--show", action="store_true", help="open the figures in windows at the end")
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the flags (a bad value exits with code 2 and a message) and choose matplotlib's
    backend: Agg unless --show."""
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"argument --out: {args.out!r} exists and is not a folder")
    if args.save is not None and os.path.isdir(args.save):
        parser.error(f"argument --save: {args.save!r} is a folder, expected a file path")
    plot.pyplot(show=args.show)  # before anything imports pyplot
    return args


def progress(epoch: int, total: int, loss: float, metrics: Sequence[tuple[str, float, str]] = (),
             prefix: str = "") -> None:
    """``epoch  3/20  loss 0.4321  test acc  91.2%``: ``metrics`` are (name, value, kind)
    with kind "%" for a fraction shown as a percentage, "" for a plain number."""
    width = len(str(total))
    shown = "".join(f"  {name} {100 * value:5.1f}%" if kind == "%" else f"  {name} {value:.4f}"
                    for name, value, kind in metrics)
    print(f"{prefix}epoch {epoch:>{width}}/{total}  loss {loss:.4f}{shown}", flush=True)


def should_log(epoch: int, total: int, every: int) -> bool:
    """For runs of many short epochs: log the first, every ``every``-th (0: about ten
    lines in all) and the last."""
    every = every or max(1, total // 10)
    return epoch in (1, total) or epoch % every == 0


def save_parameters(path: str | None, state: dict[str, Any]) -> None:
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        mg.save(state, path)
        print(f"saved the trained parameters to {path}")


def finish_figures(figures: Figures, show: bool) -> None:
    print(f"figures written ({len(figures.paths)}):")
    for path in figures.paths:
        print(f"  {path}")
    if show:
        plot.pyplot(show=True).show()
