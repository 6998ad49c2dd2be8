"""A softmax you can play with: move the logits and the temperature, pick the true class,
and watch the probabilities, the cross-entropy and its gradient change.

    python examples/softmax_explorer.py                      # a window with sliders
    python examples/softmax_explorer.py --out explorer.png   # headless: a grid of snapshots
    python examples/softmax_explorer.py --help               # every flag

Left, softmax over a few logits z at temperature T, with true class y:

    p = softmax(z / T),    L = -log p_y,    dL/dz = (p - onehot(y)) / T,

prediction minus label, divided by the temperature. Right, the two-class case: one logit
z and the sigmoid, p = sigmoid(z / T) = P(y = 1), the binary cross-entropy
L = -[y log p + (1 - y) log(1 - p)] and dL/dz = (p - y) / T. Every value drawn is computed
by minigrad: the probabilities by ``F.softmax`` and ``F.sigmoid``, the loss by
``F.cross_entropy`` and ``F.binary_cross_entropy_with_logits``, the gradient by a real
backward pass.

Things to try: add the same number to every logit (nothing changes: only differences
matter); make the true class the most likely (the gradient shrinks towards 0, but never
reaches it); lower T (the distribution sharpens, and a wrong confident answer costs more);
raise it (everything flattens towards 1/K).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import functional as F
from minigrad import plot

LOGIT_RANGE = (-6.0, 6.0)
TEMPERATURE_RANGE = (0.1, 5.0)
DEFAULT_LOGITS = (2.0, 1.0, 0.1, -1.0)


# ---------------------------------------------------------------- the numbers


@dataclass
class State:
    """What the explorer shows for one setting: the logits ``z``, the temperature, the
    true class, the probabilities ``p`` of every class, the loss, and ``grad`` = dL/dz."""

    z: np.ndarray
    temperature: float
    target: int
    p: np.ndarray
    loss: float
    grad: np.ndarray


def softmax_state(z: Sequence[float], temperature: float, target: int) -> State:
    """p = softmax(z / T), L = cross-entropy(z / T, y), dL/dz from a backward pass."""
    logits = mg.Tensor(np.asarray(z, dtype=np.float64), requires_grad=True)
    loss = F.cross_entropy((logits / temperature).reshape(1, -1), [target])
    loss.backward()
    with mg.no_grad():
        p = F.softmax(logits.data, temperature=temperature).data
    return State(logits.data.copy(), temperature, target, p, loss.item(), logits.grad.data.copy())


def sigmoid_state(z: float, temperature: float, target: int) -> State:
    """p = sigmoid(z / T) = P(y = 1), L = binary cross-entropy, dL/dz from a backward
    pass. ``p`` holds both classes' probabilities, (1 - p, p)."""
    logit = mg.Tensor([float(z)], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logit / temperature, [float(target)])
    loss.backward()
    with mg.no_grad():
        p1 = F.sigmoid(logit.data / temperature).data[0]
    return State(
        logit.data.copy(), temperature, target, np.array([1 - p1, p1]), loss.item(), logit.grad.data.copy()
    )


# ---------------------------------------------------------------- the pictures


