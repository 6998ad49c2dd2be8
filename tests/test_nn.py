"""minigrad.nn: registration, naming, state dicts, layers, and training a small MLP."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import data, nn, optim


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter([2.0])
        self.inner = nn.Sequential(nn.Linear(3, 4, seed=1), nn.Tanh(), nn.Linear(4, 2, seed=2))

    def forward(self, x):
        return self.inner(x) * self.scale


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # assigned in non-alphabetical order on purpose: order must follow assignment
        self.zeta = nn.Parameter(np.ones(3))
        self.block = Block()
        self.alpha = nn.Linear(2, 1, seed=3)
        self.not_a_parameter = mg.Tensor([1.0], requires_grad=True)  # plain Tensors are not registered
        self.width = 7

    def forward(self, x):
        return self.alpha(self.block(x * self.zeta))


NET_NAMES = [
    "zeta",
    "block.scale",
    "block.inner.0.weight",
    "block.inner.0.bias",
    "block.inner.2.weight",
    "block.inner.2.bias",
    "alpha.weight",
    "alpha.bias",
]


def arrays_of(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same_state(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


# ---------------------------------------------------------------- Parameter


def test_parameter_requires_grad_and_keeps_float_dtype():
    p = nn.Parameter([1, 2, 3])
    assert p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert nn.Parameter(np.zeros(2, np.float32)).dtype == np.float32
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter(")
    assert isinstance(p, mg.Tensor)


def test_parameter_refuses_integer_arrays():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


# ---------------------------------------------------------------- registration and naming


def test_nested_registration_names_and_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == NET_NAMES
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    # the same model lists the same objects in the same order every time
    assert [id(p) for p in net.parameters()] == [id(p) for p in net.parameters()]
    assert net.block.inner[0].weight is dict(net.named_parameters())["block.inner.0.weight"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "block",
        "block.inner",
        "block.inner.0",
        "block.inner.1",
        "block.inner.2",
        "alpha",
    ]


def test_sequential_names_layers_by_position():
    seq = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=0))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is list(seq)[2]
    assert "(1): ReLU()" in repr(seq) and "Linear(in_features=2, out_features=3, bias=True)" in repr(seq)


def test_sequential_refuses_non_modules():
    with pytest.raises(TypeError, match="argument 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_reassignment_and_removal():
    lin = nn.Linear(2, 2, seed=0)
    new_w = nn.Parameter(np.zeros((2, 2)))
    lin.weight = new_w
    assert lin.weight is new_w and [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = mg.Tensor(np.zeros((2, 2)))
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"] and lin.bias is None
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="submodule '0'"):
        setattr(seq, "0", 3)
    del lin.weight
    assert list(lin.parameters()) == []


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_shared_parameter_is_listed_once_but_saved_under_each_name():
    a = nn.Linear(2, 2, seed=0)
    seq = nn.Sequential(a, nn.Tanh(), a)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq.load_state_dict(seq.state_dict())  # every name is present, so this loads


def test_zero_grad():
    net = Net()
    net(mg.Tensor(np.ones((5, 3)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and not p.grad.data.any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_eval_flag_reaches_submodules():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


# ---------------------------------------------------------------- state dicts


def test_state_dict_is_a_copy_and_round_trips():
    a, b = Net(), Net()
    b.alpha.weight.data[...] = 5.0
    state = a.state_dict()
    assert list(state) == NET_NAMES
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["zeta"][...] = 9.0  # editing the copy leaves the model alone
    assert not (a.zeta.data == 9.0).any()
    state = a.state_dict()
    objects = [id(p) for p in b.parameters()]
    assert b.load_state_dict(state) == nn.LoadResult([], [])
    assert [id(p) for p in b.parameters()] == objects  # copied in place: same Parameter objects
    assert_same_state(a.state_dict(), b.state_dict())
    x = mg.Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_names_every_bad_key_and_changes_nothing():
    net = Net()
    before = arrays_of(net)
    state = net.state_dict()
    state["zeta"] = state["zeta"] + 1.0  # a good value, listed first
    del state["block.scale"]  # missing
    del state["alpha.bias"]  # missing
    state["extra.weight"] = np.zeros(2)  # unexpected
    state["gamma"] = np.zeros(1)  # unexpected
    state["block.inner.0.weight"] = np.zeros((4, 3))  # wrong shape (transposed)
    state["alpha.weight"] = np.array(["a", "b"])  # not numbers
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    for key in ["block.scale", "alpha.bias", "extra.weight", "gamma", "block.inner.0.weight", "alpha.weight"]:
        assert f"'{key}'" in message, key
    assert "missing key 'block.scale'" in message and "unexpected key 'gamma'" in message
    assert "(4, 3)" in message and "(3, 4)" in message
    assert "'zeta'" not in message
    assert_same_state(before, net.state_dict())


def test_load_state_dict_non_strict_loads_what_matches():
    net = Net()
    state = {"zeta": np.full(3, 4.0), "nonsense": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["nonsense"]
    assert result.missing_keys == NET_NAMES[1:]
    np.testing.assert_array_equal(net.zeta.data, np.full(3, 4.0))
    before = arrays_of(net)
    with pytest.raises(ValueError, match="'zeta' has shape"):  # shapes are checked even when not strict
        net.load_state_dict({"zeta": np.zeros(2), "alpha.bias": np.ones(1)}, strict=False)
    assert_same_state(before, net.state_dict())


def test_load_state_dict_converts_to_the_model_dtype():
    lin = nn.Linear(3, 2, dtype=np.float32, seed=0)
    w = np.random.default_rng(1).standard_normal((3, 2))  # float64
    lin.load_state_dict({"weight": w, "bias": mg.Tensor([1.0, 2.0])})
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, w.astype(np.float32))


def test_load_state_dict_refuses_non_mapping():
    with pytest.raises(TypeError, match="mapping"):
        nn.Linear(2, 2).load_state_dict([("weight", np.zeros((2, 2)))])


# ---------------------------------------------------------------- Linear


def test_linear_forward_and_layout():
    lin = nn.Linear(3, 5, seed=0)
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (5,)
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data + lin.bias.data, rtol=1e-15, atol=0)
    batched = np.random.default_rng(2).standard_normal((2, 4, 3))  # extra leading axes work
    assert lin(batched).shape == (2, 4, 5)
    no_bias = nn.Linear(3, 5, bias=False, seed=0)
    assert [n for n, _ in no_bias.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(no_bias(x).data, x @ no_bias.weight.data)


def test_linear_initialisation_is_uniform_within_one_over_sqrt_fan_in():
    lin = nn.Linear(64, 200, seed=0)
    k = 1 / math.sqrt(64)
    for p in (lin.weight.data, lin.bias.data):
        assert np.abs(p).max() <= k
        assert np.abs(p).max() > 0.95 * k  # fills the interval, not a narrower one
    w = lin.weight.data.ravel()
    assert abs(w.mean()) < 0.05 * k and abs(w.std() - k / math.sqrt(3)) < 0.05 * k  # U(-k, k): std k/sqrt(3)


def test_linear_seeding():
    same = [nn.Linear(4, 3, seed=7).weight.data for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(nn.Linear(4, 3, seed=8).weight.data, same[0])
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(nn.Linear(4, 3, rng=rng).weight.data, same[0])
    with pytest.raises(ValueError, match="not both"):
        nn.Linear(4, 3, rng=np.random.default_rng(0), seed=0)


def test_linear_gradients_are_the_closed_forms():
    rng = np.random.default_rng(0)
    lin = nn.Linear(3, 4, seed=0)
    x = rng.standard_normal((6, 3))
    w_out = rng.standard_normal((6, 4))  # random output weights: d(sum(w_out * y))/dy = w_out
    (lin(x) * mg.Tensor(w_out)).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.data, x.T @ w_out, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.data, w_out.sum(axis=0), rtol=1e-12)


def test_linear_float32_stays_float32():
    lin = nn.Linear(3, 2, dtype=np.float32, seed=0)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    x = mg.Tensor(np.ones((4, 3), dtype=np.float32))
    out = nn.Sigmoid()(nn.Tanh()(lin(x)))
    assert out.dtype == np.float32
    out.sum().backward()
    assert lin.weight.grad.dtype == np.float32 and lin.bias.grad.dtype == np.float32


def test_linear_argument_errors():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(3, 2.5)
    with pytest.raises(TypeError, match="floating-point"):
        nn.Linear(3, 2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"last axis has 3 entries, got shape \(5, 2\)"):
        nn.Linear(3, 2)(np.ones((5, 2)))


# ---------------------------------------------------------------- activations


def test_activations_match_numpy_and_sigmoid_is_stable():
    x = np.array([-1000.0, -40.0, -30.0, -1.5, 0.0, 0.7, 30.0, 1000.0])
    np.testing.assert_array_equal(nn.ReLU()(x).data, np.maximum(x, 0))
    np.testing.assert_array_equal(nn.Tanh()(x).data, np.tanh(x))
    assert nn.Identity()(x) is x
    xt = mg.Tensor(x, requires_grad=True)
    s = nn.Sigmoid()(xt)
    expected = np.exp(-np.logaddexp(0, -x))  # 1 / (1 + e^-x), computed without overflow
    np.testing.assert_allclose(s.data, expected, rtol=1e-12, atol=1e-300)
    w = np.random.default_rng(0).standard_normal(x.shape)
    (s * mg.Tensor(w)).sum().backward()
    assert np.isfinite(xt.grad.data).all()
    e = np.exp(-np.abs(x))
    slope = e / (1 + e) ** 2  # sigma (1 - sigma) without the cancellation in 1 - sigma near 1
    np.testing.assert_allclose(xt.grad.data, w * slope, rtol=1e-12, atol=1e-300)
    assert xt.grad.data[x == 0] == pytest.approx(w[x == 0] * 0.25, rel=1e-15)


def test_mlp_input_gradient_passes_gradcheck():
    model = nn.Sequential(
        nn.Linear(3, 5, seed=0),
        nn.Tanh(),
        nn.Linear(5, 4, seed=1),
        nn.Sigmoid(),
        nn.Linear(4, 2, seed=2),
        nn.ReLU(),
    )
    x = mg.Tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True)
    assert mg.gradcheck(model, [x])


# ---------------------------------------------------------------- training


def log_loss(z, y):
    """Mean binary cross-entropy on logits z: softplus(z) - y z, with the stable
    softplus(z) = relu(z) + log(1 + exp(-|z|)), written with engine ops."""
    return (z.relu() + (1.0 + (-z.abs()).exp()).log() - y * z).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_learns_the_moons(dtype):
    X, y = data.make_moons(200, noise=0.1, seed=0)
    x, target = mg.Tensor(X.astype(dtype)), mg.Tensor(y.astype(dtype).reshape(-1, 1))
    model = nn.Sequential(
        nn.Linear(2, 16, seed=0, dtype=dtype),
        nn.Tanh(),
        nn.Linear(16, 16, seed=1, dtype=dtype),
        nn.Tanh(),
        nn.Linear(16, 1, seed=2, dtype=dtype),
    )
    opt = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = log_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert loss.dtype == dtype and all(p.dtype == dtype for p in model.parameters())
    assert losses[0] > 0.5  # starts near log 2, a coin flip
    assert losses[-1] < 0.02
    accuracy = ((model(x).data[:, 0] > 0) == y).mean()
    assert accuracy >= 0.99


def test_mlp_learns_the_moons_with_mean_squared_error_and_sgd():
    X, y = data.make_moons(200, noise=0.1, seed=1)
    x, target = mg.Tensor(X), mg.Tensor(2.0 * y.reshape(-1, 1) - 1.0)  # targets -1 / +1
    model = nn.Sequential(nn.Linear(2, 16, seed=0), nn.Tanh(), nn.Linear(16, 1, seed=1), nn.Tanh())
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    first = None
    for _ in range(400):
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert first > 0.5 and loss.item() < 0.05
    assert ((model(x).data[:, 0] > 0) == y).mean() >= 0.98
