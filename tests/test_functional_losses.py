"""cross_entropy, nll_loss and the binary cross-entropies.

PyTorch is not installed, so its semantics are checked against small numpy references
written here, loop by loop, from PyTorch's documented formulas (CrossEntropyLoss, NLLLoss,
BCEWithLogitsLoss, BCELoss), plus a few values PyTorch printed in a public issue. The
gradients are checked against the closed form p - y, the Hessians against diag(p) - p p^T.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import functional as F

TIGHT = dict(rtol=1e-10, atol=1e-10)
rng = np.random.default_rng(99)


# ---------------------------------------------------------------- references from the documented formulas


def ref_log_softmax(v):
    m = max(v)
    return np.array([vi - (m + math.log(sum(math.exp(u - m) for u in v))) for vi in v])


def ref_softmax(v):
    return np.exp(ref_log_softmax(v))


def ref_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's CrossEntropyLoss (classes on the last axis here).

    Class indices:  l_n = -w[y_n] log p_n[y_n], 0 for ignored targets; with smoothing eps
        l_n = (1 - eps) (-w[y_n] log p_n[y_n]) + (eps / C) sum_c (-w_c log p_n[c]);
        'mean' = sum_n l_n / sum_{n not ignored} w[y_n].
    Probabilities:  l_n = -sum_c w_c y'_n[c] log p_n[c], y' = (1 - eps) y + eps / C;
        'mean' = sum_n l_n / N.
    """
    n_classes = x.shape[-1]
    rows = x.reshape(-1, n_classes)
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=float)
    eps = label_smoothing
    losses = []
    if np.asarray(target).dtype.kind in "iu":
        denom = 0.0
        for xn, tn in zip(rows, np.asarray(target).reshape(-1)):
            if tn == ignore_index:
                losses.append(0.0)
                continue
            lp = ref_log_softmax(xn)
            nll = -w[tn] * lp[tn]
            smooth = -sum(w[c] * lp[c] for c in range(n_classes))
            losses.append((1 - eps) * nll + eps / n_classes * smooth)
            denom += w[tn]
    else:
        probs = np.asarray(target, dtype=float).reshape(-1, n_classes)
        for xn, yn in zip(rows, probs):
            lp = ref_log_softmax(xn)
            smoothed = (1 - eps) * yn + eps / n_classes
            losses.append(-sum(w[c] * smoothed[c] * lp[c] for c in range(n_classes)))
        denom = float(len(probs))
    losses = np.array(losses)
    if reduction == "none":
        return losses.reshape(x.shape[:-1])
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / denom if denom else float("nan")


def ref_ce_grad(
    x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, upstream=1.0
):
    """The closed form: (a p - y) * scale for each sample, y its smoothed, weighted label and
    a = sum_c y_c; scale = upstream / (sum of target weights) for 'mean'."""
    n_classes = x.shape[-1]
    rows = x.reshape(-1, n_classes)
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=float)
    eps = label_smoothing
    grads, denom = [], 0.0
    if np.asarray(target).dtype.kind in "iu":
        for xn, tn in zip(rows, np.asarray(target).reshape(-1)):
            if tn == ignore_index:
                grads.append(np.zeros(n_classes))
                continue
            y = eps / n_classes * w
            y[tn] += (1 - eps) * w[tn]
            grads.append(y.sum() * ref_softmax(xn) - y)
            denom += w[tn]
    else:
        for xn, yn in zip(rows, np.asarray(target, dtype=float).reshape(-1, n_classes)):
            y = w * ((1 - eps) * yn + eps / n_classes)
            grads.append(y.sum() * ref_softmax(xn) - y)
        denom = float(len(rows))
    grads = np.array(grads).reshape(x.shape)
    up = np.asarray(upstream, dtype=float)
    if reduction == "none":
        return grads * up[..., None]
    return grads * up / (denom if reduction == "mean" else 1.0)


def sigmoid_ref(x):
    return np.exp(-np.logaddexp(0.0, -x))


