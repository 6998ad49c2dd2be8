"""scaled_dot_product_attention: against a numpy reference, gradchecked, masks and causal,
fully masked rows (zeros, no NaN, forward and backward), float32, and bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.attention import causal_mask, scaled_dot_product_attention

sdpa = scaled_dot_product_attention


def reference(q, k, v, mask=None, causal=False):
    """Plain numpy: softmax over the keys a query may attend to, 0 weights if none."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    allowed = np.ones(scores.shape[-2:], dtype=bool) if mask is None else np.asarray(mask)
    if causal:
        lq, lk = scores.shape[-2:]
        allowed = allowed & (np.arange(lk)[None, :] <= np.arange(lq)[:, None])
    shape = np.broadcast_shapes(scores.shape, allowed.shape)
    scores, allowed = np.broadcast_to(scores, shape), np.broadcast_to(allowed, shape)
    weights = np.zeros(shape)
    for idx in np.ndindex(shape[:-1]):
        row, ok = scores[idx], allowed[idx]
        if ok.any():
            e = np.exp(row[ok] - row[ok].max())
            weights[idx][ok] = e / e.sum()
    return weights @ v, weights


def tensors(rng, *shapes, dtype=np.float64):
    return [mg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


# ---------------------------------------------------------------- forward values


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_numpy_reference(masked, causal):
    rng = np.random.default_rng(1)
    q, k, v = tensors(rng, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))
    mask = rng.random((2, 1, 4, 6)) < 0.7 if masked else None
    out, weights = sdpa(q, k, v, mask=mask, causal=causal, return_weights=True)
    want_out, want_w = reference(q.data, k.data, v.data, mask, causal)
    assert out.shape == (2, 3, 4, 7) and weights.shape == (2, 3, 4, 6)
    np.testing.assert_allclose(out.data, want_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights.data, want_w, rtol=0, atol=1e-12)


