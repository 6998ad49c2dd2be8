"""Seeing the graph: ``draw_graph`` (matplotlib only) and ``to_dot`` (Graphviz text).

Every op a tensor went through is one box, every leaf and constant that fed it another,
and arrows run in the direction the data flowed, from the inputs to the output:

    ax = minigrad.draw_graph(loss)                  # before loss.backward()!
    ax.figure.savefig("graph.png")

The work is split in two. ``graph_layout`` is pure geometry, which the tests check: it
walks the graph, puts every tensor in a *layer* (its topological depth: an op sits one
layer below its deepest input, a leaf just above the op that first uses it), orders each
layer to avoid edge crossings, and gives every box a position and every edge a route.
``draw_graph`` only paints that layout.

The layout is the classic layered ("Sugiyama") recipe, done cheaply:
1. an edge that skips layers gets an invisible waypoint in each layer it crosses, so it
   is routed around boxes instead of through them;
2. the order inside each layer is improved by a few sweeps that sort nodes by the
   barycenter (mean position) of their neighbours, keeping the order with fewest
   crossings;
3. each node is pulled towards its neighbours' positions, as far as the minimum spacing
   in its layer allows (an exact least-squares fit under ordering constraints).

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
from .tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# ----- sizes, in inches at the base font size (draw_graph scales them all together)
FONT_SIZE = 9.0  # points
CHAR_WIDTH = 0.6025 * FONT_SIZE / 72  # the advance of one DejaVu Sans Mono character
LINE_HEIGHT = 1.2 * FONT_SIZE / 72  # matplotlib's default line spacing is 1.2 em
PAD_X, PAD_Y = 0.09, 0.07  # between the text and the box
MIN_BOX_WIDTH = 0.6
NODE_GAP = 0.3  # between neighbouring boxes of a layer
WAYPOINT_GAP = 0.14  # beside the waypoint of an edge that skips a layer
WAYPOINT_WIDTH = 0.04
LAYER_GAP = {"TB": 0.42, "LR": 0.55}  # between consecutive layers
MARGIN = 0.15
MAX_FIGURE_INCHES = 40.0  # larger drawings are scaled down (a PNG must stay a sane size)
SMALL_TENSOR = 6  # show_values shows tensors with at most this many elements

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
        return (self.x - self.width / 2, self.y - self.height / 2,
                self.x + self.width / 2, self.y + self.height / 2)


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


# ---------------------------------------------------------------- walking the graph


def _collect(root: Tensor) -> tuple[list[Tensor], list[tuple[int, int, int]]]:
    """Every tensor ``root`` was computed from, inputs before the ops that use them
    (``root`` last), and the edges (src, dst, input index). Iterative: any depth works."""
    order: list[Tensor] = []
    index: dict[int, int] = {}
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, finished = stack.pop()
        if finished:
            index[id(t)] = len(order)
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        node = t._node
        if node is not None and node.backward is None:
            raise RuntimeError(FREED)
        stack.append((t, True))
        if node is not None:
            for inp in reversed(node.inputs):  # so the first input is numbered first
                if id(inp) not in seen:
                    stack.append((inp, False))
    edges = [(index[id(inp)], index[id(t)], i)
             for t in order if t._node is not None
             for i, inp in enumerate(t._node.inputs)]
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


def _label(t: Tensor, kind: str, show_values: bool) -> str:
    if kind == "op":
        head = f"{t.name} = {t.op}" if t.name else str(t.op)
    elif t.name:
        head = t.name
    elif kind == "leaf":
        head = "leaf"
    else:  # an anonymous scalar constant is best named by its value
        head = "const " + _format_number(t.data.item()) if t.size == 1 else "const"
    lines = [head, f"{t.shape} {t.dtype}"]
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


# ---------------------------------------------------------------- layout


def _port(n_inputs: int, index: int, across_size: float) -> float:
    """Where input ``index`` enters its op, as an offset from the box centre: inputs are
    spread in argument order, so ``a - b`` reads with ``a`` on the left."""
    if n_inputs <= 1:
        return 0.0
    return (index - (n_inputs - 1) / 2) * (0.6 * across_size / (n_inputs - 1))


def _isotonic(targets: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` in least squares (pool
    adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, count]
    for t in targets:
        blocks.append([t, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks[-1]
            blocks[-1] = [(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2]
    out: list[float] = []
    for mean, count in blocks:
        out += [mean] * int(count)
    return out


def _place(targets: list[float], seps: list[float]) -> list[float]:
    """Positions x closest to ``targets`` with x[i+1] - x[i] >= seps[i]: shifting by the
    running sum of the separations turns this into an isotonic regression."""
    offsets = [0.0]
    for s in seps:
        offsets.append(offsets[-1] + s)
    z = _isotonic([t - o for t, o in zip(targets, offsets)])
    return [zi + o for zi, o in zip(z, offsets)]


def _rank_offset(port: float, across_size: float) -> float:
    """A port offset in units of positions in the layer (under half a position)."""
    return 0.4 * port / max(across_size, 1e-9)


def _crossings(layers: list[list[int]], pos: list[float], down: list[list[tuple[int, float]]],
               across: list[float]) -> int:
    """Number of pairs of edges that cross between consecutive layers (ports included)."""
    total = 0
    for layer in layers[1:]:
        ends = sorted((pos[u], pos[v] + _rank_offset(f, across[v])) for v in layer for u, f in down[v])
        for i in range(len(ends)):
            for j in range(i + 1, len(ends)):
                if ends[i][0] != ends[j][0] and ends[i][1] > ends[j][1]:
                    total += 1
    return total


def graph_layout(tensor: Tensor, show_values: bool = False, direction: str = "TB") -> GraphLayout:
    """The drawing of ``tensor``'s graph as data: boxes (``nodes``, numbered with inputs
    before the ops that use them, ``tensor`` last) and arrows (``edges``, from input to
    op). Coordinates are inches at the base font size; ``direction`` "TB" puts the inputs
    on top and the output at the bottom, "LR" the inputs on the left.
    Raises RuntimeError if backward() has already freed the graph."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph_layout() needs a Tensor, got {type(tensor).__name__}")
    if direction not in LAYER_GAP:
        raise ValueError(f"direction must be 'TB' (top to bottom) or 'LR' (left to right), got {direction!r}")
    order, edges = _collect(tensor)
    n = len(order)
    kinds = [_kind(t) for t in order]
    labels = [_label(t, k, show_values) for t, k in zip(order, kinds)]
    sizes = [_box_size(s) for s in labels]
    # across = within a layer, along = from layer to layer
    if direction == "TB":
        across = [w for w, h in sizes]
        along = [h for w, h in sizes]
    else:
        across = [h for w, h in sizes]
        along = [w for w, h in sizes]

    # --- layers: an op one below its deepest input; a source just above its first user
    inputs: list[list[tuple[int, int]]] = [[] for _ in range(n)]  # (src, index) per node
    users: list[list[int]] = [[] for _ in range(n)]
    for s, d, i in edges:
        inputs[d].append((s, i))
        users[s].append(d)
    layer = [0] * n
    for v in range(n):  # topological order: inputs come first
        if inputs[v]:
            layer[v] = 1 + max(layer[s] for s, _ in inputs[v])
    for v in range(n):
        if not inputs[v] and users[v]:
            layer[v] = min(layer[d] for d in users[v]) - 1

    # --- vertices: the nodes, plus a waypoint in every layer an edge skips
    v_layer = list(layer)
    v_across = list(across)
    down: list[list[tuple[int, float]]] = [[] for _ in range(n)]  # (upper vertex, port offset)
    up: list[list[tuple[int, float]]] = [[] for _ in range(n)]  # (lower vertex, port offset)
    chains: list[list[int]] = []
    for s, d, i in edges:
        chain = [s]
        for k in range(layer[s] + 1, layer[d]):
            v_layer.append(k)
            v_across.append(WAYPOINT_WIDTH)
            down.append([])
            up.append([])
            chain.append(len(v_layer) - 1)
        chain.append(d)
        chains.append(chain)
        port = _port(len(inputs[d]), i, across[d])
        for a, b in zip(chain[:-1], chain[1:]):
            f = port if b == d else 0.0
            down[b].append((a, f))
            up[a].append((b, f))
    n_layers = max(layer) + 1
    layers: list[list[int]] = [[] for _ in range(n_layers)]
    for v, k in enumerate(v_layer):
        layers[k].append(v)

    # --- order within layers: barycenter sweeps, keeping the best order seen
    pos = [0.0] * len(v_layer)

    def number() -> None:
        for members in layers:
            for p, v in enumerate(members):
                pos[v] = float(p)

    number()
    best, best_crossings = [list(m) for m in layers], _crossings(layers, pos, down, v_across)
    for sweep in range(8):
        if best_crossings == 0:
            break
        going_down = sweep % 2 == 0
        for k in (range(1, n_layers) if going_down else range(n_layers - 2, -1, -1)):
            def key(v: int, going_down: bool = going_down) -> tuple[float, float]:
                if going_down:
                    vals = [pos[u] - _rank_offset(f, v_across[v]) for u, f in down[v]]
                else:
                    vals = [pos[w] + _rank_offset(f, v_across[w]) for w, f in up[v]]
                return (sum(vals) / len(vals) if vals else pos[v], pos[v])

            layers[k].sort(key=key)
            for p, v in enumerate(layers[k]):
                pos[v] = float(p)
        c = _crossings(layers, pos, down, v_across)
        if c < best_crossings:
            best, best_crossings = [list(m) for m in layers], c
    layers = best
    number()

    # --- coordinates across: pulled towards the neighbours, spacing kept
    def gap(a: int, b: int) -> float:
        return NODE_GAP if a < n and b < n else WAYPOINT_GAP

    seps = [[(v_across[a] + v_across[b]) / 2 + gap(a, b) for a, b in zip(m[:-1], m[1:])]
            for m in layers]
    x = [0.0] * len(v_layer)
    for members, sep in zip(layers, seps):
        placed = _place([0.0] * len(members), sep)  # packed, centred on 0
        for v, xv in zip(members, placed):
            x[v] = xv

    def weight(a: int, b: int) -> float:  # between two waypoints: keeps long edges straight
        return 8.0 if a >= n and b >= n else 1.0

    def relax(k: int, use_down: bool, use_up: bool) -> None:
        targets = []
        for v in layers[k]:
            pulls = []  # (position wanted by a neighbour, weight)
            if use_down:
                pulls += [(x[u] - f, weight(u, v)) for u, f in down[v]]
            if use_up:
                pulls += [(x[w] + f, weight(v, w)) for w, f in up[v]]
            total = sum(wt for _, wt in pulls)
            targets.append(sum(p * wt for p, wt in pulls) / total if pulls else x[v])
        for v, xv in zip(layers[k], _place(targets, seps[k])):
            x[v] = xv

    for _ in range(6):
        for k in range(1, n_layers):
            relax(k, True, False)
        for k in range(n_layers - 2, -1, -1):
            relax(k, False, True)
    for _ in range(4):
        for k in range(n_layers):
            relax(k, True, True)
    # straighten chains: a vertex whose only input has no other user goes right under it
    for k in range(1, n_layers):
        members = layers[k]
        for p, v in enumerate(members):
            if len(down[v]) == 1 and len(up[down[v][0][0]]) == 1:
                u, f = down[v][0]
                lo = x[members[p - 1]] + seps[k][p - 1] if p > 0 else -np.inf
                hi = x[members[p + 1]] - seps[k][p] if p + 1 < len(members) else np.inf
                x[v] = float(min(max(x[u] - f, lo), hi))
    shift = min(x[v] - v_across[v] / 2 for v in range(len(v_layer)))
    x = [xv - shift for xv in x]

    # --- coordinates along: each layer a band as deep as its deepest box
    band = [max([along[v] for v in members if v < n] or [LINE_HEIGHT]) for members in layers]
    centre = [band[0] / 2]
    for k in range(1, n_layers):
        centre.append(centre[-1] + band[k - 1] / 2 + LAYER_GAP[direction] + band[k] / 2)

    def to_xy(a: float, b: float) -> tuple[float, float]:
        return (a, -b) if direction == "TB" else (b, -a)

    nodes = []
    for v, t in enumerate(order):
        cx, cy = to_xy(x[v], centre[layer[v]])
        w, h = sizes[v]
        nodes.append(LayoutNode(
            id=v, label=labels[v], kind=kinds[v], layer=layer[v], x=cx, y=cy, width=w, height=h,
            op=t.op, name=t.name, shape=tuple(t.shape), dtype=str(t.dtype), is_output=v == n - 1))

    out_edges = []
    for (s, d, i), chain in zip(edges, chains):
        port = _port(len(inputs[d]), i, across[d])
        pts = [(x[s], centre[layer[s]] + along[s] / 2), (x[s], centre[layer[s]] + band[layer[s]] / 2)]
        for w in chain[1:-1]:
            k = v_layer[w]
            pts += [(x[w], centre[k] - band[k] / 2), (x[w], centre[k] + band[k] / 2)]
        k = layer[d]
        pts += [(x[d] + port, centre[k] - band[k] / 2), (x[d] + port, centre[k] - along[d] / 2)]
        route = [pts[0]] + [p for p, q in zip(pts[1:], pts[:-1]) if p != q]
        out_edges.append(LayoutEdge(src=s, dst=d, index=i, points=[to_xy(a, b) for a, b in route]))
    return GraphLayout(nodes=nodes, edges=out_edges, direction=direction)


