"""Pictures of training, and of the gradient p - y at work (matplotlib, loaded only when
something is drawn).

Every plotting function takes an optional ``ax`` (a new figure is made without one) and
returns the Axes it drew on (``training_curves`` draws two panels, on two given axes or a
new figure, and returns the Figure); ``save(fig, path)`` writes a figure atomically. Nothing needs a display:
matplotlib's headless Agg backend is selected before pyplot is first imported, unless a
backend was chosen already (MPLBACKEND, ``matplotlib.use``) or ``pyplot(show=True)`` asked
for windows.

The gradient pictures rest on one formula. For a sample with features x, logits z,
probabilities p (sigmoid or softmax of z) and one-hot label y, the mean cross-entropy over
N samples has

    dL/dz = (p - y) / N        and so        dL/dW = sum_i x_i (p_i - y_i)^T / N.

* ``residual_vs_margin``: p - y against the margin (how far on the right side of the
  boundary a sample lies): confident correct samples have p - y ~ 0 and pull on nothing;
  misclassified ones have |p - y| near 1 and pull hardest.
* ``pull_arrows``: sample i's share of the weight update, (y_i - p_i) x_i / N, drawn as
  an arrow at x_i; the arrows add up to minus the gradient.
* ``loss_surface``: the loss over two weights, with -gradient arrows and the path an
  optimiser took.
* ``residual_heatmap``: the matrix p - Y of a batch, which is N times the gradient at
  the logits.

The numbers behind the pictures come from ``minigrad.diagnostics`` (``*_data``,
``confusion_counts``, ``probability_grid``), which needs no matplotlib; this module only
draws them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._figures import pyplot, save_figure
from .diagnostics import (
    class_labels,
    confusion_counts,
    float_array,
    loss_surface_data,
    probability_grid,
    pull_arrows_data,
    residual_vs_margin_data,
)
from .tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, FigureBase

# Okabe & Ito's colour-blind-safe palette, then matplotlib's tab10 for more classes. The
# first four are far apart in hue (blue, orange, green, purple); vermillion comes later, as
# it is close to orange and to the red ring of misclassified samples.
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
MISCLASSIFIED = "#d62728"
# Every signed quantity, in every figure: red positive, white 0, blue negative, on a scale
# symmetric about 0, with a colour bar.
DIVERGING = "RdBu_r"
POSITIVE, NEGATIVE = "#b2182b", "#2166ac"  # the same red and blue, for signed bars and arrows


# ---------------------------------------------------------------- saving
# (pyplot(show=False), the headless-backend rule, and the atomic writer come from _figures,
# which draw.py shares)


def save(fig: Figure | Axes, path: str | os.PathLike, dpi: int = 100) -> str:
    """Write a figure (or the figure of an Axes) to ``path``, its format taken from the
    extension; returns the path. Atomic: the image goes to a temporary file beside
    ``path`` and is renamed over it only when complete. Missing folders are created."""
    figure = fig.figure.figure  # the root Figure: an Axes (maybe in a SubFigure) or a Figure knows it
    figure.set_dpi(dpi)
    return save_figure(figure, path)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.8)) -> Axes:
    if ax is not None:
        return ax
    fig = pyplot().figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def class_color(k: int) -> str:
    """The colour of class ``k`` in every picture."""
    if k < len(CLASS_COLORS):
        return CLASS_COLORS[k]
    import matplotlib

    return matplotlib.colors.to_hex(matplotlib.colormaps["tab10"](k % 10))


def _names(class_names: Sequence[str] | None, k: int) -> list[str]:
    if class_names is None:
        return [f"class {i}" for i in range(k)]
    if len(class_names) < k:
        raise ValueError(f"class_names has {len(class_names)} names, but there are {k} classes")
    return [str(c) for c in class_names]


def _lighten(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white: amount 0 is the colour, 1 is white."""
    import matplotlib

    r, g, b = (c + (1 - c) * amount for c in matplotlib.colors.to_rgb(color))
    return r, g, b


# ---------------------------------------------------------------- decision regions


