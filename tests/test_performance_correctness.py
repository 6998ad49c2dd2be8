"""The engine's and the losses' invariants, held against a reference: another way to the
same number (weights of one, the create_graph path, a composed or closed-form numpy
computation); equality is exact (``assert_array_equal``) wherever the arithmetic is the
same, and aliasing is checked with ``np.shares_memory``. The speed itself is measured
only in ``benchmarks/``.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import functional as F
from minigrad.tensor import record

tensor_module = importlib.import_module("minigrad.tensor")
DTYPES = [np.float32, np.float64]


def leaf(array, dtype=None) -> mg.Tensor:
    return mg.Tensor(np.asarray(array, dtype=dtype), requires_grad=True)


# ====================================================================== cross-entropy fast path


def ce_case(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    target = rng.integers(0, shape[-1], shape[:-1])
    return logits, target


def ce_loss_and_grad(logits, target, grad=None, **kwargs):
    x = leaf(logits)
    loss = F.cross_entropy(x, target, **kwargs)
    loss.backward(grad)
    return loss.data, x.grad.data


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(7, 4), (3, 5, 4), (4,), (1, 70)], ids=str)
def test_plain_cross_entropy_equals_the_general_path_bit_for_bit(dtype, reduction, shape):
    logits, target = ce_case(shape, dtype)
    seed = None
    if reduction == "none" and len(shape) > 1:
        seed = np.random.default_rng(1).standard_normal(shape[:-1]).astype(dtype)
    elif reduction == "none":
        seed = np.asarray(0.7, dtype)
    plain = ce_loss_and_grad(logits, target, seed, reduction=reduction)
    # a weight of ones is the same loss, but takes the general path (per-sample weights)
    general = ce_loss_and_grad(logits, target, seed, reduction=reduction, weight=np.ones(shape[-1]))
    for a, b in zip(plain, general):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_cross_entropy_is_p_minus_y_over_n_and_matches_the_composed_loss(dtype):
    logits, target = ce_case((9, 5), dtype, seed=2)
    loss, grad = ce_loss_and_grad(logits, target)
    x64 = logits.astype(np.float64)
    p = np.exp(x64 - x64.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(5)[target]
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(grad, (p - onehot) / 9, atol=tol)
    np.testing.assert_allclose(loss, -np.log(p[np.arange(9), target]).mean(), rtol=tol)
    composed = leaf(x64)
    F.cross_entropy_composed(composed, target).backward()
    if dtype == np.float64:
        np.testing.assert_allclose(grad, composed.grad.data, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_cross_entropy_stays_finite_at_logits_of_1e4(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 1e4, 1e4]], dtype)
    loss, grad = ce_loss_and_grad(logits, np.array([0, 1, 2]))
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    np.testing.assert_allclose(loss, (0 + 2e4 + np.log(2)) / 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_create_graph_backward_gives_the_same_first_derivative(dtype):
    logits, target = ce_case((6, 4), dtype, seed=3)
    x = leaf(logits)
    F.cross_entropy(x, target).backward(create_graph=True)
    assert x.grad.requires_grad  # built from graph nodes: differentiable again
    np.testing.assert_array_equal(x.grad.data, ce_loss_and_grad(logits, target)[1])


def test_cross_entropy_hessian_is_still_diag_p_minus_p_p_transposed():
    x = np.array([0.3, -1.2, 2.0, 0.5])
    h = mg.hessian(lambda t: F.cross_entropy(t, np.array(2)), x)
    p = np.exp(x - x.max())
    p /= p.sum()
    np.testing.assert_allclose(h, np.diag(p) - np.outer(p, p), atol=1e-10)


def test_ignore_index_inside_the_class_range_takes_the_general_path_and_is_right():
    logits, target = ce_case((8, 3), np.float64, seed=4)
    target[:3] = 1
    for ignore in (1, -1):
        fused = ce_loss_and_grad(logits, target, ignore_index=ignore)
        x = leaf(logits)
        loss = F.cross_entropy_composed(x, target, ignore_index=ignore)
        loss.backward()
        np.testing.assert_allclose(fused[0], loss.data, rtol=1e-12)
        np.testing.assert_allclose(fused[1], x.grad.data, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_plain_cross_entropy_scales_an_upstream_gradient_like_the_general_path(dtype, reduction):
    logits, target = ce_case((7, 4), dtype, seed=5)
    seed = np.asarray(0.3, dtype)  # not 1: the one factor for every sample, g / N, is rounded in dtype
    plain = ce_loss_and_grad(logits, target, seed, reduction=reduction)
    general = ce_loss_and_grad(logits, target, seed, reduction=reduction, weight=np.ones(4))
    for a, b in zip(plain, general):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_record_builds_the_same_blank_tensor_as_wrap_and_the_constructor():
    data = np.arange(3.0)
    made = [tensor_module.Tensor._wrap(data), record(data, (), "op", None), mg.Tensor(data)]
    slots = [s for s in mg.Tensor.__slots__ if s not in ("_data", "__weakref__")]
    for t in made:  # every slot is set (no AttributeError), to the same default
        assert [getattr(t, s) for s in slots] == [getattr(made[0], s) for s in slots]
        np.testing.assert_array_equal(t.data, data)
    assert made[1].data is data and made[0].data is data  # op results wrap without a copy


def test_matmul_checks_shapes_only_when_numpy_refuses_them_and_says_why():
    with pytest.raises(ValueError, match=r"matmul: shapes \(4, 3\) and \(2, 5\) do not align \(3 != 2\)"):
        mg.Tensor(np.ones((4, 3))) @ mg.Tensor(np.ones((2, 5)))
    with pytest.raises(ValueError):  # batch axes 2 and 3 do not broadcast: numpy's own message
        mg.Tensor(np.ones((2, 4, 3))) @ mg.Tensor(np.ones((3, 3, 5)))
    x, w = leaf(np.ones((2, 4, 3))), leaf(np.ones((1, 3, 5)))
    (x @ w).sum().backward()  # broadcast batch axes: the engine sums w's gradient back to (1, 3, 5)
    assert x.grad.shape == (2, 4, 3) and w.grad.shape == (1, 3, 5)
    np.testing.assert_array_equal(w.grad.data, np.full((1, 3, 5), 8.0))


@given(
    st.lists(st.integers(-4, 8), max_size=12),
    st.sampled_from([-100, -1, 0, 2, 5, 7]),
    st.sampled_from([np.int64, np.int32, np.int8]),
)
@settings(max_examples=50, deadline=None)
def test_target_check_agrees_with_the_elementwise_definition(values, ignore, dtype):
    n_classes = 5
    t = np.asarray(values, dtype=dtype).astype(np.int64)
    valid_class = (t >= 0) & (t < n_classes)
    logits = np.zeros((t.size, n_classes))
    if np.all(valid_class | (t == ignore)):
        losses = F.cross_entropy(logits, t, ignore_index=ignore, reduction="none").data
        np.testing.assert_allclose(losses, np.where(t == ignore, 0.0, np.log(n_classes)))
    else:
        first_bad = t[~valid_class & (t != ignore)][0]
        with pytest.raises(ValueError, match=f"class index {first_bad},"):
            F.cross_entropy(logits, t, ignore_index=ignore)


def test_reduce_means_over_every_entry_of_a_2d_loss():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((4, 3)), (rng.random((4, 3)) > 0.5).astype(float)
    loss = F.binary_cross_entropy_with_logits(x, y)
    by_hand = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(loss.data, by_hand.mean(), rtol=1e-12)
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(x, y, reduction="sum").data, by_hand.sum(), rtol=1e-12
    )


# ====================================================================== optimizers in place


def sgd_reference(p, g, state, lr, momentum, weight_decay, nesterov):
    """The update as written before the in-place rewrite (a new array at every operation)."""
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        b = state.get("b")
        b = state["b"] = g.copy() if b is None else momentum * b + g
        g = g + momentum * b if nesterov else b
    return p - lr * g


def adam_reference(p, g, state, lr, betas, eps, weight_decay):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * p
    m = state["m"] = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", np.zeros_like(p)) + (1 - beta2) * (g * g)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


SGD_SETTINGS = [
    dict(momentum=0.0, weight_decay=0.0, nesterov=False),
    dict(momentum=0.0, weight_decay=0.01, nesterov=False),
    dict(momentum=0.9, weight_decay=0.0, nesterov=False),
    dict(momentum=0.9, weight_decay=0.01, nesterov=True),
]


def run_steps(make_opt, reference, dtype, steps=5):
    rng = np.random.default_rng(6)
    p = mg.Tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=True)
    expected, state = p.data.copy(), {}
    opt = make_opt([p])
    for _ in range(steps):
        g = rng.standard_normal((3, 4)).astype(dtype)
        p.grad = mg.Tensor(g)
        opt.step()
        expected = reference(expected, g, state)
        np.testing.assert_array_equal(p.data, expected)
        assert p.data.dtype == dtype
        np.testing.assert_array_equal(p.grad.data, g)  # the gradient is read, never written
        for buffer in opt.state[0].values():
            if isinstance(buffer, np.ndarray):
                assert not np.shares_memory(buffer, p.grad.data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", SGD_SETTINGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_in_place_update_equals_the_formula_exactly(dtype, kw):
    run_steps(
        lambda ps: mg.optim.SGD(ps, lr=0.1, **kw), lambda p, g, s: sgd_reference(p, g, s, 0.1, **kw), dtype
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_in_place_update_equals_the_formula_exactly(dtype, weight_decay):
    run_steps(
        lambda ps: mg.optim.Adam(ps, lr=0.01, weight_decay=weight_decay),
        lambda p, g, s: adam_reference(p, g, s, 0.01, (0.9, 0.999), 1e-8, weight_decay),
        dtype,
    )


def test_sgd_momentum_buffer_is_not_the_gradient_and_survives_a_step():
    p = mg.Tensor(np.ones(3), requires_grad=True)
    opt = mg.optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = mg.Tensor(np.array([1.0, 2.0, 3.0]))
    opt.step()
    buffer = opt.state[0]["momentum_buffer"]
    assert not np.shares_memory(buffer, p.grad.data)
    np.testing.assert_array_equal(buffer, [1.0, 2.0, 3.0])  # not scaled by lr in place
    np.testing.assert_array_equal(p.data, [0.5, 0.0, -0.5])


# ====================================================================== the engine: no aliasing


def assert_separate(*arrays):
    for i, a in enumerate(arrays):
        for b in arrays[i + 1 :]:
            assert not np.shares_memory(a, b)


def test_leaf_gradients_never_share_memory_with_the_seed_or_each_other():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = mg.Tensor([1.0, -1.0])
    (x + y).backward(seed)
    assert_separate(x.grad.data, y.grad.data, seed.data)
    x.grad.data *= 0  # editing one gradient in place changes nothing else
    np.testing.assert_array_equal(y.grad.data, [1.0, -1.0])
    np.testing.assert_array_equal(seed.data, [1.0, -1.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.reshape(2, 2),
        lambda x: x.T,
        lambda x: x[::1],
        lambda x: x.swapaxes(0, 1),
        lambda x: x + x,
        lambda x: x * 1.0,
    ],
    ids=["reshape", "T", "slice", "swapaxes", "x+x", "x*1"],
)
def test_views_and_passed_through_gradients_are_copied_into_grad(make):
    x = leaf(np.arange(4.0).reshape(2, 2))
    out = make(x)
    seed = mg.Tensor(np.ones(out.shape))
    out.backward(seed)
    assert_separate(x.grad.data, seed.data)
    assert x.grad.data.flags.writeable and x.grad.data.base is None


def test_a_gradient_shown_to_a_hook_is_never_stored_as_a_leaf_grad():
    x, w = leaf([1.0, 2.0]), leaf([0.5, -1.0])
    h = x * 2.0
    stash = []
    h.register_hook(stash.append)
    ((h + w) * mg.Tensor([3.0, 4.0])).sum().backward()  # mul's rule makes a fresh array
    (shown,) = stash
    assert_separate(shown.data, w.grad.data, x.grad.data)
    w.grad.data[:] = 0
    np.testing.assert_array_equal(shown.data, [3.0, 4.0])


def test_retained_intermediate_and_leaves_get_separate_arrays():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = x + y
    h.retain_grad()
    (h * mg.Tensor([5.0, 6.0])).sum().backward()
    assert_separate(h.grad.data, x.grad.data, y.grad.data)
    for t in (h, x, y):
        np.testing.assert_array_equal(t.grad.data, [5.0, 6.0])


def test_a_gradient_made_by_a_rule_or_shown_to_a_hook_is_stored_as_a_copy():
    made = []

    def scale(a):
        def backward(g, out):
            fresh = g.data * 2.0
            made.append(fresh)
            return (mg.Tensor._wrap(fresh),)

        return record(a.data * 2.0, (a,), "scale", backward)

    x = leaf([1.0, 2.0])
    scale(x).sum().backward()
    assert not np.shares_memory(x.grad.data, made[-1])  # the rule could keep its array
    y = leaf([1.0, 2.0])
    y.register_hook(lambda g: None)
    scale(y).sum().backward()
    assert y.grad.data is not made[-1] and not np.shares_memory(y.grad.data, made[-1])
    np.testing.assert_array_equal(y.grad.data, [2.0, 2.0])


@pytest.mark.parametrize("uses", [2, 3, 5])
def test_in_place_accumulation_equals_the_recorded_sums(uses):
    rng = np.random.default_rng(uses)
    x0 = rng.standard_normal(4)
    weights = [mg.Tensor(rng.standard_normal(4)) for _ in range(uses)]
    seed = rng.standard_normal(4)

    def grad_of_x(create_graph):
        x = leaf(x0)
        h = x * 1.5  # h feeds `uses` consumers: its gradient is accumulated
        out = sum((h * w for w in weights[1:]), h * weights[0])
        seed_t = mg.Tensor(seed.copy())
        out.backward(seed_t, create_graph=create_graph)
        np.testing.assert_array_equal(seed_t.data, seed)  # the seed is never written
        return x.grad.data

    in_place, recorded = grad_of_x(False), grad_of_x(True)
    np.testing.assert_array_equal(in_place, recorded)  # same additions, same order
    np.testing.assert_allclose(in_place, 1.5 * seed * sum(w.data for w in weights), rtol=1e-12)


def test_accumulated_gradient_shown_to_a_hook_is_not_changed_afterwards():
    x = leaf([1.0, 2.0])
    h = x * 1.0
    stash = []
    h.register_hook(stash.append)
    seed = mg.Tensor([1.0, 10.0])
    ((h + h) + h).backward(seed)  # h's gradient: g + g + g, summed by the engine
    np.testing.assert_array_equal(stash[0].data, [3.0, 30.0])
    np.testing.assert_array_equal(x.grad.data, [3.0, 30.0])
    np.testing.assert_array_equal(seed.data, [1.0, 10.0])
    assert_separate(stash[0].data, x.grad.data, seed.data)


def test_gradients_accumulate_across_calls_without_touching_earlier_grads():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    first = x.grad
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(first.data, [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])


# ====================================================================== cheaper ops, same numbers


@given(st.permutations(range(4)), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_transpose_backward_applies_the_inverse_permutation(perm, seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((2, 3, 4, 5)))
    out = x.transpose(*perm)
    np.testing.assert_array_equal(out.data, np.transpose(x.data, perm))
    w = rng.standard_normal(out.shape)
    (out * mg.Tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.transpose(w, np.argsort(perm)))


def test_transpose_still_rejects_a_non_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        leaf(np.ones((2, 3))).transpose(0, 0)


@pytest.mark.parametrize("axes", [(0, 1), (-1, -2), (0, 2), (1, 1)])
def test_swapaxes_is_its_own_backward(axes):
    w = np.random.default_rng(7).standard_normal((2, 3, 4))
    x = leaf(np.zeros((2, 3, 4)))
    out = x.swapaxes(*axes)
    assert out.op == "swapaxes" and out.shape == np.swapaxes(w, *axes).shape
    (out * mg.Tensor(np.swapaxes(w, *axes))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, w)


SUM_AXES = [None, 0, 1, 2, -1, (0,), (1,), (0, 1), (0, 2), (1, 2), (0, 1, 2), (), np.int64(1)]


@pytest.mark.parametrize("axis", SUM_AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_sum_and_mean_forward_and_backward_match_numpy(axis, keepdims, reduce):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x = leaf(a)
    out = getattr(x, reduce)(axis=axis, keepdims=keepdims)
    expected = getattr(a, reduce)(axis=axis, keepdims=keepdims)
    assert out.dtype == np.float32 and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    w = rng.standard_normal(out.shape).astype(np.float32)
    (out * mg.Tensor(w)).sum().backward()
    axes = tuple(range(3)) if axis is None else np.atleast_1d(axis) % 3
    kept = w if keepdims else np.expand_dims(w, tuple(int(i) for i in axes))
    n = 1 if reduce == "sum" else int(np.prod([a.shape[int(i)] for i in axes]))
    expected_grad = np.broadcast_to(kept * np.float32(1.0 / max(n, 1)) if n != 1 else kept, a.shape)
    np.testing.assert_array_equal(x.grad.data, expected_grad)


def test_sum_backward_needs_a_reshape_only_for_inner_axes():
    x = leaf(np.ones((2, 3)))
    s = x.sum(axis=1)  # the gradient (2,) must become (2, 1) before it broadcasts
    (s * mg.Tensor([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0] * 3, [2.0] * 3])


@given(
    st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=3), st.integers(0, 2), st.integers(0, 2**31 - 1)
)
@settings(max_examples=40, deadline=None)
def test_sum_to_size_undoes_any_broadcast(shape, extra_axes, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    big = tuple(rng.integers(1, 4, extra_axes)) + tuple(
        n if n != 1 else int(rng.integers(1, 4)) for n in shape
    )
    g = rng.standard_normal(big)
    got = mg.Tensor(g).sum_to_size(shape)
    lead = len(big) - len(shape)
    expected = g.sum(axis=tuple(range(lead))) if lead else g
    expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
    assert got.shape == shape
    np.testing.assert_allclose(got.data, expected.reshape(shape), rtol=1e-12)


@pytest.mark.parametrize(
    "op, grad",
    [
        (lambda x: x.max(), [0.0, 0.5, 0.5]),
        (lambda x: x.min(), [1.0, 0.0, 0.0]),
        (lambda x: x.clip(1.0, 2.0).sum(), [1.0, 0.0, 0.0]),
        (lambda x: mg.maximum(x, 3.0).sum(), [0.0, 0.5, 0.5]),
        (lambda x: mg.minimum(x, 3.0).sum(), [1.0, 0.5, 0.5]),
    ],
    ids=["max", "min", "clip", "maximum", "minimum"],
)
def test_masks_built_in_the_backward_pass_split_ties_as_before(op, grad):
    x = leaf([1.0, 3.0, 3.0])
    op(x).backward()
    np.testing.assert_array_equal(x.grad.data, grad)


@pytest.mark.parametrize("axis", [1, -1, (1,), np.int64(1), [1]], ids=str)
def test_every_way_of_naming_one_axis_gives_the_same_sum(axis):
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(mg.Tensor(a).sum(axis=axis).data, a.sum(axis=1))


@pytest.mark.parametrize(
    "tensor_dtype, scalar, expected",
    [
        (np.float32, 2.5, np.float32),
        (np.float32, 2, np.float32),
        (np.float32, np.float64(2.5), np.float32),
        (np.float64, True, np.float64),
        (np.int64, 2.5, np.float64),
        (np.int32, 3, np.int32),
    ],
)
def test_python_and_numpy_scalars_take_the_tensors_dtype(tensor_dtype, scalar, expected):
    t = mg.Tensor(np.ones(2, dtype=tensor_dtype))
    assert (t * scalar).dtype == expected and (scalar + t).dtype == expected


def test_wrap_gives_a_plain_ndarray_for_scalars_and_subclasses():
    assert type(mg.Tensor._wrap(np.float32(2.0)).data) is np.ndarray
    assert mg.Tensor._wrap(np.float32(2.0)).data.dtype == np.float32
    masked = np.ma.masked_array([1.0, 2.0])
    assert type(mg.Tensor._wrap(masked).data) is np.ndarray


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_implicit_seed_is_a_one_of_the_outputs_shape_and_dtype(shape, dtype):
    out = leaf(np.full(shape, 2.0, dtype)) * 3.0
    seen = []
    out.register_hook(lambda g: seen.append(g))
    out.backward()
    seed = seen[0]
    assert seed.shape == shape and seed.dtype == dtype and seed.data.item() == 1.0


MASKED_OPS = {
    "relu": (lambda x: x.relu(), lambda a, w: w * (a > 0)),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda a, w: w * ((a >= -0.5) & (a <= 0.5))),
    "where": (lambda x: mg.where(x.data > 0, x, 0.0), lambda a, w: w * (a > 0)),
    "maximum": (lambda x: mg.maximum(x, 0.25), lambda a, w: w * (a > 0.25) + 0.5 * w * (a == 0.25)),
    "max axis 1": (
        lambda x: x.max(axis=1, keepdims=True),
        lambda a, w: (
            w
            * (a == a.max(axis=1, keepdims=True))
            / (a == a.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
        ),
    ),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("name", list(MASKED_OPS))
def test_boolean_mask_gradients_equal_the_float_mask_formula(name, ties, dtype):
    op, by_hand = MASKED_OPS[name]
    a = np.random.default_rng(9).standard_normal((4, 5)).astype(dtype)
    if ties:  # equal entries: a tie for the row max, values at the maximum's threshold
        a[0, :3] = 2.0
        a[1, 1] = 0.25
    x = leaf(a)
    out = op(x)
    w = np.random.default_rng(10).standard_normal(out.shape).astype(dtype)
    (out * mg.Tensor(w)).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(
        x.grad.data, np.broadcast_to(by_hand(a, w), a.shape).astype(dtype), rtol=1e-6, atol=0
    )