class Bars:
    """Two panels for one State: the probabilities (the true class's bar outlined) with
    the loss in the title, and the gradient dL/dz, one bar per logit."""

    def __init__(self, ax_p: Any, ax_g: Any, n_classes: int, binary: bool) -> None:
        self.ax_p, self.ax_g, self.binary = ax_p, ax_g, binary
        classes = np.arange(n_classes)
        colors = [plot.class_color(c) for c in classes]
        self.prob = ax_p.bar(classes, np.zeros(n_classes), color=colors, edgecolor="black", linewidth=0)
        self.labels = [ax_p.text(c, 0, "", ha="center", va="bottom", fontsize=8) for c in classes]
        ax_p.set_ylim(0, 1.12)
        names = [f"y = {c}" for c in classes] if binary else [f"$p_{c + 1}$" for c in classes]
        ax_p.set_xticks(classes, names)
        ax_p.set_ylabel("probability")
        n_logits = 1 if binary else n_classes
        self.grad = ax_g.bar(
            np.arange(n_logits), np.zeros(n_logits), color="#555555" if binary else colors[:n_logits]
        )
        ax_g.axhline(0, color="black", linewidth=0.8)
        ax_g.set_xticks(np.arange(n_logits), ["z"] if binary else [f"$z_{c + 1}$" for c in classes])
        ax_g.set_ylabel("dL/dz")
        ax_g.set_xlim(-0.6, n_classes - 0.4 if not binary else 0.6)

    def show(self, state: State) -> None:
        """Set every bar and text to ``state``."""
        for c, (bar, label) in enumerate(zip(self.prob, self.labels)):
            bar.set_height(state.p[c])
            bar.set_linewidth(2.5 if c == state.target else 0)
            label.set_position((c, state.p[c] + 0.02))
            label.set_text(f"{state.p[c]:.3f}")
        for bar, g in zip(self.grad, state.grad):
            bar.set_height(g)
        top = max(1.0, 1.15 * float(np.abs(state.grad).max()))
        self.ax_g.set_ylim(-top, top)
        if self.binary:
            self.ax_p.set_title(
                f"sigmoid(z / T), z = {state.z[0]:.2f}, T = {state.temperature:.2f}\n"
                f"binary cross-entropy, y = {state.target}: {state.loss:.4f}",
                fontsize=9,
            )
            self.ax_g.set_title(f"dL/dz = (p - y) / T = {state.grad[0]:+.4f}", fontsize=9)
        else:
            self.ax_p.set_title(
                f"softmax(z / T), T = {state.temperature:.2f}\n"
                f"cross-entropy, true class {state.target + 1}: {state.loss:.4f}",
                fontsize=9,
            )
            self.ax_g.set_title("dL/dz = (p - onehot(y)) / T", fontsize=9)


def _selected(buttons: Any) -> int:
    """The index of the chosen radio button (``index_selected`` needs matplotlib 3.7)."""
    return [label.get_text() for label in buttons.labels].index(buttons.value_selected)


class Explorer:
    """The interactive window: sliders for the logits and the temperature, radio buttons
    for the true class, for softmax (left) and the sigmoid (right). Moving a slider calls
    ``update``, which recomputes both States and redraws the bars."""

    def __init__(
        self,
        logits: Sequence[float] = DEFAULT_LOGITS,
        temperature: float = 1.0,
        target: int = 0,
        binary_logit: float = 1.0,
        binary_target: int = 1,
        show: bool = False,
    ) -> None:
        from matplotlib.widgets import RadioButtons, Slider

        plt = plot.pyplot(show=show)
        k = len(logits)
        self.fig = plt.figure(figsize=(11, 8))
        self.fig.suptitle("softmax and cross-entropy: move the sliders", fontsize=11)
        add = self.fig.add_axes
        self.softmax = Bars(add((0.07, 0.62, 0.48, 0.28)), add((0.07, 0.38, 0.48, 0.17)), k, binary=False)
        self.sigmoid = Bars(add((0.66, 0.62, 0.30, 0.28)), add((0.66, 0.38, 0.30, 0.17)), 2, binary=True)
        height = 0.2 / max(k, 4)
        self.logit_sliders = [
            Slider(
                add((0.1, 0.27 - i * height, 0.3, 0.8 * height)),
                f"$z_{i + 1}$",
                *LOGIT_RANGE,
                valinit=float(z),
            )
            for i, z in enumerate(logits)
        ]
        self.temperature_slider = Slider(
            add((0.1, 0.03, 0.75, 0.03)), "T (both)", *TEMPERATURE_RANGE, valinit=temperature
        )
        self.target_buttons = RadioButtons(
            add((0.45, 0.08, 0.1, 0.2)), [f"y = class {c + 1}" for c in range(k)], active=target
        )
        self.binary_slider = Slider(add((0.7, 0.27, 0.22, 0.03)), "z", *LOGIT_RANGE, valinit=binary_logit)
        self.binary_buttons = RadioButtons(
            add((0.7, 0.12, 0.12, 0.1)), ["y = 0", "y = 1"], active=binary_target
        )
        for slider in (*self.logit_sliders, self.temperature_slider, self.binary_slider):
            slider.on_changed(lambda _value: self.update())
        for buttons in (self.target_buttons, self.binary_buttons):
            buttons.on_clicked(lambda _label: self.update())
        self.update()

    def states(self) -> tuple[State, State]:
        """The softmax and sigmoid States of the current slider and button values."""
        z = [s.val for s in self.logit_sliders]
        t = self.temperature_slider.val
        target = _selected(self.target_buttons)
        return (
            softmax_state(z, t, target),
            sigmoid_state(self.binary_slider.val, t, _selected(self.binary_buttons)),
        )

    def update(self) -> None:
        softmax, sigmoid = self.states()
        self.softmax.show(softmax)
        self.sigmoid.show(sigmoid)
        # no draw here: the widget that called us has asked for one already (draw_idle),
        # which an interactive backend runs once this callback has returned


