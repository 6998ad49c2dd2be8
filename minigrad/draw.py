"""Seeing the graph: ``draw_graph`` (matplotlib only) and ``to_dot`` (Graphviz text).

Every op a tensor went through is one box, every leaf and constant that fed it another,
and arrows run in the direction the data flowed, from the inputs to the output:

    ax = minigrad.draw_graph(loss)                  # before loss.backward()!
    ax.figure.savefig("graph.png")

The work is split in three. ``graph_nodes`` lists the boxes and arrows: the tensors of the
engine's own ``topological_order`` (those that require grad) plus the constants they read.
``graph_layout`` adds the geometry, computed by the layered layout of
``minigrad/layout.py`` (pure data, which the tests check). ``draw_graph`` only paints it.
``to_dot`` needs no geometry (Graphviz lays the graph out), so it works on graphs of any
size, while ``draw_graph`` refuses graphs of more than ``MAX_DRAW_NODES`` boxes (no one can
read them, and laying them out would take minutes).

The backward pass frees the graph (``node.inputs``) unless ``retain_graph=True``, so draw
before ``backward()``, or call ``backward(retain_graph=True)`` (then ``show_values=True``
also shows the gradients).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._figures import pyplot, save_figure
from .autograd import topological_order
from .layout import layered_layout
from .tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# ----- sizes, in inches at the base font size (draw_graph scales them all together)
FONT_SIZE = 9.0  # points
CHAR_WIDTH = 0.6025 * FONT_SIZE / 72  # the advance of one DejaVu Sans Mono character
LINE_HEIGHT = 1.2 * FONT_SIZE / 72  # matplotlib's default line spacing is 1.2 em
PAD_X, PAD_Y = 0.09, 0.07  # between the text and the box
MIN_BOX_WIDTH = 0.6
LAYER_GAP = {"TB": 0.42, "LR": 0.55}  # between consecutive layers
MARGIN = 0.15
MAX_FIGURE_INCHES = 40.0  # larger drawings are scaled down (a PNG must stay a sane size)
SMALL_TENSOR = 6  # show_values shows tensors with at most this many elements
MAX_DRAW_NODES = 5000  # draw_graph and graph_layout refuse larger graphs (to_dot does not)

STYLE = {  # face colour, edge colour, line style
    "op": ("#dcebf7", "#2f5f8f", "solid"),
    "leaf": ("#fde2bd", "#b8651b", "solid"),
    "constant": ("#eeeeee", "#8a8a8a", "dashed"),
}

FREED = (
    "draw_graph: the graph of this tensor was freed by backward() (the engine drops each "
    "op's inputs once their gradients are computed). Draw before calling backward(), or "
    "call backward(retain_graph=True) to keep the graph."
)
TOO_LARGE = (
    "draw_graph: this graph has {n} boxes, more than MAX_DRAW_NODES = {limit}: a drawing that "
    "large cannot be read, and laying it out would take minutes. Use minigrad.to_dot(tensor) "
    "and render it with Graphviz (dot -Tsvg graph.dot -o graph.svg), or draw a smaller part "
    "of the graph."
)


@dataclass
class LayoutNode:
    """One box: an op's result, a leaf (requires grad) or a constant (does not).
    ``x, y`` is the box centre, in inches; ``layer`` is its topological depth."""

    id: int
    label: str
    kind: str  # "op", "leaf" or "constant"
    layer: int
    x: float
    y: float
    width: float
    height: float
    op: str | None
    name: str | None
    shape: tuple[int, ...]
    dtype: str
    is_output: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top)."""
        return (
            self.x - self.width / 2,
            self.y - self.height / 2,
            self.x + self.width / 2,
            self.y + self.height / 2,
        )


