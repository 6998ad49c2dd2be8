"""The engine: backward's contract (seeding, accumulation, freeing, retain_graph,
retain_grad), grad mode (no_grad / enable_grad as context managers and decorators),
higher-order gradients with create_graph, minigrad.grad, and very deep graphs."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg

# ---------------------------------------------------------------- backward basics


def test_backward_of_a_scalar_seeds_with_one_and_fills_leaf_grads():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mg.Tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = mg.Tensor([1.0, 1.0, 1.0])  # a constant: gets no gradient
    ((x * w + c) ** 2).sum().backward()
    residual = x.data * w.data + 1
    np.testing.assert_allclose(x.grad.data, 2 * residual * w.data)
    np.testing.assert_allclose(w.grad.data, 2 * residual * x.data)
    assert c.grad is None


def test_backward_of_a_leaf_itself():
    x = mg.Tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_with_an_explicit_grad_for_a_non_scalar_output():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(grad=[1.0, 10.0, 100.0])
    np.testing.assert_allclose(x.grad.data, [2.0, 40.0, 600.0])


def test_a_tensor_used_twice_gets_the_sum_of_both_paths():
    x = mg.Tensor(2.0, requires_grad=True)
    a = x * 3.0
    b = x.exp()
    (a * b + a).backward()  # d/dx (3x e^x + 3x) = 3 e^x + 3x e^x + 3
    assert x.grad.item() == pytest.approx(3 * np.exp(2) + 6 * np.exp(2) + 3, rel=1e-14)


def test_gradients_accumulate_across_backward_calls():
    x = mg.Tensor([1.0, -2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0 + 2 * x.data)
    x.grad = None  # how a user (or an optimizer's zero_grad) resets it
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 5.0])


def test_leaf_grads_own_their_memory():
    """A rule may hand back a read-only broadcast view, or the same tensor to two inputs;
    the leaves' .grad must still be separate, writable arrays (optimizers update them)."""
    a = mg.Tensor([1.0, 2.0], requires_grad=True)
    b = mg.Tensor([3.0, 4.0], requires_grad=True)
    seed = mg.Tensor([1.0, 1.0])
    (a + b).backward(seed)
    assert a.grad is not b.grad and a.grad is not seed
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(seed.data, [1.0, 1.0])
    x = mg.Tensor(np.zeros((2, 3)), requires_grad=True)
    x.sum().backward()  # sum's backward broadcasts
    x.grad.data += 1
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


def test_seed_grad_takes_the_output_dtype():
    x = mg.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    x.backward(grad=mg.Tensor([1.0, 2.0]))  # a float64 seed for a float32 output
    assert x.grad.dtype == np.float32


# ---------------------------------------------------------------- errors


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"backward\(\) on a tensor that does not require grad"):
        (mg.Tensor([1.0, 2.0]) * 2).sum().backward()


def test_backward_on_a_non_scalar_without_grad():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"backward\(\) without grad= needs a one-element output, "
        r"this one has shape \(2,\)",
    ):
        (x * 2).backward()


def test_backward_with_a_grad_of_the_wrong_shape():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(grad=[1.0, 1.0, 1.0])


def test_second_backward_through_a_freed_graph_raises():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_a_new_graph_on_a_freed_intermediate_raises_too():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time"):
        (h * 2).sum().backward()


def test_retain_grad_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"retain_grad\(\) on a tensor that does not require grad"):
        mg.Tensor([1.0]).retain_grad()


def test_grad_function_rejects_inputs_that_do_not_require_grad():
    x = mg.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad\(\): input 1 is not a Tensor that requires grad"):
        mg.grad((x * 2).sum(), [x, mg.Tensor([1.0])])


# ---------------------------------------------------------------- freeing and retain_graph


def test_retain_graph_allows_a_second_backward():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    np.testing.assert_allclose(first, np.exp(x.data) * (1 + x.data))


def test_backward_frees_saved_tensors_unless_retain_graph():
    """The only reference to an intermediate is the graph: after a plain backward it is
    gone; with retain_graph it stays."""
    for retain, survives in ((False, False), (True, True)):
        x = mg.Tensor(np.ones(1000), requires_grad=True)
        h = x.exp()
        alive = weakref.ref(h)
        y = (h * 2.0).sum()
        del h
        gc.collect()
        assert alive() is not None  # y's graph holds it
        y.backward(retain_graph=retain)
        gc.collect()
        assert (alive() is not None) == survives


# ---------------------------------------------------------------- retain_grad


def test_intermediates_keep_grad_only_when_asked():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    k = h * 2.0
    h.retain_grad()
    (k * k).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * k.data * 2.0)
    assert k.grad is None
    np.testing.assert_allclose(x.grad.data, 2 * k.data * 6.0)


# ---------------------------------------------------------------- grad mode


def test_no_grad_records_no_graph_and_restores_the_mode():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = (x * 2).exp()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.op is None
    assert x.requires_grad  # leaves keep their flag
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), mg.no_grad():
        _ = 1 / 0
    assert mg.is_grad_enabled()


