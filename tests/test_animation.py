"""Training you can watch: the snapshots are the real run's parameters, each frame's pulls
are the closed form (y - p) x / N, and --animate writes a GIF of the expected frames."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minigrad as mg
from minigrad import animation, nn, plot

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def examples():
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield {
            name: importlib.import_module(name) for name in ("logistic_regression", "multinomial_regression")
        }
    finally:
        sys.path.remove(str(EXAMPLES))
        plot.pyplot().close("all")


def gif_frames(path: Path) -> tuple[int, list[int]]:
    with Image.open(path) as image:
        assert image.format == "GIF"
        durations = []
        for i in range(image.n_frames):
            image.seek(i)
            durations.append(image.info["duration"])
        return image.n_frames, durations


# ---------------------------------------------------------------- pieces


@pytest.mark.parametrize("total, n", [(0, 5), (3, 10), (90, 40), (1000, 7), (10, 2)])
def test_frame_steps_start_and_end_with_the_run_and_crowd_its_beginning(total, n):
    steps = animation.frame_steps(total, n)
    assert steps[0] == 0 and steps[-1] == total
    assert steps == sorted(set(steps)) and len(steps) <= n
    if total + 1 <= n:
        assert steps == list(range(total + 1))
    else:
        gaps = np.diff(steps)
        assert gaps[0] <= gaps[-1]  # dense where the model changes most
        assert len(steps) >= min(n, total + 1) // 2


@pytest.mark.parametrize("total, n", [(-1, 5), (10, 1), (2.5, 4)])
def test_frame_steps_refuse_bad_arguments(total, n):
    with pytest.raises(ValueError, match="total_steps|n_frames"):
        animation.frame_steps(total, n)


def test_the_recorder_copies_the_parameters_after_each_step():
    w = mg.Tensor([1.0, 2.0], requires_grad=True)
    every = animation.Recorder({"w": w})
    some = animation.Recorder({"w": w}, steps=[2])
    for _ in range(3):
        w.data += 10.0  # an optimiser step, in place
        every()
        some()
    assert [s.step for s in every.snapshots] == [0, 1, 2, 3]
    assert [s.params["w"].tolist() for s in every.snapshots] == [[1, 2], [11, 12], [21, 22], [31, 32]]
    assert [s.step for s in some.snapshots] == [2] and some.snapshots[0].params["w"].tolist() == [21, 22]
    assert [s.step for s in every.select(3)] == animation.frame_steps(3, 3)


def test_frame_data_is_the_closed_form_pull_binary():
    rng = np.random.default_rng(0)
    X, z, y = rng.normal(size=(7, 2)), rng.normal(size=7) * 3, rng.integers(0, 2, 7)
    frame = animation.frame_data(z, rng.normal(size=5), X, y)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(frame.pulls, (y - p)[:, None] * X / 7, rtol=0, atol=1e-15)
    assert frame.mean_residual == pytest.approx(np.mean(np.abs(p - y)), abs=1e-15)
    assert frame.loss == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), abs=1e-12)
    assert frame.accuracy == np.mean((z > 0) == y) and frame.grid_proba.shape == (5, 2)


def test_frame_data_is_the_closed_form_pull_on_the_true_class_softmax():
    rng = np.random.default_rng(1)
    X, z, y = rng.normal(size=(9, 2)), rng.normal(size=(9, 4)) * 2, rng.integers(0, 4, 9)
    frame = animation.frame_data(z, rng.normal(size=(6, 4)), X, y)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p_true = p[np.arange(9), y]
    np.testing.assert_allclose(frame.pulls, (1 - p_true)[:, None] * X / 9, rtol=0, atol=1e-15)
    assert frame.mean_residual == pytest.approx(np.mean(1 - p_true), abs=1e-15)
    assert frame.loss == pytest.approx(-np.mean(np.log(p_true)), abs=1e-12)
    np.testing.assert_allclose(frame.grid_proba.sum(axis=1), 1.0, atol=1e-12)


def test_region_colors_are_white_where_the_model_is_unsure_and_coloured_where_sure():
    unsure, sure = np.full(3, 1 / 3), np.array([0.0, 1.0, 0.0])
    rgb = animation.region_colors(np.stack([unsure, sure]))
    assert np.all(rgb[0] > 0.9)
    import matplotlib.colors

    target = np.asarray(matplotlib.colors.to_rgb(plot.class_color(1)))
    assert np.linalg.norm(rgb[1] - target) < np.linalg.norm(rgb[0] - target)


def test_training_gif_writes_one_frame_per_snapshot_and_holds_the_last(tmp_path):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 3, 30)
    snaps = [animation.Snapshot(s, {"W": rng.normal(size=(2, 3)) * s}) for s in range(4)]
    path = animation.training_gif(
        lambda params, points: points @ params["W"],
        snaps,
        X,
        y,
        tmp_path / "a.gif",
        fps=10,
        hold=3,
        resolution=30,
    )
    n, durations = gif_frames(Path(path))
    assert n == 4 and durations[:3] == [100, 100, 100] and durations[3] == 400  # the held last frame
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind
    with pytest.raises(ValueError, match="2-D samples"):
        animation.training_gif(lambda p, x: x, snaps, np.zeros((3, 3)), y[:3], tmp_path / "b.gif")
    with pytest.raises(ValueError, match="snapshots is empty"):
        animation.training_gif(lambda p, x: x, [], X, y, tmp_path / "b.gif")


# ---------------------------------------------------------------- the examples' --animate


def test_logistic_animate_writes_a_gif_of_the_real_run(examples, tmp_path, capsys, monkeypatch):
    seen = {}
    real = animation.training_gif

    def spy(logits_at, snapshots, *args, **kwargs):
        seen["snapshots"], seen["surface"] = snapshots, kwargs.get("surface")
        return real(logits_at, snapshots, *args, **kwargs)

    monkeypatch.setattr(animation, "training_gif", spy)
    saved = tmp_path / "model.npz"
    result = examples["logistic_regression"].main(
        ["--epochs", "2", "--animate", "--frames", "5", "--out", str(tmp_path), "--save", str(saved)]
    )
    gif = tmp_path / "moons_training.gif"
    assert str(gif) in capsys.readouterr().out and str(gif) in result.figures
    steps = 2 * math.ceil(180 / 32)  # moons: 180 training samples, batches of 32
    assert [s.step for s in seen["snapshots"]] == animation.frame_steps(steps, 5)
    start = nn.Linear(2, 1, seed=0)  # the run's initial weights (seed 0) and its final ones
    np.testing.assert_array_equal(seen["snapshots"][0].params["weight"], start.weight.data)
    np.testing.assert_array_equal(seen["snapshots"][-1].params["weight"], mg.load(saved)["weight"])
    assert seen["surface"].path.shape == (steps + 1, 2)
    n, _ = gif_frames(gif)
    assert n == len(seen["snapshots"]) and 10_000 < gif.stat().st_size < 2_000_000


def test_multinomial_animate_writes_a_gif_where_asked(examples, tmp_path, capsys):
    gif = tmp_path / "nested" / "spirals.gif"
    examples["multinomial_regression"].main(
        [
            "--dataset",
            "spirals",
            "--epochs",
            "1",
            "--frames",
            "4",
            "--animate",
            str(gif),
            "--out",
            str(tmp_path / "figs"),
        ]
    )
    assert str(gif) in capsys.readouterr().out
    n, _ = gif_frames(gif)
    assert n == len(animation.frame_steps(math.ceil(270 / 32), 4)) == 4
    assert 10_000 < gif.stat().st_size < 2_000_000


@pytest.mark.parametrize("example", ["logistic_regression", "multinomial_regression"])
@pytest.mark.parametrize(
    "flags, message",
    [
        (["--frames", "1"], "argument --frames: expected an integer >= 2, got 1"),
        (["--frames", "0"], "argument --frames: expected a positive integer"),
        (
            ["--animate", "training.png"],
            "argument --animate: expected a file path ending in .gif, got 'training.png'",
        ),
    ],
)
def test_animate_flags_are_checked_before_anything_runs(examples, tmp_path, capsys, example, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        examples[example].main(flags + ["--out", str(tmp_path)])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_digits_cannot_be_animated(examples, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        examples["multinomial_regression"].main(["--dataset", "digits", "--animate", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "argument --animate: draws 2-D data (--dataset blobs or spirals)" in capsys.readouterr().err
