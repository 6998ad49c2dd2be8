"""The temperature-at-work examples, run with a fixed seed and small settings: temperature
scaling leaves the accuracy alone and lowers the test NLL and ECE (the printed figures
are checked against an independent numpy computation), and the distilled student beats
the same student trained on hard labels alone."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad import plot

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = r"([0-9.]+)"


def load(name: str):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_pngs(paths: list[str], folder: Path, names: set[str]) -> None:
    assert {Path(p).name for p in paths} == names
    for p in paths:
        assert Path(p).parent.resolve() == folder.resolve()
        blob = Path(p).read_bytes()
        assert blob[:8] == b"\x89PNG\r\n\x1a\n" and len(blob) > 5000


def numpy_ece(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    total = 0.0
    for m in range(n_bins):
        inside = (conf > m / n_bins) & (conf <= (m + 1) / n_bins)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_calibration_example_scaling_keeps_accuracy_and_lowers_nll_and_ece(tmp_path, capsys):
    result = load("calibration").main(["--epochs", "20", "--seed", "0", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    plot.pyplot().close("all")
    T = float(re.search(rf"fitted temperature \(validation NLL\): T = {NUMBER}", text)[1])
    rows = re.findall(
        rf"^test, (before|after) scaling .*accuracy +{NUMBER}%  NLL {NUMBER}  ECE {NUMBER}",
        text,
        re.MULTILINE,
    )
    assert [r[0] for r in rows] == ["before", "after"], text
    (_, acc0, nll0, ece0), (_, acc1, nll1, ece1) = rows
    assert acc0 == acc1  # argmax(z / T) = argmax(z)
    assert float(nll1) < float(nll0) and float(ece1) < float(ece0), text
    assert T > 1.1  # the network trained to near-zero loss is over-confident: it needs softening

    # the printed figures, recomputed in plain numpy from the test logits
    z, y = result.extra["test_logits"], result.extra["y_test"]
    T_exact = result.extra["temperature"]
    assert f"{T_exact:.3f}" == f"{T:.3f}"
    for probs, nll, ece in ((softmax(z), nll0, ece0), (softmax(z / T_exact), nll1, ece1)):
        assert f"{-np.log(probs[np.arange(len(y)), y]).mean():.4f}" == nll
        assert f"{numpy_ece(probs, y):.4f}" == ece
    # the fitted T is the validation NLL's minimiser, so it cannot be the test NLL's, but
    # scaling the test logits by it must beat both T = 1 and a clearly wrong T
    assert float(nll1) < -np.log(softmax(z / (3 * T_exact))[np.arange(len(y)), y]).mean()
    assert_pngs(result.figures, tmp_path, {"calibration_reliability.png"})


def test_distillation_example_distilled_student_beats_hard_labels(tmp_path, capsys):
    result = load("distillation").main(
        ["--epochs", "60", "--teacher-epochs", "8", "--seed", "0", "--out", str(tmp_path)]
    )
    text = capsys.readouterr().out
    plot.pyplot().close("all")
    line = rf"^student, (hard labels only|distilled) +test accuracy {NUMBER}%  NLL {NUMBER}$"
    printed = {name: (float(acc), float(nll)) for name, acc, nll in re.findall(line, text, re.MULTILINE)}
    assert set(printed) == {"hard labels only", "distilled"}, text
    for name, (acc, nll) in result.extra["students"].items():
        assert printed[name] == (round(100 * acc, 1), round(nll, 4))
    hard, distilled = result.extra["students"]["hard labels only"], result.extra["students"]["distilled"]
    assert distilled[0] > hard[0] and distilled[1] < hard[1], text
    teacher_acc = result.extra["teacher"][0]
    assert teacher_acc > 0.95 and teacher_acc > distilled[0]
    assert "on 100 labelled images" in text
    assert_pngs(result.figures, tmp_path, {"distillation_students.png"})


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--alpha", "1.5"], "argument --alpha: expected a number in [0, 1], got 1.5"),
        (["--temperature", "0"], "argument --temperature: expected a finite number > 0"),
    ],
)
def test_distillation_example_refuses_bad_flags(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        load("distillation").main(flags + ["--out", str(tmp_path)])
    assert info.value.code == 2 and message in capsys.readouterr().err
