"""softmax, log_softmax, logsumexp, sigmoid and log_sigmoid: closed forms, stability,
masks, temperature, dtypes, and the fused ops held against their composed twins.

The losses are in test_functional_losses.py, the error messages in test_functional_errors.py.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import functional as F

TIGHT = dict(rtol=1e-10, atol=1e-10)
rng = np.random.default_rng(1234)


def ref_softmax(x, axis=-1):
    """Reference written from the formula, in float64 with the max shift."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def grad_of(fn, x, weights=None, **kw):
    """d sum(weights * fn(x)) / dx, and the output."""
    xt = mg.Tensor(x, requires_grad=True)
    out = fn(xt, **kw)
    w = np.ones(out.shape) if weights is None else weights
    (g,) = mg.grad(out, xt, grad_output=np.asarray(w, dtype=out.dtype))  # no 0 * -inf in a product
    return g, out


def with_kinks(x, r):
    """x with kink points: about a quarter of the entries exactly 0 (x = 0, and ties among
    them), and one entry copied onto another (a tie away from 0)."""
    x = np.array(x, dtype=float)
    flat = x.reshape(-1)
    flat[r.random(flat.size) < 0.25] = 0.0
    if flat.size >= 2:
        i, j = r.choice(flat.size, 2, replace=False)
        flat[j] = flat[i]
    return x


def all_finite(*arrays):
    return all(np.isfinite(np.asarray(a)).all() for a in arrays)


# ---------------------------------------------------------------- shapes for hypothesis

shapes_and_axes = st.integers(1, 3).flatmap(
    lambda nd: st.tuples(
        st.lists(st.integers(1, 4), min_size=nd, max_size=nd).map(tuple), st.integers(-nd, nd - 1)
    )
)


# ---------------------------------------------------------------- softmax


@settings(max_examples=30, deadline=None)
@given(shapes_and_axes, st.integers(0, 2**31 - 1))
def test_softmax_matches_reference_and_slices_sum_to_one(shape_axis, seed):
    shape, axis = shape_axis
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    p = F.softmax(mg.Tensor(x), axis=axis).data
    np.testing.assert_allclose(p, ref_softmax(x, axis), **TIGHT)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, **TIGHT)


def test_softmax_matches_scipy():
    from scipy import special  # scikit-learn (a dev dependency) requires scipy: never skipped

    x = rng.standard_normal((3, 5))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(
            F.softmax(mg.Tensor(x), axis=axis).data, special.softmax(x, axis=axis), **TIGHT
        )
        np.testing.assert_allclose(
            F.log_softmax(mg.Tensor(x), axis=axis).data, special.log_softmax(x, axis=axis), **TIGHT
        )
    np.testing.assert_allclose(F.logsumexp(mg.Tensor(x), axis=(0, 1)).data, special.logsumexp(x), **TIGHT)


@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
def test_softmax_jacobian_is_diag_p_minus_ppT(temperature):
    x = rng.standard_normal(5)
    p = ref_softmax(x / temperature)
    jac = mg.jacobian(lambda t: F.softmax(t, temperature=temperature), x)
    np.testing.assert_allclose(jac, (np.diag(p) - np.outer(p, p)) / temperature, **TIGHT)


def test_softmax_jacobian_along_axis_0_is_blockwise():
    x = rng.standard_normal((3, 2))
    jac = mg.jacobian(lambda t: F.softmax(t, axis=0), x)  # (3, 2, 3, 2)
    for col in range(2):
        p = ref_softmax(x[:, col])
        np.testing.assert_allclose(jac[:, col, :, col], np.diag(p) - np.outer(p, p), **TIGHT)
        np.testing.assert_allclose(jac[:, col, :, 1 - col], 0.0, atol=0)


def test_softmax_second_derivative_matches_composed():
    x = rng.standard_normal(4)
    w = rng.standard_normal(4)
    fused = mg.hessian(lambda t: (F.softmax(t) * mg.Tensor(w)).sum(), x)
    composed = mg.hessian(lambda t: (F.softmax_composed(t) * mg.Tensor(w)).sum(), x)
    np.testing.assert_allclose(fused, composed, **TIGHT)
    assert np.abs(fused).max() > 1e-3  # a real, non-zero curvature


