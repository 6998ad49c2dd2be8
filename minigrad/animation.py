"""Training you can watch: GIFs of a classifier on 2-D data, made from snapshots of its
parameters taken during the real training run (nothing is re-trained to draw them).

Each frame shows, at one step of training, the plane coloured by the model's prediction
(faded where it is unsure, black lines where the predicted class changes) and each
training sample's *pull*, its share of the gradient step. For the mean cross-entropy over
N samples with logits z_i = W^T x_i + b, probabilities p_i and one-hot labels y_i,

    dL/dW = sum_i x_i (p_i - y_i)^T / N,

so sample i pulls the weights of class c by (y_ic - p_ic) x_i / N in a gradient-descent
step. The arrow at x_i is that pull on the weights of the sample's own class c = y_i,
(1 - p_ic) x_i / N (with one logit, the sigmoid's, the pull on w, (y_i - p_i) x_i / N),
all enlarged by one factor fixed at the first frame: as the model learns, p_i - y_i goes
to 0 for the samples it gets right, and their arrows shrink away; the mistakes keep
pulling. A second panel can show the loss surface over two weights with the optimiser's
path growing frame by frame.

    recorder = Recorder({"weight": model.weight, "bias": model.bias})
    train(..., after_step=recorder)          # copies the parameters after every step
    training_gif(logits_at, recorder.select(40), X, y, "training.gif")

Frames are written with matplotlib's animation module and Pillow (a dependency of
matplotlib), headless.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from . import plot
from ._figures import pyplot
from .autograd import no_grad
from .tensor import Tensor

Params = Mapping[str, np.ndarray]


def frame_steps(total_steps: int, n_frames: int) -> list[int]:
    """At most ``n_frames`` distinct steps from 0 (before training) to ``total_steps``,
    both included, spaced evenly in log(1 + step): a model changes most in its first
    steps, so that is where the frames are dense."""
    if not isinstance(total_steps, (int, np.integer)) or total_steps < 0:
        raise ValueError(f"total_steps must be an integer >= 0, got {total_steps!r}")
    if not isinstance(n_frames, (int, np.integer)) or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames!r}")
    if total_steps + 1 <= n_frames:
        return list(range(total_steps + 1))
    return np.unique(np.round(np.geomspace(1, total_steps + 1, n_frames)).astype(int) - 1).tolist()


@dataclass
class Snapshot:
    """The parameters (copies) after ``step`` optimiser steps."""

    step: int
    params: dict[str, np.ndarray]


class Recorder:
    """An ``after_step`` callback for a training loop: call it once after every optimiser
    step, and it keeps a copy of ``params`` (name -> Tensor) after each step listed in
    ``steps`` (every step if None: cheap for the few weights of a 2-D model). Step 0, the
    parameters before training, is copied when the recorder is made."""

    def __init__(self, params: Mapping[str, Tensor], steps: Iterable[int] | None = None) -> None:
        self.params = dict(params)
        self.steps = None if steps is None else {int(s) for s in steps}
        self.step = 0
        self.snapshots: list[Snapshot] = []
        self._keep()

    def _keep(self) -> None:
        if self.steps is None or self.step in self.steps:
            self.snapshots.append(
                Snapshot(self.step, {k: np.array(t.data, copy=True) for k, t in self.params.items()})
            )

    def __call__(self) -> None:
        self.step += 1
        self._keep()

    def select(self, n_frames: int) -> list[Snapshot]:
        """The snapshots at ``frame_steps(steps taken, n_frames)`` (those recorded)."""
        wanted = set(frame_steps(self.step, n_frames))
        return [s for s in self.snapshots if s.step in wanted]


class Frame(NamedTuple):
    """What one frame shows, computed from one snapshot: the grid's class probabilities
    (R, R, K), each sample's pull (N, 2), the mean loss and accuracy on the samples, and
    the mean |p - y| at the true class."""

    grid_proba: np.ndarray
    pulls: np.ndarray
    loss: float
    accuracy: float
    mean_residual: float


def frame_data(logits: np.ndarray, grid_logits: np.ndarray, X: np.ndarray, y: np.ndarray) -> Frame:
    """One frame's numbers from the logits at the samples ``X`` (N, 2) and at the grid's
    points: (N,) and (M,) for one sigmoid logit, (N, K) and (M, K) for softmax."""
    n = len(y)
    with no_grad():
        if logits.ndim == 1:
            p = F.sigmoid(grid_logits).data
            grid_proba = np.column_stack([1 - p, p])
            loss = F.binary_cross_entropy_with_logits(logits, y.astype(np.float64)).item()
            pull = y - F.sigmoid(logits).data  # y_i - p_i: the pull on w is (y_i - p_i) x_i / N
            predicted = (logits > 0).astype(np.int64)
        else:
            grid_proba = F.softmax(grid_logits).data
            loss = F.cross_entropy(logits, y).item()
            pull = 1 - F.softmax(logits).data[np.arange(n), y]  # y - p at the true class, 1 - p_y
            predicted = logits.argmax(axis=1)
    pulls = pull[:, None] * X / n
    return Frame(grid_proba, pulls, float(loss), float(np.mean(predicted == y)), float(np.abs(pull).mean()))


def region_colors(proba: np.ndarray) -> np.ndarray:
    """RGB of each grid point (R, R, K probabilities -> (R, R, 3)): the colour of the
    predicted class, mixed with white by how unsure the model is (max_k p_k near 1/K is
    white)."""
    import matplotlib

    k = proba.shape[-1]
    confidence = (proba.max(axis=-1) - 1 / k) / (1 - 1 / k)
    palette = np.array([matplotlib.colors.to_rgb(plot.class_color(c)) for c in range(k)])
    strength = (0.06 + 0.42 * confidence)[..., None]
    return 1 - strength * (1 - palette[proba.argmax(axis=-1)])


class Surface(NamedTuple):
    """The loss-surface panel: ``loss_fn`` maps a (2, M) Tensor whose columns are weight
    pairs (w1, w2) to the M losses, shape (M,); ``path`` holds the (steps + 1, 2) weight pairs
    after each optimiser step (row 0: the start)."""

    loss_fn: Callable[[Tensor], Tensor]
    path: np.ndarray
    title: str = "loss over ($w_1$, $w_2$) and the path so far"


def _grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(high - low, 1e-9)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, (xs[0], xs[-1], ys[0], ys[-1])


def _boundaries(ax: Any, xx: np.ndarray, yy: np.ndarray, proba: np.ndarray) -> list:
    """Black lines where the predicted class changes: p_c equals the largest other p."""
    sets = []
    for c in range(proba.shape[-1]):
        edge = proba[..., c] - np.delete(proba, c, axis=-1).max(axis=-1)
        if edge.min() < 0 < edge.max():
            sets.append(ax.contour(xx, yy, edge, levels=[0.0], colors="black", linewidths=1.0))
        if proba.shape[-1] == 2:  # two classes: one line is the whole boundary
            break
    return sets


def _surface_panel(ax: Any, surface: Surface, resolution: int = 50) -> Any:
    """Draw the fixed part of the loss panel; return the line that shows the path."""
    path = surface.path
    centre = (path.min(axis=0) + path.max(axis=0)) / 2
    half = max(0.65 * float(np.ptp(path, axis=0).max()), 0.5)
    w1 = np.linspace(centre[0] - half, centre[0] + half, resolution)
    w2 = np.linspace(centre[1] - half, centre[1] + half, resolution)
    g1, g2 = np.meshgrid(w1, w2)
    with no_grad():  # every grid point's loss at once: column j of the (2, M) input is one (w1, w2)
        loss = surface.loss_fn(Tensor(np.stack([g1.ravel(), g2.ravel()]))).data.reshape(g1.shape)
    lowest, highest = float(loss.min()), float(loss.max())
    levels = lowest + (highest - lowest) * np.linspace(0, 1, 16) ** 2 if highest > lowest else 10
    filled = ax.contourf(g1, g2, loss, levels=levels, cmap="viridis_r", alpha=0.85)
    ax.contour(g1, g2, loss, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    ax.figure.colorbar(filled, ax=ax, shrink=0.85, format="%.3g", label="loss")
    ax.plot(*path[0], "o", color=plot.MISCLASSIFIED, markeredgecolor="black", markersize=6)
    (line,) = ax.plot([], [], "-", color=plot.MISCLASSIFIED, linewidth=1.4)
    (head,) = ax.plot([], [], "*", color="#ffdd00", markeredgecolor="black", markersize=13)
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(surface.title, fontsize=9)
    return line, head


def save_gif(
    fig: Any,
    draw_frame: Callable[[int], None],
    n_frames: int,
    path: str | os.PathLike,
    fps: float,
    dpi: float,
) -> str:
    """Write ``n_frames`` frames of ``fig`` as a GIF with matplotlib's PillowWriter:
    ``draw_frame(i)`` updates the figure's artists for frame i, then the frame is grabbed
    (one render per frame). The layout is computed once, on the first frame, and then
    frozen: re-running constrained layout for every frame would cost more than drawing it.
    Atomic: a temporary file beside ``path`` is renamed over it when complete."""
    from matplotlib.animation import PillowWriter

    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp.gif")
    fig.set_dpi(dpi)
    draw_frame(0)
    fig.canvas.draw()  # lays the figure out
    fig.set_layout_engine("none")
    # (a float works: Pillow takes the time per frame, 1000 / fps ms)
    writer = PillowWriter(fps=fps)  # type: ignore[arg-type]
    try:
        with writer.saving(fig, tmp, dpi):
            for i in range(n_frames):
                draw_frame(i)
                writer.grab_frame()
        os.replace(tmp, os.path.join(folder, base))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def training_gif(
    logits_at: Callable[[Params, np.ndarray], np.ndarray],
    snapshots: Sequence[Snapshot],
    X: Any,
    y: Any,
    path: str | os.PathLike,
    *,
    surface: Surface | None = None,
    title: str = "training",
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
    resolution: int = 90,
    fps: float = 8.0,
    dpi: float = 72.0,
    hold: int = 6,
) -> str:
    """Write a GIF with one frame per snapshot (then the last one ``hold`` frames longer):
    the decision regions and each sample's pull (see the module docstring) and, with
    ``surface``, the loss surface with the optimiser's path up to that step.

    ``logits_at(params, points)`` computes the model's logits at ``points`` (M, 2) from one
    snapshot's ``params``: shape (M,) for one sigmoid logit, (M, K) for softmax. ``X``, ``y``
    are the training samples (the pulls are their shares of the gradient). Returns the path."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),) or y.dtype.kind not in "iu":
        raise ValueError(
            f"need 2-D samples X of shape (N, 2) and N integer labels y; got X {X.shape}, "
            f"y {y.shape} {y.dtype}"
        )
    if not snapshots:
        raise ValueError("snapshots is empty: record at least one (Recorder, with step 0 among its steps)")
    xx, yy, extent = _grid(X, resolution)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    frames = []
    for snap in snapshots:
        grid = np.asarray(logits_at(snap.params, points), dtype=np.float64)
        frames.append(frame_data(np.asarray(logits_at(snap.params, X), dtype=np.float64), grid, X, y))
    logits_1d = grid.ndim == 1
    k = frames[0].grid_proba.shape[-1]
    names = list(class_names) if class_names is not None else [f"class {c}" for c in range(k)]
    if len(names) < k:
        raise ValueError(f"class_names has {len(names)} names, but there are {k} classes")

    plt = pyplot()
    fig = plt.figure(figsize=(10.4 if surface else 5.6, 4.6), layout="constrained")
    axes = fig.subplots(1, 2 if surface else 1, squeeze=False)[0]
    ax = axes[0]
    image = ax.imshow(
        region_colors(frames[0].grid_proba.reshape(resolution, resolution, k)),
        extent=extent,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
    )
    for c in range(k):
        mask = y == c
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=12,
            c=plot.class_color(c),
            edgecolors="black",
            linewidths=0.4,
            marker=plot.MARKERS[c % len(plot.MARKERS)],
            label=names[c],
            zorder=3,
        )
    span = float(np.max(X.max(axis=0) - X.min(axis=0)))
    longest = float(np.linalg.norm(frames[0].pulls, axis=1).max()) or 1.0
    scale = 0.15 * span / longest  # one factor for every frame, so the arrows visibly shrink
    arrows = ax.quiver(
        X[:, 0],
        X[:, 1],
        *(scale * frames[0].pulls.T),
        angles="xy",
        scale_units="xy",
        scale=1,
        color=[plot.class_color(c) for c in y],
        width=0.004,
        zorder=4,
    )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=min(k, 4), fontsize="small", frameon=False
    )
    label = ax.set_title("", fontsize=9)
    pull = "(y - p) x / N on w" if logits_1d else "(1 - p$_y$) x / N on its class's weights"
    fig.suptitle(f"{title}\neach arrow: a sample's pull {pull} (x {scale:.3g})", fontsize=9)
    line = head = None
    if surface is not None:
        line, head = _surface_panel(axes[1], surface)
    lines: list = []

    def draw(i: int) -> None:
        snap, frame = snapshots[min(i, len(frames) - 1)], frames[min(i, len(frames) - 1)]
        proba = frame.grid_proba.reshape(resolution, resolution, k)
        image.set_data(region_colors(proba))
        for old in lines:
            old.remove()
        lines[:] = _boundaries(ax, xx, yy, proba)
        arrows.set_UVC(*(scale * frame.pulls.T))
        label.set_text(
            f"step {snap.step}: loss {frame.loss:.3f}, accuracy {100 * frame.accuracy:.0f}%, "
            f"mean |p - y| {frame.mean_residual:.3f}"
        )
        if surface is not None and line is not None and head is not None:
            seen = surface.path[: snap.step + 1]
            line.set_data(seen[:, 0], seen[:, 1])
            head.set_data([seen[-1, 0]], [seen[-1, 1]])

    try:
        return save_gif(fig, draw, len(frames) + max(hold, 0), path, fps=fps, dpi=dpi)
    finally:
        plt.close(fig)
