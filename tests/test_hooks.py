"""register_hook: see, and optionally replace, the gradient flowing into a tensor."""

import numpy as np
import pytest

import minigrad as mg


def test_a_leaf_hook_sees_the_gradient_and_its_replacement_reaches_grad():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x**2).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0, 6.0])
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])  # None: unchanged

    y = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y.register_hook(lambda g: g.clip(-3.0, 3.0))  # gradient clipping
    (y**2).sum().backward()
    np.testing.assert_allclose(y.grad.data, [2.0, 3.0, 3.0])


def test_an_intermediate_hook_sees_the_total_gradient_once_and_its_replacement_flows_upstream():
    x = mg.Tensor([0.5, -1.0], requires_grad=True)
    h = x * 3.0
    calls = []

    def double(g):
        calls.append(g.data.copy())
        return g * 2.0

    h.register_hook(double)
    loss = (h * h).sum() + h.sum()  # h is used three times
    loss.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * h.data + 1)  # d loss / d h, all uses added
    np.testing.assert_allclose(x.grad.data, 2 * (2 * h.data + 1) * 3.0)  # doubled, then * dh/dx
    assert h.grad is None  # a hook does not make an intermediate keep its grad


def test_hooks_chain_in_registration_order():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    order = []

    def first(g):
        order.append(("first", g.data.copy()))
        return g + 10.0

    def second(g):
        order.append(("second", g.data.copy()))
        return g * 2.0

    def third(g):
        order.append(("third", g.data.copy()))  # returns None: keeps what it got

    x.register_hook(first)
    x.register_hook(second)
    x.register_hook(third)
    x.sum().backward()
    assert [name for name, _ in order] == ["first", "second", "third"]
    np.testing.assert_allclose(order[1][1], [11.0, 11.0])
    np.testing.assert_allclose(order[2][1], [22.0, 22.0])
    np.testing.assert_allclose(x.grad.data, [22.0, 22.0])


def test_remove_unregisters_only_that_hook():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    calls = []
    h1 = x.register_hook(lambda g: calls.append("one") or g * 5.0)
    x.register_hook(lambda g: calls.append("two"))
    h1.remove()
    h1.remove()  # harmless twice
    (x * 2.0).sum().backward()
    assert calls == ["two"]
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])


def test_hooks_run_on_every_backward_and_accumulate_replaced_gradients():
    x = mg.Tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 0.5)
    y = (x * 4.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [4.0])  # 2 + 2


def test_a_hook_on_the_output_scales_every_gradient():
    W = mg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (W * W).sum()
    seen = []
    loss.register_hook(lambda g: seen.append(g.data.copy()) or g * 0.1)
    loss.backward()
    np.testing.assert_allclose(seen[0], 1.0)
    np.testing.assert_allclose(W.grad.data, 0.2 * W.data)


def test_hooks_apply_to_minigrad_grad_and_keep_float32():
    x = mg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    dtypes = []
    x.register_hook(lambda g: dtypes.append(g.dtype) or g * 3.0)
    (gx,) = mg.grad((x * x).sum(), x)
    np.testing.assert_allclose(gx.data, 3 * 2 * x.data)
    assert dtypes == [np.float32] and gx.dtype == np.float32
    assert x.grad is None


def test_register_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="require grad"):
        mg.Tensor([1.0]).register_hook(lambda g: g)


def test_hook_returning_a_wrong_shape_or_type_is_refused():
    x = mg.Tensor(np.ones(3), requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"hook returned a gradient of shape \(\), expected \(3,\)"):
        (x * 2).sum().backward()
    y = mg.Tensor(np.ones(3), requires_grad=True)
    y.register_hook(lambda g: np.ones(3))
    with pytest.raises(TypeError, match="a hook must return a Tensor or None, got ndarray"):
        (y * 2).sum().backward()


def test_hook_replacement_takes_the_gradient_dtype():
    x = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    x.register_hook(lambda g: mg.Tensor(np.full(3, 5.0)))  # float64 replacement
    (x * 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, np.full(3, 5.0, np.float32))
