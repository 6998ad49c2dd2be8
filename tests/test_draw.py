"""draw_graph / graph_layout / to_dot: the layout is checked as data, not as pixels."""

import itertools
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigrad as mg
from minigrad.draw import MAX_DRAW_NODES, draw_graph, graph_layout, to_dot


def head(label: str) -> str:
    """The first line of a label: the op's name, or the leaf's name."""
    return label.split("\n")[0]


def small_graph(dtype=np.float64):
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal((4, 3)).astype(dtype), name="x")  # data: a constant
    W = mg.Tensor(rng.standard_normal((3, 2)).astype(dtype), requires_grad=True, name="W")
    b = mg.Tensor(np.zeros(2, dtype=dtype), requires_grad=True, name="b")
    loss = ((x @ W + b).tanh() ** 2).sum()
    return loss, (x, W, b)


def mlp_cross_entropy(n=5, d=3, h=4, k=3, seed=0):
    """A 2-layer MLP with softmax cross-entropy written with primitive ops, plus weight
    decay: about 30 nodes, with long edges (logits feeds max and sub; the decay joins at
    the very end)."""
    rng = np.random.default_rng(seed)
    X = mg.Tensor(rng.standard_normal((n, d)), name="X")
    y = rng.integers(0, k, n)
    W1 = mg.Tensor(rng.standard_normal((d, h)), requires_grad=True, name="W1")
    b1 = mg.Tensor(np.zeros(h), requires_grad=True, name="b1")
    W2 = mg.Tensor(rng.standard_normal((h, k)), requires_grad=True, name="W2")
    b2 = mg.Tensor(np.zeros(k), requires_grad=True, name="b2")
    z = (X @ W1 + b1).tanh() @ W2 + b2
    z.name = "logits"
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    nll = -log_p[np.arange(n), y].mean()
    loss = nll + 0.01 * ((W1**2).sum() + (W2**2).sum())
    loss.name = "loss"
    return loss


def overlap(a, b, tol=1e-9):
    """Do two (left, bottom, right, top) rectangles share interior points?"""
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


def gap_crossings(layout):
    """Pairs of edges that cross, in a top-to-bottom layout. Between two layers every route
    is one S-curve from the bottom of one band to the top of the next (or a straight line),
    monotone in x, so two of them cross exactly when their x order flips between the ends."""
    by_gap = {}
    for e in layout.edges:
        for (x0, y0), (x1, y1) in zip(e.points[:-1], e.points[1:]):
            if x0 != x1:
                by_gap.setdefault((round(y0, 9), round(y1, 9)), []).append((x0, x1))
    return sum(
        (a[0] - b[0]) * (a[1] - b[1]) < 0
        for segs in by_gap.values()
        for a, b in itertools.combinations(segs, 2)
    )


# ---------------------------------------------------------------- the layout of a known graph


def test_small_graph_nodes_labels_edges_layers():
    loss, _ = small_graph()
    layout = graph_layout(loss)
    nodes = {head(n.label): n for n in layout.nodes}
    assert len(layout.nodes) == 8
    assert set(nodes) == {"x", "W", "b", "matmul", "add", "tanh", "pow2", "sum"}
    kinds = {name: n.kind for name, n in nodes.items()}
    assert kinds == {
        "x": "constant",
        "W": "leaf",
        "b": "leaf",
        "matmul": "op",
        "add": "op",
        "tanh": "op",
        "pow2": "op",
        "sum": "op",
    }
    # labels carry the shape and the dtype
    assert nodes["matmul"].label.split("\n")[1] == "(4, 2) float64"
    assert nodes["W"].label.split("\n")[1] == "(3, 2) float64"
    assert nodes["sum"].label.split("\n")[1] == "() float64"
    assert nodes["b"].shape == (2,) and nodes["b"].dtype == "float64"
    # edges run from inputs to the op that used them (data-flow direction)
    pairs = {(head(layout.node(e.src).label), head(layout.node(e.dst).label)) for e in layout.edges}
    assert pairs == {
        ("x", "matmul"),
        ("W", "matmul"),
        ("matmul", "add"),
        ("b", "add"),
        ("add", "tanh"),
        ("tanh", "pow2"),
        ("pow2", "sum"),
    }
    assert len(layout.edges) == 7
    # input indices follow argument order
    index = {(head(layout.node(e.src).label), head(layout.node(e.dst).label)): e.index for e in layout.edges}
    assert index[("x", "matmul")] == 0 and index[("W", "matmul")] == 1
    assert index[("matmul", "add")] == 0 and index[("b", "add")] == 1
    # layers: topological depth, a leaf just above the op that uses it
    layers = {name: n.layer for name, n in nodes.items()}
    assert layers == {"x": 0, "W": 0, "matmul": 1, "b": 1, "add": 2, "tanh": 3, "pow2": 4, "sum": 5}
    for e in layout.edges:
        assert layout.node(e.src).layer < layout.node(e.dst).layer
    # ids: inputs before users, the output last and marked
    assert [n.id for n in layout.nodes] == list(range(8))
    assert all(e.src < e.dst for e in layout.edges)
    assert layout.nodes[-1] is nodes["sum"] and nodes["sum"].is_output
    assert sum(n.is_output for n in layout.nodes) == 1