def test_softmax_is_one_fused_node_and_composed_is_not():
    x = mg.Tensor(rng.standard_normal(4), requires_grad=True)
    p = F.softmax(x)
    assert p.op == "softmax" and p._node.inputs == (x,)
    q = F.softmax_composed(x)
    assert q.op == "div" and q._node.inputs[0] is not x


def test_softmax_invariant_to_adding_a_constant():
    x = rng.standard_normal((2, 5))
    for c in (-7.5, 3.0, 1e3):
        np.testing.assert_allclose(
            F.softmax(mg.Tensor(x + c)).data, F.softmax(mg.Tensor(x)).data, rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(
            F.log_softmax(mg.Tensor(x + c)).data, F.log_softmax(mg.Tensor(x)).data, rtol=1e-9, atol=1e-9
        )
        np.testing.assert_allclose(
            F.logsumexp(mg.Tensor(x + c), axis=1).data, F.logsumexp(mg.Tensor(x), axis=1).data + c, rtol=1e-12
        )


def test_softmax_of_z_and_0_is_sigmoid_of_z():
    z = np.linspace(-30, 30, 61)
    pair = np.stack([z, np.zeros_like(z)], axis=1)
    np.testing.assert_allclose(F.softmax(mg.Tensor(pair)).data[:, 0], F.sigmoid(mg.Tensor(z)).data, **TIGHT)


# ---------------------------------------------------------------- temperature


def test_temperature_to_zero_tends_to_one_hot_with_ties_sharing():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, -1.0, 4.0, 3.9]])
    for temperature in (1e-3, 1e-12, 1e-300):
        p = F.softmax(mg.Tensor(x), temperature=temperature).data
        assert all_finite(p)
        np.testing.assert_allclose(p, [[0, 0.5, 0.5, 0], [0, 0, 1, 0]], atol=1e-12)
    # the approach is monotone: the winner's share grows as T shrinks
    shares = [F.softmax(mg.Tensor(x[1]), temperature=t).data[2] for t in (10, 1, 0.1, 0.01)]
    assert all(a < b for a, b in zip(shares, shares[1:]))


def test_temperature_to_infinity_tends_to_uniform():
    x = rng.standard_normal((2, 6)) * 5
    p = F.softmax(mg.Tensor(x), temperature=1e9).data
    np.testing.assert_allclose(p, 1 / 6, atol=1e-8)
    gaps = [np.abs(F.softmax(mg.Tensor(x), temperature=t).data - 1 / 6).max() for t in (1, 10, 100)]
    assert gaps[0] > gaps[1] > gaps[2]


def test_temperature_equals_dividing_the_logits():
    x = rng.standard_normal((3, 4))
    for temperature in (0.3, 2.5):
        np.testing.assert_allclose(
            F.softmax(mg.Tensor(x), temperature=temperature).data, ref_softmax(x / temperature), **TIGHT
        )
        g1, _ = grad_of(F.log_softmax, x, weights=np.arange(12.0).reshape(3, 4), temperature=temperature)
        g2, _ = grad_of(
            lambda t, temp=temperature: F.log_softmax(t / temp), x, weights=np.arange(12.0).reshape(3, 4)
        )
        np.testing.assert_allclose(g1.data, g2.data, **TIGHT)


# ---------------------------------------------------------------- log_softmax


def test_log_softmax_jacobian_is_identity_minus_one_pT():
    x = rng.standard_normal(5)
    p = ref_softmax(x)
    jac = mg.jacobian(F.log_softmax, x)
    np.testing.assert_allclose(jac, np.eye(5) - np.outer(np.ones(5), p), **TIGHT)


def test_log_softmax_is_x_minus_logsumexp():
    x = rng.standard_normal((4, 3))
    expected = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(mg.Tensor(x)).data, expected, **TIGHT)
    np.testing.assert_allclose(np.exp(F.log_softmax(mg.Tensor(x), axis=0).data).sum(axis=0), 1.0, **TIGHT)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_finite_where_log_of_softmax_underflows(dtype):
    x = np.array([0.0, -200.0], dtype=dtype)
    out = F.log_softmax(mg.Tensor(x)).data
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [0.0, -200.0], rtol=1e-6)
    if dtype == np.float32:  # the naive route really does underflow there
        with np.errstate(divide="ignore"):
            naive = F.log_softmax_composed(mg.Tensor(x), stable=False).data
        assert naive[1] == -np.inf


