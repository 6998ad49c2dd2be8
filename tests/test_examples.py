"""The example scripts run end to end: they print the p - y gradient checks (below 1e-12),
write every figure they list as a real PNG, reach their accuracy, and refuse bad flags with
exit code 2.

Most runs call the scripts' ``main(argv)`` in this process (fast: numpy and matplotlib are
already loaded); one runs ``python examples/logistic_regression.py`` as a subprocess to
prove the file works as a script.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
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
        yield {
            name: importlib.import_module(name) for name in ("logistic_regression", "multinomial_regression")
        }
    finally:
        sys.path.remove(str(EXAMPLES))
        plot.pyplot().close("all")


def printed_checks(text: str) -> dict[str, float]:
    return {m["what"]: float(m["value"]) for m in CHECK_LINE.finditer(text)}


def printed_figures(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("figures written ("))
    count = int(re.search(r"\((\d+)\)", lines[start])[1])
    return [line.strip() for line in lines[start + 1 : start + 1 + count]]


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
        ["--epochs", "3", "--out", str(out), "--graph", "--save", str(saved), "--seed", "1"]
    )
    text = capsys.readouterr().out

    checks = printed_checks(text)
    assert {"dL/dlogits - (p - Y) / N", "dL/dW - X^T (p - Y) / N", "dL/db - mean(p - Y)"} <= set(checks)
    assert all(v < 1e-12 for v in checks.values()), checks
    assert max(result.checks.values()) < 1e-12

    assert (
        len(
            re.findall(
                r"^epoch +\d+/3  loss [0-9.]+  train acc +[0-9.]+%  test acc +[0-9.]+%$", text, re.MULTILINE
            )
        )
        == 4
    )  # epoch 0 (untrained) to 3
    assert f"final test accuracy: {100 * result.test_accuracy:.1f}%" in text
    assert result.test_accuracy > 0.8

    figures = printed_figures(text)
    assert figures == result.figures
    assert {Path(f).name for f in figures} == {
        "blobs_graph.png",
        "blobs_residual_heatmap.png",
        "blobs_training_curves.png",
        "blobs_decision_regions.png",
    }
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
        "digits_confusion_matrix.png",
        "digits_weights.png",
        "digits_residual_heatmap.png",
        "digits_training_curves.png",
    }
    assert_png_files(result.figures, tmp_path)


def test_logistic_example_matches_closed_form_and_two_class_softmax(examples, tmp_path, capsys):
    result = examples["logistic_regression"].main(
        ["--epochs", "4", "--optimizer", "adam", "--lr", "0.05", "--dataset", "blobs", "--out", str(tmp_path)]
    )
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
        f"blobs_{name}.png"
        for name in (
            "decision_regions",
            "training_curves",
            "residual_vs_margin",
            "pull_arrows",
            "loss_surface",
        )
    }
    assert_png_files(result.figures, tmp_path)


def test_logistic_example_runs_as_a_script_headless(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "logistic_regression.py"),
            "--epochs",
            "2",
            "--out",
            "figs",
            "--graph",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert all(v < 1e-12 for k, v in printed_checks(done.stdout).items() if k.startswith("dL/d"))
    figures = printed_figures(done.stdout)
    assert len(figures) == 6  # the five figures and the graph
    assert_png_files([str(tmp_path / f) for f in figures], tmp_path / "figs")


@pytest.mark.parametrize("example", ["logistic_regression", "multinomial_regression"])
@pytest.mark.parametrize(
    "flags, message",
    [
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
    ],
)
def test_bad_flag_values_exit_with_code_2_and_say_what_was_expected(
    examples, capsys, tmp_path, example, flags, message
):
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


# ---------------------------------------------------------------- every example: outputs, divergence, --help

ALL_EXAMPLES = [
    "logistic_regression",
    "multinomial_regression",
    "attention",
    "temperature_sampling",
    "policy_gradient",
]


def load_example(name):
    """Import examples/<name>.py afresh (its folder on sys.path for _common)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bad_outputs(tmp_path):
    """(flags, expected message) for outputs that cannot be written, made in tmp_path."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    return [
        (
            ["--out", str(a_file / "figs")],
            f"argument --out: '{a_file / 'figs'}' lies under '{a_file}', which is a file, not a folder",
        ),
        (["--out", str(a_file)], f"argument --out: '{a_file}' exists and is not a folder"),
        (
            ["--save", str(a_file / "model.npz")],
            f"argument --save: '{a_file / 'model.npz'}' lies under '{a_file}', which is a file",
        ),
        (["--save", str(tmp_path)], f"argument --save: '{tmp_path}' is a folder, expected a file path"),
        (["--save", str(tmp_path / "new") + os.sep], "is a folder, expected a file path"),
    ]


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_unwritable_outputs_are_refused_before_training(name, tmp_path, capsys):
    module = load_example(name)
    for flags, message in bad_outputs(tmp_path):
        argv = flags + (["--out", str(tmp_path / "figs")] if flags[0] != "--out" else [])
        with pytest.raises(SystemExit) as info:
            module.main(argv)
        captured = capsys.readouterr()
        assert info.value.code == 2, flags
        assert message in captured.err and f"usage: {name}.py" in captured.err, captured.err
        assert captured.out == ""  # at once: nothing ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # and nothing was created


@pytest.mark.parametrize("flag", ["--out", "--save"])
def test_an_unwritable_folder_is_refused_before_training(examples, tmp_path, capsys, monkeypatch, flag):
    """Permission bits do not stop root, so the refusal of the system is simulated: the
    check asks os.access, as it would for any user."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, **kw: False if os.fspath(p) == str(locked) else real_access(p, mode, **kw),
    )
    path = locked / ("figs" if flag == "--out" else "model.npz")
    argv = [flag, str(path)] + (["--out", str(tmp_path / "figs")] if flag == "--save" else [])
    with pytest.raises(SystemExit) as info:
        examples["logistic_regression"].main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"argument {flag}: cannot write into the folder '{locked}' (permission denied)" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_refused_for_real(examples, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        with pytest.raises(SystemExit) as info:
            examples["multinomial_regression"].main(["--out", str(locked / "figs")])
        assert info.value.code == 2 and "permission denied" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)