def ref_bce_with_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's BCEWithLogitsLoss: l = -w [pw y log sigma(x) + (1 - y) log(1 - sigma(x))],
    written with log sigma(x) = -logaddexp(0, -x) and log(1 - sigma(x)) = -logaddexp(0, x)."""
    w = 1.0 if weight is None else weight
    pw = 1.0 if pos_weight is None else pos_weight
    losses = -w * (pw * y * -np.logaddexp(0.0, -x) + (1 - y) * -np.logaddexp(0.0, x))
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def ref_bce(p, y, weight=None, reduction="mean"):
    """PyTorch's BCELoss: l = -w [y log p + (1 - y) log(1 - p)], logs clamped at -100."""
    w = 1.0 if weight is None else weight
    losses = []
    for pi, yi in zip(p.reshape(-1), y.reshape(-1)):
        log_p = max(math.log(pi), -100.0) if pi > 0 else -100.0
        log_q = max(math.log(1 - pi), -100.0) if pi < 1 else -100.0
        losses.append(-(yi * log_p + (1 - yi) * log_q))
    losses = np.array(losses).reshape(p.shape) * w
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def grads(fn, *arrays, upstream=None):
    """fn's output and its gradients w.r.t. each array (float, requires_grad)."""
    ts = [mg.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    seed = np.ones(out.shape) if upstream is None else upstream
    return out, mg.grad(out, ts, grad_output=np.asarray(seed, dtype=out.dtype))


def count_nodes(t):
    seen, stack = set(), [t]
    while stack:
        u = stack.pop()
        if u._node is None or id(u) in seen:
            continue
        seen.add(id(u))
        stack.extend(u._node.inputs)
    return len(seen)


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


def random_problem(r, shape, n_classes, kind, ignore=False):
    x = with_kinks(r.standard_normal(shape + (n_classes,)) * 2, r)  # zeros and tied logits too
    if kind == "index":
        t = r.integers(0, n_classes, size=shape)
        if ignore and t.size > 1:
            t.reshape(-1)[::2] = -100
    else:
        t = r.dirichlet(np.ones(n_classes), size=shape)
    return x, t


# ---------------------------------------------------------------- cross_entropy: values


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15, 1.0])
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_cross_entropy_matches_pytorch_reference(reduction, kind, use_weight, label_smoothing, shape):
    x, t = random_problem(rng, shape, 4, kind, ignore=True)
    weight = np.array([0.5, 2.0, 1.0, 3.0]) if use_weight else None
    expected = ref_cross_entropy(x, t, weight, -100, reduction, label_smoothing)
    out, (g,) = grads(
        lambda a: F.cross_entropy(a, t, weight, reduction=reduction, label_smoothing=label_smoothing), x
    )
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, **TIGHT)
    np.testing.assert_allclose(g.data, ref_ce_grad(x, t, weight, -100, reduction, label_smoothing), **TIGHT)


def test_cross_entropy_matches_values_printed_by_pytorch():
    """pytorch/pytorch#104776 printed CrossEntropyLoss(weight=w, label_smoothing=0.1) on logits
    [0.05 i, 1 - 0.05 i] with the probability target [1, 0], times a multiplier, to 5 decimals."""
    printed = {  # (w0, w1, multiplier): values at i = 0, 1, 2, 20
        (0.1, 0.9, 10.0): [1.38857, 1.33262, 1.27954, 0.88857],
        (0.01, 0.99, 20.0): [0.55965, 0.57356, 0.58990, 1.35965],
        (1.0, 1.0, 1.0): [1.26326, 1.19615, 1.13110, 0.36326],
    }
    for (w0, w1, mult), values in printed.items():
        for i, value in zip([0, 1, 2, 20], values):
            logits = np.array([[i * 0.05, 1.0 - i * 0.05]], dtype=np.float32)
            target = np.array([[1.0, 0.0]], dtype=np.float32)
            loss = F.cross_entropy(logits, target, weight=np.array([w0, w1]), label_smoothing=0.1)
            assert abs(loss.item() * mult - value) < 1e-5


def test_probability_target_equal_to_one_hot_gives_the_index_loss_without_weights():
    x, t = random_problem(rng, (6,), 3, "index")
    onehot = np.eye(3)[t]
    for eps in (0.0, 0.2):
        np.testing.assert_allclose(
            F.cross_entropy(x, onehot, label_smoothing=eps).data,
            F.cross_entropy(x, t, label_smoothing=eps).data,
            **TIGHT,
        )


def test_cross_entropy_equals_nll_of_log_softmax():
    x, t = random_problem(rng, (7,), 4, "index", ignore=True)
    w = np.array([1.0, 0.2, 3.0, 0.7])
    for reduction in ("mean", "sum", "none"):
        a = F.cross_entropy(x, t, w, reduction=reduction)
        b = F.nll_loss(F.log_softmax(x), t, w, reduction=reduction)
        np.testing.assert_allclose(a.data, b.data, **TIGHT)