def test_log_softmax_hessian_matches_composed():
    x = rng.standard_normal(4)
    w = rng.standard_normal(4)
    fused = mg.hessian(lambda t: (F.log_softmax(t, temperature=0.7) * mg.Tensor(w)).sum(), x)
    composed = mg.hessian(lambda t: (F.log_softmax_composed(t, temperature=0.7) * mg.Tensor(w)).sum(), x)
    np.testing.assert_allclose(fused, composed, **TIGHT)


# ---------------------------------------------------------------- logsumexp


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True), ((0, 1), True), (-1, True)])
def test_logsumexp_value_and_gradient_is_softmax(axis, keepdims):
    x = rng.standard_normal((3, 4))
    out = F.logsumexp(mg.Tensor(x), axis=axis, keepdims=keepdims)
    expected = np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, **TIGHT)
    weights = rng.standard_normal(out.shape)
    g, _ = grad_of(F.logsumexp, x, weights=weights, axis=axis, keepdims=keepdims)
    ax = (0, 1) if axis is None else axis
    shifted = np.exp(x - np.log(np.exp(x).sum(axis=ax, keepdims=True)))  # softmax over the axes
    wk = weights if keepdims else np.expand_dims(weights, ax) if weights.ndim else weights
    np.testing.assert_allclose(g.data, wk * shifted, **TIGHT)


def test_logsumexp_hessian_is_diag_p_minus_ppT():
    x = rng.standard_normal(5)
    p = ref_softmax(x)
    np.testing.assert_allclose(mg.hessian(F.logsumexp, x), np.diag(p) - np.outer(p, p), **TIGHT)


def test_logsumexp_hessian_2d_over_one_axis_is_blockwise():
    x = rng.standard_normal((2, 3))
    w = np.array([0.7, -1.3])
    hess = mg.hessian(lambda t: (F.logsumexp(t, axis=1) * mg.Tensor(w)).sum(), x)
    for n in range(2):
        p = ref_softmax(x[n])
        np.testing.assert_allclose(hess[n, :, n, :], w[n] * (np.diag(p) - np.outer(p, p)), **TIGHT)
        np.testing.assert_allclose(hess[n, :, 1 - n, :], 0.0, atol=0)


def test_logsumexp_of_all_minus_inf_is_minus_inf_with_zero_gradient():
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, -np.inf]])
    xt = mg.Tensor(x, requires_grad=True)
    out = F.logsumexp(xt, axis=1)
    assert out.data[0] == -np.inf
    np.testing.assert_allclose(out.data[1], np.log(1 + np.e), **TIGHT)
    (g,) = mg.grad(out.sum(), xt, create_graph=True)
    np.testing.assert_array_equal(g.data[0], 0.0)
    np.testing.assert_allclose(g.data[1], [1 / (1 + np.e), np.e / (1 + np.e), 0.0], **TIGHT)
    (h,) = mg.grad((g * mg.Tensor(rng.standard_normal(x.shape))).sum(), xt)  # second order: no nan
    assert all_finite(h.data)
    np.testing.assert_array_equal(h.data[0], 0.0)


def test_logsumexp_of_plus_inf_is_plus_inf():
    assert F.logsumexp(mg.Tensor([np.inf, 1.0])).item() == np.inf


# ---------------------------------------------------------------- masks


def test_masked_softmax_equals_softmax_of_the_entries_that_take_part():
    x = rng.standard_normal((3, 5))
    mask = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]], dtype=bool)
    p = F.softmax(mg.Tensor(x), where=mask).data
    for n in range(3):
        np.testing.assert_allclose(p[n, mask[n]], ref_softmax(x[n, mask[n]]), **TIGHT)
        np.testing.assert_array_equal(p[n, ~mask[n]], 0.0)
    # the same with the masked entries at -inf, the PyTorch way, and without a mask at all
    np.testing.assert_allclose(p, ref_softmax(np.where(mask, x, -np.inf)), **TIGHT)
    np.testing.assert_array_equal(
        F.softmax(mg.Tensor(x), where=np.ones(5, dtype=bool)).data, F.softmax(mg.Tensor(x)).data
    )


