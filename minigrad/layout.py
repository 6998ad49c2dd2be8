"""A layered drawing of a directed acyclic graph, computed as data (no plotting, no tensors).

The input is ``n`` boxes numbered so that every edge runs from a lower number to a higher
one (inputs before the ops that use them), the size of every box, and the edges
``(src, dst, index)`` (``src`` is input number ``index`` of ``dst``). The output is a
centre for every box and a route for every edge. Coordinates are in two directions:
*across* (within a layer) and *along* (from one layer to the next); ``draw`` maps them to
x and y. The recipe is the classic layered ("Sugiyama") one, one function per step:

1. ``assign_layers``: an op sits one layer below its deepest input; a box without inputs
   sits just above the first op that uses it.
2. ``split_long_edges``: an edge that skips layers gets an invisible *waypoint* in every
   layer it crosses, so it is routed between the boxes instead of through them.
3. ``order_layers``: a few sweeps sort each layer by the barycentre (mean position) of its
   neighbours in the layer before; the order with the fewest crossings is kept.
4. ``place_across``: every vertex is pulled towards its neighbours, as far as the spacing
   in its layer allows (least squares under ordering constraints, which is an isotonic
   regression).
5. ``place_along`` stacks the layers as bands, and ``route`` joins the ends of each edge
   through its waypoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NODE_GAP = 0.3  # across, between neighbouring boxes of a layer
WAYPOINT_GAP = 0.14  # across, beside the waypoint of an edge that skips a layer
WAYPOINT_SIZE = 0.04
ORDER_SWEEPS = 8
PLACE_SWEEPS = 6  # pulls from one side at a time
BOTH_SWEEPS = 4  # then pulls from both sides

Point = tuple[float, float]  # (across, along)
Edge = tuple[int, int, int]  # (src, dst, input index)


@dataclass
class Grid:
    """The vertices to place: the boxes (numbers ``0 .. n_boxes - 1``), then the waypoints.
    ``down[v]`` lists ``(vertex in the layer above, port offset at v)``, ``up[v]`` lists
    ``(vertex in the layer below, port offset there)``: the port offset is where the edge
    enters its op, relative to the op's centre. ``rows[k]`` is layer k, in order."""

    n_boxes: int
    layer: list[int]
    size: list[float]  # extent across
    down: list[list[tuple[int, float]]] = field(default_factory=list)
    up: list[list[tuple[int, float]]] = field(default_factory=list)
    chains: list[list[int]] = field(default_factory=list)  # per edge: src, waypoints, dst
    ports: list[float] = field(default_factory=list)  # per edge
    rows: list[list[int]] = field(default_factory=list)


@dataclass
class Placement:
    """Where everything goes: box centres, the layer of every box, and one route per edge
    (from the side of ``src`` facing the output to the side of ``dst`` facing the inputs)."""

    centres: list[Point]
    layers: list[int]
    routes: list[list[Point]]


def layered_layout(sizes: list[Point], edges: list[Edge], layer_gap: float) -> Placement:
    """Place boxes of the given ``(across, along)`` sizes and route ``edges`` between them;
    consecutive layers are ``layer_gap`` apart. Box numbers must be topological."""
    layer = assign_layers(len(sizes), edges)
    grid = split_long_edges(layer, [s[0] for s in sizes], edges)
    order_layers(grid)
    x = place_across(grid)
    along = [s[1] for s in sizes]
    centre, band = place_along(grid, along, layer_gap)
    centres = [(x[v], centre[layer[v]]) for v in range(len(sizes))]
    routes = [route(grid, x, centre, band, along, e) for e in range(len(edges))]
    return Placement(centres=centres, layers=layer, routes=routes)


def assign_layers(n: int, edges: list[Edge]) -> list[int]:
    """The layer of every box: ``1 + max(layer of its inputs)`` for an op (boxes come in
    topological order, so the inputs are done first); ``min(layer of its users) - 1`` for
    a box without inputs, so data and parameters sit next to the op that reads them."""
    inputs: list[list[int]] = [[] for _ in range(n)]
    users: list[list[int]] = [[] for _ in range(n)]
    for s, d, _ in edges:
        inputs[d].append(s)
        users[s].append(d)
    layer = [0] * n
    for v in range(n):
        if inputs[v]:
            layer[v] = 1 + max(layer[s] for s in inputs[v])
    for v in range(n):
        if not inputs[v] and users[v]:
            layer[v] = min(layer[d] for d in users[v]) - 1
    return layer


def port_offset(n_inputs: int, index: int, size: float) -> float:
    """Where input ``index`` enters its op, relative to the op's centre: the inputs are
    spread in argument order over 60% of the box, so ``a - b`` reads with ``a`` first."""
    if n_inputs <= 1:
        return 0.0
    return (index - (n_inputs - 1) / 2) * (0.6 * size / (n_inputs - 1))


