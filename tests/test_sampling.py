"""Sampling from softmax: temperature, top-k, top-p and the Gumbel-max trick.

Frequency tests draw N samples in one vectorised call and require every category's observed
frequency f_i to be within 5 binomial standard errors of its probability q_i:
|f_i - q_i| <= 5 sqrt(q_i (1 - q_i) / N). With N = 200,000 that is at most 0.0056 (q = 0.5).
Categories with q_i = 0 must never be drawn. The seeds are fixed, so the tests are
deterministic; ``test_frequency_check_can_fail`` shows the tolerance is tight enough to catch
a sampler that ignores the temperature.
"""

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.functional as F
from minigrad.sampling import filter_logits, gumbel_max_sample, probabilities, sample

N = 200_000
Z = np.array([2.0, 1.0, 0.5, -1.0, 0.0])
SAMPLERS = [sample, gumbel_max_sample]


def reference_softmax(z, temperature=1.0):
    """Plain softmax(z / T) in float64, written independently of minigrad.sampling."""
    a = np.asarray(z, dtype=np.float64) / temperature
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def frequencies(draws, vocab):
    """Frequency of each index 0..vocab-1 along axis 0 (the draw axis), for each row."""
    draws = np.asarray(draws)
    one_hot = draws[..., None] == np.arange(vocab)
    return one_hot.mean(axis=0)


def within_5_sigma(freq, q, n=N):
    return np.abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / n)


def assert_matches(freq, q, n=N):
    ok = within_5_sigma(freq, q, n)
    assert ok.all(), f"frequencies {freq} vs probabilities {q}: off by more than 5 sigma at {~ok}"


# ---------------------------------------------------------------- frequencies


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_frequencies_match_softmax_over_temperature(sampler, temperature):
    draws = sampler(Z, temperature=temperature, rng=0, size=N)
    assert draws.shape == (N,) and draws.dtype == np.int64
    assert_matches(frequencies(draws, len(Z)), reference_softmax(Z, temperature))


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
def test_frequency_check_can_fail(sampler):
    # draws at T=0.5 are far outside the 5-sigma band around softmax(z): the check has power
    freq = frequencies(sampler(Z, temperature=0.5, rng=1, size=N), len(Z))
    assert not within_5_sigma(freq, reference_softmax(Z, 1.0)).all()


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "kwargs", [dict(top_k=2), dict(top_p=0.7), dict(top_k=4, top_p=0.9, temperature=1.5)]
)
def test_frequencies_after_filtering_match_renormalised_kept_probabilities(sampler, kwargs):
    draws = sampler(Z, rng=2, size=N, **kwargs)
    freq = frequencies(draws, len(Z))
    t = kwargs.get("temperature", 1.0)
    kept = np.isfinite(filter_logits(Z / t, kwargs.get("top_k"), kwargs.get("top_p")))
    full = reference_softmax(Z, t)
    q = np.where(kept, full, 0.0) / full[kept].sum()
    assert kept.sum() < len(Z)  # the filter really removed something
    assert (freq[~kept] == 0).all(), "a filtered token was drawn"
    assert_matches(freq, q)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