def test_float32_graph_labels_say_float32():
    loss, _ = small_graph(np.float32)
    layout = graph_layout(loss)
    assert {n.dtype for n in layout.nodes} == {"float32"}
    assert all(n.label.split("\n")[1].endswith("float32") for n in layout.nodes)


def test_top_to_bottom_geometry():
    loss, _ = small_graph()
    layout = graph_layout(loss)
    # one row per layer, deeper layers lower
    rows = {}
    for n in layout.nodes:
        rows.setdefault(n.layer, set()).add(round(n.y, 9))
    assert all(len(ys) == 1 for ys in rows.values())
    ys = [rows[k].pop() for k in sorted(rows)]
    assert ys == sorted(ys, reverse=True)
    for e in layout.edges:
        src, dst = layout.node(e.src), layout.node(e.dst)
        (x0, y0), (x1, y1) = e.points[0], e.points[-1]
        assert y0 == pytest.approx(src.box[1]) and x0 == pytest.approx(src.x)  # leaves src's bottom
        assert y1 == pytest.approx(dst.box[3]) and dst.box[0] < x1 < dst.box[2]  # enters dst's top
        assert all(q[1] <= p[1] for p, q in zip(e.points[:-1], e.points[1:]))  # always downwards


def test_left_to_right_geometry():
    loss, _ = small_graph()
    layout = graph_layout(loss, direction="LR")
    for e in layout.edges:
        src, dst = layout.node(e.src), layout.node(e.dst)
        assert e.points[0][0] == pytest.approx(src.box[2])  # leaves src's right side
        assert e.points[-1][0] == pytest.approx(dst.box[0])  # enters dst's left side
        assert all(q[0] >= p[0] for p, q in zip(e.points[:-1], e.points[1:]))
    with pytest.raises(ValueError, match="direction"):
        graph_layout(loss, direction="BT")


def test_arguments_enter_in_order_so_a_minus_b_reads_left_to_right():
    a = mg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = mg.Tensor([3.0, 4.0], requires_grad=True, name="b")
    A = mg.Tensor(np.ones((2, 2)), requires_grad=True, name="A")
    B = mg.Tensor(np.ones((2, 2)), name="B")
    for out in (b.exp() - a.exp(), a / b, B @ A, A @ B):
        layout = graph_layout(out)
        into_out = sorted((e for e in layout.edges if e.dst == layout.nodes[-1].id), key=lambda e: e.index)
        assert into_out[0].points[-1][0] < into_out[1].points[-1][0]
        assert layout.node(into_out[0].src).x < layout.node(into_out[1].src).x


def test_a_tensor_used_twice_gives_two_edges():
    a = mg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    layout = graph_layout(a * a)
    assert [(e.src, e.dst, e.index) for e in layout.edges] == [(0, 1, 0), (0, 1, 1)]
    assert layout.edges[0].points[-1] != layout.edges[1].points[-1]


def test_constants_appear_as_leaves_with_their_value():
    x = mg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    data = mg.Tensor([5.0, 6.0])
    layout = graph_layout((x * 2.5 + data).sum())
    kinds = sorted((n.kind, head(n.label)) for n in layout.nodes)
    assert kinds == [
        ("constant", "const"),
        ("constant", "const 2.5"),
        ("leaf", "x"),
        ("op", "add"),
        ("op", "mul"),
        ("op", "sum"),
    ]


def test_names_of_intermediates_and_anonymous_leaves():
    x = mg.Tensor([1.0], requires_grad=True)
    h = x.tanh()
    h.name = "hidden"
    layout = graph_layout(h)
    assert [head(n.label) for n in layout.nodes] == ["leaf", "hidden = tanh"]
    assert layout.nodes[1].name == "hidden" and layout.nodes[1].op == "tanh"
    single = graph_layout(mg.Tensor([1.0, 2.0], name="alone"))
    assert len(single.nodes) == 1 and single.edges == [] and single.nodes[0].is_output