def test_cross_entropy_invariant_to_adding_a_constant_per_sample():
    x, t = random_problem(rng, (4,), 5, "index")
    shift = rng.standard_normal((4, 1)) * 100
    np.testing.assert_allclose(
        F.cross_entropy(x + shift, t, reduction="none").data,
        F.cross_entropy(x, t, reduction="none").data,
        rtol=1e-9,
    )


def test_logits_with_leading_axes_reduce_like_the_flattened_case():
    x, t = random_problem(rng, (2, 3), 4, "index", ignore=True)
    w = np.array([1.0, 2.0, 0.5, 1.5])
    for reduction in ("mean", "sum"):
        kw = dict(weight=w, reduction=reduction, label_smoothing=0.1)
        out, (g,) = grads(lambda a, kw=kw: F.cross_entropy(a, t, **kw), x)
        flat, (gf,) = grads(lambda a, kw=kw: F.cross_entropy(a, t.reshape(6), **kw), x.reshape(6, 4))
        np.testing.assert_allclose(out.data, flat.data, **TIGHT)
        np.testing.assert_allclose(g.data, gf.data.reshape(2, 3, 4), **TIGHT)
    assert F.cross_entropy(x, t, reduction="none").shape == (2, 3)


def test_single_sample_logits_with_a_scalar_target():
    x = np.array([0.5, -1.0, 2.0])
    for target in (2, np.int64(2), np.array(2), mg.Tensor(np.array(2))):
        loss = F.cross_entropy(x, target)
        np.testing.assert_allclose(loss.item(), -ref_log_softmax(x)[2], **TIGHT)
    assert F.cross_entropy(x, 2, reduction="none").shape == ()
    assert F.cross_entropy([[0.5, -1.0, 2.0]], [2]).item() == pytest.approx(-ref_log_softmax(x)[2], rel=1e-12)


# ---------------------------------------------------------------- cross_entropy: gradients


def test_gradient_is_p_minus_onehot_over_n():
    x, t = random_problem(rng, (5,), 4, "index")
    p = np.array([ref_softmax(row) for row in x])
    _, (g,) = grads(lambda a: F.cross_entropy(a, t), x)
    np.testing.assert_allclose(g.data, (p - np.eye(4)[t]) / 5, **TIGHT)
    _, (g,) = grads(lambda a: F.cross_entropy(a, t, reduction="sum"), x)
    np.testing.assert_allclose(g.data, p - np.eye(4)[t], **TIGHT)


def test_gradient_closed_forms_with_weights_smoothing_and_ignored_samples():
    x, t = random_problem(rng, (6,), 3, "index", ignore=True)
    w = np.array([2.0, 0.5, 1.0])
    p = np.array([ref_softmax(row) for row in x])
    valid = t != -100
    # weights: w_t (p - onehot) / sum of w_t over the kept samples
    _, (g,) = grads(lambda a: F.cross_entropy(a, t, w), x)
    onehot = np.eye(3)[np.where(valid, t, 0)]
    wt = np.where(valid, w[np.where(valid, t, 0)], 0.0)
    np.testing.assert_allclose(g.data, wt[:, None] * (p - onehot) / wt.sum(), **TIGHT)
    assert (g.data[~valid] == 0).all()
    # smoothing without weights: p - ((1 - eps) onehot + eps / C), over the kept samples
    _, (g,) = grads(lambda a: F.cross_entropy(a, t, label_smoothing=0.3), x)
    y = 0.7 * onehot + 0.1
    np.testing.assert_allclose(g.data, valid[:, None] * (p - y) / valid.sum(), **TIGHT)


def test_reduction_none_scales_each_row_by_its_upstream_gradient():
    x, t = random_problem(rng, (4,), 3, "index", ignore=True)
    up = rng.standard_normal(4)
    _, (g,) = grads(
        lambda a: F.cross_entropy(a, t, np.array([1.0, 2.0, 3.0]), reduction="none", label_smoothing=0.2),
        x,
        upstream=up,
    )
    np.testing.assert_allclose(g.data, ref_ce_grad(x, t, [1.0, 2.0, 3.0], -100, "none", 0.2, up), **TIGHT)