def test_batched_logits_each_row_has_its_own_distribution(sampler):
    logits = np.array(
        [[0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, -2.0], [-np.inf, 1.0, 1.0, 0.0]]
    )  # -inf: a masked token
    draws = sampler(logits, rng=3, size=N // 4)
    assert draws.shape == (N // 4, 3)
    freq = frequencies(draws, 4)
    q = reference_softmax(logits)
    assert freq[2, 0] == 0
    for row in range(3):
        assert_matches(freq[row], q[row], n=N // 4)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
def test_result_shapes(sampler):
    one = sampler(Z, rng=0)
    assert isinstance(one, int) and 0 <= one < len(Z)
    assert sampler(Z, rng=0, size=7).shape == (7,)
    assert sampler(Z, rng=0, size=(2, 3)).shape == (2, 3)
    batch = np.zeros((4, 2, 6))
    assert sampler(batch, rng=0).shape == (4, 2)
    assert sampler(batch, rng=0, size=5).shape == (5, 4, 2)


# ---------------------------------------------------------------- temperature limits


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
def test_small_temperature_gives_argmax(sampler):
    logits = np.array([[0.3, 1.2, 1.1, -4.0], [5.0, 4.99, 0.0, 0.0]])
    draws = sampler(logits, temperature=1e-4, rng=4, size=2000)
    assert (draws == np.array([1, 0])).all()
    # even a temperature so small that z / T overflows: the max is shifted to 0 first
    np.testing.assert_array_equal(probabilities(logits, temperature=1e-300), [[0, 1, 0, 0], [1, 0, 0, 0]])


def test_small_temperature_keeps_tied_maxima_equally_likely():
    q = probabilities(np.array([2.0, 0.0, 2.0]), temperature=1e-6)
    np.testing.assert_array_equal(q, [0.5, 0.0, 0.5])


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
def test_large_temperature_gives_near_uniform(sampler):
    np.testing.assert_allclose(probabilities(Z, temperature=1e6), np.full(5, 0.2), atol=1e-6)
    freq = frequencies(sampler(Z, temperature=1e4, rng=5, size=N), len(Z))
    assert_matches(freq, np.full(5, 0.2))


# ---------------------------------------------------------------- top-k


def test_top_k_keeps_ties_at_the_boundary():
    # the 2nd largest is 2, and both 2s stay: three entries survive top_k=2
    out = filter_logits(np.array([3.0, 2.0, 2.0, 1.0]), top_k=2)
    np.testing.assert_array_equal(out, [3.0, 2.0, 2.0, -np.inf])
    assert np.isfinite(filter_logits(np.array([1.0, 1.0, 1.0]), top_k=1)).all()
    np.testing.assert_array_equal(
        np.isfinite(filter_logits(np.array([0.0, 5.0, 5.0, 7.0]), top_k=1)), [False, False, False, True]
    )


def test_top_k_plain_cases():
    z = np.array([0.1, 0.9, -3.0, 0.5, 0.7])
    np.testing.assert_array_equal(np.isfinite(filter_logits(z, top_k=3)), [False, True, False, True, True])
    np.testing.assert_array_equal(filter_logits(z, top_k=5), z)
    np.testing.assert_array_equal(filter_logits(z, top_k=50), z)  # k > V keeps everything


def test_top_k_is_row_wise_in_a_batch():
    z = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(
        np.isfinite(filter_logits(z, top_k=1)),
        [[False, False, True], [True, False, False], [True, True, False]],
    )


def test_filtered_logits_keep_values_shape_and_dtype():
    z = np.array([[1.5, -0.5, 0.25]], dtype=np.float32)
    out = filter_logits(z, top_k=2)
    assert out.dtype == np.float32 and out.shape == z.shape
    np.testing.assert_array_equal(out, np.array([[1.5, -np.inf, 0.25]], dtype=np.float32))
    assert z[0, 1] == -0.5  # the input is not modified


# ---------------------------------------------------------------- top-p


def test_top_p_keeps_the_token_that_crosses_p():
    q = np.array([0.5, 0.3, 0.15, 0.05])
    kept = np.isfinite(filter_logits(np.log(q), top_p=0.6))
    np.testing.assert_array_equal(kept, [True, True, False, False])  # 0.5 < 0.6, 0.5 + 0.3 crosses it


def test_top_p_cumulative_exactly_p_stops_there():
    # uniform over 4: every probability is exactly 0.25 and every partial sum is exact
    z = np.zeros(4)
    np.testing.assert_array_equal(np.isfinite(filter_logits(z, top_p=0.5)), [True, True, False, False])
    np.testing.assert_array_equal(np.isfinite(filter_logits(z, top_p=0.75)), [True, True, True, False])
    just_above = np.nextafter(0.5, 1.0)
    np.testing.assert_array_equal(np.isfinite(filter_logits(z, top_p=just_above)), [True, True, True, False])
    np.testing.assert_array_equal(probabilities(z, top_p=0.5), [0.5, 0.5, 0.0, 0.0])


def test_top_p_one_keeps_all_and_tiny_p_keeps_the_argmax_only():
    z = np.array([0.2, -30.0, 1.7, 0.4, -700.0])  # includes probabilities that underflow to ~0
    np.testing.assert_array_equal(filter_logits(z, top_p=1.0), z)
    np.testing.assert_array_equal(filter_logits(z, top_p=1e-12), [-np.inf, -np.inf, 1.7, -np.inf, -np.inf])


def test_top_p_runs_after_temperature():
    z = np.log(np.array([0.6, 0.3, 0.1]))
    # T = 1: 0.6 < 0.7, then 0.9 >= 0.7   -> two tokens
    np.testing.assert_array_equal(np.isfinite(filter_logits(z, top_p=0.7)), [True, True, False])
    # T = 0.5: probabilities ~ (0.78, 0.20, 0.02), and 0.78 >= 0.7 -> one token
    assert (probabilities(z, temperature=0.5, top_p=0.7) > 0).tolist() == [True, False, False]
    assert (probabilities(z, temperature=1.0, top_p=0.7) > 0).tolist() == [True, True, False]


def test_top_p_runs_after_top_k_on_the_renormalised_distribution():
    z = np.log(np.array([0.4, 0.3, 0.2, 0.1]))
    # on the full distribution top_p=0.5 keeps two tokens (0.4 < 0.5) ...
    np.testing.assert_array_equal(np.isfinite(filter_logits(z, top_p=0.5)), [True, True, False, False])
    # ... but after top_k=2 the first token has 0.4 / 0.7 = 0.57 >= 0.5 on its own
    np.testing.assert_array_equal(
        np.isfinite(filter_logits(z, top_k=2, top_p=0.5)), [True, False, False, False]
    )
    q = probabilities(z, top_k=3)
    np.testing.assert_allclose(q, [4 / 9, 3 / 9, 2 / 9, 0.0], rtol=1e-12)


def test_top_p_is_row_wise_in_a_batch():
    z = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.34, 0.33, 0.33]]))
    np.testing.assert_array_equal(
        np.isfinite(filter_logits(z, top_p=0.6)),
        [[True, False, False], [False, False, True], [True, True, False]],
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-20, 20), min_size=1, max_size=12), st.floats(0.01, 1.0))
def test_top_p_kept_set_is_the_smallest_prefix_reaching_p(values, p):
    z = np.array(values)
    q = reference_softmax(z)
    kept = np.isfinite(filter_logits(z, top_p=p))
    assert kept.any()
    assert q[kept].min() >= q[~kept].max(initial=0.0)  # the most probable tokens are the ones kept
    mass = q[kept].sum()
    assert mass >= p - 1e-12 or kept.all()  # it reaches p ...
    assert mass - q[kept].min() < p + 1e-12  # ... and one token fewer would not


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=10), st.integers(1, 12))
def test_top_k_kept_set_is_everything_at_least_the_kth_largest(values, k):
    z = np.array(values, dtype=np.float64)
    kept = np.isfinite(filter_logits(z, top_k=k))
    kth = np.sort(z)[::-1][min(k, len(z)) - 1]
    np.testing.assert_array_equal(kept, z >= kth)
    assert kept.sum() >= min(k, len(z))


