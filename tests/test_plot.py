"""minigrad.diagnostics (the numbers behind the pictures) is checked as numbers, without
matplotlib; every picture of minigrad.plot renders headless to a real PNG."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigrad as mg
from minigrad import diagnostics, nn, plot
from minigrad import functional as F

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def assert_png(path) -> None:
    """A non-empty PNG that shows something (more than one colour)."""
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE, f"{path} is not a PNG"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 50 and pixels.shape[1] > 50
    grey = np.round(pixels[..., :3].mean(axis=-1) * 255)
    assert len(np.unique(grey)) > 10, f"{path} is blank"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plot.pyplot().close("all")


# ---------------------------------------------------------------- residual against margin


def test_binary_residual_is_sigmoid_of_minus_margin_small_when_confident_large_when_wrong():
    rng = np.random.default_rng(0)
    z = rng.uniform(-10, 10, 400)
    y = rng.integers(0, 2, 400)
    data = diagnostics.residual_vs_margin_data(z, y)
    np.testing.assert_allclose(data.residual, sigmoid(z) - y, rtol=0, atol=1e-15)
    # (atol: p - 1 for p near 1 cancels digits; that residual IS the gradient, so it is what we want)
    np.testing.assert_allclose(np.abs(data.residual), sigmoid(-data.margin), rtol=1e-12, atol=1e-15)
    assert np.array_equal(data.correct, (z > 0) == (y == 1))
    confident_correct = data.margin > 5
    misclassified = data.margin < -3
    assert confident_correct.sum() > 50 and misclassified.sum() > 50
    assert np.abs(data.residual[confident_correct]).max() < 0.007  # sigmoid(-5)
    assert np.abs(data.residual[misclassified]).min() > 0.95  # sigmoid(3)
    # the pull only grows as the margin shrinks
    order = np.argsort(data.margin)
    assert np.all(np.diff(np.abs(data.residual[order])) <= 1e-15)
    # sign: a label-1 sample is pushed up (p - y < 0), a label-0 sample down
    assert np.all(data.residual[y == 1] < 0) and np.all(data.residual[y == 0] > 0)


def test_multiclass_residual_is_p_true_minus_one_and_obeys_the_sigmoid_bound():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 4, (300, 4))
    y = rng.integers(0, 4, 300)
    data = diagnostics.residual_vs_margin_data(z, y)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(300)
    np.testing.assert_allclose(data.residual, p[rows, y] - 1, rtol=0, atol=1e-15)
    others = np.where(np.eye(4, dtype=bool)[y], -np.inf, z)
    np.testing.assert_allclose(data.margin, z[rows, y] - others.max(axis=1), rtol=0, atol=1e-12)
    assert np.array_equal(data.correct, z.argmax(axis=1) == y)
    assert np.all(data.residual <= -sigmoid(-data.margin) + 1e-15)  # p_y <= sigmoid(margin)
    assert np.abs(data.residual[data.margin > 8]).max() < 1e-3 * 3  # (K - 1) e^-8 at most
    assert np.all(data.residual[~data.correct] <= -0.5)  # a wrong arg-max leaves p_y <= 1/2


def test_residual_data_rejects_bad_input():
    with pytest.raises(ValueError, match="labels 0 and 1"):
        diagnostics.residual_vs_margin_data(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="rows"):
        diagnostics.residual_vs_margin_data(np.zeros(3), np.array([0, 1]))
    with pytest.raises(ValueError, match="integer class labels"):
        diagnostics.residual_vs_margin_data(np.zeros(2), np.array([0.0, 1.0]))


# ---------------------------------------------------------------- the pulls add up to the gradient


def test_binary_pulls_sum_to_the_autograd_gradient():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 2))
    y = rng.integers(0, 2, 50)
    model = nn.Linear(2, 1, seed=3)
    z = model(mg.Tensor(X)).reshape(-1)
    F.binary_cross_entropy_with_logits(z, y.astype(np.float64)).backward()
    pulls = diagnostics.pull_arrows_data(X, z.data, y)
    assert pulls.weight.shape == (50, 2) and pulls.bias.shape == (50,)
    np.testing.assert_allclose(pulls.weight.sum(axis=0), model.weight.grad.data[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(pulls.bias.sum(), model.bias.grad.data[0], rtol=0, atol=1e-15)
    # each share is that sample's own gradient: x_i (p_i - y_i) / N
    i = 7
    np.testing.assert_allclose(pulls.weight[i], X[i] * (sigmoid(z.data[i]) - y[i]) / 50, rtol=1e-14)


def test_multiclass_pulls_sum_to_the_autograd_gradient():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3))
    y = rng.integers(0, 5, 40)
    model = nn.Linear(3, 5, seed=5)
    logits = model(mg.Tensor(X))
    F.cross_entropy(logits, y).backward()
    pulls = diagnostics.pull_arrows_data(X, logits.data, y)
    assert pulls.weight.shape == (40, 3, 5) and pulls.bias.shape == (40, 5)
    np.testing.assert_allclose(pulls.weight.sum(axis=0), model.weight.grad.data, rtol=0, atol=1e-15)
    np.testing.assert_allclose(pulls.bias.sum(axis=0), model.bias.grad.data, rtol=0, atol=1e-15)


# ---------------------------------------------------------------- loss surface


def test_loss_surface_grid_matches_one_model_at_a_time():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 2))
    y = rng.integers(0, 2, 30).astype(np.float64)
    b = 0.3

    def loss_at(W):  # W: (2, M)
        z = mg.Tensor(X) @ W + b
        return F.binary_cross_entropy_with_logits(
            z, np.broadcast_to(y[:, None], z.shape), reduction="none"
        ).mean(axis=0)

    surface = diagnostics.loss_surface_data(loss_at, np.linspace(-2, 2, 5), np.linspace(-1, 3, 4))
    assert surface.loss.shape == surface.grad1.shape == (4, 5)
    for i, j in [(0, 0), (2, 3), (3, 4)]:
        w = mg.Tensor([surface.w1[i, j], surface.w2[i, j]], requires_grad=True)
        single = F.binary_cross_entropy_with_logits(mg.Tensor(X) @ w + b, y)
        single.backward()
        assert surface.loss[i, j] == pytest.approx(single.item(), abs=1e-14)
        np.testing.assert_allclose(
            [surface.grad1[i, j], surface.grad2[i, j]], w.grad.data, rtol=0, atol=1e-14
        )
    with pytest.raises(ValueError, match="one loss per column"):
        diagnostics.loss_surface_data(lambda W: W.sum(), [0.0, 1.0], [0.0, 1.0])


# ---------------------------------------------------------------- confusion counts, grid


def test_confusion_counts():
    counts = diagnostics.confusion_counts([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=4)
    expected = np.zeros((4, 4), dtype=int)
    expected[0, 0] = expected[0, 1] = expected[1, 1] = expected[2, 0] = 1
    expected[2, 2] = 2
    np.testing.assert_array_equal(counts, expected)
    assert diagnostics.confusion_counts([1, 1], [1, 0]).shape == (2, 2)


def test_probability_grid_covers_the_data():
    X = np.array([[0.0, -1.0], [2.0, 3.0]])
    xx, yy, P = diagnostics.probability_grid(
        lambda pts: np.column_stack([pts[:, 0] > 1, pts[:, 0] <= 1]), X, resolution=11, padding=0.1
    )
    assert xx.shape == yy.shape == (11, 11) and P.shape == (11, 11, 2)
    assert xx.min() == pytest.approx(-0.2) and xx.max() == pytest.approx(2.2)
    assert yy.min() == pytest.approx(-1.4) and yy.max() == pytest.approx(3.4)
    with pytest.raises(ValueError, match="2-D points"):
        diagnostics.probability_grid(lambda pts: pts, np.zeros((4, 3)))


def test_diagnostics_need_no_matplotlib():
    # a fresh interpreter in which importing matplotlib fails
    code = textwrap.dedent("""
        import sys
        sys.modules["matplotlib"] = None  # any import of matplotlib now raises ImportError
        import numpy as np
        from minigrad import diagnostics
        rm = diagnostics.residual_vs_margin_data(np.array([2.0, -1.0]), np.array([1, 1]))
        print(rm.correct.tolist(), diagnostics.confusion_counts([0, 1], [1, 1]).tolist())
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[True,", "False]", "[[0,", "1],", "[0,", "1]]"]


