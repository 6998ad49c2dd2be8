"""Bad input to minigrad.functional raises, with a message that says what was expected.

Each check runs on the fused op and on its composed twin: they share the validation.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F

X = np.arange(12.0).reshape(4, 3) / 7
T = np.array([0, 2, 1, 1])

softmaxes = pytest.mark.parametrize(
    "op", [F.softmax, F.log_softmax, F.softmax_composed, F.log_softmax_composed]
)
ces = pytest.mark.parametrize("ce", [F.cross_entropy, F.cross_entropy_composed])
nlls = pytest.mark.parametrize("nll", [F.nll_loss, F.nll_loss_composed])
bces = pytest.mark.parametrize(
    "bce", [F.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits_composed]
)


# ---------------------------------------------------------------- softmax family


@softmaxes
@pytest.mark.parametrize("temperature", [0, -1.5, 0.0, float("nan"), float("inf"), "hot", True, None])
def test_temperature_must_be_a_finite_positive_number(op, temperature):
    with pytest.raises(ValueError, match=r"temperature must be a finite number > 0, got "):
        op(X, temperature=temperature)


@softmaxes
def test_axis_out_of_range_says_the_valid_range(op):
    with pytest.raises(
        ValueError,
        match=r"axis 2 is out of range for an input with 2 dimension\(s\): "
        r"expected an int in \[-2, 1\]",
    ):
        op(X, axis=2)
    with pytest.raises(ValueError, match=r"axis -3 is out of range .* \[-2, 1\]"):
        op(X, axis=-3)
    with pytest.raises(ValueError, match=r"axis must be an int, got 1.5"):
        op(X, axis=1.5)
    with pytest.raises(ValueError, match=r"axis must be an int, got 0.5"):  # an entry of a tuple of axes
        op(X, axis=(0, 0.5))
    with pytest.raises(ValueError, match=r"names the same axis twice"):
        op(X, axis=(0, -2))
    with pytest.raises(ValueError, match=r"the input is 0-d and has no axes"):
        op(np.array(3.0))


@pytest.mark.parametrize("op", [F.logsumexp, F.logsumexp_composed])
def test_logsumexp_axes_are_checked(op):
    with pytest.raises(
        ValueError,
        match=r"logsumexp.*axis 5 is out of range .* expected an int in "
        r"\[-2, 1\]",
    ):
        op(X, axis=(0, 5))
    with pytest.raises(ValueError, match=r"names the same axis twice"):
        op(X, axis=(1, -1))
    with pytest.raises(ValueError, match=r"axis must be an int, got 'rows'"):
        op(X, axis="rows")


@softmaxes
def test_where_must_be_a_boolean_mask_of_a_broadcastable_shape(op):
    with pytest.raises(
        ValueError,
        match=r"where must be a boolean mask \(True where an entry takes part\), "
        r"got dtype int64",
    ):
        op(X, where=np.ones((4, 3), dtype=np.int64))
    with pytest.raises(
        ValueError,
        match=r"where has shape \(2,\), which does not broadcast to the input's "
        r"shape \(4, 3\)",
    ):
        op(X, where=np.array([True, False]))


# ---------------------------------------------------------------- cross_entropy and nll_loss


@ces
def test_class_index_out_of_range_names_the_value_and_the_range(ce):
    with pytest.raises(
        ValueError,
        match=r"target holds class index 3, but valid class indices are 0 to 2 "
        r"\(3 classes\), or ignore_index=-100",
    ):
        ce(X, np.array([0, 3, 1, 1]))
    with pytest.raises(
        ValueError,
        match=r"class index -1, .* other negative indices are errors, "
        r"not wrapped",
    ):
        ce(X, np.array([0, -1, 1, 1]))
    with pytest.raises(ValueError, match=r"class index -100, .* or ignore_index=-1"):
        ce(X, np.array([0, -100, 1, 1]), ignore_index=-1)
    ce(X, np.array([0, -1, 1, 1]), ignore_index=-1)  # the ignore_index itself is fine


@nlls
def test_nll_class_index_out_of_range(nll):
    with pytest.raises(ValueError, match=r"nll_loss.*class index 7, but valid class indices are 0 to 2"):
        nll(X, np.array([7, 0, 0, 0]))


@ces
def test_float_targets_of_the_indices_shape_are_rejected(ce):
    with pytest.raises(
        ValueError,
        match=r"target has shape \(4,\), the shape of class indices for logits of "
        r"shape \(4, 3\), but float dtype float64: class indices must be "
        r"integers .*class probabilities must have the logits' shape "
        r"\(4, 3\)",
    ):
        ce(X, T.astype(np.float64))
    with pytest.raises(ValueError, match=r"float dtype float32: class indices must be integers"):
        ce(X, mg.Tensor(T.astype(np.float32)))


@ces
def test_integer_targets_of_the_probabilities_shape_are_rejected(ce):
    with pytest.raises(
        ValueError,
        match=r"target has the logits' shape \(4, 3\), the shape of class "
        r"probabilities, but integer dtype int64: probabilities must be "
        r"floats; class indices must have shape \(4,\)",
    ):
        ce(X, np.eye(3, dtype=np.int64)[T])


@ces
def test_batch_size_mismatch_says_which_shapes_would_do(ce):
    with pytest.raises(
        ValueError,
        match=r"target has shape \(5,\), but logits of shape \(4, 3\) need class "
        r"indices of shape \(4,\) or class probabilities of shape \(4, 3\)",
    ):
        ce(X, np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match=r"target has shape \(4, 1\), but logits of shape \(4, 3\) need"):
        ce(X, T[:, None])


@ces
def test_target_dtype_must_be_integer_or_float(ce):
    with pytest.raises(
        ValueError,
        match=r"target must hold integer class indices or float class "
        r"probabilities, got dtype bool",
    ):
        ce(X, np.array([True, False, True, True]))


@nlls
def test_nll_loss_takes_class_indices_only(nll):
    with pytest.raises(
        ValueError,
        match=r"target has shape \(4, 3\), but log_probs of shape \(4, 3\) need "
        r"class indices of shape \(4,\)$",
    ):
        nll(X, np.full((4, 3), 1 / 3))


@ces
def test_weight_of_the_wrong_length(ce):
    with pytest.raises(
        ValueError,
        match=r"weight must hold one entry per class, shape \(3,\), "
        r"got shape \(4,\)",
    ):
        ce(X, T, weight=np.ones(4))
    with pytest.raises(ValueError, match=r"got shape \(1, 3\)"):
        ce(X, T, weight=np.ones((1, 3)))


@ces
def test_weight_that_requires_grad_is_rejected(ce):
    with pytest.raises(
        ValueError,
        match=r"weight is a constant rescaling and cannot require grad "
        r"\(pass weight.detach\(\)\)",
    ):
        ce(X, T, weight=mg.Tensor(np.ones(3), requires_grad=True))


@ces
@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "0.1"])
def test_label_smoothing_outside_0_1(ce, value):
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\], got "):
        ce(X, T, label_smoothing=value)


@pytest.mark.parametrize(
    "loss",
    [
        lambda r: F.cross_entropy(X, T, reduction=r),
        lambda r: F.cross_entropy_composed(X, T, reduction=r),
        lambda r: F.nll_loss(X, T, reduction=r),
        lambda r: F.nll_loss_composed(X, T, reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(X, X, reduction=r),
        lambda r: F.binary_cross_entropy_with_logits_composed(X, X, reduction=r),
        lambda r: F.binary_cross_entropy(X / 2, X, reduction=r),
    ],
)
def test_unknown_reduction(loss):
    with pytest.raises(ValueError, match=r"reduction must be 'none', 'mean' or 'sum', got 'avg'"):
        loss("avg")
    with pytest.raises(ValueError, match=r"got None"):
        loss(None)


@ces
def test_logits_need_a_class_axis(ce):
    with pytest.raises(
        ValueError,
        match=r"logits must hold the classes on the last axis, shape \(C,\) or "
        r"\(N, C\) with C >= 1, got shape \(\)",
    ):
        ce(np.array(2.0), 0)
    with pytest.raises(ValueError, match=r"got shape \(4, 0\)"):
        ce(np.zeros((4, 0)), T)


@ces
def test_ignore_index_must_be_an_int(ce):
    with pytest.raises(ValueError, match=r"ignore_index must be an int, got None"):
        ce(X, T, ignore_index=None)


# ---------------------------------------------------------------- binary cross-entropies


@bces
def test_bce_target_must_have_the_logits_shape(bce):
    with pytest.raises(
        ValueError,
        match=r"target has shape \(4,\), but it must have the logits' shape "
        r"\(4, 1\) \(one label per entry\)",
    ):
        bce(np.zeros((4, 1)), np.zeros(4))


@bces
def test_bce_weights_must_broadcast(bce):
    with pytest.raises(
        ValueError,
        match=r"weight has shape \(4,\), which does not broadcast to the input's "
        r"shape \(4, 3\)",
    ):
        bce(X, X, weight=np.ones(4))
    with pytest.raises(ValueError, match=r"pos_weight has shape \(2,\), which does not broadcast"):
        bce(X, X, pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"pos_weight is a constant rescaling and cannot require grad"):
        bce(X, X, pos_weight=mg.Tensor(np.ones(3), requires_grad=True))


def test_bce_probabilities_must_lie_in_0_1():
    with pytest.raises(
        ValueError,
        match=r"probs must lie in \[0, 1\], got 1.5 \(for logits, use "
        r"binary_cross_entropy_with_logits\)",
    ):
        F.binary_cross_entropy(np.array([0.2, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"probs must lie in \[0, 1\], got -0.25"):
        F.binary_cross_entropy(np.array([-0.25, 0.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"probs must lie in \[0, 1\], got nan"):
        F.binary_cross_entropy(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(
        ValueError,
        match=r"target has shape \(2, 1\), but it must have the probs' "
        r"shape \(2,\)",
    ):
        F.binary_cross_entropy(np.array([0.2, 0.3]), np.array([[0.0], [1.0]]))