def split_long_edges(layer: list[int], size: list[float], edges: list[Edge]) -> Grid:
    """The grid of vertices: the boxes, plus one waypoint in every layer an edge skips."""
    n = len(layer)
    grid = Grid(
        n_boxes=n, layer=list(layer), size=list(size), down=[[] for _ in range(n)], up=[[] for _ in range(n)]
    )
    n_inputs = [0] * n
    for _, d, _ in edges:
        n_inputs[d] += 1
    for s, d, i in edges:
        chain = [s]
        for k in range(layer[s] + 1, layer[d]):
            chain.append(len(grid.layer))
            grid.layer.append(k)
            grid.size.append(WAYPOINT_SIZE)
            grid.down.append([])
            grid.up.append([])
        chain.append(d)
        port = port_offset(n_inputs[d], i, size[d])
        for a, b in zip(chain[:-1], chain[1:]):
            offset = port if b == d else 0.0
            grid.down[b].append((a, offset))
            grid.up[a].append((b, offset))
        grid.chains.append(chain)
        grid.ports.append(port)
    grid.rows = [[] for _ in range(max(layer, default=0) + 1)]
    for v, k in enumerate(grid.layer):
        grid.rows[k].append(v)
    return grid


# ---------------------------------------------------------------- order within layers


def _rank_offset(port: float, size: float) -> float:
    """A port offset in units of positions in the layer (under half a position)."""
    return 0.4 * port / max(size, 1e-9)


def _ranks(rows: list[list[int]], n_vertices: int) -> list[float]:
    rank = [0.0] * n_vertices
    for row in rows:
        for p, v in enumerate(row):
            rank[v] = float(p)
    return rank


def count_crossings(grid: Grid, rank: list[float]) -> int:
    """Pairs of edges that cross between consecutive layers (ports included): two edges
    cross when their order at the upper end and at the lower end disagree."""
    total = 0
    for row in grid.rows[1:]:
        ends = sorted(
            (rank[u], rank[v] + _rank_offset(port, grid.size[v])) for v in row for u, port in grid.down[v]
        )
        for i, (top_i, bottom_i) in enumerate(ends):
            total += sum(top_i != top_j and bottom_i > bottom_j for top_j, bottom_j in ends[i + 1 :])
    return total


def _barycentre(grid: Grid, v: int, rank: list[float], downwards: bool) -> float:
    """The mean rank of v's neighbours in the layer above (``downwards``) or below."""
    if downwards:
        ranks = [rank[u] - _rank_offset(port, grid.size[v]) for u, port in grid.down[v]]
    else:
        ranks = [rank[w] + _rank_offset(port, grid.size[w]) for w, port in grid.up[v]]
    return sum(ranks) / len(ranks) if ranks else rank[v]


def order_layers(grid: Grid) -> None:
    """Reorder ``grid.rows`` to reduce crossings: sweep down then up, sorting each layer
    by barycentre; keep the best order seen."""
    n_layers = len(grid.rows)
    rank = _ranks(grid.rows, len(grid.layer))
    best, fewest = [list(row) for row in grid.rows], count_crossings(grid, rank)
    for sweep in range(ORDER_SWEEPS):
        if fewest == 0:
            break
        downwards = sweep % 2 == 0
        for k in range(1, n_layers) if downwards else range(n_layers - 2, -1, -1):
            grid.rows[k].sort(key=lambda v: (_barycentre(grid, v, rank, downwards), rank[v]))
            for p, v in enumerate(grid.rows[k]):
                rank[v] = float(p)
        crossings = count_crossings(grid, rank)
        if crossings < fewest:
            best, fewest = [list(row) for row in grid.rows], crossings
    grid.rows = best


# ---------------------------------------------------------------- coordinates