@dataclass
class LayoutEdge:
    """Input number ``index`` of node ``dst`` is node ``src``. ``points`` is the route,
    from the side of ``src`` facing the output to the side of ``dst`` facing the inputs;
    where two points differ in both coordinates the route is a smooth S-curve between
    them (it stays inside the gap between two layers)."""

    src: int
    dst: int
    index: int
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class GraphLayout:
    nodes: list[LayoutNode]
    edges: list[LayoutEdge]
    direction: str  # "TB": inputs on top, output at the bottom; "LR": left to right

    def node(self, node_id: int) -> LayoutNode:
        return self.nodes[node_id]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of every box and route."""
        xs = [v for n in self.nodes for v in (n.box[0], n.box[2])]
        ys = [v for n in self.nodes for v in (n.box[1], n.box[3])]
        xs += [p[0] for e in self.edges for p in e.points]
        ys += [p[1] for e in self.edges for p in e.points]
        return min(xs), max(xs), min(ys), max(ys)


# ---------------------------------------------------------------- the boxes and arrows


def _collect(root: Tensor) -> tuple[list[Tensor], list[tuple[int, int, int]]]:
    """Every tensor ``root`` was computed from, inputs before the ops that use them
    (``root`` last), and the edges ``(src, dst, input index)``. The tensors that require
    grad come from the engine's ``topological_order`` (the order ``backward`` walks,
    reversed); the constants an op read (data, scalars) are not in it, since no gradient
    flows to them, so each is added just before the first op that uses it."""
    order: list[Tensor] = []
    index: dict[int, int] = {}  # id(tensor) -> its number (ids: tensors compare elementwise)
    for t in reversed(topological_order(root)):
        node = t._node
        if node is not None and node.backward is None:
            raise RuntimeError(FREED)
        for inp in node.inputs if node is not None else ():
            if id(inp) not in index:  # a constant, the only input not ordered yet
                index[id(inp)] = len(order)
                order.append(inp)
        index[id(t)] = len(order)
        order.append(t)
    edges = [
        (index[id(inp)], index[id(t)], i)
        for t in order
        if t._node is not None
        for i, inp in enumerate(t._node.inputs)
    ]
    return order, edges


def _kind(t: Tensor) -> str:
    if t._node is not None:
        return "op"
    return "leaf" if t.requires_grad else "constant"


def _format_number(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _array_lines(prefix: str, a: np.ndarray) -> list[str]:
    if a.size == 1:
        return [prefix + _format_number(a.item())]
    text = np.array2string(a, precision=3, suppress_small=True, separator=", ", max_line_width=40)
    lines = text.splitlines()
    lines = [prefix + lines[0]] + [" " * len(prefix) + line for line in lines[1:]]
    width = max(len(s) for s in lines)
    return [s.ljust(width) for s in lines]  # equal lengths: centred rows stay aligned


def _head(t: Tensor, kind: str) -> str:
    if kind == "op":
        return f"{t.name} = {t.op}" if t.name else str(t.op)
    if t.name:
        return t.name
    if kind == "leaf":
        return "leaf"
    # an anonymous scalar constant is best named by its value
    return "const " + _format_number(t.data.item()) if t.size == 1 else "const"


def _label(t: Tensor, kind: str, show_values: bool) -> str:
    lines = [_head(t, kind), f"{t.shape} {t.dtype}"]
    if show_values and t.size <= SMALL_TENSOR:
        if not (kind == "constant" and not t.name and t.size == 1):  # already in the head
            lines += _array_lines("= ", t.data)
        if t.grad is not None:
            lines += _array_lines("grad ", np.asarray(t.grad.data))
    return "\n".join(lines)


def _box_size(label: str) -> tuple[float, float]:
    lines = label.split("\n")
    width = max(MIN_BOX_WIDTH, max(len(s) for s in lines) * CHAR_WIDTH + 2 * PAD_X)
    return width, len(lines) * LINE_HEIGHT + 2 * PAD_Y


def _check_arguments(tensor: Any, direction: str, caller: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}() needs a Tensor, got {type(tensor).__name__}")
    if direction not in LAYER_GAP:
        raise ValueError(f"direction must be 'TB' (top to bottom) or 'LR' (left to right), got {direction!r}")


# ---------------------------------------------------------------- layout


def graph_layout(tensor: Tensor, show_values: bool = False, direction: str = "TB") -> GraphLayout:
    """The drawing of ``tensor``'s graph as data: boxes (``nodes``, numbered with inputs
    before the ops that use them, ``tensor`` last) and arrows (``edges``, from input to
    op). Coordinates are inches at the base font size; ``direction`` "TB" puts the inputs
    on top and the output at the bottom, "LR" the inputs on the left.
    Raises RuntimeError if backward() has already freed the graph, and ValueError for a
    graph of more than ``MAX_DRAW_NODES`` boxes (use ``to_dot`` for those)."""
    _check_arguments(tensor, direction, "graph_layout")
    order, edges = _collect(tensor)
    if len(order) > MAX_DRAW_NODES:
        raise ValueError(TOO_LARGE.format(n=len(order), limit=MAX_DRAW_NODES))
    kinds = [_kind(t) for t in order]
    labels = [_label(t, k, show_values) for t, k in zip(order, kinds)]
    sizes = [_box_size(s) for s in labels]  # (width, height)
    if direction == "TB":  # across a layer = width, along the layers = height
        placement = layered_layout(sizes, edges, LAYER_GAP[direction])
    else:
        placement = layered_layout([(h, w) for w, h in sizes], edges, LAYER_GAP[direction])

    def to_xy(p: tuple[float, float]) -> tuple[float, float]:
        across, along = p
        return (across, -along) if direction == "TB" else (along, -across)

    nodes = []
    for v, t in enumerate(order):
        x, y = to_xy(placement.centres[v])
        nodes.append(
            LayoutNode(
                id=v,
                label=labels[v],
                kind=kinds[v],
                layer=placement.layers[v],
                x=x,
                y=y,
                width=sizes[v][0],
                height=sizes[v][1],
                op=t.op,
                name=t.name,
                shape=tuple(t.shape),
                dtype=str(t.dtype),
                is_output=v == len(order) - 1,
            )
        )
    layout_edges = [
        LayoutEdge(src=s, dst=d, index=i, points=[to_xy(p) for p in points])
        for (s, d, i), points in zip(edges, placement.routes)
    ]
    return GraphLayout(nodes=nodes, edges=layout_edges, direction=direction)


# ---------------------------------------------------------------- Graphviz text


def _dot_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensor: Tensor, show_values: bool = False, direction: str = "TB") -> str:
    """The graph of ``tensor`` as Graphviz DOT text (render it with ``dot -Tpng``): the
    same boxes, labels and edges as ``draw_graph``. Graphviz is not needed to call this,
    and it lays the graph out itself, so there is no size limit here."""
    _check_arguments(tensor, direction, "to_dot")
    order, edges = _collect(tensor)
    lines = [
        "digraph minigrad {",
        f"  rankdir={direction};",
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];',
    ]
    for v, t in enumerate(order):
        kind = _kind(t)
        face, edge, dash = STYLE[kind]
        style = '"rounded,filled,dashed"' if dash == "dashed" else '"rounded,filled"'
        width = ", penwidth=2" if v == len(order) - 1 else ""
        lines.append(
            f"  n{v} [label={_dot_string(_label(t, kind, show_values))}, style={style}, "
            f'fillcolor="{face}", color="{edge}"{width}];'
        )
    lines += [f"  n{s} -> n{d};" for s, d, _ in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- matplotlib


def _route_path(points: list[tuple[float, float]], direction: str) -> Any:
    """Straight where the route runs along one axis, an S-curve (a cubic Bezier leaving
    and arriving along the layer axis) where it crosses the gap between two layers."""
    from matplotlib.path import Path

    verts = [points[0]]
    codes = [Path.MOVETO]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        if x0 == x1 or y0 == y1:
            verts.append((x1, y1))
            codes.append(Path.LINETO)
        elif direction == "TB":
            ym = (y0 + y1) / 2
            verts += [(x0, ym), (x1, ym), (x1, y1)]
            codes += [Path.CURVE4] * 3
        else:
            xm = (x0 + x1) / 2
            verts += [(xm, y0), (xm, y1), (x1, y1)]
            codes += [Path.CURVE4] * 3
    return Path(verts, codes)


def draw_graph(
    tensor: Tensor,
    ax: Axes | None = None,
    show_values: bool = False,
    *,
    direction: str = "TB",
    path: str | os.PathLike | None = None,
) -> Axes:
    """Draw the graph that computed ``tensor`` with matplotlib; returns the Axes.

    Blue boxes are ops (name, shape, dtype), orange boxes leaves that require grad
    (parameters), grey dashed boxes constants (data such as X, scalars); arrows run from
    inputs to the op that used them, the output has a thick border. Give tensors a
    ``name`` (``Tensor(..., name="W")`` or ``t.name = "W"``) to see it in the box.
    ``show_values=True`` adds the values (and ``.grad``, when computed) of tensors with at
    most 6 elements. Without ``ax`` a figure is created (sized to the graph); with ``ax``
    the drawing is scaled to fit it, so two graphs can sit side by side
    (``fig, (a, b) = plt.subplots(1, 2)``). ``path`` saves the figure (atomically).

    Draw before ``backward()``, or call ``backward(retain_graph=True)``: backward frees
    the graph (RuntimeError otherwise). Graphs of more than ``MAX_DRAW_NODES`` boxes are
    refused with a ValueError: use ``to_dot`` for them. Headless by default: selects matplotlib's Agg
    backend unless a backend was chosen before."""
    layout = graph_layout(tensor, show_values=show_values, direction=direction)
    plt = pyplot()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    xmin, xmax, ymin, ymax = layout.bounds
    width, height = xmax - xmin + 2 * MARGIN, ymax - ymin + 2 * MARGIN
    if ax is None:
        scale = min(1.0, MAX_FIGURE_INCHES / max(width, height))
        fig = plt.figure(figsize=(width * scale, height * scale))
        ax = fig.add_axes((0, 0, 1, 1))
    fig = ax.figure.figure  # the root Figure, also when ax sits in a SubFigure
    box = ax.get_position()
    ax_w, ax_h = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
    scale = min(1.0, ax_w / width, ax_h / height)  # paper inches per layout inch: never enlarged
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    ax.set_xlim(cx - ax_w / scale / 2, cx + ax_w / scale / 2)  # same scale on both axes
    ax.set_ylim(cy - ax_h / scale / 2, cy + ax_h / scale / 2)
    ax.set_axis_off()

    for e in layout.edges:
        ax.add_patch(
            FancyArrowPatch(
                path=_route_path(e.points, layout.direction),
                arrowstyle="-|>",
                mutation_scale=9 * scale,
                shrinkA=0,
                shrinkB=0,
                color="#444444",
                linewidth=max(0.3, 0.9 * scale),
                zorder=1,
            )
        )
    rounding = min(0.06, PAD_Y)
    for nd in layout.nodes:
        face, edge, dash = STYLE[nd.kind]
        left, bottom, _, _ = nd.box
        ax.add_patch(
            FancyBboxPatch(
                (left, bottom),
                nd.width,
                nd.height,
                boxstyle=f"round,pad=0,rounding_size={rounding}",
                facecolor=face,
                edgecolor=edge,
                linestyle=dash,
                linewidth=(2.2 if nd.is_output else 1.0) * max(0.3, scale),
                zorder=2,
            )
        )
        ax.text(
            nd.x,
            nd.y,
            nd.label,
            ha="center",
            va="center",
            family="DejaVu Sans Mono",
            fontsize=FONT_SIZE * scale,
            linespacing=1.2,
            zorder=3,
        )
    if path is not None:
        save_figure(fig, path)
    return ax
