"""Memory: training does not leak, backward() frees the graph, no_grad records nothing.

* 10,000 steps of the benchmark's tiny workload (softmax regression, float32) grow the
  memory traced by ``tracemalloc`` by less than 1 MB, measured after a warm-up with the
  garbage collector run at both ends; a deliberate leak of one small object per step is
  caught by the same measurement (so the test can fail).
* After ``backward()`` without ``retain_graph``, once the user drops their names, no
  intermediate array of the graph is referenced any more (``weakref``): not the logits,
  not the arrays saved by the backward rules (the softmax probabilities, ...).
* Under ``no_grad`` no ``Node`` is created, results carry no graph, and forward ops
  that build gradient masks (max, clip, maximum) build none.
"""

from __future__ import annotations

import gc
import importlib
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F
from minigrad.autograd import Node

tensor_module = importlib.import_module("minigrad.tensor")  # (minigrad.tensor is also a function)

STEPS = 10_000
LIMIT = 1_000_000  # bytes


def tiny_problem(seed: int = 0):
    """The benchmark's tiny size: 32 samples, 2 features, 3 classes, float32."""
    rng = np.random.default_rng(seed)
    X = mg.Tensor(rng.standard_normal((32, 2)).astype(np.float32))
    y = mg.Tensor(rng.integers(0, 3, 32))
    W = mg.Tensor((rng.standard_normal((2, 3)) * 0.01).astype(np.float32), requires_grad=True)
    b = mg.Tensor(np.zeros(3, np.float32), requires_grad=True)
    return X, y, W, b


def traced_growth(step, steps: int) -> int:
    """Bytes still allocated (as traced by tracemalloc) after ``steps`` calls of ``step``
    that were not allocated before them; measured after a warm-up, with gc at both ends."""
    for _ in range(200):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(steps):
            step()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


def training_step():
    X, y, W, b = tiny_problem()
    opt = mg.optim.SGD([W, b], lr=0.1)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(X @ W + b, y)
        loss.backward()
        opt.step()

    return step, W


def test_ten_thousand_training_steps_grow_traced_memory_by_less_than_1_mb():
    step, W = training_step()
    growth = traced_growth(step, STEPS)
    assert growth < LIMIT, f"{STEPS} steps kept {growth} bytes"
    assert np.isfinite(W.data).all() and W.grad is not None  # the steps did train


def test_the_measurement_catches_a_leak_of_one_small_object_per_step():
    step, _ = training_step()
    kept = []

    def leaking_step():
        step()
        kept.append(np.zeros(16))  # ~130 bytes per step: 1.3 MB over 10,000 steps

    assert traced_growth(leaking_step, STEPS) >= LIMIT


def test_tensor_and_node_counts_do_not_grow_over_training():
    step, _ = training_step()

    def live_counts():
        gc.collect()
        objects = gc.get_objects()
        return (sum(isinstance(o, mg.Tensor) for o in objects), sum(isinstance(o, Node) for o in objects))

    for _ in range(50):
        step()
    before = live_counts()
    for _ in range(500):
        step()
    assert live_counts() == before


# ---------------------------------------------------------------- backward frees the graph


def saved_arrays(t: mg.Tensor) -> list[np.ndarray]:
    """The numpy arrays that the backward rule of ``t`` keeps in its closure."""
    contents = []
    for cell in t._node.backward.__closure__ or ():
        try:
            contents.append(cell.cell_contents)
        except ValueError:  # a cell whose variable was never assigned
            pass
    return [c for c in contents if isinstance(c, np.ndarray)]


def test_after_backward_no_intermediate_array_of_the_graph_is_referenced():
    X, y, W, b = tiny_problem()
    mm = X @ W
    logits = mm + b
    loss = F.cross_entropy(logits, y)
    saved = saved_arrays(loss)
    assert len(saved) >= 2  # the probabilities p and the target positions, at least
    refs = [weakref.ref(a) for a in [mm.data, logits.data, *saved]]
    tensor_refs = [weakref.ref(t) for t in (mm, logits)]
    del saved
    loss.backward()
    del mm, logits
    assert [r() is None for r in refs] == [True] * len(refs)  # freed at once, no gc needed
    assert all(r() is None for r in tensor_refs)
    assert W.grad is not None and b.grad is not None and loss.item() > 0


