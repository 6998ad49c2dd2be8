"""Blockwise attention (``block_size=``): the fused online-softmax op gives the dense path's
values and gradients (float64 to 1e-10, float32 within float32 rounding) for random shapes,
masks, causal, block sizes that do not divide L, fully masked rows; gradchecked with random
output weights; never forms an (Lq, Lk) array; clear errors for create_graph and bad input."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F

sdpa = F.scaled_dot_product_attention


def tensors(rng, *shapes, dtype=np.float64):
    return [mg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def value_and_grads(q, k, v, weights, **kwargs):
    """The output and d sum(weights * out) / d(q, k, v), for fresh copies of q, k, v."""
    q, k, v = (mg.Tensor(t.data.copy(), requires_grad=True) for t in (q, k, v))
    out = sdpa(q, k, v, **kwargs)
    (out * mg.Tensor(weights.astype(out.dtype))).sum().backward()
    return out, q.grad, k.grad, v.grad


def assert_same_as_dense(q, k, v, rng, atol=1e-10, **kwargs):
    block_size = kwargs.pop("block_size")
    dense = sdpa(q, k, v, **kwargs)
    weights = rng.standard_normal(dense.shape)
    want = value_and_grads(q, k, v, weights, **kwargs)
    got = value_and_grads(q, k, v, weights, block_size=block_size, **kwargs)
    for name, g, w in zip(("out", "dq", "dk", "dv"), got, want):
        assert g.shape == w.shape and g.dtype == w.dtype, name
        assert np.all(np.isfinite(g.data)), f"{name}: nan or inf"
        np.testing.assert_allclose(g.data, w.data, rtol=0, atol=atol, err_msg=name)
    return got


# ---------------------------------------------------------------- against the dense path


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 7, 64])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_dense_values_and_gradients(block_size, causal, masked):
    rng = np.random.default_rng(block_size + 10 * causal + 100 * masked)
    q, k, v = tensors(rng, (2, 3, 9, 4), (2, 3, 11, 4), (2, 3, 11, 5))  # 11 keys: blocks do not divide
    mask = None
    if masked:
        mask = rng.random((2, 1, 9, 11)) < 0.6
        mask[0, 0, 4] = False  # a fully masked query
    assert_same_as_dense(q, k, v, rng, mask=mask, causal=causal, block_size=block_size)


@settings(max_examples=60, deadline=None)
@given(
    batch=st.integers(1, 3),
    lq=st.integers(1, 9),
    lk=st.integers(1, 13),
    d=st.integers(1, 5),
    dv=st.integers(1, 4),
    causal=st.booleans(),
    block_size=st.integers(1, 15),
    mask_kind=st.sampled_from([None, "keys", "pattern", "per-batch", "sparse"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_matches_dense(batch, lq, lk, d, dv, causal, block_size, mask_kind, seed):
    rng = np.random.default_rng(seed)
    q, k, v = tensors(rng, (batch, lq, d), (batch, lk, d), (batch, lk, dv))
    mask = {
        None: None,
        "keys": rng.random(lk) < 0.7,
        "pattern": rng.random((lq, lk)) < 0.6,
        "per-batch": rng.random((batch, 1, lk)) < 0.6,
        "sparse": rng.random((batch, lq, lk)) < 0.2,
    }[mask_kind]  # many fully masked rows
    assert_same_as_dense(q, k, v, rng, mask=mask, causal=causal, block_size=block_size)


def test_broadcast_batch_axes_scale_and_a_mask_with_more_batch_axes():
    rng = np.random.default_rng(1)
    q, k, v = tensors(rng, (2, 3, 4, 5), (1, 3, 6, 5), (6, 7))
    assert_same_as_dense(q, k, v, rng, scale=0.3, causal=True, block_size=4)
    q, k, v = tensors(rng, (4, 3), (6, 3), (6, 5))
    got = assert_same_as_dense(q, k, v, rng, mask=rng.random((3, 4, 6)) < 0.6, block_size=4)
    assert got[0].shape == (3, 4, 5) and got[1].shape == (4, 3) and got[2].shape == (6, 3)


@pytest.mark.parametrize("mask", [np.array(True), np.array(False), np.ones((3, 1), bool)])
def test_masks_without_a_key_axis(mask):
    rng = np.random.default_rng(2)
    q, k, v = tensors(rng, (3, 2), (7, 2), (7, 3))
    assert_same_as_dense(q, k, v, rng, mask=mask, block_size=3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_masked_rows_give_zeros_and_no_nan(dtype):
    rng = np.random.default_rng(3)
    q, k, v = tensors(rng, (2, 5, 4), (2, 7, 4), (2, 7, 3), dtype=dtype)
    mask = np.ones((2, 5, 7), dtype=bool)
    mask[0, 1] = False
    mask[1] = False  # a batch entry with nothing to attend to
    out, dq, dk, dv = value_and_grads(q, k, v, rng.standard_normal((2, 5, 3)), mask=mask, block_size=3)
    assert out.dtype == dq.dtype == dk.dtype == dv.dtype == dtype
    for t in (out, dq, dk, dv):
        assert np.all(np.isfinite(t.data))
    assert np.all(out.data[0, 1] == 0) and np.all(out.data[1] == 0)
    assert np.all(dq.data[0, 1] == 0) and np.all(dq.data[1] == 0)
    assert np.all(dk.data[1] == 0) and np.all(dv.data[1] == 0)
    assert np.any(dq.data[0, 0] != 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_stay_finite_and_match_dense(dtype):
    rng = np.random.default_rng(4)
    q, k, v = tensors(rng, (6, 4), (9, 4), (9, 2), dtype=dtype)
    q.data *= 300
    k.data *= 300
    assert np.abs(q.data @ k.data.T).max() / 2 > 1e4
    weights = rng.standard_normal((6, 2))
    want = value_and_grads(q, k, v, weights, causal=True)
    got = value_and_grads(q, k, v, weights, causal=True, block_size=2)
    for g, w in zip(got, want):
        assert np.all(np.isfinite(g.data))
        scale = max(1.0, float(np.abs(w.data).max()))
        np.testing.assert_allclose(g.data, w.data, rtol=0, atol=64 * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("magnitude", [1.0, 10.0, 300.0])
def test_float32_in_float32_out_within_float32_rounding(magnitude, seed):
    # both float32 paths are compared with the float64 answer on the same inputs: the
    # blockwise error is of the size of the dense path's own. At magnitude 10 to 300 the
    # scores reach 1e2 to 1e5, where float32 numbers are up to 0.008 apart: the saved
    # logsumexp must keep its precision (it is saved as m and log s, not as their sum)
    rng = np.random.default_rng(seed)
    q, k, v = tensors(rng, (2, 16, 8), (2, 21, 8), (2, 21, 6), dtype=np.float32)
    q.data *= magnitude
    k.data *= magnitude
    mask = rng.random((2, 16, 21)) < 0.7
    weights = rng.standard_normal((2, 16, 6))
    q64, k64, v64 = (mg.Tensor(t.data.astype(np.float64)) for t in (q, k, v))
    exact = value_and_grads(q64, k64, v64, weights, mask=mask, causal=True)
    dense = value_and_grads(q, k, v, weights, mask=mask, causal=True)
    block = value_and_grads(q, k, v, weights, mask=mask, causal=True, block_size=5)
    eps = np.finfo(np.float32).eps
    # dQ and dK are dS K / sqrt(d) and dS^T Q / sqrt(d), with dS = P (dP - D) and dP, D of
    # the size |dO| |v|: float32 rounds dP - D to about eps |dO| |v|, times |k| / sqrt(d)
    # (or |q| / sqrt(d)). Where the weights are one-hot, that rounding is all there is of
    # dQ (the dense path's softmax backward gets an exact 0 there; D = rowsum(dO * O) does not)
    dp_size = float(np.abs(weights).max() * np.abs(v.data).max()) / np.sqrt(8)
    floors = {
        "out": 0.0,
        "dv": 0.0,
        "dq": eps * dp_size * float(np.abs(k.data).max()),
        "dk": eps * dp_size * float(np.abs(q.data).max()),
    }
    for name, b, d, e in zip(("out", "dq", "dk", "dv"), block, dense, exact):
        assert b.dtype == np.float32, name
        scale = float(np.abs(e.data).max())
        err_block = float(np.abs(b.data - e.data).max())
        err_dense = float(np.abs(d.data - e.data).max())
        if magnitude == 1.0:
            assert err_block <= 64 * eps * scale, (name, err_block, err_dense)
        assert err_block <= 4 * max(err_dense, eps * scale, floors[name]), (name, err_block, err_dense)


# ---------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("block_size", [1, 2, 4])
@pytest.mark.parametrize("causal", [False, True])
def test_gradcheck_with_random_output_weights(causal, block_size):
    rng = np.random.default_rng(6)
    q, k, v = tensors(rng, (2, 4, 3), (2, 5, 3), (2, 5, 2))
    mask = rng.random((2, 4, 5)) < 0.6
    mask[1, 2] = False
    assert mg.gradcheck(
        lambda q, k, v: sdpa(q, k, v, mask=mask, causal=causal, block_size=block_size),
        [q, k, v],
        seed=block_size,
    )


# ---------------------------------------------------------------- second order


def test_create_graph_through_the_blockwise_path_is_a_clear_error():
    rng = np.random.default_rng(8)
    q, k, v = tensors(rng, (3, 2), (4, 2), (4, 2))
    loss = (sdpa(q, k, v, block_size=2) ** 2).sum()
    with pytest.raises(RuntimeError, match="block_size=None for second derivatives"):
        mg.grad(loss, [q], create_graph=True)
    # first order works, and the dense path gives second derivatives
    (gq,) = mg.grad((sdpa(q, k, v, block_size=2) ** 2).sum(), [q])
    (gq_dense,) = mg.grad((sdpa(q, k, v) ** 2).sum(), [q], create_graph=True)
    np.testing.assert_allclose(gq.data, gq_dense.data, rtol=0, atol=1e-12)
    assert gq_dense.requires_grad


# ---------------------------------------------------------------- memory


def test_no_lq_by_lk_array_is_ever_formed():
    # L = 1024, block 32: the (L, L) float64 scores alone would be 8 MB; forward and
    # backward together must stay far below that (the dense path does not)
    rng = np.random.default_rng(9)
    n, block = 1024, 32
    q, k, v = tensors(rng, (n, 8), (n, 8), (n, 8))
    weights = mg.Tensor(rng.standard_normal((n, 8)))

    def peak(block_size):
        for t in (q, k, v):
            t.grad = None
        tracemalloc.start()
        try:
            (sdpa(q, k, v, causal=True, block_size=block_size) * weights).sum().backward()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    full = n * n * 8
    assert peak(None) > full  # the measurement sees the dense path's (L, L) arrays
    assert peak(block) < full / 4


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("block_size", [0, -3, 2.5, True, "4", np.float64(2)])
def test_bad_block_size_is_a_clear_error(block_size):
    q = np.ones((3, 2))
    with pytest.raises(ValueError, match="block_size must be a positive int"):
        sdpa(q, q, q, block_size=block_size)


def test_return_weights_with_block_size_is_a_clear_error():
    q = np.ones((3, 2))
    with pytest.raises(ValueError, match="never forms"):
        sdpa(q, q, q, block_size=2, return_weights=True)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"mask": np.ones((3, 5))}, TypeError, "mask must be boolean"),
        ({"mask": np.ones((3, 4), bool)}, ValueError, "does not broadcast"),
        ({"causal": "yes"}, TypeError, "causal must be True or False"),
    ],
)
def test_mask_and_causal_are_checked_on_the_blockwise_path_too(kwargs, error, match):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in ((3, 4), (5, 4), (5, 2)))
    with pytest.raises(error, match=match):
        sdpa(q, k, v, block_size=2, **kwargs)
