"""Losses at their edges: infinite logits, targets outside [0, 1], a mean over no weight,
and the composed twins held to the fused ops there."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F

rng = np.random.default_rng(5)

# x = +-inf against y = 0, 1 and 0.3: the limits of l = pw y softplus(-x) + (1 - y) softplus(x)
X_INF = np.array([np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf])
Y_INF = np.array([0.0, 1.0, 0.3, 0.0, 1.0, 0.3])


@pytest.mark.parametrize("pw", [None, 2.0, 0.5])
def test_bce_with_logits_at_infinite_logits_gives_the_limits(pw):
    pos_weight = None if pw is None else np.full(6, pw)
    x = mg.Tensor(X_INF, requires_grad=True)
    y = mg.Tensor(Y_INF, requires_grad=True)
    w = rng.standard_normal(6)  # random output weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, reduction="none")
        loss.backward(w)  # (sum(w * loss) would add inf and -inf)
    np.testing.assert_array_equal(loss.data, [np.inf, 0.0, np.inf, 0.0, np.inf, np.inf])
    p = 1.0 if pw is None else pw
    s = np.array([1.0, 1, 1, 0, 0, 0])  # sigmoid(+-inf)
    np.testing.assert_allclose(x.grad.data, w * ((1 + (p - 1) * Y_INF) * s - p * Y_INF), rtol=1e-15)
    # d l / dy = pw softplus(-x) - softplus(x): -inf at x = +inf, +inf at x = -inf
    np.testing.assert_array_equal(y.grad.data, w * np.array([-np.inf] * 3 + [np.inf] * 3))


def test_bce_with_logits_finite_values_unchanged_by_the_zero_weight_rule():
    x = np.array([0.0, -3.0, 2.5, 40.0, -40.0])
    y = np.array([0.0, 1.0, 0.3, 1.0, 0.0])
    expected = y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x)
    out = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-30)


@pytest.mark.parametrize("bad", [2.0, -0.5, np.nan])
def test_bce_refuses_a_target_outside_the_unit_interval(bad):
    y = np.array([0.0, bad, 1.0])
    with pytest.raises(ValueError, match="target must lie in \\[0, 1\\]"):
        F.binary_cross_entropy(np.array([0.2, 0.5, 0.7]), y)


def test_bce_accepts_targets_at_the_ends_and_inside():
    out = F.binary_cross_entropy(np.array([0.2, 0.5, 0.7]), np.array([0.0, 0.5, 1.0]), reduction="none")
    np.testing.assert_allclose(out.data, [-np.log(0.8), np.log(2), -np.log(0.7)], rtol=1e-14)


# ---------------------------------------------------------------- a mean over no weight


def grad_of(fn, x):
    t = mg.Tensor(x, requires_grad=True)
    out = fn(t)
    out.backward()
    return out, t.grad.data


def test_zero_total_weight_with_label_smoothing_gives_a_nan_mean_and_zero_gradient():
    x = rng.standard_normal((3, 4))
    t = np.array([1, 1, 2])
    weight = np.array([1.0, 0.0, 0.0, 1.0])  # the targets' classes weigh nothing
    for fn in (F.cross_entropy, F.cross_entropy_composed):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out, g = grad_of(lambda a, fn=fn: fn(a, t, weight=weight, label_smoothing=0.2), x)
        assert np.isnan(out.item()), fn.__name__
        np.testing.assert_array_equal(g, 0.0)


@pytest.mark.parametrize(
    "pair", [(F.nll_loss, F.nll_loss_composed), (F.cross_entropy, F.cross_entropy_composed)]
)
def test_twins_agree_when_every_target_is_ignored(pair):
    x = rng.standard_normal((3, 4))
    t = np.full(3, -100)
    for fn in pair:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out, g = grad_of(lambda a, fn=fn: fn(a, t), x)
        assert np.isnan(out.item()), fn.__name__
        np.testing.assert_array_equal(g, 0.0, err_msg=fn.__name__)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_composed_cross_entropy_ignores_a_sample_with_non_finite_logits(smoothing, reduction):
    x = rng.standard_normal((3, 4))
    x[1] = [np.inf, -np.inf, np.nan, 0.0]
    t = np.array([0, 7, 2])
    kw = dict(ignore_index=7, label_smoothing=smoothing, reduction=reduction)
    with np.errstate(invalid="ignore"):
        fused = F.cross_entropy(x, t, **kw)
        composed = F.cross_entropy_composed(x, t, **kw)
    np.testing.assert_allclose(composed.data, fused.data, rtol=1e-12)
    assert np.isfinite(composed.data).all()


def test_composed_nll_ignores_a_sample_with_non_finite_log_probs():
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    x[1] = [-np.inf, np.nan, -np.inf, 0.0]
    t = np.array([0, 7, 2])
    with np.errstate(invalid="ignore"):  # (the twin's nan * weight 0, masked out next)
        fused = F.nll_loss(x, t, ignore_index=7)
        composed = F.nll_loss_composed(x, t, ignore_index=7)
    assert np.isfinite(composed.item())
    np.testing.assert_allclose(composed.item(), fused.item(), rtol=1e-14)