def _scatter_classes(ax: Axes, X: np.ndarray, y: np.ndarray, names: list[str], size: float = 28) -> None:
    for k in range(len(names)):
        mask = y == k
        if mask.any():
            ax.scatter(
                X[mask, 0],
                X[mask, 1],
                s=size,
                c=class_color(k),
                marker=MARKERS[k % len(MARKERS)],
                edgecolors="black",
                linewidths=0.6,
                label=names[k],
                zorder=3,
            )


def decision_regions(
    predict_proba: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    resolution: int = 200,
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
    colorbar: bool = True,
) -> Axes:
    """The plane coloured by the model's prediction, with the data on top.

    ``predict_proba`` maps points (M, 2) to class probabilities (M, K). Two classes: the
    background is P(class 1) from one class's colour through white (0.5, where the
    decision boundary, drawn black, lies) to the other's. More classes: each point takes
    the colour of its predicted class, faded towards white where the model is unsure
    (max_k p_k near 1/K), and black lines separate the regions. Misclassified samples are
    ringed in red."""
    X, y = float_array(X), class_labels(y)
    ax = _new_axes(ax)
    xx, yy, P = probability_grid(predict_proba, X, resolution)
    k = P.shape[2]
    names = _names(class_names, k)
    extent = (xx[0, 0], xx[0, -1], yy[0, 0], yy[-1, 0])
    import matplotlib

    if k == 2:
        cmap = matplotlib.colors.LinearSegmentedColormap.from_list(
            "two_classes", [_lighten(class_color(0), 0.55), (1.0, 1.0, 1.0), _lighten(class_color(1), 0.55)]
        )
        image = ax.imshow(
            P[:, :, 1],
            extent=extent,
            origin="lower",
            cmap=cmap,
            vmin=0,
            vmax=1,
            aspect="auto",
            interpolation="bilinear",
        )
        ax.contour(xx, yy, P[:, :, 1], levels=[0.5], colors="black", linewidths=1.2)
        if colorbar:
            bar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
            bar.set_label(f"P({names[1]})   (decision boundary at 0.5)")
    else:
        winner = P.argmax(axis=2)
        confidence = (P.max(axis=2) - 1 / k) / (1 - 1 / k)  # 0: all classes equally likely; 1: certain
        palette = np.array([matplotlib.colors.to_rgb(class_color(c)) for c in range(k)])
        strength = (0.06 + 0.42 * confidence)[:, :, None]
        rgb = 1 - strength * (1 - palette[winner])
        ax.imshow(rgb, extent=extent, origin="lower", aspect="auto", interpolation="bilinear")
        for c in range(k):  # region c's border: where p_c equals the largest other probability
            others = np.delete(P, c, axis=2).max(axis=2)
            edge = P[:, :, c] - others
            if edge.min() < 0 < edge.max():
                ax.contour(xx, yy, edge, levels=[0.0], colors="black", linewidths=1.0)
        if colorbar:
            shades = matplotlib.colors.LinearSegmentedColormap.from_list(
                "confidence", [_lighten("#555555", 0.94), _lighten("#555555", 0.52)]
            )
            mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(1 / k, 1), cmap=shades)
            bar = ax.figure.colorbar(mappable, ax=ax, shrink=0.9)
            bar.set_label("shade: confidence, max$_k$ p$_k$")
    _scatter_classes(ax, X, y, names)
    wrong = float_array(predict_proba(X)).argmax(axis=1) != y
    if np.any(wrong):
        ax.scatter(
            X[wrong, 0],
            X[wrong, 1],
            s=110,
            facecolors="none",
            edgecolors=MISCLASSIFIED,
            linewidths=1.4,
            label=f"misclassified ({int(wrong.sum())})",
            zorder=4,
        )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(k + 1, 4), fontsize="small", frameon=False
    )
    ax.set_title(title if title is not None else "decision regions")
    return ax


# ---------------------------------------------------------------- training curves