@pytest.mark.parametrize("kind", ["index", "prob"])
def test_hessian_of_mean_cross_entropy_is_block_diag_p_minus_ppT_over_n(kind):
    x, t = random_problem(rng, (3,), 4, kind)
    hess = mg.hessian(lambda a: F.cross_entropy(a, t), x)
    for n in range(3):
        p = ref_softmax(x[n])
        np.testing.assert_allclose(hess[n, :, n, :], (np.diag(p) - np.outer(p, p)) / 3, **TIGHT)
        for m in range(3):
            if m != n:
                np.testing.assert_array_equal(hess[n, :, m, :], 0.0)


def test_hessian_with_weights_and_smoothing_scales_by_the_label_mass():
    x, t = random_problem(rng, (3,), 4, "index")
    w = np.array([0.5, 2.0, 1.0, 3.0])
    eps = 0.2
    hess = mg.hessian(lambda a: F.cross_entropy(a, t, w, label_smoothing=eps), x)
    denom = w[t].sum()
    for n in range(3):
        p = ref_softmax(x[n])
        a = (1 - eps) * w[t[n]] + eps / 4 * w.sum()  # sum_c y_c of the weighted, smoothed label
        np.testing.assert_allclose(hess[n, :, n, :], a * (np.diag(p) - np.outer(p, p)) / denom, **TIGHT)


def test_hessian_of_a_single_sample_loss_and_of_logsumexp_agree():
    x = rng.standard_normal(5)
    p = ref_softmax(x)
    closed = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(mg.hessian(lambda a: F.cross_entropy(a, 3), x), closed, **TIGHT)
    np.testing.assert_allclose(mg.hessian(F.logsumexp, x), closed, **TIGHT)


@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_second_order_through_a_function_of_the_loss_matches_composed(kind, reduction):
    """Here the upstream gradient of the loss is itself differentiable (d loss^2 = 2 loss)."""
    x, t = random_problem(rng, (3,), 3, kind)
    w = np.array([1.0, 2.0, 0.5])

    def outer(ce):
        return lambda a: (ce(a, t, w, reduction=reduction, label_smoothing=0.1) ** 2).sum()

    fused = mg.hessian(outer(F.cross_entropy), x)
    composed = mg.hessian(outer(F.cross_entropy_composed), x)
    np.testing.assert_allclose(fused, composed, **TIGHT)


def test_probability_target_gets_its_gradient():
    x, y = random_problem(rng, (4,), 3, "prob")
    w = np.array([1.0, 2.0, 0.5])
    _, (gx, gy) = grads(lambda a, b: F.cross_entropy(a, b, w, label_smoothing=0.2), x, y)
    log_p = np.array([ref_log_softmax(row) for row in x])
    np.testing.assert_allclose(gy.data, -0.8 * w * log_p / 4, **TIGHT)
    _, (cx, cy) = grads(lambda a, b: F.cross_entropy_composed(a, b, w, label_smoothing=0.2), x, y)
    np.testing.assert_allclose(gx.data, cx.data, **TIGHT)
    np.testing.assert_allclose(gy.data, cy.data, **TIGHT)
    assert mg.gradcheck(
        lambda a, b: F.cross_entropy(a, b, w, reduction="none", label_smoothing=0.2),
        [mg.Tensor(x, requires_grad=True), mg.Tensor(y, requires_grad=True)],
    )
    # the mixed second derivative d2 / dx dy
    mixed = mg.hessian(lambda a: F.cross_entropy(a[:, :3], a[:, 3:], w), np.concatenate([x, y], axis=1))
    mixed_c = mg.hessian(lambda a: F.cross_entropy_composed(a[:, :3], a[:, 3:], w), np.concatenate([x, y], 1))
    np.testing.assert_allclose(mixed, mixed_c, **TIGHT)


# ---------------------------------------------------------------- cross_entropy: ignored targets


def test_all_targets_ignored_gives_nan_mean_and_zero_gradient():
    x = rng.standard_normal((3, 4))
    t = np.full(3, -100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = grads(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), x)
        assert np.isnan(out.item())  # 0 / 0, as in PyTorch
        np.testing.assert_array_equal(g.data, 0.0)
        assert F.cross_entropy(x, t, reduction="sum").item() == 0.0
        np.testing.assert_array_equal(F.cross_entropy(x, t, reduction="none").data, 0.0)
        # a zero total weight is the same 0 / 0
        out, (g,) = grads(lambda a: F.cross_entropy(a, np.array([1, 1, 2]), np.array([1.0, 0, 0, 1])), x)
        assert np.isnan(out.item())
        np.testing.assert_array_equal(g.data, 0.0)