DIVERGING = {  # settings whose loss blows up within the first epoch
    "logistic_regression": ["--lr", "1e300", "--epochs", "2"],
    "multinomial_regression": ["--lr", "1e300", "--epochs", "2"],
    "attention": ["--lr", "1e30", "--epochs", "2", "--train-size", "100", "--test-size", "20"],
    "temperature_sampling": ["--lr", "1e30", "--epochs", "1", "--text-fraction", "0.1"],
}


@pytest.mark.parametrize("name", sorted(DIVERGING))
def test_a_diverging_run_stops_with_a_message_and_saves_nothing(name, tmp_path, capsys):
    save = tmp_path / "model.npz"
    with pytest.raises(SystemExit) as info:
        load_example(name).main(DIVERGING[name] + ["--out", str(tmp_path / "figs"), "--save", str(save)])
    message = str(info.value.code)
    assert info.value.code not in (0, None)
    assert re.fullmatch(
        rf"{name}\.py: error: training diverged in epoch 1: the loss (is (nan|inf)|reached "
        r"\S+, more than 1e\+06 times its first value \S+); nothing was saved\. The learning "
        r"rate --lr \S+ is probably too large: try a smaller one\.",
        message,
    ), message
    assert not save.exists()
    out = capsys.readouterr().out
    assert "epoch 1/" not in out  # no progress line with a 300-digit loss


def test_a_diverging_policy_gradient_stops_in_the_bandit_and_in_the_grid_world(tmp_path, monkeypatch):
    module = load_example("policy_gradient")
    real = module.reinforce_loss
    monkeypatch.setattr(module, "reinforce_loss", lambda *a: real(*a) * float("nan"))
    with pytest.raises(
        SystemExit,
        match=r"policy_gradient\.py: error: training of the bandit at T = 1 "
        r"diverged in epoch 1: the loss is nan",
    ):
        module.main(["--epochs", "3", "--out", str(tmp_path)])

    real_cross_entropy = module.F.cross_entropy
    calls = []

    def cross_entropy_nan_from_the_second_step(*args, **kwargs):
        calls.append(1)
        return real_cross_entropy(*args, **kwargs) * (float("nan") if len(calls) > 1 else 1.0)

    monkeypatch.setattr(module, "F", SimpleNamespace(cross_entropy=cross_entropy_nan_from_the_second_step))
    args = module.build_parser("policy_gradient", "", epochs=3, lr=0.05).parse_args(["--batch-size", "4"])
    args.temperature, args.max_steps, args.log_every, args.prog = 1.0, 5, 0, "policy_gradient.py"
    with pytest.raises(
        SystemExit,
        match=r"policy_gradient\.py: error: training in the grid world "
        r"diverged in epoch 2: the loss is nan",
    ):
        module.train_grid(args, np.random.default_rng(0))


def test_loss_guard_thresholds(examples):
    import _common

    args = SimpleNamespace(lr=0.1, prog="x.py")
    guard = _common.LossGuard(args)
    guard.check(2.0, 1)
    guard.check(-1.9e6, 1)  # |loss| up to 1e6 x 2 is still training
    with pytest.raises(
        _common.TrainingDiverged,
        match=r"reached 2\.1e\+06, more than 1e\+06 times its first "
        r"value 2",
    ):
        guard.check(2.1e6, 2)
    near_zero = _common.LossGuard(args)  # a first loss near 0: explosions are measured against 1
    near_zero.check(1e-9, 1)
    near_zero.check(5e5, 1)
    with pytest.raises(_common.TrainingDiverged, match="reached 2e\\+06"):
        near_zero.check(2e6, 1)
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(SystemExit, match=r"x\.py: error: training diverged in epoch 3: the loss is"):
            _common.LossGuard(args).check(mg.Tensor(bad), 3)


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_help_shows_the_default_of_every_flag(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        load_example(name).main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    options = text.split("options:", 1)[1]
    entries = re.split(r"\n  (?=-)", options.strip())  # one entry per flag, its help joined
    entries = [" ".join(e.split()) for e in entries if not e.startswith("-h, --help")]
    assert len(entries) >= 10
    for entry in entries:
        assert re.search(r"\(default: [^)]+\)$", entry), entry
    assert "(default: None)" not in text


def test_as_scripts_a_diverged_run_exits_1_and_a_bad_output_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    script = str(EXAMPLES / "logistic_regression.py")
    diverged = subprocess.run(
        [sys.executable, script, "--lr", "1e300", "--epochs", "2", "--save", "m.npz"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert diverged.returncode == 1
    assert "logistic_regression.py: error: training diverged in epoch 1" in diverged.stderr
    assert "Traceback" not in diverged.stderr and not (tmp_path / "m.npz").exists()
    (tmp_path / "taken").write_text("a file")
    refused = subprocess.run(
        [sys.executable, script, "--save", "taken/m.npz"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert "argument --save: 'taken/m.npz' lies under" in refused.stderr
