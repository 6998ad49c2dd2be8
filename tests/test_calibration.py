"""Calibration: the ECE against a hand-computed case and a plain per-bin loop, temperature
scaling at the NLL's minimum (and recovering a known temperature), and the reliability
diagram's bars."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import calibration as cal
from minigrad import plot
from minigrad.plot_calibration import reliability_diagram, reliability_diagrams


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def nll(z: np.ndarray, y: np.ndarray, T: float) -> float:
    return float(-np.log(softmax(z / T)[np.arange(len(y)), y]).mean())


def synthetic(seed: int, n: int = 3000, T0: float = 2.0):
    """Labels drawn from softmax(z / T0): the logits z are over-confident by a factor T0."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4)) * 4
    p = softmax(z / T0)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, y


def test_ece_of_a_hand_made_case():
    # two classes, 2 bins ((0, .5], (.5, 1]): every confidence lands in the upper bin
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    # upper bin: 4 samples, accuracy 3/4, mean confidence (0.9 + 0.8 + 0.7 + 0.6) / 4 = 0.75
    assert cal.expected_calibration_error(probs, labels, n_bins=2) == pytest.approx(0.0, abs=1e-15)
    # 10 bins: 0.9 -> (0.8, 0.9] right, 0.8 -> (0.7, 0.8] wrong, 0.7 right, 0.6 right
    expected = (abs(1 - 0.9) + abs(0 - 0.8) + abs(1 - 0.7) + abs(1 - 0.6)) / 4
    assert cal.expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(expected, rel=1e-12)


def test_ece_matches_a_plain_loop_over_the_bins():
    z, y = synthetic(0, n=500)
    p = softmax(z)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == y
    ece = 0.0
    for m in range(15):
        inside = (conf > m / 15) & (conf <= (m + 1) / 15)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    assert cal.expected_calibration_error(p, y) == pytest.approx(ece, rel=1e-12)
    bins = cal.calibration_bins(p, y)
    assert bins.counts.sum() == 500 and len(bins.edges) == 16


def test_temperature_scaling_finds_the_nll_minimum_and_recovers_a_known_temperature():
    z, y = synthetic(1)
    T = cal.fit_temperature(z, y)
    h = 1e-4  # dNLL/dT = 0 at the minimum, by central differences in plain numpy
    assert abs(nll(z, y, T + h) - nll(z, y, T - h)) / (2 * h) < 1e-6
    assert nll(z, y, T) < min(nll(z, y, 0.98 * T), nll(z, y, 1.02 * T))
    assert T == pytest.approx(2.0, rel=0.05)  # 3000 samples: the fitted T is near the true one
    before, after = softmax(z), softmax(z / T)
    assert (before.argmax(axis=1) == after.argmax(axis=1)).all()  # accuracy cannot change
    assert cal.expected_calibration_error(after, y) < cal.expected_calibration_error(before, y) / 3


def test_an_under_confident_model_gets_a_temperature_below_one():
    z, y = synthetic(2, T0=0.5)
    assert cal.fit_temperature(z, y) == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: cal.expected_calibration_error(np.ones((3, 2)) / 2, np.array([0, 1])),
            "labels must be 3 integer class indices",
        ),
        (
            lambda: cal.expected_calibration_error(np.array([[2.0, -1.0]]), np.array([0])),
            "probs must be probabilities",
        ),
        (
            lambda: cal.expected_calibration_error(np.ones((2, 2)) / 2, np.array([0, 2])),
            "labels must be class indices 0 to 1",
        ),
        (
            lambda: cal.expected_calibration_error(np.ones((2, 2)) / 2, np.array([0, 1]), n_bins=0),
            "n_bins must be an int >= 1, got 0",
        ),
        (lambda: cal.fit_temperature(np.ones(4), np.array([0])), "logits must have shape \\(n, C\\)"),
        (lambda: cal.fit_temperature(np.ones((2, 3)), np.array([0.0, 1.0])), "labels must be 2 integer"),
    ],
)
def test_bad_inputs_are_refused_with_a_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_reliability_diagram_draws_each_bins_accuracy(tmp_path):
    z, y = synthetic(3, n=400)
    p = softmax(z)
    ax = reliability_diagram(p, y, n_bins=10, title="test")
    bins = cal.calibration_bins(p, y, 10)
    bars = ax.containers[0]  # the accuracy bars, one per bin
    heights = np.array([bar.get_height() for bar in bars])
    np.testing.assert_allclose(heights, np.nan_to_num(bins.accuracy), rtol=1e-12)
    ece = cal.expected_calibration_error(p, y, 10)
    assert any(f"ECE {ece:.3f}" in t.get_text() for t in ax.get_legend().get_texts())
    fig = reliability_diagrams([("before", p), ("after", softmax(z / 2))], y)
    path = plot.save(fig, tmp_path / "reliability.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    plot.pyplot().close("all")
