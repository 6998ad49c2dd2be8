"""The reliability diagram: a classifier's accuracy against its confidence, bin by bin
(matplotlib, imported only when drawing).

For each equal-width bin of top-class confidence the bar shows the bin's accuracy; the
diagonal is perfect calibration. Bars below the diagonal mean over-confidence (the model
says 0.95 and is right 80% of the time), above it under-confidence. The gap between each
bar and its bin's mean confidence is shaded; the ECE is their average, weighted by the
bins' sizes (``minigrad.calibration``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._figures import pyplot
from .calibration import calibration_bins, expected_calibration_error

if TYPE_CHECKING:
    from matplotlib.axes import Axes

BAR_COLOR = "#0072B2"
GAP_COLOR = "#D55E00"


def reliability_diagram(
    probs: Any, labels: Any, n_bins: int = 15, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Draw the reliability diagram of ``probs`` (n, C) against ``labels`` on ``ax`` (a
    new figure without one), with the ECE in the legend and the share of samples per bin
    as a thin histogram along the bottom; returns the Axes."""
    bins = calibration_bins(probs, labels, n_bins)
    ece = expected_calibration_error(probs, labels, n_bins)
    if ax is None:
        ax = pyplot().figure(figsize=(4.8, 4.8), layout="constrained").add_subplot()
    left, width = bins.edges[:-1], np.diff(bins.edges)
    used = bins.counts > 0
    accuracy = np.where(used, bins.accuracy, 0.0)
    confidence = np.where(used, bins.confidence, 0.0)
    ax.bar(
        left,
        accuracy,
        width=width,
        align="edge",
        color=BAR_COLOR,
        edgecolor="white",
        label="accuracy in the bin",
    )
    ax.bar(
        left[used],
        (confidence - accuracy)[used],
        bottom=accuracy[used],
        width=width[used],
        align="edge",
        color=GAP_COLOR,
        alpha=0.35,
        edgecolor=GAP_COLOR,
        hatch="//",
        label=f"gap to mean confidence (ECE {ece:.3f})",
    )
    ax.plot([0, 1], [0, 1], color="0.3", linestyle="--", linewidth=1, label="perfect calibration")
    share = bins.counts / bins.counts.sum()
    ax.bar(
        left,
        0.15 * share / max(share.max(), 1e-12),
        width=width,
        align="edge",
        color="0.6",
        alpha=0.5,
        label="share of samples (scaled)",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def reliability_diagrams(panels: Sequence[tuple[str, Any]], labels: Any, n_bins: int = 15) -> Any:
    """Several reliability diagrams side by side, one per (title, probs) pair, all for the
    same ``labels`` (e.g. before and after temperature scaling); returns the Figure."""
    fig = pyplot().figure(figsize=(4.6 * len(panels), 4.8), layout="constrained")
    for k, (title, probs) in enumerate(panels):
        reliability_diagram(probs, labels, n_bins, ax=fig.add_subplot(1, len(panels), k + 1), title=title)
    return fig


__all__ = ["reliability_diagram", "reliability_diagrams"]
