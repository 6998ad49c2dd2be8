"""The example scripts run end to end: they print the p - y gradient checks (below 1e-12),
write every figure they list as a real PNG, reach their accuracy, and refuse bad flags with
exit code 2.

Most runs call the scripts' ``main(argv)`` in this process (fast: numpy and matplotlib are
already loaded); one runs ``python examples/logistic_regression.py`` as a subprocess to
prove the file works as a script.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad import plot

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHECK_LINE = re.compile(r"^\s*max \|(?P<what>.+?)\|\s*= (?P<value>\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def examples():
    """The two example modules, imported from examples/ (as the scripts import _common)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield {name: importlib.import_module(name)
               for name in ("logistic_regression", "multinomial_regression")}
    finally:
        sys.path.remove(str(EXAMPLES))
        plot.pyplot().close("all")


def printed_checks(text: str) -> dict[str, float]:
    return {m["what"]: float(m["value"]) for m in CHECK_LINE.finditer(text)}


def printed_figures(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("figures written ("))
    count = int(re.search(r"\((\d+)\)", lines[start])[1])
    return [line.strip() for line in lines[start + 1:start + 1 + count]]


def assert_png_files(paths: list[str], out_dir: Path) -> None:
    assert paths, "no figures listed"
    for path in paths:
        p = Path(path)
        assert p.parent.resolve() == out_dir.resolve(), f"{path} is not in --out {out_dir}"
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, f"{path} is not a real PNG"


def test_multinomial_example_blobs_checks_trains_draws_and_saves(examples, tmp_path, capsys):
    out, saved = tmp_path / "figs", tmp_path / "model.npz"
    result = examples["multinomial_regression"].main(
        ["--epochs", "3", "--out", str(out), "--graph", "--save", str(saved), "--seed", "1"])
    text = capsys.readouterr().out

    checks = printed_checks(text)
    assert {"dL/dlogits - (p - Y) / N", "dL/dW - X^T (p - Y) / N", "dL/db - mean(p - Y)"} <= set(checks)
    assert all(v < 1e-12 for v in checks.values()), checks
    assert max(result.checks.values()) < 1e-12

    assert len(re.findall(r"^epoch +\d+/3  loss [0-9.]+  train acc +[0-9.]+%  test acc +[0-9.]+%$", text,
                          re.MULTILINE)) == 4  # epoch 0 (untrained) to 3
    assert f"final test accuracy: {100 * result.test_accuracy:.1f}%" in text
    assert result.test_accuracy > 0.8

    figures = printed_figures(text)
    assert figures == result.figures
    assert {Path(f).name for f in figures} == {"blobs_graph.png", "blobs_residual_heatmap.png",
                                                "blobs_training_curves.png", "blobs_decision_regions.png"}
    assert_png_files(figures, out)

    state = mg.load(saved)  # --save wrote the trained model, which loads back
    assert set(state) == {"weight", "bias"} and state["weight"].shape == (2, 4)
    model = mg.nn.Linear(2, 4)
    model.load_state_dict(state)
    assert f"saved the trained state_dict to {saved}" in text


def test_multinomial_example_digits_with_default_settings_reaches_95_percent(examples, tmp_path, capsys):
    result = examples["multinomial_regression"].main(["--dataset", "digits", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert result.test_accuracy >= 0.95, text
    assert float(re.search(r"final test accuracy: ([0-9.]+)%", text)[1]) >= 95.0
    assert all(v < 1e-12 for v in printed_checks(text).values()) and len(printed_checks(text)) == 3
    assert {Path(f).name for f in printed_figures(text)} == {
        "digits_confusion_matrix.png", "digits_weights.png", "digits_residual_heatmap.png",
        "digits_training_curves.png"}
    assert_png_files(result.figures, tmp_path)


def test_logistic_example_matches_closed_form_and_two_class_softmax(examples, tmp_path, capsys):
    result = examples["logistic_regression"].main(
        ["--epochs", "4", "--optimizer", "adam", "--lr", "0.05", "--dataset", "blobs",
         "--out", str(tmp_path)])
    text = capsys.readouterr().out
    checks = printed_checks(text)
    gradient = {k: v for k, v in checks.items() if k.startswith("dL/d")}
    assert len(gradient) == 3 and all(v < 1e-12 for v in gradient.values()), checks
    # the sigmoid model and the two-class softmax model are the same model
    twin = {k: v for k, v in checks.items() if "softmax" in k}
    assert len(twin) == 2 and all(v < 1e-10 for v in twin.values()), checks
    assert result.extra["softmax_vs_sigmoid"] == pytest.approx(twin, rel=0.01)
    assert result.test_accuracy > 0.8
    assert {Path(f).name for f in printed_figures(text)} == {
        f"blobs_{name}.png" for name in
        ("decision_regions", "training_curves", "residual_vs_margin", "pull_arrows", "loss_surface")}
    assert_png_files(result.figures, tmp_path)


def test_logistic_example_runs_as_a_script_headless(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "logistic_regression.py"), "--epochs", "2", "--out", "figs",
         "--graph"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(v < 1e-12 for k, v in printed_checks(done.stdout).items() if k.startswith("dL/d"))
    figures = printed_figures(done.stdout)
    assert len(figures) == 6  # the five figures and the graph
    assert_png_files([str(tmp_path / f) for f in figures], tmp_path / "figs")


@pytest.mark.parametrize("example", ["logistic_regression", "multinomial_regression"])
@pytest.mark.parametrize("flags, message", [
    (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["--epochs", "2.5"], "argument --epochs: expected a positive integer"),
    (["--batch-size", "-3"], "argument --batch-size: expected a positive integer"),
    (["--lr", "0"], "argument --lr: expected a finite number > 0, got '0'"),
    (["--lr", "nan"], "argument --lr: expected a finite number > 0"),
    (["--lr", "fast"], "argument --lr: expected a positive number, got 'fast'"),
    (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
    (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0"),
    (["--epochs", "3", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_flag_values_exit_with_code_2_and_say_what_was_expected(examples, capsys, tmp_path, example,
                                                                    flags, message):
    with pytest.raises(SystemExit) as exit_info:
        examples[example].main(flags + ["--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and f"{example}.py: error:" in err
    assert not any(tmp_path.iterdir())  # nothing was run


def test_each_dataset_has_its_own_defaults(examples):
    module = examples["multinomial_regression"]
    parser = module.build_parser("multinomial_regression", "", module.DATASETS)
    digits = module.parse(parser, ["--dataset", "digits"])
    blobs = module.parse(parser, [])
    assert (digits.epochs, digits.lr) == (15, 0.01) and (blobs.epochs, blobs.lr) == (12, 0.05)
    assert module.parse(parser, ["--dataset", "digits", "--lr", "0.3", "--epochs", "2"]).lr == 0.3
    assert blobs.out == os.path.join("out", "multinomial_regression") and blobs.optimizer == "sgd"