def test_thirty_node_graph_is_legible():
    layout = graph_layout(mlp_cross_entropy())
    assert 25 <= len(layout.nodes) <= 35
    for e in layout.edges:
        assert layout.node(e.src).layer < layout.node(e.dst).layer
    boxes = [n.box for n in layout.nodes]
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not overlap(a, b), (layout.nodes[i].label, layout.nodes[j].label)
    # no edge runs through a box: each piece of a route (a line, or an S-curve that stays
    # inside the rectangle spanned by its two ends) avoids every box but its own ends
    for e in layout.edges:
        for p, q in zip(e.points[:-1], e.points[1:]):
            span = (min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1]))
            span = (span[0] - 1e-6, span[1], span[2] + 1e-6, span[3])  # give vertical lines a width
            for n in layout.nodes:
                if n.id not in (e.src, e.dst):
                    assert not overlap(span, n.box), (e, n.label)
    # the order inside layers is optimised: at most a couple of crossings remain
    assert gap_crossings(layout) <= 2


def test_crossings_are_removed_by_reordering():
    # numbered depth-first, the edge from exp(b) to add skips two layers through
    # waypoints that are numbered after the ops, so it starts out crossing a's chain;
    # sorting by barycenters removes the crossing
    a = mg.Tensor([1.0], requires_grad=True, name="a")
    b = mg.Tensor([2.0], requires_grad=True, name="b")
    out = b.exp() + a.exp().tanh().exp()
    layout = graph_layout(out)
    assert any(layout.node(e.dst).layer - layout.node(e.src).layer > 1 for e in layout.edges)
    assert gap_crossings(layout) == 0


def test_deep_graph_needs_no_recursion():
    x = mg.Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(3000):
        y = y.tanh()
    layout = graph_layout(y)
    assert len(layout.nodes) == 3001 and layout.nodes[-1].layer == 3000


def chain(length):
    x = mg.Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(length):
        y = y.tanh()
    return y


def test_a_huge_graph_is_refused_with_a_pointer_to_to_dot(close_figures):
    huge = chain(100_000)  # 100,001 boxes
    with pytest.raises(ValueError, match=r"100001 boxes.*MAX_DRAW_NODES = 5000.*to_dot"):
        draw_graph(huge)
    with pytest.raises(ValueError, match="to_dot"):
        graph_layout(huge)
    assert MAX_DRAW_NODES == 5000  # the number the docstrings and the message state
    graph_layout(chain(MAX_DRAW_NODES - 1))  # exactly at the limit: drawn


def test_to_dot_has_no_size_limit():
    labels, edges = parse_dot(to_dot(chain(MAX_DRAW_NODES + 10)))
    assert len(labels) == MAX_DRAW_NODES + 11 and len(edges) == MAX_DRAW_NODES + 10


def test_freed_graph_raises_a_clear_error():
    loss, (x, W, b) = small_graph()
    loss.backward(retain_graph=True)
    graph_layout(loss)  # still there
    loss.backward()  # frees it
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        graph_layout(loss)
    with pytest.raises(TypeError, match="Tensor"):
        graph_layout(np.ones(3))


def test_show_values_labels_small_tensors_and_gradients():
    a = mg.Tensor([0.5, -2.0], requires_grad=True, name="a")
    big = mg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="big")
    out = (a * 3.0).sum() + big.sum()
    plain = {head(n.label): n.label for n in graph_layout(out).nodes}
    assert "0.5" not in plain["a"] and "grad" not in plain["a"]
    out.backward(retain_graph=True)
    labels = {head(n.label): n.label for n in graph_layout(out, show_values=True).nodes}
    assert "= [ 0.5, -2. ]" in labels["a"]
    assert "grad [3., 3.]" in labels["a"]  # d(sum(3a))/da
    assert labels["mul"].split("\n")[2] == "= [ 1.5, -6. ]"
    assert "= " not in labels["big"]  # 12 elements: too many to show
    assert labels["add"].split("\n")[-1] == f"= {out.item():.4g}"


# ---------------------------------------------------------------- DOT