def isotonic(targets: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` in least squares: pool adjacent
    violators (merge neighbouring blocks into their mean while they are out of order)."""
    blocks: list[tuple[float, int]] = []  # (mean, count)
    for t in targets:
        blocks.append((t, 1))
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append(((m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2))
    return [mean for mean, count in blocks for _ in range(count)]


def closest_spaced(targets: list[float], seps: list[float]) -> list[float]:
    """Positions ``x`` closest to ``targets`` with ``x[i+1] - x[i] >= seps[i]``. With
    ``o[i]`` the running sum of the separations, ``z = x - o`` must be non-decreasing:
    an isotonic regression of ``targets - o``."""
    offsets = [0.0]
    for s in seps:
        offsets.append(offsets[-1] + s)
    z = isotonic([t - o for t, o in zip(targets, offsets)])
    return [zi + o for zi, o in zip(z, offsets)]


def _separations(grid: Grid) -> list[list[float]]:
    """Minimum centre-to-centre distance between neighbours, per layer."""

    def gap(a: int, b: int) -> float:
        boxes = a < grid.n_boxes and b < grid.n_boxes
        return NODE_GAP if boxes else WAYPOINT_GAP

    return [
        [(grid.size[a] + grid.size[b]) / 2 + gap(a, b) for a, b in zip(row[:-1], row[1:])]
        for row in grid.rows
    ]


def _pull(grid: Grid, x: list[float], v: int, from_above: bool, from_below: bool) -> float:
    """Where v's neighbours want it: the weighted mean of their positions (minus the port
    offset). Two waypoints pull hard on each other, which keeps long edges straight."""

    def weight(a: int, b: int) -> float:
        return 8.0 if a >= grid.n_boxes and b >= grid.n_boxes else 1.0

    pulls = [(x[u] - port, weight(u, v)) for u, port in grid.down[v]] if from_above else []
    pulls += [(x[w] + port, weight(v, w)) for w, port in grid.up[v]] if from_below else []
    total = sum(w for _, w in pulls)
    return sum(p * w for p, w in pulls) / total if pulls else x[v]


def _relax(
    grid: Grid, x: list[float], seps: list[list[float]], k: int, from_above: bool, from_below: bool
) -> None:
    row = grid.rows[k]
    targets = [_pull(grid, x, v, from_above, from_below) for v in row]
    for v, xv in zip(row, closest_spaced(targets, seps[k])):
        x[v] = xv


def _straighten_chains(grid: Grid, x: list[float], seps: list[list[float]]) -> None:
    """A vertex whose only input has no other user goes right under it, if there is room."""
    for k, row in enumerate(grid.rows):
        for p, v in enumerate(row):
            if len(grid.down[v]) == 1 and len(grid.up[grid.down[v][0][0]]) == 1:
                u, port = grid.down[v][0]
                lo = x[row[p - 1]] + seps[k][p - 1] if p > 0 else -float("inf")
                hi = x[row[p + 1]] - seps[k][p] if p + 1 < len(row) else float("inf")
                x[v] = min(max(x[u] - port, lo), hi)


def place_across(grid: Grid) -> list[float]:
    """The across coordinate of every vertex, the leftmost box edge at 0: start packed,
    then alternately pull every layer towards the layer above and the layer below, then
    towards both, then straighten chains."""
    seps = _separations(grid)
    x = [0.0] * len(grid.layer)
    for row, sep in zip(grid.rows, seps):
        for v, xv in zip(row, closest_spaced([0.0] * len(row), sep)):
            x[v] = xv
    n_layers = len(grid.rows)
    for _ in range(PLACE_SWEEPS):
        for k in range(1, n_layers):
            _relax(grid, x, seps, k, from_above=True, from_below=False)
        for k in range(n_layers - 2, -1, -1):
            _relax(grid, x, seps, k, from_above=False, from_below=True)
    for _ in range(BOTH_SWEEPS):
        for k in range(n_layers):
            _relax(grid, x, seps, k, from_above=True, from_below=True)
    _straighten_chains(grid, x, seps)
    shift = min(xv - size / 2 for xv, size in zip(x, grid.size))
    return [xv - shift for xv in x]


def place_along(grid: Grid, along: list[float], layer_gap: float) -> tuple[list[float], list[float]]:
    """The centre and the depth of every layer's band: as deep as its deepest box, the
    first band starting at 0."""
    band = [max((along[v] for v in row if v < grid.n_boxes), default=along[0]) for row in grid.rows]
    centre = [band[0] / 2]
    for k in range(1, len(band)):
        centre.append(centre[-1] + band[k - 1] / 2 + layer_gap + band[k] / 2)
    return centre, band


def route(
    grid: Grid, x: list[float], centre: list[float], band: list[float], along: list[float], e: int
) -> list[Point]:
    """Edge ``e`` from the bottom of its source box, straight through each waypoint's
    band, into its port on the top of the op box. Consecutive points that differ in both
    coordinates are joined by an S-curve inside the gap between two layers."""
    chain = grid.chains[e]
    s, d = chain[0], chain[-1]
    ks, kd = grid.layer[s], grid.layer[d]
    points = [(x[s], centre[ks] + along[s] / 2), (x[s], centre[ks] + band[ks] / 2)]
    for w in chain[1:-1]:
        k = grid.layer[w]
        points += [(x[w], centre[k] - band[k] / 2), (x[w], centre[k] + band[k] / 2)]
    xd = x[d] + grid.ports[e]
    points += [(xd, centre[kd] - band[kd] / 2), (xd, centre[kd] - along[d] / 2)]
    return [points[0]] + [p for p, q in zip(points[1:], points[:-1]) if p != q]