def _train_and_test(
    history: Mapping[str, Sequence[float]],
    ax: Axes | None,
    what: str,
    ylabel: str,
    title: str,
    scale: float = 1.0,
    legend_loc: Any = "best",
) -> Axes:
    """The curves ``train_<what>`` (solid) and ``test_<what>`` (dashed) of ``history``
    against its ``epoch`` (1, 2, ... without one), times ``scale``."""
    from matplotlib.ticker import MaxNLocator

    ax = _new_axes(ax)
    for split, style in (("train", "-"), ("test", "--")):
        values = history.get(f"{split}_{what}")
        if values is not None and len(values):
            epochs = history.get("epoch") or range(1, len(values) + 1)
            ax.plot(list(epochs), np.asarray(values, dtype=float) * scale, style, label=split, linewidth=1.6)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc=legend_loc)
    return ax


def loss_curves(history: Mapping[str, Sequence[float]], ax: Axes | None = None, title: str = "loss") -> Axes:
    """Train and test loss per epoch from ``history`` (keys ``train_loss``, ``test_loss``,
    optionally ``epoch``)."""
    return _train_and_test(history, ax, "loss", "mean cross-entropy", title)


def accuracy_curves(
    history: Mapping[str, Sequence[float]], ax: Axes | None = None, title: str = "accuracy"
) -> Axes:
    """Train and test accuracy (fractions, drawn in %) per epoch from ``history`` (keys
    ``train_acc``, ``test_acc``, optionally ``epoch``)."""
    return _train_and_test(history, ax, "acc", "accuracy (%)", title, scale=100, legend_loc="lower right")


def training_curves(
    history: Mapping[str, Sequence[float]], axes: Sequence[Axes] | None = None, title: str | None = None
) -> FigureBase:
    """Loss (left) and accuracy (right) per epoch, side by side, on a new figure or on the
    two given ``axes``; returns the Figure."""
    if axes is None:
        fig = pyplot().figure(figsize=(10, 3.8), layout="constrained")
        axes = fig.subplots(1, 2)
    left, right = axes
    loss_curves(history, left)
    accuracy_curves(history, right)
    if title:
        left.figure.suptitle(title)
    return left.figure


# ---------------------------------------------------------------- the gradient pictures


def residual_vs_margin(
    logits: Any,
    y: Any,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Axes:
    """Each sample's residual (p - y, the gradient at its logit; for K classes the entry
    at the true class) against its margin, with the curve it must follow: confident
    correct samples (large margin) pull almost nothing, misclassified ones (margin < 0)
    pull hardest. See ``residual_vs_margin_data``."""
    data = residual_vs_margin_data(logits, y)
    y = class_labels(y)
    z = float_array(logits)
    binary = z.ndim == 1
    ax = _new_axes(ax)
    names = _names(class_names, 2 if binary else z.shape[1])
    m = data.margin
    reach = max(float(np.abs(m).max(initial=0.0)), 1.0) * 1.05
    ax.axvspan(-reach, 0, color=MISCLASSIFIED, alpha=0.07, zorder=0)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=0.8)
    grid = np.linspace(-reach, reach, 400)
    tail = 1 / (1 + np.exp(grid))  # sigmoid(-m)
    if binary:
        ax.plot(grid, tail, color=class_color(0), linewidth=1, label=r"$+\sigma(-m)$, label 0")
        ax.plot(grid, -tail, color=class_color(1), linewidth=1, label=r"$-\sigma(-m)$, label 1")
    else:
        ax.plot(grid, -tail, color="black", linewidth=1, label=r"bound $-\sigma(-m)$")
    for k in range(len(names)):
        mask = y == k
        if mask.any():
            ax.scatter(
                m[mask],
                data.residual[mask],
                s=18,
                c=class_color(k),
                marker=MARKERS[k % len(MARKERS)],
                edgecolors="black",
                linewidths=0.4,
                label=names[k],
                zorder=3,
            )
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-1.08, 1.08 if binary else 0.15)
    ax.text(
        0.98,
        0.04 if binary else 0.96,
        "confident and correct:\npull ~ 0",
        transform=ax.transAxes,
        ha="right",
        va="bottom" if binary else "top",
        fontsize="small",
    )
    ax.text(
        0.02,
        0.04 if binary else 0.5,
        "misclassified:\npull up to 1",
        transform=ax.transAxes,
        ha="left",
        va="bottom" if binary else "center",
        fontsize="small",
        color=MISCLASSIFIED,
    )
    if binary:
        ax.set_xlabel("margin m = z if y = 1, -z if y = 0   (> 0: correct)")
        ax.set_ylabel("residual p - y = N dL/dz")
    else:
        ax.set_xlabel(r"margin m = $z_y - \max_{k \neq y} z_k$   (> 0: correct)")
        ax.set_ylabel(r"residual at the true class, $p_y - 1$")
    ax.set_title(title if title is not None else "how hard each sample pulls: p - y against the margin")
    ax.legend(loc="upper right" if binary else "lower right", fontsize="small", framealpha=0.85)
    ax.grid(alpha=0.25)
    return ax