def test_masked_gradients_match_the_composed_twin():
    x = rng.standard_normal((3, 4))
    mask = np.array([[1, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)
    w = rng.standard_normal((3, 4))
    for fused, composed in ((F.softmax, F.softmax_composed), (F.log_softmax, F.log_softmax_composed)):
        gf, of = grad_of(fused, x, weights=np.where(mask, w, 0), where=mask, temperature=1.5)
        gc, oc = grad_of(composed, x, weights=np.where(mask, w, 0), where=mask, temperature=1.5)
        np.testing.assert_allclose(of.data, oc.data, **TIGHT)  # -inf == -inf where masked
        np.testing.assert_allclose(gf.data, gc.data, **TIGHT)
        np.testing.assert_array_equal(gf.data[~mask], 0.0)


def test_mask_broadcasts_and_accepts_a_tensor():
    x = rng.standard_normal((2, 3))
    mask = np.array([True, False, True])
    a = F.softmax(mg.Tensor(x), where=mg.Tensor(mask)).data
    b = F.softmax(mg.Tensor(x), where=np.broadcast_to(mask, (2, 3)).copy()).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, 1], 0.0)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_fully_masked_slice_gives_zeros_and_zero_gradient_even_under_create_graph(op):
    x = rng.standard_normal((3, 4))
    x[1, 2] = np.nan  # masked: must not leak anywhere
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    mask[2, :2] = False
    xt = mg.Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 or inf - inf on the way
        out = op(xt, where=mask, temperature=0.8)
        expected_row = np.zeros(4) if op is F.softmax else np.full(4, -np.inf)
        np.testing.assert_array_equal(out.data[1], expected_row)
        assert not np.isnan(out.data).any()
        w = rng.standard_normal((3, 4))  # upstream weights everywhere, masked entries too
        (g,) = mg.grad(out, xt, grad_output=w, create_graph=True)
        assert all_finite(g.data)
        np.testing.assert_array_equal(g.data[1], 0.0)
        np.testing.assert_array_equal(g.data[~mask], 0.0)
        (h,) = mg.grad((g * g).sum(), xt)  # a second derivative through the masked node
        assert all_finite(h.data)
        np.testing.assert_array_equal(h.data[1], 0.0)


def test_hessian_of_masked_log_softmax_has_no_nan():
    x = rng.standard_normal((2, 3))
    mask = np.array([[True, True, False], [False, False, False]])
    w = np.where(mask, rng.standard_normal((2, 3)), 0.0)
    hess = mg.hessian(lambda t: (F.log_softmax(t, where=mask)[mask] * mg.Tensor(w[mask])).sum(), x)
    assert all_finite(hess)
    p = ref_softmax(x[0, :2])
    s = w[0, :2].sum()
    np.testing.assert_allclose(hess[0, :2, 0, :2], -s * (np.diag(p) - np.outer(p, p)), **TIGHT)
    np.testing.assert_array_equal(hess[1], 0.0)


def test_without_a_mask_a_slice_of_all_minus_inf_gives_nan_as_pytorch():
    x = np.array([[-np.inf, -np.inf], [0.0, 1.0]])
    with np.errstate(invalid="ignore"):
        p = F.softmax(mg.Tensor(x)).data
        lp = F.log_softmax(mg.Tensor(x)).data
    assert np.isnan(p[0]).all() and np.isnan(lp[0]).all()
    assert all_finite(p[1], lp[1])


