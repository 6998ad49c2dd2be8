"""kl_div, the distillation loss and gumbel_softmax: values against closed forms written
in plain numpy, gradients against closed forms (with random output weights) and finite
differences, dtypes, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F


def np_softmax(z: np.ndarray, T: float = 1.0) -> np.ndarray:
    e = np.exp((z - z.max(axis=-1, keepdims=True)) / T)
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax(z: np.ndarray, T: float = 1.0) -> np.ndarray:
    s = (z - z.max(axis=-1, keepdims=True)) / T
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def random_problem(seed: int, n: int = 6, c: int = 5):
    rng = np.random.default_rng(seed)
    log_q = np_log_softmax(rng.normal(size=(n, c)) * 2)
    t = np_softmax(rng.normal(size=(n, c)) * 2)
    return rng, log_q, t


# ---------------------------------------------------------------- kl_div


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
def test_kl_div_matches_the_closed_form_for_every_reduction(reduction):
    _, log_q, t = random_problem(0)
    t[0, 1] = 0.0  # a zero target entry adds 0 (0 log 0 = 0), never nan
    t[0] /= t[0].sum()
    pointwise = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - log_q), 0.0)
    expected = {
        "none": pointwise,
        "sum": pointwise.sum(),
        "mean": pointwise.mean(),
        "batchmean": pointwise.sum() / log_q.shape[0],
    }[reduction]
    got = F.kl_div(mg.Tensor(log_q), t, reduction=reduction)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-15)
    # with log_target the same divergence is given by log t
    with np.errstate(divide="ignore"):
        log_t = np.log(t)
    log_t[0, 1] = -1e300  # exp(-1e300) = 0 exactly: the zero entry again
    again = F.kl_div(mg.Tensor(log_q), log_t, reduction=reduction, log_target=True)
    np.testing.assert_allclose(again.data, expected, rtol=1e-12, atol=1e-15)


def test_kl_div_batchmean_is_the_mean_kl_per_sample_and_is_zero_only_at_the_target():
    _, log_q, t = random_problem(1)
    per_sample = (t * (np.log(t) - log_q)).sum(axis=1)
    assert (per_sample > 0).all()
    assert F.kl_div(log_q, t, reduction="batchmean").item() == pytest.approx(per_sample.mean(), rel=1e-12)
    assert abs(F.kl_div(np.log(t), t, reduction="sum").item()) < 1e-15


def test_kl_div_default_reduction_is_mean_over_every_entry_as_in_pytorch():
    _, log_q, t = random_problem(2)
    assert F.kl_div(log_q, t).item() == pytest.approx(
        F.kl_div(log_q, t, reduction="sum").item() / t.size, rel=1e-12
    )


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradients_match_the_closed_forms(log_target):
    rng, log_q, t = random_problem(3)
    w = rng.normal(size=t.shape)  # random output weights
    x = mg.Tensor(log_q, requires_grad=True)
    target = mg.Tensor(np.log(t) if log_target else t, requires_grad=True)
    (F.kl_div(x, target, reduction="none", log_target=log_target) * w).sum().backward()
    np.testing.assert_allclose(x.grad.data, -t * w, rtol=1e-12, atol=1e-15)
    if log_target:
        expected_t = w * t * (np.log(t) + 1 - log_q)
    else:
        expected_t = w * (np.log(t) + 1 - log_q)
    np.testing.assert_allclose(target.grad.data, expected_t, rtol=1e-10, atol=1e-13)


def test_kl_div_through_log_softmax_gives_prediction_minus_target():
    rng = np.random.default_rng(4)
    z = mg.Tensor(rng.normal(size=(5, 4)), requires_grad=True)
    t = np_softmax(rng.normal(size=(5, 4)))
    w = rng.normal()
    (w * F.kl_div(F.log_softmax(z), t, reduction="batchmean")).backward()
    np.testing.assert_allclose(z.grad.data, w * (np_softmax(z.data) - t) / 5, rtol=1e-10, atol=1e-14)


def test_kl_div_passes_gradcheck_in_both_arguments():
    rng, log_q, t = random_problem(5, n=3, c=4)
    assert mg.gradcheck(
        lambda a, b: F.kl_div(a, b, reduction="none"),
        [mg.Tensor(log_q, requires_grad=True), mg.Tensor(t, requires_grad=True)],
    )
    assert mg.gradcheck(
        lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True),
        [mg.Tensor(log_q, requires_grad=True), mg.Tensor(np.log(t), requires_grad=True)],
    )


def test_kl_div_keeps_float32():
    _, log_q, t = random_problem(6)
    x = mg.Tensor(log_q.astype(np.float32), requires_grad=True)
    loss = F.kl_div(x, t, reduction="batchmean")
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert loss.item() == pytest.approx(F.kl_div(log_q, t, reduction="batchmean").item(), rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reduction": "avg"}, "reduction must be 'none', 'sum', 'mean' or 'batchmean', got 'avg'"),
        ({"log_target": "yes"}, "log_target must be True or False"),
    ],
)
def test_kl_div_refuses_bad_arguments(kwargs, message):
    _, log_q, t = random_problem(7)
    with pytest.raises(ValueError, match="kl_div: " + message.replace("(", r"\(").replace(")", r"\)")):
        F.kl_div(log_q, t, **kwargs)


def test_kl_div_refuses_a_target_of_another_shape():
    _, log_q, t = random_problem(8)
    with pytest.raises(ValueError, match=r"kl_div: target has shape \(6, 4\), but it must have input's"):
        F.kl_div(log_q, t[:, :4])


# ---------------------------------------------------------------- distillation_loss


def np_distillation(zs, zt, y, T, alpha):
    pt = np_softmax(zt, T)
    kl = (pt * (np.log(pt) - np_log_softmax(zs, T))).sum(axis=1).mean()
    ce = -np_log_softmax(zs)[np.arange(len(y)), y].mean()
    return alpha * T**2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T, alpha", [(1.0, 0.5), (4.0, 0.9), (0.5, 0.3), (3.0, 1.0)])
def test_distillation_loss_value_and_gradient_match_the_closed_form(T, alpha):
    rng = np.random.default_rng(9)
    n, c = 7, 5
    zs_np, zt = rng.normal(size=(n, c)) * 2, rng.normal(size=(n, c)) * 2
    y = rng.integers(0, c, size=n)
    zs = mg.Tensor(zs_np, requires_grad=True)
    teacher = mg.Tensor(zt, requires_grad=True)
    loss = F.distillation_loss(zs, teacher, y, temperature=T, alpha=alpha)
    assert loss.item() == pytest.approx(np_distillation(zs_np, zt, y, T, alpha), rel=1e-12)
    w = rng.normal()  # a random output weight on the scalar loss
    (w * loss).backward()
    soft = T * (np_softmax(zs_np, T) - np_softmax(zt, T))  # T (p_student,T - p_teacher,T)
    hard = np_softmax(zs_np) - np.eye(c)[y]  # p - y
    expected = w * (alpha * soft + (1 - alpha) * hard) / n
    np.testing.assert_allclose(zs.grad.data, expected, rtol=1e-10, atol=1e-14)
    assert teacher.grad is None  # the teacher is a fixed reference


def test_distillation_loss_passes_gradcheck():
    rng = np.random.default_rng(10)
    zs = mg.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    zt, y = rng.normal(size=(4, 3)), rng.integers(0, 3, size=4)
    assert mg.gradcheck(lambda s: F.distillation_loss(s, zt, y, temperature=2.5, alpha=0.7), [zs])


def test_the_t_squared_factor_keeps_the_soft_gradient_the_same_size_at_high_temperature():
    """As T grows, T (p_s,T - p_t,T) tends to the centred logit difference / C: a finite
    limit. Without the T^2 the gradient would shrink like 1 / T^2."""
    rng = np.random.default_rng(11)
    zs_np, zt = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    diff = zs_np - zt
    limit = (diff - diff.mean(axis=1, keepdims=True)) / 6 / 3  # / C, and / N for batchmean
    errors = []
    for T in (1e1, 1e2, 1e3):
        zs = mg.Tensor(zs_np, requires_grad=True)
        F.distillation_loss(zs, zt, temperature=T, alpha=1.0).backward()
        errors.append(np.linalg.norm(zs.grad.data - limit) / np.linalg.norm(limit))
    assert errors[2] < 1e-3 and errors[2] < errors[1] / 5 < errors[0] / 25, errors  # error ~ 1 / T


def test_distillation_loss_keeps_float32_and_refuses_bad_arguments():
    rng = np.random.default_rng(12)
    zs = mg.Tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    zt, y = rng.normal(size=(4, 3)).astype(np.float32), np.array([0, 1, 2, 0])
    loss = F.distillation_loss(zs, zt, y)
    loss.backward()
    assert loss.dtype == np.float32 and zs.grad.dtype == np.float32
    big = F.distillation_loss(zs * 1e4, zt * 1e4, y, temperature=2.0)
    assert np.isfinite(big.item())
    with pytest.raises(ValueError, match="distillation_loss: alpha must be a number in \\[0, 1\\], got 1.5"):
        F.distillation_loss(zs, zt, y, alpha=1.5)
    with pytest.raises(ValueError, match="distillation_loss: temperature must be a finite number > 0"):
        F.distillation_loss(zs, zt, y, temperature=0)
    with pytest.raises(ValueError, match="distillation_loss: target is None"):
        F.distillation_loss(zs, zt, None, alpha=0.5)
    with pytest.raises(ValueError, match="distillation_loss: teacher_logits has shape \\(4, 2\\)"):
        F.distillation_loss(zs, zt[:, :2], y)


# ---------------------------------------------------------------- gumbel_softmax


def test_gumbel_softmax_is_softmax_of_logits_plus_gumbel_noise():
    logits = np.array([[1.0, -0.5, 2.0, 0.0], [0.3, 0.3, -1.0, 4.0]])
    y = F.gumbel_softmax(logits, tau=0.7, rng=3)
    g = -np.log(np.random.default_rng(3).standard_exponential(logits.shape))
    np.testing.assert_allclose(y.data, np_softmax(logits + g, 0.7), rtol=1e-12)
    np.testing.assert_allclose(y.data.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.array_equal(F.gumbel_softmax(logits, rng=5).data, F.gumbel_softmax(logits, rng=5).data)
    gen = np.random.default_rng(0)
    assert not np.array_equal(F.gumbel_softmax(logits, rng=gen).data, F.gumbel_softmax(logits, rng=gen).data)


def test_gumbel_softmax_along_another_axis():
    logits = np.random.default_rng(1).normal(size=(4, 3))
    y = F.gumbel_softmax(logits, axis=0, rng=2)
    np.testing.assert_allclose(y.data.sum(axis=0), 1.0, rtol=1e-12)


def test_argmax_frequencies_match_softmax_and_samples_approach_one_hot_as_tau_shrinks():
    logits = np.array([1.0, 0.0, -1.0, 0.5])
    n = 20000
    batch = np.tile(logits, (n, 1))
    y = F.gumbel_softmax(batch, tau=1.0, rng=0).data
    freq = np.bincount(y.argmax(axis=1), minlength=4) / n
    p = np_softmax(logits)
    # binomial standard error sqrt(p (1 - p) / n) < 0.0036: 4 standard errors
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(p * (1 - p) / n).max())
    top = [
        np.mean(F.gumbel_softmax(batch[:2000], tau=tau, rng=1).data.max(axis=1)) for tau in (2.0, 0.5, 0.02)
    ]
    assert top[0] < top[1] < top[2] and top[2] > 0.97, top


def test_hard_samples_are_one_hot_with_the_soft_gradient():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5, 4))
    w = rng.normal(size=(5, 4))
    x_hard, x_soft = mg.Tensor(logits, requires_grad=True), mg.Tensor(logits, requires_grad=True)
    hard = F.gumbel_softmax(x_hard, tau=0.5, hard=True, rng=7)
    soft = F.gumbel_softmax(x_soft, tau=0.5, rng=7)
    assert set(np.unique(hard.data)) == {0.0, 1.0} and (hard.data.sum(axis=1) == 1).all()
    assert np.array_equal(hard.data.argmax(axis=1), soft.data.argmax(axis=1))
    (hard * w).sum().backward()
    (soft * w).sum().backward()
    np.testing.assert_allclose(x_hard.grad.data, x_soft.grad.data, rtol=1e-12, atol=1e-15)


def test_gumbel_softmax_gradient_at_fixed_noise_matches_the_closed_form_and_finite_differences():
    rng = np.random.default_rng(3)
    logits, w, tau = rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), 0.8
    x = mg.Tensor(logits, requires_grad=True)
    y = F.gumbel_softmax(x, tau=tau, rng=11)
    (y * w).sum().backward()
    p = y.data  # dy/dlogits = (diag(y) - y y^T) / tau
    expected = p * (w - (w * p).sum(axis=1, keepdims=True)) / tau
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-10, atol=1e-14)
    fixed_noise = lambda z: F.gumbel_softmax(z, tau=tau, rng=11)  # same seed: same noise every call
    assert mg.gradcheck(fixed_noise, [mg.Tensor(logits, requires_grad=True)])
    assert np.isfinite(x.grad.data).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gumbel_softmax_keeps_its_dtype_and_stays_finite_at_huge_logits(dtype):
    logits = mg.Tensor((np.array([[1.0, -1.0, 0.5]]) * 1e4).astype(dtype), requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5, rng=0)
    (y * np.array([[0.3, -1.2, 0.8]], dtype=dtype)).sum().backward()
    assert y.dtype == dtype and logits.grad.dtype == dtype
    assert np.isfinite(y.data).all() and np.isfinite(logits.grad.data).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"tau": 0}, "tau must be a finite number > 0, got 0"),
        ({"tau": float("inf")}, "tau must be a finite number > 0"),
        ({"hard": 1}, "hard must be True or False, got 1"),
        ({"rng": "seed"}, "rng must be an int seed >= 0, a numpy.random.Generator or None, got 'seed'"),
        ({"axis": 2}, "axis 2 is out of range"),
    ],
)
def test_gumbel_softmax_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match="gumbel_softmax: " + message):
        F.gumbel_softmax(np.zeros((2, 3)), **kwargs)