def pull_arrows(
    X: Any,
    logits: Any,
    y: Any,
    ax: Axes | None = None,
    weight: Any = None,
    bias: float = 0.0,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    arrow_scale: float | None = None,
    sum_scale: float | None = None,
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
) -> Axes:
    """Binary model, 2-D features: at each sample x_i an arrow along its pull on the
    weight vector, (y_i - p_i) x_i / N (a point of class 1 pulls w towards x_i, of class
    0 away from it), all enlarged by one factor, ``arrow_scale``. The pulls add up to
    -dL/dw, drawn from the origin as a thick black arrow enlarged by ``sum_scale`` (a
    sum of N arrows needs a smaller factor). ``weight`` (w, 2 numbers) and ``bias`` draw
    the current w (grey) and the decision boundary w.x + b = 0 (dashed). Pass both
    factors to compare two panels; by default the longest arrow and the sum span 15% and
    35% of the data's extent."""
    X, y, z = float_array(X), class_labels(y), float_array(logits)
    if X.ndim != 2 or X.shape[1] != 2 or z.ndim != 1:
        raise ValueError(
            f"pull_arrows draws a binary model (logits (N,)) on 2-D features (N, 2); got X "
            f"{X.shape}, logits {z.shape}"
        )
    pulls = -pull_arrows_data(X, z, y).weight
    total = pulls.sum(axis=0)
    ax = _new_axes(ax)
    names = _names(class_names, 2)
    span = float(np.max(X.max(axis=0) - X.min(axis=0)))
    longest = float(np.linalg.norm(pulls, axis=1).max(initial=0.0))
    if arrow_scale is None:
        arrow_scale = 0.15 * span / longest if longest > 0 else 1.0
    if sum_scale is None:
        size = float(np.linalg.norm(total))
        sum_scale = 0.35 * span / size if size > 0 else 1.0
    _scatter_classes(ax, X, y, names, size=14)
    for k in range(2):
        mask = y == k
        ax.quiver(
            X[mask, 0],
            X[mask, 1],
            pulls[mask, 0] * arrow_scale,
            pulls[mask, 1] * arrow_scale,
            angles="xy",
            scale_units="xy",
            scale=1,
            color=class_color(k),
            width=0.003,
            zorder=4,
        )
    ax.quiver(
        [0],
        [0],
        [total[0] * sum_scale],
        [total[1] * sum_scale],
        angles="xy",
        scale_units="xy",
        scale=1,
        color="black",
        width=0.009,
        zorder=5,
        label=f"sum of pulls = -dL/dw, x {sum_scale:.3g} (|-dL/dw| = {np.linalg.norm(total):.2g})",
    )
    low, high = X.min(axis=0) - 0.1 * span, X.max(axis=0) + 0.1 * span
    if weight is not None:
        w = float_array(weight).reshape(-1)
        ax.quiver(
            [0],
            [0],
            [w[0]],
            [w[1]],
            angles="xy",
            scale_units="xy",
            scale=1,
            color="grey",
            width=0.006,
            alpha=0.8,
            zorder=2,
            label=f"current w = ({w[0]:.2f}, {w[1]:.2f})",
        )
        xs = np.linspace(low[0], high[0], 2)
        if abs(w[1]) > 1e-12:
            ax.plot(xs, -(w[0] * xs + bias) / w[1], "k--", linewidth=1, label="boundary w.x + b = 0")
        elif abs(w[0]) > 1e-12:
            ax.axvline(-bias / w[0], color="black", linestyle="--", linewidth=1, label="boundary w.x + b = 0")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_title(
        title if title is not None else f"each sample's pull (y - p) x / N on w, x {arrow_scale:.3g}"
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small", frameon=False)
    return ax


def loss_surface(
    loss_fn: Callable[[Tensor], Tensor],
    path: Any,
    ax: Axes | None = None,
    limits: tuple[float, float, float, float] | None = None,
    resolution: int = 70,
    n_arrows: int = 13,
    title: str | None = None,
    weight_names: tuple[str, str] = ("$w_1$", "$w_2$"),
) -> Axes:
    """Contours of the loss over two weights (``loss_fn`` as in ``loss_surface_data``),
    arrows along -gradient on a coarse grid (their length shows the gradient's size),
    and ``path``, the (steps, 2) sequence of weight pairs an optimiser visited.
    ``limits`` = (w1 low, w1 high, w2 low, w2 high); by default the path's box, padded."""
    path = float_array(path)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path must be a (steps, 2) array of weight pairs, got shape {path.shape}")
    if limits is None:  # a square around the path, padded
        centre = (path.min(axis=0) + path.max(axis=0)) / 2
        half = max(0.65 * float(np.ptp(path, axis=0).max()), 0.5)
        limits = (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)
    fine = loss_surface_data(
        loss_fn, np.linspace(limits[0], limits[1], resolution), np.linspace(limits[2], limits[3], resolution)
    )
    coarse = loss_surface_data(
        loss_fn,
        np.linspace(limits[0], limits[1], n_arrows + 2)[1:-1],
        np.linspace(limits[2], limits[3], n_arrows + 2)[1:-1],
    )
    ax = _new_axes(ax)
    # levels spaced as r^2 above the minimum: near a minimum the loss grows like the squared
    # distance, so the contours come out evenly spaced instead of crowding the rim
    lowest, highest = float(fine.loss.min()), float(fine.loss.max())
    levels: np.ndarray | int = lowest + (highest - lowest) * np.linspace(0, 1, 16) ** 2
    if highest <= lowest:
        levels = 10
    filled = ax.contourf(fine.w1, fine.w2, fine.loss, levels=levels, cmap="viridis_r", alpha=0.85)
    ax.contour(fine.w1, fine.w2, fine.loss, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    bar = ax.figure.colorbar(filled, ax=ax, shrink=0.9, format="%.3g")
    bar.set_label("loss")
    spacing = min(limits[1] - limits[0], limits[3] - limits[2]) / (n_arrows + 1)
    longest = float(np.hypot(coarse.grad1, coarse.grad2).max()) or 1.0
    ax.quiver(
        coarse.w1,
        coarse.w2,
        -coarse.grad1,
        -coarse.grad2,
        color="#333333",
        angles="xy",
        scale_units="xy",
        scale=longest / (0.9 * spacing),
        width=0.003,
        label="-gradient (length: its size)",
    )
    ax.plot(
        path[:, 0], path[:, 1], "-", color=MISCLASSIFIED, linewidth=1.4, label=f"path ({len(path) - 1} steps)"
    )
    ax.plot(*path[0], "o", color=MISCLASSIFIED, markeredgecolor="black", markersize=7, label="start")
    ax.plot(*path[-1], "*", color="#ffdd00", markeredgecolor="black", markersize=15, label="end")
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    ax.set_aspect("equal")  # so that the gradient arrows meet the contours at right angles
    ax.set_xlabel(weight_names[0])
    ax.set_ylabel(weight_names[1])
    ax.set_title(title if title is not None else "loss surface, -gradient and the optimiser's path")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize="small", frameon=False)
    return ax


def residual_heatmap(
    residual: Any,
    y: Any = None,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    annotate: bool | None = None,
) -> Axes:
    """The matrix p - Y of a batch (rows: samples, columns: classes) on a red-blue scale
    from -1 to 1: each row is that sample's gradient at the logits (times N). A row
    has one negative entry, p_y - 1 at the true class, and positive entries p_k
    elsewhere, summing to 0. ``y`` labels the rows; ``annotate`` writes the values in
    the cells (default: for at most 200 cells)."""
    R = float_array(residual)
    if R.ndim != 2:
        raise ValueError(f"residual must be a (batch, classes) matrix, got shape {R.shape}")
    ax = _new_axes(ax, figsize=(1.2 + 0.55 * R.shape[1], 1.2 + 0.32 * R.shape[0]))
    image = ax.imshow(R, cmap=DIVERGING, vmin=-1, vmax=1, aspect="auto")
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label("p - y   (gradient at the logits x N)")
    names = _names(class_names, R.shape[1])
    ax.set_xticks(range(R.shape[1]), names, rotation=45 if max(map(len, names)) > 3 else 0)
    if y is not None:
        y = class_labels(y)
        ax.set_yticks(range(R.shape[0]), [f"{i}: {names[c]}" for i, c in enumerate(y)], fontsize="small")
        ax.set_ylabel("sample: its true class")
    else:
        ax.set_ylabel("sample")
    if annotate is None:
        annotate = R.size <= 200
    if annotate:
        for (i, j), v in np.ndenumerate(R):
            ax.text(
                j,
                i,
                f"{v:+.2f}".replace("+0.00", "0").replace("-0.00", "0"),
                ha="center",
                va="center",
                fontsize=6.5,
                color="white" if abs(v) > 0.6 else "black",
            )
    ax.set_xlabel("class")
    ax.set_title(title if title is not None else "p - Y of a batch")
    return ax


# ---------------------------------------------------------------- classifier summaries


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    n_classes: int | None = None,
    title: str | None = None,
) -> Axes:
    """Counts of (true class, predicted class), written in the cells; the diagonal holds
    the correct predictions."""
    counts = confusion_counts(y_true, y_pred, n_classes)
    if n_classes is None and class_names is not None and len(class_names) > len(counts):
        counts = confusion_counts(y_true, y_pred, len(class_names))  # classes absent from the sample
    k = counts.shape[0]
    names = _names(class_names, k)
    ax = _new_axes(ax, figsize=(1.6 + 0.5 * k, 1.2 + 0.45 * k))
    image = ax.imshow(counts, cmap="Blues")
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label("samples")
    top = counts.max(initial=0)
    for (i, j), v in np.ndenumerate(counts):
        if v:
            ax.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                fontsize="small",
                color="white" if v > 0.6 * top else "black",
            )
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(title if title is not None else f"confusion matrix (accuracy {100 * accuracy:.1f}%)")
    return ax


