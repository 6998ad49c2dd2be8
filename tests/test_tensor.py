"""Tensor as a data structure: construction and dtype rules, properties, conversions to
numpy, repr, and the operator sugar (reflected operators included)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# ---------------------------------------------------------------- construction and dtypes


@pytest.mark.parametrize("data", [[1.0, 2.0], [1, 2], [True, False], 3, 2.5, [[1, 2], [3, 4]]])
def test_python_numbers_and_lists_become_float64(data):
    t = mg.Tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.array(data, dtype=np.float64))


@pytest.mark.parametrize(
    "array",
    [
        np.arange(3),
        np.arange(3, dtype=np.int32),
        np.ones(2, dtype=np.float32),
        np.array([True, False]),
        np.float32(1.5),
        np.int64(4),
    ],
)
def test_numpy_data_keeps_its_dtype(array):
    assert mg.Tensor(array).dtype == np.asarray(array).dtype


def test_dtype_argument_wins():
    assert mg.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert mg.Tensor([1.7, 2.2], dtype=np.int64).dtype == np.int64
    assert mg.Tensor(np.ones(2), dtype=np.float32).dtype == np.float32


def test_construction_copies_the_data():
    source = np.array([1.0, 2.0])
    t = mg.Tensor(source)
    source[0] = 100.0
    assert t.data[0] == 1.0
    u = mg.Tensor(t)  # from another tensor: a copy too, and outside any graph
    u.data[1] = 100.0
    assert t.data[1] == 2.0


def test_every_submodule_is_reachable_by_its_name():
    import types

    import minigrad.tensor

    for name in ("tensor", "autograd", "grad_mode", "ops", "anomaly", "functional"):
        assert isinstance(getattr(mg, name), types.ModuleType), name
    assert minigrad.tensor.Tensor is mg.Tensor


def test_non_numeric_data_is_rejected():
    with pytest.raises(TypeError, match=r"Tensor data must be numeric, got dtype <U1"):
        mg.Tensor(["a", "b"])


@pytest.mark.parametrize(
    "make",
    [
        lambda: mg.Tensor(np.array([0, 2, 1]), requires_grad=True),
        lambda: mg.Tensor([0, 1], dtype=np.int64, requires_grad=True),
        lambda: mg.Tensor(np.array([True]), requires_grad=True),
        lambda: mg.Tensor(np.arange(3)).requires_grad_(),
    ],
)
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(
        TypeError,
        match=r"only floating-point tensors can require grad, this one is "
        r"(int64|bool).*astype\(np.float64\)",
    ):
        make()


def test_integer_tensors_hold_class_labels():
    labels = mg.Tensor(np.array([2, 0, 1]))
    assert labels.dtype == np.int64 and not labels.requires_grad
    logits = mg.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    picked = logits[mg.Tensor(np.arange(3)), labels]
    np.testing.assert_array_equal(picked.data, [2.0, 3.0, 7.0])


def test_requires_grad_flag_can_be_switched():
    t = mg.Tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad


# ---------------------------------------------------------------- properties and conversions


def test_shape_dtype_ndim_size_len_and_T():
    t = mg.Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.dtype == np.float64
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.data, t.data.T)
    assert t.is_leaf and t.op is None


def test_len_of_a_0d_tensor_is_an_error():
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(mg.Tensor(1.0))


def test_iteration_goes_along_the_first_axis_and_keeps_the_graph():
    x = mg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and all(isinstance(r, mg.Tensor) for r in rows)
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 2.0], [1.0, 1.0]])
    with pytest.raises(TypeError, match=r"iteration over a 0-d tensor"):
        list(mg.Tensor(3.0))


def test_item_and_python_number_conversions():
    assert mg.Tensor([[2.5]]).item() == 2.5
    assert isinstance(mg.Tensor(np.array([3])).item(), int)
    assert float(mg.Tensor(1.5)) == 1.5 and int(mg.Tensor(2.0)) == 2 and bool(mg.Tensor(1.0))
    assert mg.Tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]


def test_item_of_several_elements_is_an_error():
    with pytest.raises(
        ValueError,
        match=r"item\(\) needs a tensor with one element, "
        r"this one has shape \(2,\)",
    ):
        mg.Tensor([1.0, 2.0]).item()


def test_numpy_and_detach_share_memory():
    t = mg.Tensor([1.0, 2.0], requires_grad=True)
    assert t.numpy() is t.data
    d = (t * 1).detach()
    assert not d.requires_grad and d.is_leaf
    d2 = t.detach()
    d2.data[0] = 7.0
    assert t.data[0] == 7.0


def test_np_asarray_works_for_leaves_results_0d_results_and_grads():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = (x * x).sum()  # numpy reduces to a scalar here; the tensor still holds an array
    first = x[0]
    for t in (x, x * 2, s, first, x.max()):
        assert isinstance(np.asarray(t), np.ndarray)
        assert isinstance(t.numpy(), np.ndarray)
        np.testing.assert_array_equal(np.asarray(t), t.data)
    s.backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 4.0, 6.0])
    y = mg.Tensor(2.0, requires_grad=True)
    y.exp().backward()
    assert isinstance(np.asarray(y.grad), np.ndarray)
    assert np.asarray(y.grad) == pytest.approx(np.exp(2.0))


def test_np_asarray_with_a_dtype_and_copy():
    x = mg.Tensor([1.0, 2.0])
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    copied = np.array(x, copy=True)
    copied[0] = 5.0
    assert x.data[0] == 1.0


def test_numpy_functions_see_tensors_as_arrays():
    x = mg.Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.allclose(np.linalg.inv(np.asarray(x)) @ x.data, np.eye(2))
    np.testing.assert_array_equal(np.stack([mg.Tensor([1.0]), mg.Tensor([2.0])]), [[1.0], [2.0]])


def test_repr_is_readable():
    assert repr(mg.Tensor([1.0, 2.5])) == "Tensor([1. , 2.5])"
    assert repr(mg.Tensor(np.arange(2))) == "Tensor([0, 1], dtype=int64)"
    w = mg.Tensor(np.ones(2, dtype=np.float32), requires_grad=True, name="w")
    assert repr(w) == "Tensor([1., 1.], dtype=float32, requires_grad=True, name='w')"
    assert repr(w.exp()).endswith("dtype=float32, op=exp)")
    assert repr(mg.Tensor(np.pi)) == "Tensor(3.1416)"


# ---------------------------------------------------------------- operators


def test_operators_and_reflected_operators_values_and_gradients():
    x = mg.Tensor([1.0, 2.0, 4.0], requires_grad=True)
    a = x.data
    cases = [
        (lambda: x + 2, a + 2, np.ones(3)),
        (lambda: 2 + x, 2 + a, np.ones(3)),
        (lambda: x - 2, a - 2, np.ones(3)),
        (lambda: 2 - x, 2 - a, -np.ones(3)),
        (lambda: 3 * x, 3 * a, np.full(3, 3.0)),
        (lambda: x / 2, a / 2, np.full(3, 0.5)),
        (lambda: 1 / x, 1 / a, -1 / a**2),
        (lambda: x**2, a**2, 2 * a),
        (lambda: 2**x, 2**a, np.log(2) * 2**a),
        (lambda: -x, -a, -np.ones(3)),
        (lambda: abs(-x), a, np.ones(3)),
        (lambda: np.array([1.0, 1.0, 1.0]) - x, 1 - a, -np.ones(3)),  # numpy on the left defers to us
        (lambda: np.array([2.0, 2.0, 2.0]) ** x, 2**a, np.log(2) * 2**a),
    ]
    for make, value, grad in cases:
        x.grad = None
        out = make()
        assert isinstance(out, mg.Tensor)
        np.testing.assert_allclose(out.data, value, rtol=1e-14)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.data, grad, rtol=1e-14)


def test_matmul_operator_and_numpy_array_on_the_left():
    A = np.arange(6.0).reshape(2, 3)
    x = mg.Tensor([1.0, -1.0, 2.0], requires_grad=True)
    out = A @ x
    assert isinstance(out, mg.Tensor)
    np.testing.assert_allclose(out.data, A @ x.data)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, A.sum(axis=0))
    B = mg.Tensor(np.ones((3, 2)), requires_grad=True)
    (x @ B).sum().backward()
    np.testing.assert_allclose(B.grad.data, np.outer(x.data, np.ones(2)))


def test_comparisons_give_boolean_tensors_outside_the_graph():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in (
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x < 2, [True, False, False]),
        (x <= mg.Tensor(2.0), [True, True, False]),
    ):
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
    same, other = mg.Tensor([1.0, 2.0, 3.0]), mg.Tensor([1.0, 0.0, 3.0])
    np.testing.assert_array_equal((x == other).data, [True, False, True])  # elementwise
    np.testing.assert_array_equal((x != other).data, [False, True, False])
    assert len({x, same}) == 2 and {x: 1}[x] == 1  # hashing stays by identity
    assert len({x, x}) == 1


def test_argmax_and_argmin():
    x = mg.Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    assert x.argmin().item() == 4