# ---------------------------------------------------------------- every picture renders to a PNG


def _toy_problem():
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(-1, 1, (30, 2)), rng.normal(1, 1, (30, 2))])
    y = np.repeat([0, 1], 30)
    return X, y, np.array([1.5, 1.0]), -0.2


def _three_classes():
    rng = np.random.default_rng(8)
    centres = np.array([[-2, 0], [2, 0], [0, 2.5]])
    y = np.repeat([0, 1, 2], 20)
    X = centres[y] + rng.normal(0, 1, (60, 2))
    W = np.array([[-1.0, 1.0, 0.0], [-0.3, -0.3, 1.2]])
    return X, y, W


def draw_binary_regions(ax):
    X, y, w, b = _toy_problem()
    return plot.decision_regions(
        lambda P: np.column_stack([1 - sigmoid(P @ w + b), sigmoid(P @ w + b)]), X, y, ax=ax
    )


def draw_multiclass_regions(ax):
    X, y, W = _three_classes()
    return plot.decision_regions(lambda P: F.softmax(P @ W).data, X, y, ax=ax, class_names=["a", "b", "c"])


def draw_loss_curves(ax):
    history = {
        "train_loss": [1.0, 0.5, 0.3],
        "test_loss": [1.1, 0.6, 0.4],
        "train_acc": [0.5, 0.8, 0.9],
        "test_acc": [0.4, 0.7, 0.85],
    }
    return plot.loss_curves(history, ax=ax)