def weight_images(
    weight: Any,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    image_shape: tuple[int, int] = (8, 8),
    columns: int = 5,
    title: str | None = None,
) -> Axes:
    """Each class's weight column (shape (pixels, K), e.g. ``Linear.weight``), reshaped to
    an image, in one mosaic on one red-blue scale centred at 0: red pixels raise the
    class's logit when inked, blue ones lower it."""
    W = float_array(weight)
    h, w = image_shape
    if W.ndim != 2 or W.shape[0] != h * w:
        raise ValueError(f"weight must have shape ({h * w}, classes) for {h}x{w} images, got {W.shape}")
    k = W.shape[1]
    names = _names(class_names, k)
    rows = -(-k // columns)
    cols = min(columns, k)
    mosaic = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)  # nan: white gaps between tiles
    for c in range(k):
        r, q = divmod(c, cols)
        mosaic[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = W[:, c].reshape(h, w)
    ax = _new_axes(ax, figsize=(1.3 * cols + 1.2, 1.5 * rows + 0.6))
    limit = float(np.nanmax(np.abs(mosaic))) or 1.0
    import matplotlib

    cmap = matplotlib.colormaps[DIVERGING].with_extremes(bad="white")
    image = ax.imshow(mosaic, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    for c in range(k):
        r, q = divmod(c, cols)
        ax.text(
            q * (w + 1) + (w - 1) / 2, r * (h + 1) - 0.7, names[c], ha="center", va="bottom", fontsize="small"
        )
    ax.set_axis_off()
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("weight")
    ax.set_title(title if title is not None else "each class's weights as an image", pad=14)
    return ax


__all__ = [
    "pyplot",
    "save",
    "class_color",
    "decision_regions",
    "loss_curves",
    "accuracy_curves",
    "training_curves",
    "residual_vs_margin",
    "pull_arrows",
    "loss_surface",
    "residual_heatmap",
    "confusion_matrix",
    "weight_images",
]
