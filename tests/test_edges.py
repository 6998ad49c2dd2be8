"""PyTorch and numpy semantics where the main road ends: comparisons, in-place changes
between forward and backward, reductions of empty tensors, dtype promotion, tensor
construction, clear errors, and no_grad on generators."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F
from minigrad import nn, optim

# ---------------------------------------------------------------- == and != are elementwise


def test_equality_is_elementwise_with_tensors_arrays_and_scalars():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in (
        (x == mg.Tensor([1.0, 0.0, 3.0]), [True, False, True]),
        (x != np.array([1.0, 0.0, 3.0]), [False, True, False]),
        (x == 2.0, [False, True, False]),
        (np.array([3.0, 2.0, 1.0]) == x, [False, True, False]),  # numpy defers to us
        (x == mg.Tensor([[1.0], [3.0]]), [[True, False, False], [False, False, True]]),
    ):
        assert isinstance(result, mg.Tensor) and result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
    assert (x == None) is False and (x != None) is True  # noqa: E711  (as PyTorch: no elementwise None)


def test_accuracy_idiom_gives_the_accuracy():
    rng = np.random.default_rng(0)
    logits = mg.Tensor(rng.standard_normal((50, 4)))
    y = rng.integers(0, 4, size=50)
    expected = np.count_nonzero(logits.data.argmax(axis=1) == y) / 50
    assert 0 < expected < 1
    assert float(np.mean(logits.argmax(axis=1) == y)) == expected
    assert float((logits.argmax(axis=1) == mg.Tensor(y)).mean()) == expected
    assert f"{np.mean(logits.argmax(axis=1) == y):.2f}" == f"{expected:.2f}"


def test_tensors_with_equal_values_stay_distinct_dict_keys_and_graph_nodes():
    a, b = mg.Tensor([2.0], requires_grad=True), mg.Tensor([2.0], requires_grad=True)
    assert len({a, b}) == 2 and {a: "a", b: "b"}[b] == "b"
    (a * b * a).sum().backward()  # equal values, different leaves: d/da = 2ab, d/db = a^2
    np.testing.assert_array_equal(a.grad.data, [8.0])
    np.testing.assert_array_equal(b.grad.data, [4.0])


def test_an_optimizer_names_the_right_parameter_among_equal_ones():
    p0, p1 = nn.Parameter([1.0, 2.0]), nn.Parameter([1.0, 2.0])
    opt = optim.SGD([p0, p1], lr=0.1)
    p0.grad = mg.Tensor([1.0, 1.0])
    p1._grad = mg.Tensor([1.0, 1.0, 1.0])  # past the assignment check, as a buggy hook might
    with pytest.raises(ValueError, match=r"parameter 1 has shape \(2,\)"):
        opt.step()


# ---------------------------------------------------------------- in-place changes and backward


def test_an_optimizer_step_between_forward_and_backward_is_refused():
    w = nn.Parameter([1.0, -2.0])
    opt = optim.SGD([w], lr=0.1)
    la = (w * w).sum()
    lb = (w * w * w).sum()
    la.backward()
    opt.step()
    with pytest.raises(
        RuntimeError,
        match=r"a tensor needed for the gradient was modified in place: "
        r"the input 1 of 'mul', of shape \(2,\) \(float64\)",
    ):
        lb.backward()


def test_every_in_place_change_through_minigrad_bumps_the_version():
    w = nn.Parameter([1.0, 2.0])
    changes = {
        "assigning .data": lambda: setattr(w, "data", np.array([3.0, 4.0])),
        "w.data -= ...": lambda: w.__setattr__("data", w.data.__isub__(1.0)),
        "SGD step": lambda: optim.SGD([w], lr=0.1, momentum=0.5).step(),
        "Adam step": lambda: optim.Adam([w], lr=0.1).step(),
        "bump_version": w.bump_version,
    }
    model = nn.Linear(2, 1)
    new_state = {"weight": np.ones((2, 1)), "bias": np.zeros(1)}
    changes["load_state_dict"] = lambda: model.load_state_dict(new_state)
    for name, change in changes.items():
        w.grad = mg.Tensor([0.5, 0.5])
        target = model.weight if name == "load_state_dict" else w
        before = target._version
        change()
        assert target._version > before, name


def test_lbfgs_and_a_loaded_checkpoint_bump_the_version(tmp_path):
    w = nn.Parameter([1.0, 2.0])
    stale = (w * w).sum()

    def closure():
        opt.zero_grad()
        loss = ((w - 3.0) ** 2).sum()
        loss.backward()
        return loss

    opt = optim.LBFGS([w], lr=1.0, max_iter=2)
    opt.step(closure)
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()
    model = nn.Linear(2, 1)
    mg.save(model.state_dict(), tmp_path / "m.npz")
    stale = model(mg.Tensor([[1.0, 2.0]])).sum()
    model.load_state_dict(mg.load(tmp_path / "m.npz"))
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()


def test_a_changed_output_is_refused_and_a_fresh_forward_pass_works():
    x = mg.Tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    y.data = y.data * 2  # the rule of exp reads its output
    with pytest.raises(RuntimeError, match="the output of 'exp'"):
        y.sum().backward()
    w = nn.Parameter([1.0, -2.0])
    opt = optim.Adam([w], lr=0.1)
    for _ in range(3):  # the usual loop: forward after every step, never refused
        opt.zero_grad()
        loss = (w * w * w).sum()
        loss.backward()
        opt.step()


def test_retain_graph_then_a_step_then_backward_again_is_refused():
    w = nn.Parameter([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    with mg.no_grad():
        w.data -= 0.1 * w.grad.data  # the chapters' hand-written update
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_writing_into_the_array_bypasses_the_check_unless_told():
    w = nn.Parameter([1.0, 2.0])
    loss = (w * w).sum()
    w.data[...] = [3.0, 4.0]  # invisible to minigrad, as in PyTorch: documented
    before = w._version
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad.data, [6.0, 8.0])  # taken at the new values
    w.bump_version()
    assert w._version > before
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


# ---------------------------------------------------------------- reductions at the edges


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_of_nothing_is_nan_with_an_empty_gradient(dtype):
    x = mg.Tensor(np.zeros((0,), dtype), requires_grad=True)
    m = x.mean()
    assert m.dtype == dtype and np.isnan(m.item())
    m.backward()
    assert x.grad.shape == (0,) and x.grad.dtype == dtype
    rows = mg.Tensor(np.ones((3, 0), dtype)).mean(axis=1)
    assert rows.shape == (3,) and np.isnan(rows.data).all()


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "var"])
def test_a_repeated_axis_is_refused(reduce):
    x = mg.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"axis \(0, 0\) names the same axis twice"):
        getattr(x, reduce)(axis=(0, 0))
    with pytest.raises(ValueError, match=r"names the same axis twice"):
        getattr(x, reduce)(axis=(1, -1))


def test_var_without_degrees_of_freedom_warns_and_gives_numpys_values():
    for data, ddof in (([1.0], 1), ([1.0, 2.0], 2), ([1.0, 2.0], 3), ([1.0, 1.0], 2)):
        x = mg.Tensor(data, requires_grad=True)
        with pytest.warns(RuntimeWarning, match="degrees of freedom"):
            got = x.var(ddof=ddof)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.var(data, ddof=ddof)
        np.testing.assert_array_equal(got.data, expected)  # nan or inf, as numpy


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_and_min_of_an_empty_tensor_over_a_non_empty_axis(reduce):
    x = mg.Tensor(np.zeros((0, 3)), requires_grad=True)
    out = getattr(x, reduce)(axis=1)
    assert out.shape == (0,)
    out.sum().backward()
    assert x.grad.shape == (0, 3)
    assert getattr(x, reduce)(axis=1, keepdims=True).shape == (0, 1)
    with pytest.raises(ValueError, match="over an axis of length 0"):
        getattr(x, reduce)(axis=0)


@pytest.mark.parametrize(
    "composed, fused", [(F.softmax_composed, F.softmax), (F.log_softmax_composed, F.log_softmax)]
)
def test_composed_softmax_twins_take_an_empty_batch(composed, fused):
    x = mg.Tensor(np.zeros((0, 3)), requires_grad=True)
    out = composed(x, axis=1)
    assert out.shape == fused(x, axis=1).shape == (0, 3)
    out.sum().backward()
    assert x.grad.shape == (0, 3)


# ---------------------------------------------------------------- pow and dtypes


def test_numpy_scalar_exponents_are_weak():
    x = mg.Tensor(np.array([0.5, 2.0], np.float32), requires_grad=True)
    for p in (np.float64(1.5), np.int64(3), 1.5):
        y = x**p
        assert y.dtype == np.float32, p
        np.testing.assert_allclose(y.data, x.data.astype(np.float64) ** float(p), rtol=1e-6)
    (x ** np.float64(1.5)).sum().backward()
    assert x.grad.dtype == np.float32


def test_d_dp_of_zero_to_the_p_matches_pytorch():
    # torch: a = [0, 0, 0, 2], p = [-1, 0, 2, -1] (requires grad), (a ** p).sum().backward()
    # gives p.grad = [-inf, 0, 0, 0.5 * log(2)]
    a = mg.Tensor([0.0, 0.0, 0.0, 2.0])
    p = mg.Tensor([-1.0, 0.0, 2.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns at 0 ** -1 = inf in the forward pass
        (a**p).sum().backward()
    np.testing.assert_array_equal(p.grad.data[:3], [-np.inf, 0.0, 0.0])
    np.testing.assert_allclose(p.grad.data[3], 0.5 * np.log(2.0), rtol=1e-12)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_an_integer_array_never_promotes_a_float32_tensor(op):
    x = mg.Tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    ints = np.array([1, 2, 3], dtype=np.int64)
    for y in (eval(f"x {op} ints"), eval(f"ints {op} x"), eval(f"x {op} (ints > 0)")):
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None
    assert (mg.Tensor(np.array([1, 2, 3])) * ints).dtype == np.int64  # integers stay integers


# ---------------------------------------------------------------- tensor construction


def test_a_list_of_tensors_that_require_grad_points_to_stack():
    a, b = mg.Tensor(1.0, requires_grad=True), mg.Tensor(2.0)
    with pytest.raises(TypeError, match=r"mg.stack"):
        mg.Tensor([a, b])
    with pytest.raises(TypeError, match=r"mg.stack"):
        mg.Tensor([[b, a]])
    np.testing.assert_array_equal(mg.Tensor([b, b]).data, [2.0, 2.0])  # no graph to drop: fine


def test_requires_grad_must_be_a_bool():
    for bad in ("no", 1, None, [True]):
        with pytest.raises(TypeError, match="requires_grad must be True or False"):
            mg.Tensor([1.0], requires_grad=bad)
    assert mg.Tensor([1.0], requires_grad=np.bool_(True)).requires_grad
    with pytest.raises(TypeError, match="requires_grad must be True or False, got 'yes'"):
        mg.Tensor([1.0]).requires_grad_("yes")


def test_an_integer_too_large_says_so():
    for big in (2**70, [1, 2**70], -(2**70)):
        with pytest.raises(OverflowError, match="does not fit in a 64-bit integer"):
            mg.Tensor(big)
    with pytest.raises(OverflowError, match="does not fit in dtype int8"):
        mg.Tensor(300, dtype=np.int8)
    assert mg.Tensor(2.0**70).item() == 2.0**70


# ---------------------------------------------------------------- clear errors


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "var"])
@pytest.mark.parametrize("axis", [1.0, "0", True, (0, 1.5)])
def test_an_axis_of_the_wrong_type_is_named(reduce, axis):
    with pytest.raises(TypeError, match=r"axis must be None, an int or a tuple of ints, got "):
        getattr(mg.Tensor(np.ones((2, 3))), reduce)(axis=axis)


def test_broadcast_to_and_batched_matmul_name_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"broadcast_to: a tensor of shape \(2, 3\) cannot be broadcast "
        r"to shape \(4, 2\)",
    ):
        mg.Tensor(np.ones((2, 3))).broadcast_to((4, 2))
    with pytest.raises(
        ValueError,
        match=r"matmul: the batch axes of shapes \(2, 4, 3\) and \(3, 3, 5\) do "
        r"not broadcast \(\(2,\) against \(3,\)\)",
    ):
        mg.Tensor(np.ones((2, 4, 3))) @ mg.Tensor(np.ones((3, 3, 5)))


def test_grad_is_checked_where_it_is_assigned():
    w = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="assigned grad must be a Tensor or None, got ndarray"):
        w.grad = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"assigned grad has shape \(2,\), but the tensor has shape \(3,\)"):
        w.grad = mg.Tensor(np.ones(2, np.float32))
    with pytest.raises(TypeError, match="assigned grad has dtype float64, but the tensor has dtype float32"):
        w.grad = mg.Tensor(np.ones(3))
    assert w.grad is None  # nothing was stored
    w.grad = mg.Tensor(np.full(3, 2.0, np.float32))
    (w * w).sum().backward()  # the engine still accumulates into it
    np.testing.assert_array_equal(w.grad.data, [4.0, 4.0, 4.0])
    w.grad = None
    assert w.grad is None


def test_gradcheck_of_a_function_that_returns_no_tensor():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="the function must return a Tensor .* its result is a ndarray"):
        mg.gradcheck(lambda t: np.exp(t.data), [x])
    with pytest.raises(TypeError, match="its output 1 is a float"):
        mg.gradcheck(lambda t: (t * 2.0, 3.0), [x])


# ---------------------------------------------------------------- no_grad on a generator


def test_no_grad_on_a_generator_function_covers_its_body_only():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    seen = []

    @mg.no_grad()
    def steps(n):
        for _ in range(n):
            seen.append(mg.is_grad_enabled())
            yield x * 2.0

    for y in steps(2):
        assert not y.requires_grad  # made inside the body: no graph
        assert mg.is_grad_enabled()  # the caller's mode between the steps
        assert (x * 2.0).requires_grad
    assert seen == [False, False]
    with mg.no_grad():
        gen = steps(1)
    assert not next(gen).requires_grad  # created under no_grad, run outside: still off inside


def test_no_grad_on_a_generator_with_send_throw_and_close():
    log = []

    @mg.no_grad()
    def echo():
        received = None
        try:
            while True:
                try:
                    received = yield (received, mg.is_grad_enabled())
                except ValueError as error:
                    log.append(("caught", str(error), mg.is_grad_enabled()))
                    received = "recovered"
        finally:
            log.append(("closed", mg.is_grad_enabled()))

    gen = echo()
    assert next(gen) == (None, False)
    assert gen.send(5) == (5, False)
    assert mg.is_grad_enabled()
    assert gen.throw(ValueError("bad")) == ("recovered", False)
    assert log == [("caught", "bad", False)]
    gen.close()
    assert log[-1] == ("closed", False) and mg.is_grad_enabled()

    @mg.no_grad()
    def returns():
        yield 1
        return "done"

    gen = returns()
    next(gen)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"
    with pytest.raises(KeyError):  # an exception the generator does not catch reaches the caller
        g = echo()
        next(g)
        g.throw(KeyError("k"))
    assert mg.is_grad_enabled()
