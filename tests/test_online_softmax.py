"""The online softmax: folding blocks into (running max, running sum) equals F.logsumexp for
any split, all -inf blocks included; the merge is associative and commutative; no nan."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad.functional as F
from minigrad.online_softmax import block_max_and_sum, merge, online_logsumexp, online_softmax, rescale


@st.composite
def split_rows(draw):
    """Rows of logits (float64) and a split of their last axis into blocks; some blocks
    all -inf, and logits up to magnitude 1e4."""
    rows = draw(st.integers(1, 3))
    n = draw(st.integers(1, 24))
    magnitude = draw(st.sampled_from([1.0, 30.0, 1e4]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, n)) * magnitude
    cuts = sorted(draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=n - 1))) if n > 1 else []
    edges = [0, *cuts, n]
    blocks = [x[:, a:b].copy() for a, b in zip(edges[:-1], edges[1:])]
    for i in range(len(blocks)):
        if draw(st.booleans()) and draw(st.booleans()):  # about a quarter of the blocks
            blocks[i][:] = -np.inf
    if draw(st.booleans()) and draw(st.booleans()):  # sometimes one row is -inf everywhere
        for b in blocks:
            b[0] = -np.inf
    return np.concatenate(blocks, axis=1), blocks


@settings(max_examples=200, deadline=None)
@given(split_rows())
def test_equals_logsumexp_for_any_split(data):
    x, blocks = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value" from -inf - -inf
        got = online_logsumexp(blocks, axis=-1)
    want = F.logsumexp(x, axis=-1).data
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    assert not np.isnan(got).any()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(split_rows(), st.randoms(use_true_random=False))
def test_merge_is_associative_and_commutative(data, rnd):
    # merge the blocks' pairs as a random tree, in a random order: same result to rounding
    _, blocks = data
    pairs = [block_max_and_sum(b) for b in blocks]
    m_left, s_left = pairs[0]
    for m, s in pairs[1:]:
        m_left, s_left = merge(m_left, s_left, m, s)
    pool = list(pairs)
    while len(pool) > 1:
        i, j = rnd.sample(range(len(pool)), 2)
        merged = merge(*pool[i], *pool[j])
        pool = [p for n, p in enumerate(pool) if n not in (i, j)] + [merged]
    m_tree, s_tree = pool[0]
    np.testing.assert_array_equal(m_tree, m_left)  # the max is exact, whatever the order
    np.testing.assert_allclose(s_tree, s_left, rtol=1e-13, atol=0)
    assert np.all(s_left >= 1) or np.any(np.isneginf(m_left))  # one term is exp(0) = 1


def test_merge_rule_by_hand():
    # part A = [1, 2], part B = [5]: m = 5, s = (e^-1 + e^0) e^(2 - 5) + 1 e^0
    m1, s1 = block_max_and_sum(np.array([1.0, 2.0]))
    m2, s2 = block_max_and_sum(np.array([5.0]))
    m, s = merge(m1, s1, m2, s2)
    assert m[0] == 5.0
    np.testing.assert_allclose(s[0], (np.exp(-1) + 1) * np.exp(-3) + 1, rtol=1e-15)
    np.testing.assert_allclose(m + np.log(s), np.log(np.exp([1.0, 2.0, 5.0]).sum()), rtol=1e-15)


def test_empty_parts_give_zero_factors_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m_e, s_e = block_max_and_sum(np.full(3, -np.inf))
        assert m_e[0] == -np.inf and s_e[0] == 0
        m, c1, c2 = rescale(m_e, m_e)
        assert m[0] == -np.inf and c1[0] == 0 and c2[0] == 0
        m, s = merge(m_e, s_e, m_e, s_e)
        assert m[0] == -np.inf and s[0] == 0
        assert online_logsumexp([np.full(2, -np.inf), np.full(4, -np.inf)])[()] == -np.inf
        # an empty part does not change a non-empty one
        m1, s1 = block_max_and_sum(np.array([0.5, -3.0]))
        m, s = merge(m_e, s_e, m1, s1)
        assert m[0] == m1[0] and s[0] == s1[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite_and_dtype_is_kept(dtype):
    x = np.array([[1e4, -1e4, 9999.0, 3.0, -np.inf]], dtype=dtype)
    got = online_logsumexp([x[:, :2], x[:, 2:3], x[:, 3:]], axis=-1)
    assert got.dtype == dtype and np.all(np.isfinite(got))
    np.testing.assert_allclose(got, F.logsumexp(x, axis=-1).data, rtol=np.finfo(dtype).eps * 4)


def test_online_softmax_matches_softmax_and_fully_masked_rows_are_zero():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 11)) * 5
    x[1, 3:8] = -np.inf
    x[2] = -np.inf
    blocks = online_softmax([x[:, :3], x[:, 3:4], x[:, 4:]])
    got = np.concatenate(blocks, axis=1)
    want = F.softmax(x, axis=-1, where=np.isfinite(x)).data
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    assert np.all(got[2] == 0)


def test_other_axis_and_keepdims():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 3))
    got = online_logsumexp([x[:2], x[2:5], x[5:]], axis=0, keepdims=True)
    assert got.shape == (1, 3)
    np.testing.assert_allclose(got, F.logsumexp(x, axis=0, keepdims=True).data, rtol=1e-14)


def test_no_blocks_is_a_clear_error():
    with pytest.raises(ValueError, match="got no blocks"):
        online_logsumexp([])


# ---------------------------------------------------------------- the graded exercise


def _load(relative: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "chapters" / "exercises" / relative
    spec = importlib.util.spec_from_file_location(path.stem + "_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unrescaled_first(m1, s1, m2, s2):
    m = np.maximum(m1, m2)
    return m, s1 + s2 * np.exp(m2 - m)


def _nan_on_empty(m1, s1, m2, s2):
    m = np.maximum(m1, m2)
    return m, s1 * np.exp(m1 - m) + s2 * np.exp(m2 - m)


def _sum_not_relative_to_m(m1, s1, m2, s2):
    return np.maximum(m1, m2), s1 * np.exp(m1) + s2 * np.exp(m2)  # the sum of exp(x), not of exp(x - m)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_unrescaled_first, "s1 was added without rescaling"),
        (_nan_on_empty, "gave nan"),
        (_sum_not_relative_to_m, "s should be"),
    ],
)
def test_merge_grader_accepts_the_solution_and_names_each_mistake(wrong, message):
    import types

    grader = _load("graders/online_softmax_merge.py")
    solution = _load("solutions/online_softmax_merge.py")
    grader.check(solution)
    with pytest.raises(NotImplementedError, match="TODO"):  # the untouched starter
        grader.check(_load("online_softmax_merge.py"))
    with pytest.raises(AssertionError, match=message):
        grader.check(types.SimpleNamespace(merge=wrong, logsumexp_of_blocks=solution.logsumexp_of_blocks))