SNAPSHOTS = (  # (logits, temperature, true class): what the headless grid shows after the start
    ((2.0, 1.0, 0.1, -1.0), 1.0, 3),
    ((12.0, 11.0, 10.1, 9.0), 1.0, 3),  # every logit + 10: nothing changes
    ((2.0, 1.0, 0.1, -1.0), 0.3, 3),
    ((2.0, 1.0, 0.1, -1.0), 4.0, 3),
)
BINARY_SNAPSHOTS = ((2.0, 1.0, 1), (2.0, 1.0, 0), (2.0, 0.3, 0))  # (logit, temperature, label)


def snapshot_grid(
    path: str | os.PathLike,
    first: tuple[Sequence[float], float, int] = (DEFAULT_LOGITS, 1.0, 0),
    columns: int = 4,
) -> str:
    """Headless: a PNG of snapshots in a grid, each the probabilities above the gradient:
    ``first`` (logits, temperature, true class), the softmax SNAPSHOTS, then the sigmoid's
    BINARY_SNAPSHOTS."""
    plt = plot.pyplot()
    settings = [(first, False)] + [(s, False) for s in SNAPSHOTS] + [(s, True) for s in BINARY_SNAPSHOTS]
    rows = -(-len(settings) // columns)
    fig = plt.figure(figsize=(3.4 * columns, 4.2 * rows), layout="constrained")
    panels = fig.subfigures(rows, columns, squeeze=False).ravel()
    for panel, ((z, t, y), binary) in zip(panels, settings):
        ax_p, ax_g = panel.subplots(2, 1, height_ratios=(1.6, 1))
        if binary:
            Bars(ax_p, ax_g, 2, binary=True).show(sigmoid_state(z, t, y))
        else:
            Bars(ax_p, ax_g, len(z), binary=False).show(softmax_state(z, t, y))
            ax_p.set_xlabel(f"z = ({', '.join(f'{v:g}' for v in z)})", fontsize=8)
    fig.suptitle(
        "softmax explorer: the true class is outlined; the gradient is prediction minus label, over T",
        fontsize=11,
    )
    try:
        return plot.save(fig, path)
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- command line


def logits_list(text: str) -> list[float]:
    """argparse type: 2 to 8 comma-separated finite numbers, e.g. ``2,1,0.1,-1``."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not 2 <= len(values) <= 8 or not all(LOGIT_RANGE[0] <= v <= LOGIT_RANGE[1] for v in values):
        raise argparse.ArgumentTypeError(
            f"expected 2 to 8 numbers between {LOGIT_RANGE[0]:g} and {LOGIT_RANGE[1]:g}, got {text!r}"
        )
    return values


def temperature_value(text: str) -> float:
    """argparse type: a temperature within the slider's range."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not TEMPERATURE_RANGE[0] <= value <= TEMPERATURE_RANGE[1]:
        raise argparse.ArgumentTypeError(
            f"expected a number from {TEMPERATURE_RANGE[0]:g} to {TEMPERATURE_RANGE[1]:g}, got {text!r}"
        )
    return value


def main(argv: Sequence[str] | None = None) -> str | Explorer:
    parser = argparse.ArgumentParser(prog="softmax_explorer.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--logits",
        type=logits_list,
        default=list(DEFAULT_LOGITS),
        help="the starting logits, 2 to 8 (default: %(default)s)",
    )
    parser.add_argument(
        "--temperature",
        type=temperature_value,
        default=1.0,
        help="the starting temperature (default: %(default)s)",
    )
    parser.add_argument(
        "--target", type=int, default=1, help="the starting true class, from 1 (default: %(default)s)"
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="headless: write a grid of snapshots to FILE (a PNG), the starting setting "
        "first, instead of opening a window",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.target <= len(args.logits):
        parser.error(f"argument --target: expected a class from 1 to {len(args.logits)}, got {args.target}")
    if args.out is not None:
        path = snapshot_grid(args.out, (args.logits, args.temperature, args.target - 1))
        print(f"wrote {path}")
        return path
    explorer = Explorer(args.logits, args.temperature, args.target - 1, show=True)
    plot.pyplot(show=True).show()
    return explorer


if __name__ == "__main__":
    main(sys.argv[1:])
