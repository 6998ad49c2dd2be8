"""minigrad.optim: each update against its formula, computed by hand in numpy."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

STEPS = 6
RNG = np.random.default_rng(0)
A = RNG.standard_normal((5, 3))
T = RNG.standard_normal(5)
P0 = RNG.standard_normal(3)


def loss_grad(p):
    """The gradient of 0.5 |A p - t|^2, by hand: A^T (A p - t)."""
    return A.T @ (A @ p - T)


def run_minigrad(make_opt, dtype=np.float64, steps=STEPS):
    """Minimise 0.5 |A p - t|^2 with autograd and the optimizer; the parameter after each step."""
    p = nn.Parameter(P0.astype(dtype))
    a, t = mg.Tensor(A.astype(dtype)), mg.Tensor(T.astype(dtype))
    opt = make_opt([p])
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((a @ p - t) ** 2).sum()
        loss.backward()
        opt.step()
        trajectory.append(p.data.copy())
    return trajectory


def sgd_by_hand(lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    p, b, trajectory = P0.copy(), None, []
    for _ in range(STEPS):
        g = loss_grad(p) + weight_decay * p
        if momentum:
            b = g if b is None else momentum * b + g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        trajectory.append(p)
    return trajectory


def adam_by_hand(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    p, m, v, trajectory = P0.copy(), np.zeros(3), np.zeros(3), []
    for t in range(1, STEPS + 1):
        g = loss_grad(p) + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g ** 2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(p)
    return trajectory


SGD_CASES = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.3),
    dict(lr=0.03, momentum=0.5, weight_decay=0.1, nesterov=True),
]
ADAM_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, weight_decay=0.5),
    dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3, weight_decay=0.1),
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_the_formula(kwargs):
    got = run_minigrad(lambda ps: optim.SGD(ps, **kwargs))
    expected = sgd_by_hand(**kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(got[-1], P0)  # it moved


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_the_formula(kwargs):
    got = run_minigrad(lambda ps: optim.Adam(ps, **kwargs))
    np.testing.assert_allclose(got, adam_by_hand(**kwargs), rtol=1e-12, atol=1e-14)


def test_variants_really_differ():
    """Each option changes the trajectory (so the formula tests above can tell them apart)."""
    finals = [run_minigrad(lambda ps, kw=kw: optim.SGD(ps, **kw))[-1] for kw in SGD_CASES]
    finals += [run_minigrad(lambda ps, kw=kw: optim.Adam(ps, **kw))[-1] for kw in ADAM_CASES]
    for i in range(len(finals)):
        for j in range(i):
            assert not np.allclose(finals[i], finals[j], rtol=1e-6), (i, j)


def test_first_steps_in_numbers():
    """Two steps on p = [1, -2] with gradient g = p (loss 0.5 |p|^2), written out."""
    def two_steps(opt_factory):
        p = nn.Parameter([1.0, -2.0])
        opt = opt_factory([p])
        for _ in range(2):
            opt.zero_grad()
            (0.5 * (p * p).sum()).backward()
            opt.step()
        return p.data

    # momentum: b1 = g0 = p0; p1 = p0 - 0.1 p0 = 0.9 p0; b2 = 0.5 b1 + p1 = 1.4 p0; p2 = 0.9 p0 - 0.14 p0
    np.testing.assert_allclose(two_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5)),
                               0.76 * np.array([1.0, -2.0]), rtol=1e-14)
    # nesterov: step 1 uses g + mu b = 1.5 p0 -> p1 = 0.85 p0; b2 = 0.5 p0 + 0.85 p0 = 1.35 p0,
    # step 2 uses p1 + 0.5 b2 = 1.525 p0 -> p2 = 0.85 p0 - 0.1525 p0
    np.testing.assert_allclose(two_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5, nesterov=True)),
                               0.6975 * np.array([1.0, -2.0]), rtol=1e-14)
    # Adam's first step, thanks to bias correction, is lr * g / (|g| + eps) = lr * sign(g) (eps = 0)
    p = nn.Parameter([3.0, -0.001])
    opt = optim.Adam([p], lr=0.1, eps=0.0)
    (0.5 * (p * p).sum()).backward()
    opt.step()
    np.testing.assert_allclose(p.data, [2.9, 0.099], rtol=1e-14)


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
], ids=["sgd", "adam"])
def test_float32_stays_float32(make_opt):
    got32 = run_minigrad(make_opt, dtype=np.float32)
    got64 = run_minigrad(make_opt, dtype=np.float64)
    assert all(p.dtype == np.float32 for p in got32)
    np.testing.assert_allclose(got32, got64, rtol=2e-4, atol=2e-5)
    # the optimizer's buffers too, even when a float64 gradient is set by hand
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = make_opt([p])
    p.grad = mg.Tensor(np.full(3, 0.5))  # float64
    opt.step()
    opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[0].values() if isinstance(v, np.ndarray))


def test_parameters_without_grad_are_skipped():
    used, unused = nn.Parameter([1.0, 2.0]), nn.Parameter([5.0])
    opt = optim.Adam([used, unused], lr=0.1)
    (used * used).sum().backward()
    opt.step()
    np.testing.assert_array_equal(unused.data, [5.0])
    assert opt.state[1] == {}  # no state, and no step counted
    # when it finally gets a gradient, its first update is Adam's first step: lr * sign(g)
    opt.zero_grad()
    (unused * 2.0).sum().backward()
    opt.step()
    np.testing.assert_allclose(unused.data, [4.9], rtol=1e-9)
    assert opt.state[1]["step"] == 1 and opt.state[0]["step"] == 1


def test_updates_are_in_place_and_grad_is_not_modified():
    p = nn.Parameter([1.0, 2.0])
    data_before = p.data
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    p.grad = mg.Tensor([1.0, 1.0])
    opt.step()
    opt.step()
    assert p.data is data_before
    np.testing.assert_array_equal(p.grad.data, [1.0, 1.0])


def test_zero_grad_and_learning_rate_changes():
    p = nn.Parameter([1.0])
    opt = optim.SGD([p], lr=0.1)
    p.grad = mg.Tensor([1.0])
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad(set_to_none=False)
    assert p.grad is None  # there is nothing to zero
    p.grad = mg.Tensor([1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [0.0])
    p.grad = mg.Tensor([1.0])
    opt.lr = 0.5  # a schedule may change lr between steps
    opt.step()
    np.testing.assert_allclose(p.data, [0.5])


def test_works_with_model_parameters_generator():
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 1, seed=1))
    opt = optim.Adam(model.parameters())
    assert len(opt.params) == 4


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-0.1), "lr must be >= 0"),
    (lambda p: optim.SGD(p, lr=float("nan")), "lr must be >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum must be >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay must be >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda p: optim.Adam(p, lr=-1e-3), "lr must be >= 0"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\] must be >= 0.0 and < 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\] must be >= 0.0 and < 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: optim.Adam(p, eps=-1e-8), "eps must be >= 0"),
    (lambda p: optim.Adam(p, weight_decay=-0.1), "weight_decay must be >= 0"),
])
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter([1.0])])


def test_bad_parameter_lists_are_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    model = nn.Linear(2, 2)
    params = model.parameters()
    optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):  # the generator is used up
        optim.SGD(params, lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(nn.Parameter([1.0]), lr=0.1)
    with pytest.raises(TypeError, match="expected a Tensor"):
        optim.Adam([np.ones(2)])
    with pytest.raises(TypeError, match="floating-point"):
        optim.Adam([mg.Tensor(np.arange(3))])
    w = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.Adam([w * 2.0])
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([w, w])


def test_gradient_of_the_wrong_shape_is_reported():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    p.grad = mg.Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"shape \(2,\) but its .grad has shape \(3,\)"):
        opt.step()


def test_optimizer_zero_grad_clears_like_module_zero_grad():
    model = nn.Linear(3, 2, seed=0)
    extra = mg.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([*model.parameters(), extra], lr=0.1)
    (model(mg.Tensor(np.ones((4, 3)))).sum() + extra.sum()).backward()
    opt.zero_grad(set_to_none=False)  # existing gradients become zeros of the same shape and dtype
    for p in opt.params:
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and not p.grad.data.any()
    opt.zero_grad()
    assert all(p.grad is None for p in opt.params)
    optim.zero_grad(opt.params, set_to_none=False)  # a None gradient stays None
    assert all(p.grad is None for p in opt.params)