def test_ignored_samples_do_not_matter_even_with_infinite_logits():
    x = rng.standard_normal((3, 4))
    x[1] = [np.inf, -np.inf, np.nan, 0.0]
    t = np.array([0, 7, 2])
    with np.errstate(invalid="ignore"):
        loss = F.cross_entropy(x, t, ignore_index=7, label_smoothing=0.1)
    kept = F.cross_entropy(x[[0, 2]], t[[0, 2]], label_smoothing=0.1)
    np.testing.assert_allclose(loss.item(), kept.item(), **TIGHT)


def test_ignore_index_may_be_a_real_class():
    x, _ = random_problem(rng, (5,), 3, "index")
    t = np.array([0, 1, 2, 0, 1])
    loss = F.cross_entropy(x, t, ignore_index=0)
    np.testing.assert_allclose(loss.item(), ref_cross_entropy(x, t, ignore_index=0), **TIGHT)
    np.testing.assert_allclose(loss.item(), F.cross_entropy(x[[1, 2, 4]], t[[1, 2, 4]]).item(), **TIGHT)


# ---------------------------------------------------------------- cross_entropy: stability, dtypes, twins


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_logits_of_magnitude_1e4(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    t = np.array([1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = grads(lambda a: F.cross_entropy(a, t, label_smoothing=0.1, weight=[1.0, 2.0, 1.0]), x)
        out_p, (g_p,) = grads(lambda a: F.cross_entropy(a, np.eye(3, dtype=dtype)[t]), x)
    assert out.dtype == g.dtype == out_p.dtype == g_p.dtype == dtype
    assert np.isfinite(out.item()) and np.isfinite(g.data).all()
    assert np.isfinite(out_p.item()) and np.isfinite(g_p.data).all()
    np.testing.assert_allclose(out_p.item(), (2e4 + np.log(2)) / 2, rtol=1e-6)  # -log p = 2e4, log 2
    np.testing.assert_allclose(g_p.data, np.array([[1, -1, 0], [0, 0.5, -0.5]]) / 2, atol=1e-7)  # (p - y) / N


@pytest.mark.parametrize("kind", ["index", "prob"])
def test_float32_stays_float32_even_with_float64_weights_and_targets(kind):
    x, t = random_problem(rng, (4,), 3, kind)
    x32 = x.astype(np.float32)
    out, (g,) = grads(lambda a: F.cross_entropy(a, t, np.array([1.0, 2.0, 3.0]), label_smoothing=0.1), x32)
    assert out.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(
        out.data, ref_cross_entropy(x32.astype(float), t, [1.0, 2.0, 3.0], -100, "mean", 0.1), rtol=1e-5
    )
    hess = mg.hessian(lambda a: F.cross_entropy(a, t), x32)
    assert hess.dtype == np.float32


ce_options = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["index", "prob"]),
        "shape": st.sampled_from([(), (1,), (4,), (2, 2)]),
        "n_classes": st.integers(1, 4),
        "weight": st.booleans(),
        "ignore": st.booleans(),
        "reduction": st.sampled_from(["mean", "sum", "none"]),
        "label_smoothing": st.sampled_from([0.0, 0.1, 0.5]),
        "seed": st.integers(0, 2**31 - 1),
    }
)


@settings(max_examples=40, deadline=None)
@given(ce_options)
def test_fused_cross_entropy_equals_composed_and_reference(o):
    r = np.random.default_rng(o["seed"])
    x, t = random_problem(r, o["shape"], o["n_classes"], o["kind"], ignore=o["ignore"])
    weight = r.uniform(0.2, 2.0, o["n_classes"]) if o["weight"] else None
    kw = dict(weight=weight, reduction=o["reduction"], label_smoothing=o["label_smoothing"])
    up = r.standard_normal(o["shape"]) if o["reduction"] == "none" else None
    out, (g,) = grads(lambda a: F.cross_entropy(a, t, **kw), x, upstream=up)
    ref, (gc,) = grads(lambda a: F.cross_entropy_composed(a, t, **kw), x, upstream=up)
    np.testing.assert_allclose(out.data, ref.data, **TIGHT)
    np.testing.assert_allclose(g.data, gc.data, **TIGHT)
    np.testing.assert_allclose(
        out.data, ref_cross_entropy(x, t, weight, -100, o["reduction"], o["label_smoothing"]), **TIGHT
    )