# ---------------------------------------------------------------- stability and dtypes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_magnitude_1e4_give_finite_values_and_gradients(dtype):
    x = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4, -1e4 + 1, -1e4]], dtype=dtype)
    for op in (
        F.softmax,
        F.log_softmax,
        F.sigmoid,
        F.log_sigmoid,
        lambda t: F.logsumexp(t, axis=1, keepdims=True),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow on the way either
            g, out = grad_of(op, x, weights=rng.standard_normal(op(mg.Tensor(x)).shape))
        assert out.dtype == dtype and g.dtype == dtype
        assert all_finite(out.data, g.data)
    np.testing.assert_allclose(F.softmax(mg.Tensor(x)).data[0], [1, 0, 0, 0], atol=1e-30)
    np.testing.assert_allclose(
        F.logsumexp(mg.Tensor(x), axis=1).data, [1e4, -1e4 + 1 + np.log1p(3 / np.e)], rtol=1e-6
    )


def test_naive_composed_twins_overflow_where_the_fused_ops_do_not():
    x = mg.Tensor(np.array([1000.0, 0.0]))
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(F.softmax_composed(x, stable=False).data).any()
        assert F.logsumexp_composed(x, stable=False).item() == np.inf
    np.testing.assert_allclose(F.softmax(x).data, [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(F.logsumexp(x).item(), 1000.0, rtol=1e-15)


@pytest.mark.parametrize(
    "op",
    [
        F.softmax,
        F.log_softmax,
        F.logsumexp,
        F.sigmoid,
        F.log_sigmoid,
        F.softmax_composed,
        F.log_softmax_composed,
        F.logsumexp_composed,
        F.sigmoid_composed,
    ],
)
def test_float32_stays_float32(op):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    g, out = grad_of(op, x, weights=rng.standard_normal(op(mg.Tensor(x)).shape))
    assert out.dtype == np.float32 and g.dtype == np.float32
    g64, out64 = grad_of(op, x.astype(np.float64), weights=None)
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-5, atol=1e-6)


def test_float32_second_derivative_stays_float32():
    x = rng.standard_normal(4).astype(np.float32)
    hess = mg.hessian(F.logsumexp, x)
    assert hess.dtype == np.float32
    p = ref_softmax(x.astype(np.float64))
    np.testing.assert_allclose(hess, np.diag(p) - np.outer(p, p), atol=1e-6)


def test_integer_and_list_inputs_become_float64():
    assert F.softmax([1, 2, 3]).dtype == np.float64
    assert F.softmax(np.array([1, 2, 3])).dtype == np.float64
    np.testing.assert_allclose(
        F.softmax(np.array([1, 2, 3])).data, ref_softmax(np.array([1.0, 2, 3])), **TIGHT
    )


# ---------------------------------------------------------------- fused vs composed, gradcheck


@settings(max_examples=30, deadline=None)
@given(shapes_and_axes, st.integers(0, 2**31 - 1), st.sampled_from([1.0, 0.5, 2.0]))
def test_fused_equals_composed_in_value_and_gradient(shape_axis, seed, temperature):
    shape, axis = shape_axis
    r = np.random.default_rng(seed)
    x = with_kinks(r.standard_normal(shape) * 4, r)
    w = r.standard_normal(shape)
    pairs = [
        (F.softmax, F.softmax_composed, dict(axis=axis, temperature=temperature)),
        (F.log_softmax, F.log_softmax_composed, dict(axis=axis, temperature=temperature)),
        (F.logsumexp, F.logsumexp_composed, dict(axis=axis, keepdims=True)),
        (F.sigmoid, F.sigmoid_composed, {}),
    ]
    for fused, composed, kw in pairs:
        wk = w if fused is not F.logsumexp else w.sum(axis=axis, keepdims=True)
        gf, of = grad_of(fused, x, weights=wk, **kw)
        gc, oc = grad_of(composed, x, weights=wk, **kw)
        np.testing.assert_allclose(of.data, oc.data, **TIGHT)
        np.testing.assert_allclose(gf.data, gc.data, **TIGHT)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: F.softmax(t, axis=0),
        lambda t: F.softmax(t, temperature=0.4),
        lambda t: F.softmax(t, where=np.array([True, False, True, True])),
        lambda t: F.log_softmax(t),
        lambda t: F.log_softmax(t, axis=0, temperature=2.0),
        lambda t: F.softmax(t, where=np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=bool)),
        lambda t: F.logsumexp(t),
        lambda t: F.logsumexp(t, axis=1),
        lambda t: F.sigmoid(t),
        lambda t: F.log_sigmoid(t),
        lambda t: F.sigmoid_composed(t),
        lambda t: F.log_sigmoid_composed(t),
        lambda t: F.softplus_composed(t),
        lambda t: F.tanh(t),
        lambda t: F.softmax(t, axis=(0, 1)),
        lambda t: F.log_softmax(t, axis=None),
    ],
)
def test_gradcheck_with_random_output_weights(fn):
    x = mg.Tensor(with_kinks(rng.standard_normal((3, 4)) * 2, rng), requires_grad=True)  # zeros, ties
    assert mg.gradcheck(fn, [x])