def test_with_retain_graph_the_arrays_stay_until_the_last_backward():
    X, y, W, b = tiny_problem()
    logits = X @ W + b
    loss = F.cross_entropy(logits, y)
    refs = [weakref.ref(a) for a in [logits.data, *saved_arrays(loss)]]
    loss.backward(retain_graph=True)
    del logits
    assert all(r() is not None for r in refs)  # kept for a second backward: the check can fail
    loss.backward()
    assert all(r() is None for r in refs)


def test_mlp_and_composed_loss_graphs_are_freed_too():
    rng = np.random.default_rng(1)
    X = mg.Tensor(rng.standard_normal((8, 4)).astype(np.float32))
    y = rng.integers(0, 3, 8)
    W1 = mg.Tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    W2 = mg.Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    for loss_fn in (F.cross_entropy, F.cross_entropy_composed):
        h = (X @ W1).relu()
        logits = h @ W2
        loss = loss_fn(logits, y)
        intermediates = []  # every tensor of the graph but the loss and the leaves
        stack = [loss]
        while stack:
            t = stack.pop()
            if t._node is not None:
                stack.extend(t._node.inputs)
                if t is not loss:
                    intermediates.append(t)
        refs = [weakref.ref(t.data) for t in intermediates]
        assert len(refs) >= 3
        del intermediates, t, stack, h, logits
        loss.backward()
        alive = [r() for r in refs if r() is not None]
        assert alive == [], f"{loss_fn.__name__}: {len(alive)} arrays still referenced"


# ---------------------------------------------------------------- no_grad records nothing


class CountingNode(Node):
    __slots__ = ()
    made = 0

    def __init__(self, *args) -> None:
        super().__init__(*args)
        CountingNode.made += 1


@pytest.fixture
def count_nodes(monkeypatch):
    monkeypatch.setattr(tensor_module, "Node", CountingNode)  # record() builds its nodes with this
    CountingNode.made = 0
    return CountingNode


def test_no_grad_inference_creates_no_node_and_no_graph(count_nodes):
    X, y, W, b = tiny_problem()
    logits = X @ W + b
    loss = F.cross_entropy(logits, y)
    assert count_nodes.made == 3  # matmul, add, cross_entropy: the counter sees them
    count_nodes.made = 0
    with mg.no_grad():
        logits = X @ W + b
        probs = F.softmax(logits)
        loss = F.cross_entropy(logits, y)
    assert count_nodes.made == 0
    for t in (logits, probs, loss):
        assert t._node is None and not t.requires_grad


def test_no_grad_inference_keeps_nothing_but_its_results():
    rng = np.random.default_rng(3)
    X = mg.Tensor(rng.standard_normal((1000, 8)))
    W = mg.Tensor(rng.standard_normal((8, 10)), requires_grad=True)
    b = mg.Tensor(np.zeros(10), requires_grad=True)

    def kept_by(infer) -> tuple[int, mg.Tensor]:
        infer()
        gc.collect()
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            result = infer()
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return after - before, result

    def without_grad():
        with mg.no_grad():
            return F.softmax(X @ W + b)

    kept, result = kept_by(without_grad)
    assert result._node is None
    size = result.data.nbytes  # 80 kB; each intermediate of the graph would be as large
    assert kept < size + 4096  # the probabilities, their Tensor, and small change
    kept_with_graph, result = kept_by(lambda: F.softmax(X @ W + b))
    assert result._node is not None and kept_with_graph > 2 * size  # the check can fail


@pytest.mark.parametrize(
    "op",
    [lambda x: x.max(axis=0), lambda x: x.min(), lambda x: x.clip(-0.5, 0.5), lambda x: mg.maximum(x, 0.0)],
    ids=["max", "min", "clip", "maximum"],
)
def test_forward_without_grad_builds_no_gradient_mask(op):
    x = mg.Tensor(np.random.default_rng(2).standard_normal((1000, 1000)))  # 8 MB of float64
    op(x)  # warm-up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = op(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the output alone (at most 8 MB); a boolean mask would add 1 MB, a float share 8 MB
    assert peak < out.data.nbytes + 500_000