def test_weights_are_softmax_of_scaled_scores_and_rows_sum_to_one():
    rng = np.random.default_rng(2)
    q, k, v = tensors(rng, (3, 4), (5, 4), (5, 2))
    out, w = sdpa(q, k, v, return_weights=True)
    scores = q.data @ k.data.T / 2.0  # sqrt(4)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(w.data, e / e.sum(axis=1, keepdims=True), rtol=0, atol=1e-13)
    np.testing.assert_allclose(w.data.sum(axis=-1), 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(out.data, w.data @ v.data, rtol=0, atol=1e-13)


def test_scale_argument_replaces_one_over_sqrt_d():
    rng = np.random.default_rng(3)
    q, k, v = tensors(rng, (3, 4), (5, 4), (5, 2))
    got = sdpa(q, k, v, scale=1.0).data
    want = reference(q.data * 2.0, k.data, v.data)[0]  # 1/sqrt(4) * 2 = 1
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_a_sharp_match_retrieves_its_value():
    # keys are orthogonal and the query is a large multiple of key 2: out is v[2]
    k = mg.Tensor(np.eye(4))
    v = mg.Tensor(np.arange(12.0).reshape(4, 3))
    out = sdpa(mg.Tensor(100.0 * np.eye(4)[[2]]), k, v)
    np.testing.assert_allclose(out.data, v.data[[2]], atol=1e-12)


def test_causal_query_sees_only_the_past():
    rng = np.random.default_rng(4)
    q, k, v = tensors(rng, (5, 3), (5, 3), (5, 2))
    _, w = sdpa(q, k, v, causal=True, return_weights=True)
    assert np.all(w.data[np.triu_indices(5, 1)] == 0)  # exactly zero above the diagonal
    assert w.data[0, 0] == 1.0
    # changing the future keys and values does not change the past outputs
    k2, v2 = k.data.copy(), v.data.copy()
    k2[3:], v2[3:] = 50.0, -7.0
    before = sdpa(q, k, v, causal=True).data
    after = sdpa(q, mg.Tensor(k2), mg.Tensor(v2), causal=True).data
    np.testing.assert_array_equal(before[:3], after[:3])
    assert not np.allclose(before[3:], after[3:])


def test_causal_mask_helper_and_rectangular_causal():
    np.testing.assert_array_equal(causal_mask(2, 3), [[True, False, False], [True, True, False]])
    rng = np.random.default_rng(5)
    q, k, v = tensors(rng, (3, 2), (5, 2), (5, 4))
    out, w = sdpa(q, k, v, causal=True, return_weights=True)
    want_out, want_w = reference(q.data, k.data, v.data, causal=True)
    np.testing.assert_allclose(w.data, want_w, atol=1e-12)
    np.testing.assert_allclose(out.data, want_out, atol=1e-12)


def test_causal_and_mask_combine_by_and():
    rng = np.random.default_rng(6)
    q, k, v = tensors(rng, (4, 3), (4, 3), (4, 2))
    keep = np.array([True, False, True, True])  # key padding: key 1 is never seen
    _, w = sdpa(q, k, v, mask=keep, causal=True, return_weights=True)
    allowed = causal_mask(4, 4) & keep
    assert np.all(w.data[~allowed] == 0)
    np.testing.assert_allclose(w.data.sum(axis=-1), 1.0, atol=1e-13)


@pytest.mark.parametrize("mask_shape", [(6,), (4, 6), (2, 1, 6), (2, 4, 6), (1, 1, 1)])
def test_mask_broadcasts_against_scores(mask_shape):
    rng = np.random.default_rng(7)
    q, k, v = tensors(rng, (2, 4, 3), (2, 6, 3), (2, 6, 5))
    mask = rng.random(mask_shape) < 0.6
    out, w = sdpa(q, k, v, mask=mask, return_weights=True)
    want_out, want_w = reference(q.data, k.data, v.data, mask)
    assert w.shape == (2, 4, 6)
    np.testing.assert_allclose(w.data, want_w, atol=1e-12)
    np.testing.assert_allclose(out.data, want_out, atol=1e-12)


def test_mask_with_more_batch_axes_broadcasts_the_output():
    rng = np.random.default_rng(8)
    q, k, v = tensors(rng, (4, 3), (6, 3), (6, 5))
    mask = rng.random((3, 4, 6)) < 0.6
    out = sdpa(q, k, v, mask=mask)
    assert out.shape == (3, 4, 5)
    np.testing.assert_allclose(out.data, reference(q.data, k.data, v.data, mask)[0], atol=1e-12)
    (out * mg.Tensor(rng.standard_normal(out.shape))).sum().backward()
    assert q.grad.shape == (4, 3) and k.grad.shape == (6, 3) and v.grad.shape == (6, 5)


def test_batch_axes_broadcast_like_matmul():
    rng = np.random.default_rng(9)
    q, k, v = tensors(rng, (2, 3, 4, 5), (1, 3, 6, 5), (6, 7))
    out = sdpa(q, k, v)
    assert out.shape == (2, 3, 4, 7)
    np.testing.assert_allclose(out.data, reference(q.data, k.data, v.data)[0], atol=1e-12)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_q_k_v(masked, causal):
    rng = np.random.default_rng(10)
    q, k, v = tensors(rng, (2, 4, 3), (2, 5, 3), (2, 5, 2))
    mask = None
    if masked:
        mask = rng.random((2, 4, 5)) < 0.6
        mask[0, 2] = False  # one fully masked query row as well
    assert mg.gradcheck(lambda q, k, v: sdpa(q, k, v, mask=mask, causal=causal), [q, k, v])
    assert mg.gradcheck(
        lambda q, k, v: sdpa(q, k, v, mask=mask, causal=causal, return_weights=True)[1], [q, k, v]
    )


def test_gradcheck_with_broadcast_batch_and_key_padding():
    rng = np.random.default_rng(11)
    q, k, v = tensors(rng, (2, 3, 4), (1, 5, 4), (5, 3))
    keep = np.array([True, True, False, True, False])
    assert mg.gradcheck(lambda q, k, v: sdpa(q, k, v, mask=keep, causal=True, scale=0.7), [q, k, v])


def test_gradient_against_closed_form():
    # dL/dv = W^T G;  dL/dW = G v^T;  dL/dS = W * (dL/dW - sum(dL/dW * W));  dL/dq = dL/dS k / sqrt(d)
    rng = np.random.default_rng(12)
    q, k, v = tensors(rng, (4, 3), (6, 3), (6, 2))
    mask = rng.random((4, 6)) < 0.7
    out, w = sdpa(q, k, v, mask=mask, return_weights=True)
    g = rng.standard_normal(out.shape)
    (out * mg.Tensor(g)).sum().backward()
    W = w.data
    dW = g @ v.data.T
    dS = W * (dW - (dW * W).sum(axis=1, keepdims=True)) / math.sqrt(3)
    np.testing.assert_allclose(v.grad.data, W.T @ g, atol=1e-12)
    np.testing.assert_allclose(q.grad.data, dS @ k.data, atol=1e-12)
    np.testing.assert_allclose(k.grad.data, dS.T @ q.data, atol=1e-12)


def test_masked_keys_get_no_gradient():
    rng = np.random.default_rng(13)
    q, k, v = tensors(rng, (2, 4, 3), (2, 5, 3), (2, 5, 2))
    keep = np.array([True, False, True, True, False])
    out = sdpa(q, k, v, mask=keep)
    (out * mg.Tensor(rng.standard_normal(out.shape))).sum().backward()
    assert np.all(k.grad.data[:, ~keep] == 0) and np.all(v.grad.data[:, ~keep] == 0)
    assert np.all(np.abs(k.grad.data[:, keep]) > 0)


# ---------------------------------------------------------------- fully masked rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_masked_row_gives_zeros_and_no_nan_forward_and_backward(dtype):
    rng = np.random.default_rng(14)
    q, k, v = tensors(rng, (2, 3, 4), (2, 5, 4), (2, 5, 2), dtype=dtype)
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[0, 1] = False  # query 1 of batch 0 may attend to nothing
    mask[1] = False  # batch 1: nothing at all
    out, w = sdpa(q, k, v, mask=mask, return_weights=True)
    assert np.all(out.data[0, 1] == 0) and np.all(w.data[0, 1] == 0)
    assert np.all(out.data[1] == 0) and np.all(w.data[1] == 0)
    np.testing.assert_allclose(w.data[0, [0, 2]].sum(axis=-1), 1.0, rtol=1e-6)
    loss = (out * mg.Tensor(rng.standard_normal(out.shape).astype(dtype))).sum() + (
        w * mg.Tensor(rng.standard_normal(w.shape).astype(dtype))
    ).sum()
    loss.backward()
    for t in (q, k, v):
        assert np.all(np.isfinite(t.grad.data)), "NaN or inf in a gradient"
    assert np.all(q.grad.data[0, 1] == 0)  # the empty row's query gets no gradient
    assert np.all(q.grad.data[1] == 0) and np.all(k.grad.data[1] == 0) and np.all(v.grad.data[1] == 0)
    assert np.any(q.grad.data[0, 0] != 0)  # ... while the others do


def test_causal_with_more_queries_than_keys_never_has_an_empty_row():
    # j <= i: every query sees at least key 0
    rng = np.random.default_rng(15)
    q, k, v = tensors(rng, (6, 2), (3, 2), (3, 2))
    _, w = sdpa(q, k, v, causal=True, return_weights=True)
    np.testing.assert_allclose(w.data.sum(axis=-1), 1.0, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_stay_finite(dtype):
    # scores of magnitude ~1e4 and more: the softmax shift keeps everything finite
    rng = np.random.default_rng(16)
    q, k, v = tensors(rng, (3, 4), (5, 4), (5, 2), dtype=dtype)
    q.data *= 300
    k.data *= 300
    mask = np.array([True, True, False, True, True])
    out, w = sdpa(q, k, v, mask=mask, causal=True, return_weights=True)
    assert np.abs(q.data @ k.data.T).max() / 2 > 1e4
    (out.sum() + (w * mg.Tensor(rng.standard_normal(w.shape).astype(dtype))).sum()).backward()
    for t in (out, w, q.grad, k.grad, v.grad):
        assert np.all(np.isfinite(t.data))


# ---------------------------------------------------------------- dtypes


def test_float32_in_float32_out_gradients_included():
    rng = np.random.default_rng(17)
    q, k, v = tensors(rng, (2, 3, 4), (2, 5, 4), (2, 5, 2), dtype=np.float32)
    mask = rng.random((2, 3, 5)) < 0.7
    out, w = sdpa(q, k, v, mask=mask, causal=True, return_weights=True)
    assert out.dtype == np.float32 and w.dtype == np.float32
    (out * mg.Tensor(rng.standard_normal(out.shape).astype(np.float32))).sum().backward()
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32
    want = reference(q.data, k.data, v.data, mask, causal=True)[0]
    np.testing.assert_allclose(out.data, want, rtol=1e-5, atol=1e-6)


def test_composes_with_create_graph():
    # the gradient is built from tensor ops, so it is differentiable again
    rng = np.random.default_rng(18)
    q, k, v = tensors(rng, (2, 3), (4, 3), (4, 2))
    (gq,) = mg.grad((sdpa(q, k, v) ** 2).sum(), [q], create_graph=True)
    assert gq.requires_grad

    def gradient_of_q(q):
        with mg.enable_grad():  # gradcheck evaluates under no_grad; the inner grad needs a graph
            return mg.grad((sdpa(q, k, v) ** 2).sum(), [q], create_graph=True)[0]

    assert mg.gradcheck(gradient_of_q, [q])


# ---------------------------------------------------------------- property test


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 3),
    lq=st.integers(1, 5),
    lk=st.integers(1, 5),
    d=st.integers(1, 4),
    dv=st.integers(1, 3),
    causal=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_matches_reference_and_rows_sum_to_one_or_zero(batch, lq, lk, d, dv, causal, seed):
    rng = np.random.default_rng(seed)
    q, k, v = tensors(rng, (batch, lq, d), (batch, lk, d), (batch, lk, dv))
    mask = rng.random((batch, lq, lk)) < 0.5
    out, w = sdpa(q, k, v, mask=mask, causal=causal, return_weights=True)
    want_out, want_w = reference(q.data, k.data, v.data, mask, causal)
    np.testing.assert_allclose(w.data, want_w, atol=1e-12)
    np.testing.assert_allclose(out.data, want_out, atol=1e-12)
    sums = w.data.sum(axis=-1)
    assert np.all(np.isclose(sums, 1.0) | (sums == 0))
    (out * mg.Tensor(rng.standard_normal(out.shape))).sum().backward()
    assert all(np.all(np.isfinite(t.grad.data)) for t in (q, k, v))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (((3, 4), (5, 3), (5, 2)), {}, ValueError, "same feature size"),
        (((3, 4), (5, 4), (6, 2)), {}, ValueError, "one row per key"),
        (((4,), (5, 4), (5, 2)), {}, ValueError, "at least 2 dimensions"),
        (((2, 3, 4), (3, 5, 4), (3, 5, 2)), {}, ValueError, "do not broadcast"),
        (((3, 4), (5, 4), (5, 2)), {"mask": np.ones((3, 5))}, TypeError, "mask must be boolean"),
        (((3, 4), (5, 4), (5, 2)), {"mask": np.ones((3, 4), bool)}, ValueError, "does not broadcast"),
        (((1, 4), (5, 4), (5, 2)), {"mask": np.ones((3, 5), bool)}, ValueError, "stretch"),
        (((3, 4), (5, 4), (5, 2)), {"causal": "yes"}, TypeError, "causal must be True or False"),
        (((3, 4), (5, 4), (5, 2)), {"scale": float("nan")}, ValueError, "scale must be a finite number"),
    ],
)
def test_bad_input_is_a_clear_error(args, kwargs, error, match):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in args)
    with pytest.raises(error, match=match):
        sdpa(q, k, v, **kwargs)


def test_integer_inputs_are_refused():
    with pytest.raises(TypeError, match="floating-point"):
        sdpa(np.ones((2, 2), dtype=np.int64), np.ones((2, 2)), np.ones((2, 2)))