def draw_accuracy_curves(ax):
    history = {"epoch": [0, 1, 2], "train_acc": [0.5, 0.8, 0.9], "test_acc": [0.4, 0.7, 0.8]}
    return plot.accuracy_curves(history, ax=ax)


def draw_residual_vs_margin(ax):
    X, y, w, b = _toy_problem()
    return plot.residual_vs_margin(X @ w + b, y, ax=ax)


def draw_multiclass_residual_vs_margin(ax):
    X, y, W = _three_classes()
    return plot.residual_vs_margin(X @ W, y, ax=ax)


def draw_pull_arrows(ax):
    X, y, w, b = _toy_problem()
    return plot.pull_arrows(X, X @ w + b, y, ax=ax, weight=w, bias=b)


def draw_loss_surface(ax):
    X, y, w, b = _toy_problem()
    Y = y.astype(np.float64)[:, None]

    def loss_at(W):
        z = mg.Tensor(X) @ W + b
        losses = F.binary_cross_entropy_with_logits(z, np.broadcast_to(Y, z.shape), reduction="none")
        return losses.mean(axis=0)

    path = np.linspace([0.0, 0.0], w, 12)
    return plot.loss_surface(loss_at, path, ax=ax, resolution=30, n_arrows=6)


def draw_residual_heatmap(ax):
    X, y, W = _three_classes()
    P = F.softmax(X[:8] @ W).data
    return plot.residual_heatmap(P - np.eye(3)[y[:8]], y[:8], ax=ax)


def draw_confusion_matrix(ax):
    return plot.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1], ax=ax, class_names=["x", "y", "z"])


def draw_weight_images(ax):
    return plot.weight_images(np.random.default_rng(9).standard_normal((64, 10)), ax=ax)


PICTURES = [
    draw_binary_regions,
    draw_multiclass_regions,
    draw_loss_curves,
    draw_accuracy_curves,
    draw_residual_vs_margin,
    draw_multiclass_residual_vs_margin,
    draw_pull_arrows,
    draw_loss_surface,
    draw_residual_heatmap,
    draw_confusion_matrix,
    draw_weight_images,
]