def test_no_grad_as_a_decorator_also_when_nested_and_recursive():
    x = mg.Tensor([1.0], requires_grad=True)

    @mg.no_grad()
    def predict(t, depth=2):
        assert not mg.is_grad_enabled()
        return t * 2 if depth == 0 else predict(t, depth - 1)

    y = predict(x)
    assert not y.requires_grad
    assert mg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = mg.Tensor([1.0], requires_grad=True)
    with mg.no_grad():
        with mg.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.op == "mul"
    assert not z.requires_grad

    @mg.enable_grad()
    def step(t):
        return t * 3

    with mg.no_grad():
        assert step(x).requires_grad


def test_detach_stops_the_gradient():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    (x * x.detach()).sum().backward()  # the detached factor is a constant
    np.testing.assert_allclose(x.grad.data, x.data)


# ---------------------------------------------------------------- higher order


def test_create_graph_false_builds_no_graph_during_backward():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward()
    assert not x.grad.requires_grad and x.grad.op is None
    (g,) = mg.grad((x**3).sum(), x)
    assert not g.requires_grad and g.op is None


def test_create_graph_gives_a_differentiable_gradient():
    """d/dx x^3 = 3x^2 (with a graph), and d^2/dx^2 x^3 = 6x."""
    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.op is not None
    np.testing.assert_allclose(first.data, 3 * x.data**2)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_grad_with_create_graph_up_to_the_third_derivative():
    x = mg.Tensor([0.3, -1.2], requires_grad=True)
    y = (x.tanh()).sum()
    (d1,) = mg.grad(y, x, create_graph=True)
    (d2,) = mg.grad(d1.sum(), x, create_graph=True)
    (d3,) = mg.grad(d2.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(d1.data, 1 - t**2, rtol=1e-12)
    np.testing.assert_allclose(d2.data, -2 * t * (1 - t**2), rtol=1e-12)
    np.testing.assert_allclose(d3.data, -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-12)


@pytest.mark.parametrize(
    "fn, second",
    [
        (lambda x: x.exp(), np.exp),
        (lambda x: x.log(), lambda a: -1 / a**2),
        (lambda x: x.sqrt(), lambda a: -0.25 * a**-1.5),
        (lambda x: 1 / x, lambda a: 2 / a**3),
        (lambda x: x * x * x, lambda a: 6 * a),
        (lambda x: 2.0**x, lambda a: np.log(2.0) ** 2 * 2.0**a),
        (lambda x: x**x, lambda a: a**a * ((np.log(a) + 1) ** 2 + 1 / a)),
    ],
)
def test_elementwise_second_derivatives_match_closed_forms(fn, second):
    x = mg.Tensor([0.5, 1.0, 2.5], requires_grad=True)
    (g,) = mg.grad(fn(x).sum(), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, second(x.data), rtol=1e-12)


def test_mixed_second_derivatives_of_mul_div_and_matmul():
    a = mg.Tensor(1.5, requires_grad=True)
    b = mg.Tensor(-0.5, requires_grad=True)
    (ga,) = mg.grad(a * a * b, a, create_graph=True)  # 2ab
    assert mg.grad(ga, b)[0].item() == pytest.approx(2 * 1.5, rel=1e-14)
    (ga,) = mg.grad(a / b, a, create_graph=True)  # 1/b
    assert mg.grad(ga, b)[0].item() == pytest.approx(-1 / 0.25, rel=1e-14)
    rng = np.random.default_rng(1)
    A = mg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    v = mg.Tensor(rng.standard_normal(4), requires_grad=True)
    u = mg.Tensor(rng.standard_normal(3))
    (gv,) = mg.grad(u @ (A @ v) * (u @ (A @ v)), v, create_graph=True)  # 2 (u.Av) A^T u
    (gA,) = mg.grad(gv.sum(), A)  # d/dA of 2 (u.Av) sum(A^T u)
    s = u.data @ A.data @ v.data
    expected = 2 * np.outer(u.data, v.data) * (A.data.T @ u.data).sum() + 2 * s * np.outer(u.data, np.ones(4))
    np.testing.assert_allclose(gA.data, expected, rtol=1e-12)


def test_grad_returns_zero_for_an_unused_input_and_leaves_dot_grad_alone():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    unused = mg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    gx, gu = mg.grad((x * x).sum(), [x, unused])
    np.testing.assert_allclose(gx.data, 2 * x.data)
    np.testing.assert_array_equal(gu.data, np.zeros(3))
    assert gu.dtype == np.float32
    assert x.grad is None and unused.grad is None


def test_grad_of_an_intermediate():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    (gh,) = mg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, 2 * h.data)


# ---------------------------------------------------------------- deep graphs


def test_a_chain_ten_thousand_ops_deep_backpropagates():
    x = mg.Tensor([0.5, -1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.001  # 10,000 ops
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(2, 1.0001**5000), rtol=1e-10)


def test_a_deep_chain_with_retained_graph_and_create_graph_is_freed_without_recursion():
    x = mg.Tensor(0.3, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    (g,) = mg.grad(y, x, create_graph=True)
    expected, t = 1.0, 0.3
    for _ in range(10_000):
        t = np.tanh(t)
        expected *= 1 - t**2
    assert g.item() == pytest.approx(expected, rel=1e-9)
    assert g.requires_grad
    del y, g  # dropping a 10,000-deep graph must not overflow the C stack
    gc.collect()
