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
        v = betas[1] * v + (1 - betas[1]) * g**2
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
    np.testing.assert_allclose(
        two_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5)), 0.76 * np.array([1.0, -2.0]), rtol=1e-14
    )
    # nesterov: step 1 uses g + mu b = 1.5 p0 -> p1 = 0.85 p0; b2 = 0.5 p0 + 0.85 p0 = 1.35 p0,
    # step 2 uses p1 + 0.5 b2 = 1.525 p0 -> p2 = 0.85 p0 - 0.1525 p0
    np.testing.assert_allclose(
        two_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5, nesterov=True)),
        0.6975 * np.array([1.0, -2.0]),
        rtol=1e-14,
    )
    # Adam's first step, thanks to bias correction, is lr * g / (|g| + eps) = lr * sign(g) (eps = 0)
    p = nn.Parameter([3.0, -0.001])
    opt = optim.Adam([p], lr=0.1, eps=0.0)
    (0.5 * (p * p).sum()).backward()
    opt.step()
    np.testing.assert_allclose(p.data, [2.9, 0.099], rtol=1e-14)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True),
        lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
    ],
    ids=["sgd", "adam"],
)
def test_float32_stays_float32(make_opt):
    got32 = run_minigrad(make_opt, dtype=np.float32)
    got64 = run_minigrad(make_opt, dtype=np.float64)
    assert all(p.dtype == np.float32 for p in got32)
    np.testing.assert_allclose(got32, got64, rtol=2e-4, atol=2e-5)
    # the optimizer's buffers too; a float64 gradient set by hand is refused at once
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = make_opt([p])
    with pytest.raises(TypeError, match="assigned grad has dtype float64, but the tensor has dtype float32"):
        p.grad = mg.Tensor(np.full(3, 0.5))
    p.grad = mg.Tensor(np.full(3, 0.5, dtype=np.float32))
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


@pytest.mark.parametrize(
    "make, message",
    [
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
    ],
)
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
    with pytest.raises(ValueError, match=r"assigned grad has shape \(3,\), but the tensor has shape \(2,\)"):
        p.grad = mg.Tensor([1.0, 2.0, 3.0])
    p._grad = mg.Tensor([1.0, 2.0, 3.0])  # past the check: the optimizer still says which parameter
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(2,\) but its .grad has shape \(3,\)"):
        opt.step()


# ---------------------------------------------------------------- 0-d parameters

# torch.optim on p = 1.5 (a 0-d float64 parameter), loss p^3 - 2p, four steps; numbers printed by
# torch 2.13 and typed in here (torch is not a dependency)
TORCH_0D = {
    "sgd_momentum": (
        dict(lr=0.1, momentum=0.9),
        [1.025, 0.48231249999999987, 0.12410614570312488, -0.0029002737844481805],
    ),
    "sgd_momentum_wd": (
        dict(lr=0.1, momentum=0.9, weight_decay=0.1),
        [1.01, 0.45287, 0.08539692892999998, -0.04837059496350267],
    ),
    "sgd_nesterov_wd": (
        dict(lr=0.05, momentum=0.5, weight_decay=0.2, nesterov=True),
        [1.12125, 0.9084358984375001, 0.8026161255139492, 0.7591600151690179],
    ),
    "adam": (dict(lr=0.1), [1.4000000002105264, 1.3010272718528413, 1.203988215792399, 1.1099541199711138]),
    "adam_wd": (
        dict(lr=0.1, weight_decay=0.5),
        [1.4000000001818182, 1.3008878165743192, 1.20342271183639, 1.1084867619398575],
    ),
}


@pytest.mark.parametrize("case", list(TORCH_0D))
def test_zero_dimensional_parameters_match_torch_optim(case):
    kwargs, expected = TORCH_0D[case]
    make = optim.Adam if case.startswith("adam") else optim.SGD
    p = nn.Parameter(np.array(1.5))
    opt = make([p], **kwargs)
    got = []
    for _ in range(4):
        opt.zero_grad()
        (p**3 - 2.0 * p).backward()
        opt.step()
        got.append(float(p.data))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    assert p.shape == () and isinstance(p.data, np.ndarray)
    # the state holds arrays, updated in place (a numpy scalar would be a copy, left behind)
    assert all(isinstance(v, np.ndarray) for k, v in opt.state[0].items() if k != "step")


# ---------------------------------------------------------------- state_dict and resuming


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 4, seed=1), nn.Tanh(), nn.Linear(4, 2, seed=2))
    batches = [(rng.standard_normal((5, 3)), rng.integers(0, 2, 5)) for _ in range(10)]
    return model, batches