def test_fused_cross_entropy_is_one_node_the_composed_one_many():
    x = mg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = np.array([0, 1, 2, 1])
    assert count_nodes(F.cross_entropy(x, t)) == 1
    assert count_nodes(F.cross_entropy_composed(x, t)) >= 8


def test_naive_composed_cross_entropy_breaks_where_the_fused_one_does_not():
    x = np.array([[800.0, 0.0, -800.0]])
    with np.errstate(all="ignore"):
        naive = F.cross_entropy_composed(x, np.array([2]), stable=False).item()
    assert not np.isfinite(naive)
    np.testing.assert_allclose(F.cross_entropy(x, np.array([2])).item(), 1600.0, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradcheck_cross_entropy_and_nll(reduction):
    x, t = random_problem(rng, (3,), 4, "index", ignore=True)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    xt = mg.Tensor(x, requires_grad=True)
    assert mg.gradcheck(lambda a: F.cross_entropy(a, t, w, reduction=reduction, label_smoothing=0.2), [xt])
    assert mg.gradcheck(lambda a: F.nll_loss(a, t, w, reduction=reduction), [xt])
    _, y = random_problem(rng, (3,), 4, "prob")
    assert mg.gradcheck(lambda a: F.cross_entropy(a, y, w, reduction=reduction), [xt])


# ---------------------------------------------------------------- nll_loss


def test_nll_loss_matches_reference_gradient_and_twin():
    log_p = np.log(rng.dirichlet(np.ones(4), size=5))
    t = np.array([0, 3, -100, 2, 3])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    out, (g,) = grads(lambda a: F.nll_loss(a, t, w), log_p)
    keep = t != -100
    expected = -sum(w[tn] * log_p[n, tn] for n, tn in enumerate(t) if tn != -100) / w[t[keep]].sum()
    np.testing.assert_allclose(out.item(), expected, **TIGHT)
    closed = np.zeros((5, 4))
    closed[np.arange(5)[keep], t[keep]] = -w[t[keep]] / w[t[keep]].sum()
    np.testing.assert_allclose(g.data, closed, **TIGHT)
    for reduction in ("mean", "sum", "none"):
        a, (ga,) = grads(lambda z, r=reduction: F.nll_loss(z, t, w, reduction=r), log_p)
        b, (gb,) = grads(lambda z, r=reduction: F.nll_loss_composed(z, t, w, reduction=r), log_p)
        np.testing.assert_allclose(a.data, b.data, **TIGHT)
        np.testing.assert_allclose(ga.data, gb.data, **TIGHT)
    assert F.nll_loss(log_p.astype(np.float32), t).dtype == np.float32


def test_nll_loss_all_ignored_is_nan_with_zero_gradient():
    out, (g,) = grads(lambda a: F.nll_loss(a, np.array([-100, -100])), rng.standard_normal((2, 3)))
    assert np.isnan(out.item())
    np.testing.assert_array_equal(g.data, 0.0)


# ---------------------------------------------------------------- binary cross-entropy with logits


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_pytorch_reference(reduction):
    x = with_kinks(rng.standard_normal((4, 3)) * 3, rng)
    y = with_kinks(rng.uniform(0, 1, (4, 3)), rng)
    w = rng.uniform(0.5, 2, (4, 1))
    pw = np.array([0.5, 1.0, 3.0])
    for weight, pos_weight in ((None, None), (w, None), (None, pw), (w, pw)):
        out = F.binary_cross_entropy_with_logits(x, y, weight, pos_weight, reduction)
        expected = ref_bce_with_logits(x, y, weight, pos_weight, reduction)
        np.testing.assert_allclose(out.data, expected, **TIGHT)
        twin = F.binary_cross_entropy_with_logits_composed(x, y, weight, pos_weight, reduction)
        np.testing.assert_allclose(twin.data, out.data, **TIGHT)


def test_bce_with_logits_gradient_is_sigmoid_minus_label():
    x = rng.standard_normal(6) * 3
    y = (rng.uniform(size=6) > 0.5).astype(float)
    _, (g,) = grads(lambda a: F.binary_cross_entropy_with_logits(a, y), x)
    np.testing.assert_allclose(g.data, (sigmoid_ref(x) - y) / 6, **TIGHT)
    pw, w = np.array(2.5), rng.uniform(0.5, 2, 6)
    _, (g,) = grads(lambda a: F.binary_cross_entropy_with_logits(a, y, w, pw, "sum"), x)
    np.testing.assert_allclose(g.data, w * ((1 + (pw - 1) * y) * sigmoid_ref(x) - pw * y), **TIGHT)


def test_bce_with_logits_equals_two_class_cross_entropy_on_z_and_0():
    z = rng.standard_normal(5) * 4
    y = rng.uniform(0, 1, 5)
    pair = lambda a: mg.stack([a, a * 0], axis=1)  # noqa: E731
    bce, (gb,) = grads(lambda a: F.binary_cross_entropy_with_logits(a, y), z)
    ce, (gc,) = grads(lambda a: F.cross_entropy(pair(a), np.stack([y, 1 - y], axis=1)), z)
    np.testing.assert_allclose(bce.data, ce.data, **TIGHT)
    np.testing.assert_allclose(gb.data, gc.data, **TIGHT)
    labels = (y > 0.5).astype(np.int64)
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, labels.astype(float)).data,
        F.cross_entropy(np.stack([z, 0 * z], axis=1), 1 - labels).data,
        **TIGHT,
    )