# ---------------------------------------------------------------- probabilities


def test_probabilities_match_softmax_and_stay_finite_at_large_logits():
    np.testing.assert_allclose(probabilities(Z, temperature=0.7), reference_softmax(Z, 0.7), rtol=1e-12)
    for dtype in (np.float32, np.float64):
        q = probabilities(np.array([1e4, -1e4, 0.0], dtype=dtype))
        assert q.dtype == dtype and np.isfinite(q).all()
        np.testing.assert_array_equal(q, np.array([1.0, 0.0, 0.0], dtype=dtype))
    assert probabilities([1, 2, 3]).dtype == np.float64  # lists and ints become float64


def test_tensors_are_accepted():
    t = mg.Tensor(Z, requires_grad=True)
    np.testing.assert_array_equal(probabilities(t, top_k=3), probabilities(Z, top_k=3))
    np.testing.assert_array_equal(sample(t, rng=9, size=50), sample(Z, rng=9, size=50))
    np.testing.assert_array_equal(gumbel_max_sample(t, rng=9, size=50), gumbel_max_sample(Z, rng=9, size=50))


# ---------------------------------------------------------------- seeding


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
def test_same_seed_same_samples(sampler):
    a = sampler(Z, rng=123, size=1000)
    np.testing.assert_array_equal(a, sampler(Z, rng=123, size=1000))
    np.testing.assert_array_equal(a, sampler(Z, rng=np.random.default_rng(123), size=1000))
    assert (a != sampler(Z, rng=124, size=1000)).any()
    # a Generator is advanced, not reset: two calls on one generator differ
    gen = np.random.default_rng(7)
    assert (sampler(Z, rng=gen, size=1000) != sampler(Z, rng=gen, size=1000)).any()


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, float("inf"), float("nan"), "hot", True, None])
def test_a_bad_temperature_is_refused_exactly_as_softmax_refuses_it(temperature):
    # one temperature check for the whole library: the samplers raise what F.softmax raises
    with pytest.raises((TypeError, ValueError)) as by_softmax:
        F.softmax(mg.Tensor(Z), temperature=temperature)
    assert "temperature" in str(by_softmax.value)
    for fn in (sample, gumbel_max_sample, probabilities):
        with pytest.raises(by_softmax.type, match="temperature must be") as by_sampler:
            fn(Z, temperature=temperature)
        assert repr(temperature) in str(by_sampler.value)
    if isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and temperature <= 0:
        assert "argmax" in str(by_softmax.value)  # greedy decoding is the T -> 0 limit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_temperature_below_the_dtype_range_still_gives_the_argmax(dtype):
    # 1e-50 is 0 in float32: the division must not happen in float32
    q = probabilities(np.array([3.0, 1.0, 3.0], dtype=dtype), temperature=1e-50)
    assert q.dtype == dtype
    np.testing.assert_array_equal(q, np.array([0.5, 0.0, 0.5], dtype=dtype))