def _train(model, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        mg.functional.cross_entropy(model(mg.Tensor(x)), y).backward()
        opt.step()


RESUMABLE = {
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.01),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_a_resumed_run_continues_exactly_as_an_uninterrupted_one(name, tmp_path):
    make = RESUMABLE[name]
    n = 4  # steps before the interruption; then M = 6 more
    model, batches = _problem()
    opt = make(model.parameters())
    _train(model, opt, batches)  # N + M steps in one go
    uninterrupted = model.state_dict()

    model, batches = _problem()
    opt = make(model.parameters())
    _train(model, opt, batches[:n])
    path = tmp_path / "checkpoint.npz"
    mg.serialization.save_checkpoint(path, model=model, optimizer=opt)
    del model, opt

    model, _ = _problem()
    opt = make(model.parameters())
    mg.serialization.load_checkpoint(path, model=model, optimizer=opt)
    _train(model, opt, batches[n:])
    resumed = model.state_dict()
    for key in uninterrupted:
        np.testing.assert_array_equal(resumed[key], uninterrupted[key])  # bit for bit

    # without the optimizer's state the run does not continue the same way (the test can fail)
    model, _ = _problem()
    opt = make(model.parameters())
    model.load_state_dict({k[len("model.") :]: v for k, v in mg.load(path).items() if k.startswith("model.")})
    _train(model, opt, batches[n:])
    assert any(not np.allclose(model.state_dict()[k], uninterrupted[k], rtol=1e-6) for k in uninterrupted)


def test_state_dict_contents_are_flat_numeric_copies():
    p, q = nn.Parameter([1.0, 2.0]), nn.Parameter(np.array(3.0))
    opt = optim.Adam([p, q], lr=0.1, betas=(0.8, 0.9))
    (p * p).sum().backward()
    opt.step()
    state = opt.state_dict()
    assert set(state) == {
        "hyper.lr",
        "hyper.betas",
        "hyper.eps",
        "hyper.weight_decay",
        "state.0.step",
        "state.0.m",
        "state.0.v",
    }  # q had no gradient: no state
    assert state["state.0.step"] == 1 and state["state.0.step"].dtype.kind == "i"
    np.testing.assert_allclose(state["hyper.betas"], [0.8, 0.9])
    state["state.0.m"][...] = 99.0  # a copy: the optimizer is not changed through it
    assert not np.any(opt.state[0]["m"] == 99.0)
    sgd = optim.SGD([p], lr=0.5, momentum=0.9)
    assert set(sgd.state_dict()) == {"hyper.lr", "hyper.momentum", "hyper.weight_decay", "hyper.nesterov"}


def test_load_state_dict_restores_hyperparameters_and_dtype():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    source = optim.SGD([p], lr=0.3, momentum=0.5, nesterov=True)
    p.grad = mg.Tensor(np.ones(3, dtype=np.float32))
    source.step()
    state = {
        k: (v.astype(np.float64) if k.startswith("state") else v) for k, v in source.state_dict().items()
    }
    target = optim.SGD([nn.Parameter(np.zeros(3, dtype=np.float32))], lr=0.01, momentum=0.1)
    target.load_state_dict(state)
    assert (target.lr, target.momentum, target.nesterov) == (0.3, 0.5, True)
    assert target.state[0]["momentum_buffer"].dtype == np.float32


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("hyper.lr"), r"expected the hyperparameters"),
        (lambda s: s.update({"state.0.bogus": np.zeros(2)}), r"unexpected key 'state.0.bogus'"),
        (lambda s: s.update({"state.5.m": np.zeros(2)}), r"is for parameter 5, but the optimizer has 1"),
        (
            lambda s: s.update({"state.0.m": np.zeros(3)}),
            r"has shape \(3,\) but the parameter has shape \(2,\)",
        ),
        (lambda s: s.pop("state.0.v"), r"parameter 0 has state \['m', 'step'\] but not \['v'\]"),
        (lambda s: s.update({"state.0.step": np.array(1.5)}), r"must be an integer >= 0"),
        (lambda s: s.update({"hyper.lr": np.array(-1.0)}), r"lr must be >= 0"),
    ],
)
def test_a_bad_optimizer_state_is_refused_and_changes_nothing(change, message):
    p = nn.Parameter([1.0, 2.0])
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    state = opt.state_dict()
    change(state)
    fresh = optim.Adam([nn.Parameter([0.0, 0.0])], lr=0.2)
    with pytest.raises(ValueError, match=message):
        fresh.load_state_dict(state)
    assert fresh.lr == 0.2 and fresh.state == [{}]


def test_the_state_of_one_optimizer_does_not_load_into_another_kind():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="another optimizer"):
        optim.SGD([p], lr=0.1).load_state_dict(optim.Adam([p]).state_dict())
    with pytest.raises(TypeError, match="expects a mapping"):
        optim.SGD([p], lr=0.1).load_state_dict([1, 2])


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
