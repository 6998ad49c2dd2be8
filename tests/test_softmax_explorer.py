"""The softmax explorer draws what minigrad computes: driving its sliders and buttons (as
a user would, headless with Agg) redraws bars whose heights are F.softmax's probabilities
and the closed-form gradient (p - onehot(y)) / T, and --out writes a PNG grid."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad import functional as F
from minigrad import plot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def explorer_module():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        yield importlib.import_module("softmax_explorer")
    finally:
        sys.path.remove(str(ROOT / "examples"))
        plot.pyplot().close("all")


@pytest.fixture
def explorer(explorer_module):
    made = explorer_module.Explorer(logits=[2.0, 1.0, 0.1, -1.0], temperature=1.0, target=0)
    yield made
    plot.pyplot().close(made.fig)


def drawn(bars) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([b.get_height() for b in bars.prob]), np.array([b.get_height() for b in bars.grad]))


def check_softmax_bars(explorer, z, t, target):
    p, grad = drawn(explorer.softmax)
    expected = F.softmax(np.array(z), temperature=t).data
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grad, (expected - np.eye(len(z))[target]) / t, rtol=0, atol=1e-12)
    assert f"{-np.log(expected[target]):.4f}" in explorer.softmax.ax_p.get_title()
    outlined = [b.get_linewidth() > 0 for b in explorer.softmax.prob]
    assert outlined == [c == target for c in range(len(z))]


def test_moving_the_sliders_redraws_probabilities_and_gradient(explorer):
    check_softmax_bars(explorer, [2.0, 1.0, 0.1, -1.0], 1.0, 0)
    explorer.logit_sliders[2].set_val(4.5)  # fires the slider's callback, as a drag would
    check_softmax_bars(explorer, [2.0, 1.0, 4.5, -1.0], 1.0, 0)
    explorer.temperature_slider.set_val(0.4)
    check_softmax_bars(explorer, [2.0, 1.0, 4.5, -1.0], 0.4, 0)
    explorer.target_buttons.set_active(3)  # a click on "y = class 4"
    check_softmax_bars(explorer, [2.0, 1.0, 4.5, -1.0], 0.4, 3)
    explorer.temperature_slider.set_val(3.0)
    check_softmax_bars(explorer, [2.0, 1.0, 4.5, -1.0], 3.0, 3)


def test_adding_the_same_number_to_every_logit_changes_nothing(explorer):
    before = drawn(explorer.softmax)
    for slider in explorer.logit_sliders:
        slider.set_val(slider.val + 3.0)
    after = drawn(explorer.softmax)
    np.testing.assert_allclose(after[0], before[0], atol=1e-12)
    np.testing.assert_allclose(after[1], before[1], atol=1e-12)


def test_the_two_class_panel_is_the_sigmoid_and_its_closed_form_gradient(explorer):
    for z, t, y in [(2.0, 1.0, 0), (-3.5, 0.3, 1), (5.0, 4.0, 0)]:
        explorer.binary_slider.set_val(z)
        explorer.temperature_slider.set_val(t)
        explorer.binary_buttons.set_active(y)
        p, grad = drawn(explorer.sigmoid)
        p1 = 1 / (1 + np.exp(-z / t))
        np.testing.assert_allclose(p, [1 - p1, p1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(grad, [(p1 - y) / t], rtol=0, atol=1e-12)
        loss = -(y * np.log(p1) + (1 - y) * np.log(1 - p1))
        assert f"{loss:.4f}" in explorer.sigmoid.ax_p.get_title()


def test_out_writes_a_png_grid_of_snapshots(explorer_module, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert explorer_module.main(["--out", str(out), "--logits", "1,0,-1", "--temperature", "0.5"]) == str(out)
    assert f"wrote {out}" in capsys.readouterr().out
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--logits", "1"], "argument --logits: expected 2 to 8 numbers"),
        (["--logits", "1,x"], "argument --logits: expected comma-separated numbers"),
        (["--logits", "1,99"], "between -6 and 6"),
        (["--temperature", "0"], "argument --temperature: expected a number from 0.1 to 5"),
        (["--temperature", "nan"], "argument --temperature"),
        (["--target", "5"], "argument --target: expected a class from 1 to 4, got 5"),
    ],
)
def test_bad_flags_exit_with_code_2(explorer_module, capsys, tmp_path, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        explorer_module.main(flags + ["--out", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