def test_sampling_uses_the_library_softmax_at_a_tiny_temperature():
    # F.softmax's shift before the division: a temperature so small that z / T overflows
    q = probabilities(np.array([3.0, 1.0, 3.0]), temperature=1e-300)
    np.testing.assert_array_equal(q, F.softmax(mg.Tensor([3.0, 1.0, 3.0]), temperature=1e-300).data)
    np.testing.assert_array_equal(q, [0.5, 0.0, 0.5])


@pytest.mark.parametrize("top_k", [0, -2])
def test_top_k_below_one_is_refused(top_k):
    with pytest.raises(ValueError, match=r"top_k must be >= 1"):
        filter_logits(Z, top_k=top_k)
    with pytest.raises(ValueError, match=r"top_k must be >= 1"):
        sample(Z, top_k=top_k)


def test_top_k_must_be_an_integer():
    with pytest.raises(TypeError, match="top_k must be a positive integer"):
        filter_logits(Z, top_k=2.5)


@pytest.mark.parametrize("top_p", [0.0, -0.1, 1.5, float("nan")])
def test_top_p_outside_zero_one_is_refused(top_p):
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        filter_logits(Z, top_p=top_p)
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        gumbel_max_sample(Z, top_p=top_p)


@pytest.mark.parametrize(
    "logits, message",
    [
        (np.array([]), "logits is empty"),
        (np.zeros((3, 0)), "logits is empty"),
        (np.array(1.0), "at least one dimension"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.array([0.0, np.inf]), r"\+inf"),
        (np.array([[0.0, 1.0], [-np.inf, -np.inf]]), "all -inf"),
    ],
)
def test_bad_logits_are_refused(logits, message):
    for fn in (sample, gumbel_max_sample, probabilities, filter_logits):
        with pytest.raises(ValueError, match=message):
            fn(logits)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "rng, error", [(-1, ValueError), (0.5, TypeError), ("7", TypeError), (False, TypeError)]
)
def test_a_bad_seed_is_refused_naming_the_argument(sampler, rng, error):
    with pytest.raises(
        error,
        match=rf"{sampler.__name__}: rng must be an integer >= 0, None or a "
        r"numpy.random.Generator",
    ):
        sampler(Z, rng=rng)