@pytest.mark.parametrize("draw", PICTURES, ids=[f.__name__[5:] for f in PICTURES])
def test_each_picture_renders_to_a_png_on_its_own_axes_or_a_given_one(draw, tmp_path):
    ax = draw(None)  # makes its own figure
    path = plot.save(ax, tmp_path / "own.png")
    assert_png(path)
    assert ax.get_title(), "every picture has a title"

    fig = plot.pyplot().figure(figsize=(12, 4))
    first, given = fig.subplots(1, 2)
    assert draw(given) is given  # draws where it is told, and says so
    assert given.has_data() or given.images or given.texts
    assert not first.has_data()
    assert_png(plot.save(fig, tmp_path / "given.png"))


def test_training_curves_returns_a_two_panel_figure(tmp_path):
    fig = plot.training_curves(
        {"train_loss": [1, 0.5], "test_loss": [1, 0.6], "train_acc": [0.5, 0.9], "test_acc": [0.5, 0.8]},
        title="t",
    )
    assert len(fig.axes) == 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["mean cross-entropy", "accuracy (%)"]
    assert_png(plot.save(fig, tmp_path / "curves.png"))
    other = plot.pyplot().figure()
    panels = other.subplots(1, 2)
    assert plot.training_curves({"train_loss": [1, 0.5]}, axes=panels) is other
    assert panels[0].has_data() and panels[0].get_ylabel() == "mean cross-entropy"


def test_plotting_functions_reject_what_they_cannot_draw():
    with pytest.raises(ValueError, match="binary model"):
        plot.pull_arrows(np.zeros((3, 2)), np.zeros((3, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match=r"\(64, classes\)"):
        plot.weight_images(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="path"):
        plot.loss_surface(lambda W: W.sum(axis=0), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="class_names"):
        plot.confusion_matrix([0, 1, 2], [0, 1, 2], class_names=["a", "b"])


# ---------------------------------------------------------------- saving


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "figure.png"
    fig = draw_loss_curves(None).figure
    plot.save(fig, target)  # creates the missing folder
    first = target.read_bytes()
    with pytest.raises(ValueError):  # an unknown format fails inside savefig...
        plot.save(fig, tmp_path / "sub" / "figure.notaformat")
    assert target.read_bytes() == first  # ...and touches nothing else
    os.replace(target, tmp_path / "sub" / "keep.png")
    target.write_bytes(b"old contents")
    plot.save(fig, target)  # replaces an existing file
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["figure.png", "keep.png"]


def test_matplotlib_is_loaded_only_when_drawing_and_headless_by_default(tmp_path):
    """In a fresh interpreter without MPLBACKEND: importing minigrad.plot does not import
    matplotlib; drawing selects Agg (no display needed)."""
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        import minigrad.plot as plot
        assert "matplotlib" not in sys.modules, "imported at import time"
        ax = plot.confusion_matrix([0, 1, 1], [0, 1, 0])
        plot.save(ax, {str(tmp_path / "c.png")!r})
        import matplotlib
        print(matplotlib.get_backend())
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().lower() == "agg"
    assert_png(tmp_path / "c.png")


@pytest.mark.skipif(
    os.name != "posix" or not hasattr(os, "symlink"), reason="POSIX permission bits and symlinks"
)
def test_saving_a_figure_keeps_permissions_and_writes_through_a_symlink(tmp_path):
    fig = draw_loss_curves(None).figure
    target = tmp_path / "real.png"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "latest.png"
    link.symlink_to(target)
    assert plot.save(fig, link) == str(link)
    assert link.is_symlink() and target.read_bytes().startswith(PNG_SIGNATURE)
    assert (os.stat(target).st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.png", "real.png"]


def test_a_figure_save_failing_half_way_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    fig = draw_loss_curves(None).figure
    target = tmp_path / "figure.png"
    plot.save(fig, target)
    first = target.read_bytes()

    def half_then_fail(file, **kwargs):
        file.write(PNG_SIGNATURE + b"half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fig, "savefig", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        plot.save(fig, target)
    assert target.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
