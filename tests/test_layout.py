"""The softmax family gives the same numbers whatever the memory layout of its input.

minigrad stores a batch of class scores with a short class axis column by column (see
``functional/class_columns.py``), and builds one-hot labels in that order. These tests hold
the results against float64 closed forms for every layout a user may hand in (row-major,
column-major, a strided slice, a transposed view), for class counts on both sides of the
"short" threshold, and for inputs of more than two dimensions.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F

TIGHT = dict(rtol=1e-10, atol=1e-12)
CLASS_COUNTS = [1, 3, 10, 64, 65, 200]
BATCHES = [1, 7, 300]


def layouts(x: np.ndarray) -> dict[str, np.ndarray]:
    """The same values in four memory layouts."""
    wide = np.zeros((2 * x.shape[0], x.shape[1] + 3))
    wide[::2, 1 : x.shape[1] + 1] = x
    return {
        "row-major": np.ascontiguousarray(x),
        "column-major": np.asfortranarray(x),
        "strided slice": wide[::2, 1 : x.shape[1] + 1],
        "transposed view": np.ascontiguousarray(x.T).T,
    }


def closed_form_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("n_classes", CLASS_COUNTS)
@pytest.mark.parametrize("batch", BATCHES)
def test_softmax_and_log_softmax_agree_across_layouts(n_classes, batch):
    r = np.random.default_rng(n_classes * 1000 + batch)
    x = r.normal(0, 3, (batch, n_classes))
    w = r.normal(size=x.shape)  # random output weights: a plain sum would hide softmax bugs
    p = closed_form_softmax(x)
    for name, data in layouts(x).items():
        xt = mg.Tensor(data, requires_grad=True)
        out = F.softmax(xt)
        (out * mg.Tensor(w)).sum().backward()
        np.testing.assert_allclose(out.data, p, **TIGHT, err_msg=name)
        # d sum(w p) / dx = p * (w - sum(w p)): the Jacobian diag(p) - p p^T times w
        expected = p * (w - (w * p).sum(-1, keepdims=True))
        np.testing.assert_allclose(xt.grad.data, expected, **TIGHT, err_msg=name)

        xt = mg.Tensor(data, requires_grad=True)
        out = F.log_softmax(xt)
        (out * mg.Tensor(w)).sum().backward()
        np.testing.assert_allclose(out.data, np.log(p), **TIGHT, err_msg=name)
        # d sum(w log p) / dx = w - p sum(w): the Jacobian I - 1 p^T times w
        np.testing.assert_allclose(xt.grad.data, w - p * w.sum(-1, keepdims=True), **TIGHT, err_msg=name)


@pytest.mark.parametrize("n_classes", CLASS_COUNTS)
@pytest.mark.parametrize("batch", BATCHES)
def test_cross_entropy_gradient_is_p_minus_y_across_layouts(n_classes, batch):
    r = np.random.default_rng(n_classes * 7 + batch)
    x = r.normal(0, 3, (batch, n_classes))
    target = r.integers(0, n_classes, batch)
    target[0] = -100  # one ignored sample: a zero row of the label distribution
    counted = target != -100
    p = closed_form_softmax(x)
    y = np.zeros_like(x)
    y[np.flatnonzero(counted), target[counted]] = 1
    expected_loss = -(y * np.log(p)).sum() / max(counted.sum(), 1)
    expected_grad = (p - y) * counted[:, None] / max(counted.sum(), 1)
    for name, data in layouts(x).items():
        xt = mg.Tensor(data, requires_grad=True)
        loss = F.cross_entropy(xt, target)
        loss.backward()
        if counted.any():
            np.testing.assert_allclose(loss.item(), expected_loss, **TIGHT, err_msg=name)
        np.testing.assert_allclose(xt.grad.data, expected_grad, **TIGHT, err_msg=name)

        xt = mg.Tensor(np.log(p), requires_grad=True)
        per_sample = F.nll_loss(xt, target, reduction="none")
        np.testing.assert_allclose(per_sample.data, -(y * np.log(p)).sum(-1), **TIGHT, err_msg=name)


@pytest.mark.parametrize("n_classes", [3, 65])
def test_losses_over_more_than_two_dimensions_match_the_flattened_batch(n_classes):
    r = np.random.default_rng(n_classes)
    x = r.normal(size=(4, 5, n_classes))
    target = r.integers(0, n_classes, (4, 5))
    flat_x, flat_t = x.reshape(-1, n_classes), target.reshape(-1)
    for fn in (F.softmax, F.log_softmax):
        np.testing.assert_allclose(fn(x).data.reshape(-1, n_classes), fn(flat_x).data, **TIGHT)
    xt, ft = mg.Tensor(x, requires_grad=True), mg.Tensor(flat_x, requires_grad=True)
    F.cross_entropy(xt, target).backward()
    F.cross_entropy(ft, flat_t).backward()
    np.testing.assert_allclose(xt.grad.data.reshape(-1, n_classes), ft.grad.data, **TIGHT)


@pytest.mark.parametrize("n_classes", [1, 3, 64, 65])
@pytest.mark.parametrize("shape", [(0,), (6,), (2, 3)])
def test_one_hot_puts_a_single_one_at_each_index(n_classes, shape):
    t = np.random.default_rng(n_classes).integers(0, n_classes, shape)
    out = F.one_hot(t, n_classes)
    assert out.shape == shape + (n_classes,) and out.dtype == np.int64
    expected = np.zeros(shape + (n_classes,), dtype=np.int64)
    np.put_along_axis(expected, t[..., None], 1, axis=-1)
    np.testing.assert_array_equal(out.data, expected)


def test_float32_logits_in_any_layout_give_float32_results_and_gradients():
    x = np.random.default_rng(0).normal(size=(300, 10)).astype(np.float32)
    for name, data in layouts(x).items():
        xt = mg.Tensor(data.astype(np.float32), requires_grad=True)
        loss = F.cross_entropy(xt, np.arange(300) % 10)
        loss.backward()
        assert loss.dtype == np.float32 and xt.grad.dtype == np.float32, name
        assert F.softmax(xt).dtype == np.float32 and F.log_softmax(xt).dtype == np.float32, name