# ---------------------------------------------------------------- Graphviz text


def _dot_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensor: Tensor, show_values: bool = False, direction: str = "TB") -> str:
    """The graph of ``tensor`` as Graphviz DOT text (render it with ``dot -Tpng``): the
    same boxes, labels and edges as ``draw_graph``. Graphviz is not needed to call this."""
    layout = graph_layout(tensor, show_values=show_values, direction=direction)
    lines = [
        "digraph minigrad {",
        f"  rankdir={direction};",
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];',
    ]
    for nd in layout.nodes:
        face, edge, dash = STYLE[nd.kind]
        style = '"rounded,filled,dashed"' if dash == "dashed" else '"rounded,filled"'
        width = ", penwidth=2" if nd.is_output else ""
        lines.append(f'  n{nd.id} [label={_dot_string(nd.label)}, style={style}, '
                     f'fillcolor="{face}", color="{edge}"{width}];')
    for e in layout.edges:
        lines.append(f"  n{e.src} -> n{e.dst};")
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


def draw_graph(tensor: Tensor, ax: Axes | None = None, show_values: bool = False, *,
               direction: str = "TB", path: str | os.PathLike | None = None) -> Axes:
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
    the graph (RuntimeError otherwise). Headless by default: selects matplotlib's Agg
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
    fig = ax.figure
    box = ax.get_position()
    ax_w, ax_h = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
    scale = min(1.0, ax_w / width, ax_h / height)  # paper inches per layout inch: never enlarged
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    ax.set_xlim(cx - ax_w / scale / 2, cx + ax_w / scale / 2)  # same scale on both axes
    ax.set_ylim(cy - ax_h / scale / 2, cy + ax_h / scale / 2)
    ax.set_axis_off()

    for e in layout.edges:
        ax.add_patch(FancyArrowPatch(
            path=_route_path(e.points, layout.direction), arrowstyle="-|>",
            mutation_scale=9 * scale, shrinkA=0, shrinkB=0, color="#444444",
            linewidth=max(0.3, 0.9 * scale), zorder=1))
    rounding = min(0.06, PAD_Y)
    for nd in layout.nodes:
        face, edge, dash = STYLE[nd.kind]
        left, bottom, _, _ = nd.box
        ax.add_patch(FancyBboxPatch(
            (left, bottom), nd.width, nd.height, boxstyle=f"round,pad=0,rounding_size={rounding}",
            facecolor=face, edgecolor=edge, linestyle=dash,
            linewidth=(2.2 if nd.is_output else 1.0) * max(0.3, scale), zorder=2))
        ax.text(nd.x, nd.y, nd.label, ha="center", va="center", family="DejaVu Sans Mono",
                fontsize=FONT_SIZE * scale, linespacing=1.2, zorder=3)
    if path is not None:
        save_figure(fig, path)
    return ax