def parse_dot(text):
    """A tiny DOT reader for what to_dot writes: node statements with a quoted label and
    edge statements 'a -> b;'. Returns ({id: label}, [(src, dst)])."""
    assert text.startswith("digraph") and text.rstrip().endswith("}")
    labels, edges = {}, []
    for line in text.splitlines()[1:-1]:
        line = line.strip()
        m = re.fullmatch(r"(\w+) -> (\w+);", line)
        if m:
            edges.append(m.groups())
            continue
        m = re.fullmatch(r'(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];', line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            raw = m.group(2)
            labels[m.group(1)] = re.sub(r"\\(.)", lambda g: "\n" if g.group(1) == "n" else g.group(1), raw)
    return labels, edges


def test_to_dot_is_the_expected_graph():
    loss, _ = small_graph()
    labels, edges = parse_dot(to_dot(loss))
    assert len(labels) == 8 and len(edges) == 7
    assert all(s in labels and d in labels for s, d in edges)
    pairs = {(head(labels[s]), head(labels[d])) for s, d in edges}
    assert pairs == {
        ("x", "matmul"),
        ("W", "matmul"),
        ("matmul", "add"),
        ("b", "add"),
        ("add", "tanh"),
        ("tanh", "pow2"),
        ("pow2", "sum"),
    }
    assert {labels[k] for k in labels} == {n.label for n in graph_layout(loss).nodes}


def test_to_dot_escapes_quotes_and_backslashes():
    x = mg.Tensor([1.0], requires_grad=True, name='say "hi" \\o/')
    labels, edges = parse_dot(to_dot(x.exp()))
    assert head(labels["n0"]) == 'say "hi" \\o/'
    assert edges == [("n0", "n1")]


# ---------------------------------------------------------------- rendering


@pytest.fixture
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_draw_graph_writes_a_png(tmp_path, close_figures):
    loss, _ = small_graph()
    path = tmp_path / "graph.png"
    ax = draw_graph(loss, path=path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(path) > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["graph.png"]  # no temporary file left
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert os.stat(path).st_mode & 0o777 == os.stat(plain).st_mode & 0o777  # usual permissions
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(n.label for n in graph_layout(loss).nodes)
    assert len(ax.patches) == 8 + 7  # a box per node, an arrow per edge
    ax.figure.savefig(tmp_path / "again.png")
    assert os.path.getsize(tmp_path / "again.png") > 5000


def test_draw_graph_show_values_puts_values_on_the_figure(close_figures):
    a = mg.Tensor([0.25, 4.0], requires_grad=True, name="a")
    out = a.sqrt().sum()
    ax = draw_graph(out, show_values=True)
    texts = {head(t.get_text()): t.get_text() for t in ax.texts}
    assert "= [0.25, 4.  ]" in texts["a"]
    assert "= [0.5, 2. ]" in texts["sqrt"]


def test_two_graphs_side_by_side(close_figures):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 5))
    big = mlp_cross_entropy()
    loss, _ = small_graph()
    assert draw_graph(big, ax=left) is left
    assert draw_graph(loss, ax=right) is right
    for ax, tensor in ((left, big), (right, loss)):
        layout = graph_layout(tensor)
        assert len(ax.texts) == len(layout.nodes)
        # the whole drawing is inside the axes, at the same scale on both axes
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        xmin, xmax, ymin, ymax = layout.bounds
        assert x0 <= xmin and xmax <= x1 and y0 <= ymin and ymax <= y1
        box = ax.get_position()
        per_x = box.width * fig.get_figwidth() / (x1 - x0)
        per_y = box.height * fig.get_figheight() / (y1 - y0)
        assert per_x == pytest.approx(per_y)
    # the big graph had to shrink to fit, and its text shrank with it
    assert max(t.get_fontsize() for t in left.texts) < max(t.get_fontsize() for t in right.texts)


def run_python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_agg_is_selected_before_pyplot_is_imported():
    # record which backend was set at the moment pyplot got imported
    out = run_python("""
        import sys, importlib.abc
        seen = []
        class Spy(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "matplotlib.pyplot":
                    import matplotlib
                    seen.append(dict.__getitem__(matplotlib.rcParams, "backend"))
                return None
        sys.meta_path.insert(0, Spy())
        import minigrad as mg
        from minigrad.draw import draw_graph
        x = mg.Tensor([1.0], requires_grad=True)
        draw_graph(x.exp())
        print(seen[0])
    """)
    assert out.lower() == "agg"


def test_a_backend_chosen_by_the_user_is_kept():
    out = run_python("""
        import matplotlib
        matplotlib.use("svg")
        import minigrad as mg
        from minigrad.draw import draw_graph
        draw_graph(mg.Tensor([1.0], requires_grad=True).exp())
        print(matplotlib.get_backend())
    """)
    assert out.lower() == "svg"


# ---------------------------------------------------------------- the layout's building blocks


def test_closest_spaced_positions_keep_the_spacing_and_fit_in_least_squares():
    from minigrad.layout import closest_spaced, isotonic

    assert closest_spaced([0.0, 5.0, 9.0], [1.0, 1.0]) == [0.0, 5.0, 9.0]  # already spaced
    assert closest_spaced([0.0, 0.0], [2.0]) == [-1.0, 1.0]  # pushed apart symmetrically
    rng = np.random.default_rng(0)
    targets, seps = list(rng.normal(size=6)), list(rng.uniform(0.5, 1.0, 5))
    x = np.array(closest_spaced(targets, seps))
    assert np.all(np.diff(x) >= np.array(seps) - 1e-12)
    # no feasible small move lowers the squared distance to the targets
    best = np.sum((x - targets) ** 2)
    for _ in range(200):
        y = x + rng.normal(scale=0.05, size=6)
        if np.all(np.diff(y) >= np.array(seps)):
            assert np.sum((y - targets) ** 2) >= best - 1e-12
    assert isotonic([3.0, 1.0, 2.0]) == [2.0, 2.0, 2.0]