def test_relu_at_zero_takes_the_subgradient_0_as_pytorch():
    x = np.array([[-1.5, 0.0, 2.0], [0.0, 0.0, -0.0]])
    w = rng.standard_normal(x.shape)
    g, _ = grad_of(F.relu, x, weights=w)
    np.testing.assert_array_equal(g.data, w * (x > 0))


def test_gradcheck_masked_log_softmax_on_the_entries_that_take_part():
    mask = np.array([[1, 1, 0, 1], [1, 0, 0, 0], [0, 1, 1, 1]], dtype=bool)
    x = mg.Tensor(with_kinks(rng.standard_normal((3, 4)), rng), requires_grad=True)
    # the masked outputs are -inf: look at the others through a gather
    assert mg.gradcheck(lambda t: F.log_softmax(t, where=mask)[mask], [x])


# ---------------------------------------------------------------- sigmoid and log_sigmoid


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_for_large_inputs(dtype):
    x = np.array([-1e4, -800.0, -100.0, -30.0, 0.0, 30.0, 100.0, 800.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g, s = grad_of(F.sigmoid, x)
    assert s.dtype == dtype and g.dtype == dtype
    assert all_finite(s.data, g.data)
    assert s.data[0] == 0 and s.data[-1] == 1 and s.data[4] == 0.5
    ref = np.exp(-np.logaddexp(0.0, -x.astype(np.float64)))  # sigma(x) = exp(-log(1 + e^-x))
    np.testing.assert_allclose(
        s.data,
        ref,
        rtol=1e-6 if dtype == np.float32 else 1e-14,
        atol=1e-44 if dtype == np.float32 else 1e-300,
    )
    np.testing.assert_allclose(g.data, ref * (1 - ref), rtol=1e-5, atol=1e-7)


def test_sigmoid_small_tail_is_accurate_not_rounded_to_zero():
    x = np.array([-50.0, -700.0])
    np.testing.assert_allclose(F.sigmoid(mg.Tensor(x)).data, np.exp(x) / (1 + np.exp(x)), rtol=1e-14)


def test_log_sigmoid_is_accurate_in_both_tails():
    x = np.array([-1e4, -800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])
    ref = -np.logaddexp(0.0, -x)  # log sigma(x) = -log(1 + e^-x)
    np.testing.assert_allclose(F.log_sigmoid(mg.Tensor(x)).data, ref, rtol=1e-14, atol=1e-300)
    g, _ = grad_of(F.log_sigmoid, x)
    sig_neg = np.exp(-np.logaddexp(0.0, x))  # sigma(-x), accurate even where it is 1e-18
    np.testing.assert_allclose(g.data, sig_neg, rtol=1e-12, atol=0)


def test_sigmoid_hessian_matches_the_closed_form():
    x = np.array([0.3, -1.7])
    s = 1 / (1 + np.exp(-x))
    hess = mg.hessian(lambda t: F.sigmoid(t).sum(), x)
    np.testing.assert_allclose(hess, np.diag(s * (1 - s) * (1 - 2 * s)), **TIGHT)
    hess = mg.hessian(lambda t: F.log_sigmoid(t).sum(), x)
    np.testing.assert_allclose(hess, np.diag(-s * (1 - s)), **TIGHT)


def test_naive_sigmoid_twin_gets_a_nan_gradient_where_the_fused_one_does_not():
    x = np.array([-1000.0, 2.0])
    with np.errstate(over="ignore", invalid="ignore"):
        g, _ = grad_of(F.sigmoid_composed, x, stable=False)
    assert np.isnan(g.data[0])
    g, _ = grad_of(F.sigmoid, x)
    assert all_finite(g.data)


def test_a_tiny_temperature_gives_the_arg_max_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = F.softmax(mg.Tensor([1.0, 2.0, 2.0]), temperature=1e-310).data
        lp = F.log_softmax(mg.Tensor([1.0, 2.0, 2.0]), temperature=1e-310).data
    np.testing.assert_array_equal(p, [0.0, 0.5, 0.5])
    assert lp[0] == -np.inf and np.allclose(lp[1:], np.log(0.5))