def test_bce_with_logits_hessian_is_weighted_sigmoid_slope():
    x = rng.standard_normal(4)
    y = rng.uniform(size=4)
    w = rng.uniform(0.5, 2, 4)
    pw = 3.0
    s = sigmoid_ref(x)
    hess = mg.hessian(lambda a: F.binary_cross_entropy_with_logits(a, y, w, np.array(pw)), x)
    np.testing.assert_allclose(hess, np.diag(w * (1 + (pw - 1) * y) * s * (1 - s) / 4), **TIGHT)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_with_logits_of_magnitude_1e4(dtype):
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype)
    y = np.array([1, 0, 0, 1, 1], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = grads(
            lambda a: F.binary_cross_entropy_with_logits(
                a, y, reduction="none", pos_weight=np.array(2.0, dtype)
            ),
            x,
        )
    assert out.dtype == g.dtype == dtype
    np.testing.assert_allclose(out.data, [0, 0, 1e4, 2e4, 2 * np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(g.data, [0, 0, 1, -2, -1], rtol=1e-6)  # (1 + (pw - 1) y) s - pw y


def test_bce_with_logits_target_gradient_and_gradcheck():
    x = with_kinks(rng.standard_normal((3, 2)), rng)
    y = with_kinks(rng.uniform(size=(3, 2)), rng)
    pw = np.array([2.0, 0.5])
    w = rng.uniform(0.5, 2, (3, 2))
    _, (gx, gy) = grads(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, pw, "sum"), x, y)
    softplus_neg = np.logaddexp(0.0, -x)
    np.testing.assert_allclose(gy.data, w * (-x + (pw - 1) * softplus_neg), **TIGHT)
    for reduction in ("none", "mean"):
        assert mg.gradcheck(
            lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(a, b, w, pw, r),
            [mg.Tensor(x, requires_grad=True), mg.Tensor(y, requires_grad=True)],
        )
    _, (cx, cy) = grads(lambda a, b: F.binary_cross_entropy_with_logits_composed(a, b, w, pw, "sum"), x, y)
    np.testing.assert_allclose(gx.data, cx.data, **TIGHT)
    np.testing.assert_allclose(gy.data, cy.data, **TIGHT)
    # the mixed second derivatives d2 / dx dy, with and without pos_weight
    both = np.concatenate([x, y], axis=1)
    for pos in (pw, None):
        fused = mg.hessian(
            lambda a, pos=pos: F.binary_cross_entropy_with_logits(a[:, :2], a[:, 2:], w, pos), both
        )
        twin = mg.hessian(
            lambda a, pos=pos: F.binary_cross_entropy_with_logits_composed(a[:, :2], a[:, 2:], w, pos), both
        )
        np.testing.assert_allclose(fused, twin, **TIGHT)


def test_bce_with_logits_composed_gradient_is_right_at_zero():
    y = np.array([1.0, 0.0, 0.3])
    _, (g,) = grads(lambda a: F.binary_cross_entropy_with_logits_composed(a, y, reduction="sum"), np.zeros(3))
    np.testing.assert_allclose(g.data, 0.5 - y, **TIGHT)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.booleans(), st.booleans(), st.sampled_from(["mean", "sum", "none"]))
def test_fused_bce_with_logits_equals_composed(seed, use_weight, use_pos_weight, reduction):
    r = np.random.default_rng(seed)
    x = with_kinks(r.standard_normal((3, 2)) * 5, r)
    y = with_kinks(r.uniform(size=(3, 2)), r)
    w = r.uniform(0.1, 2, (1, 2)) if use_weight else None
    pw = r.uniform(0.1, 3, 2) if use_pos_weight else None
    up = r.standard_normal((3, 2)) if reduction == "none" else None
    out, (g,) = grads(lambda a: F.binary_cross_entropy_with_logits(a, y, w, pw, reduction), x, upstream=up)
    twin, (gt,) = grads(
        lambda a: F.binary_cross_entropy_with_logits_composed(a, y, w, pw, reduction), x, upstream=up
    )
    np.testing.assert_allclose(out.data, twin.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.data, gt.data, **TIGHT)


def test_integer_binary_labels_are_accepted_and_float32_stays_float32():
    x = rng.standard_normal(4).astype(np.float32)
    out, (g,) = grads(lambda a: F.binary_cross_entropy_with_logits(a, np.array([1, 0, 1, 1])), x)
    assert out.dtype == g.dtype == np.float32
    np.testing.assert_allclose(
        out.item(), ref_bce_with_logits(x.astype(float), np.array([1, 0, 1, 1.0])), rtol=1e-6
    )


# ---------------------------------------------------------------- binary cross-entropy on probabilities


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_pytorch_reference_with_clamped_logs(reduction):
    p = np.array([0.0, 1.0, 0.3, 0.999, 1e-50, 0.5])
    y = np.array([1.0, 0.0, 0.2, 1.0, 1.0, 0.5])
    w = rng.uniform(0.5, 2, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.binary_cross_entropy(p, y, w, reduction)
    np.testing.assert_allclose(out.data, ref_bce(p, y, w, reduction), **TIGHT)
    if reduction == "none":
        np.testing.assert_allclose(out.data[:2], 100 * w[:2], **TIGHT)  # a certain wrong answer costs 100


def test_bce_gradient_closed_form_and_its_clamp():
    p = np.array([0.2, 0.7, 0.95, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.6, 1.0, 1.0])
    w = rng.uniform(0.5, 2, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, (g,) = grads(lambda a: F.binary_cross_entropy(a, y, w, "sum"), p)
    expected = w * (p - y) / np.maximum(p * (1 - p), 1e-12)
    np.testing.assert_allclose(g.data, expected, **TIGHT)
    assert g.data[3] == pytest.approx(-w[3] * 1e12) and g.data[4] == 0.0


def test_bce_gradcheck_and_agreement_with_the_logits_form():
    p = rng.uniform(0.05, 0.95, (3, 2))
    p[1, 1] = p[0, 0] = 0.5  # ties (p = 0 and 1 are the clamps' kinks, tested above)
    y = rng.uniform(0.05, 0.95, (3, 2))  # inside: gradcheck nudges y, and y < 0 raises
    y[2, 0] = y[1, 0] = p[0, 0]  # ties between targets, and with the prediction
    w = rng.uniform(0.5, 2, (3, 1))
    for reduction in ("none", "mean"):
        assert mg.gradcheck(
            lambda a, b, r=reduction: F.binary_cross_entropy(a, b, w, r),
            [mg.Tensor(p, requires_grad=True), mg.Tensor(y, requires_grad=True)],
        )
    logits = np.log(p) - np.log1p(-p)
    np.testing.assert_allclose(
        F.binary_cross_entropy(p, y, w).item(),
        F.binary_cross_entropy_with_logits(logits, y, w).item(),
        rtol=1e-10,
    )
    # d/dlogit of bce(sigmoid(z)) is sigmoid(z) - y, through the chain rule of two fused ops
    _, (gz,) = grads(lambda z: F.binary_cross_entropy(F.sigmoid(z), y, reduction="sum"), logits)
    np.testing.assert_allclose(gz.data, p - y, rtol=1e-8, atol=1e-10)
    hess = mg.hessian(lambda a: F.binary_cross_entropy(a, y, reduction="sum"), p)
    np.testing.assert_allclose(
        hess.reshape(6, 6), np.diag((y / p**2 + (1 - y) / (1 - p) ** 2).ravel()), rtol=1e-10
    )
