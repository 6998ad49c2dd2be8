"""The graded exercises in chapters/exercises: every grader passes its reference
solution and fails the untouched starter file; the graders name the mistakes they are
written to catch; and grade.py's command line reports and exits accordingly.

Exercises are discovered from chapters/exercises/graders/, so a new exercise (three
files: starter, solution, grader) is covered without editing this file.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "chapters" / "exercises"


def _load_grade():
    spec = importlib.util.spec_from_file_location("grade_exercises", EXERCISES / "grade.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grade = _load_grade()
NAMES = grade.exercise_names()


def test_the_exercises_are_found():
    assert {
        "softplus",
        "softmax",
        "log_softmax",
        "cross_entropy",
        "logistic_regression",
        "two_layer_backward",
    } <= set(NAMES)


def _public_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")}


def _raises_todo(function: ast.FunctionDef) -> bool:
    """The body ends with raise NotImplementedError("TODO: ...")."""
    last = function.body[-1]
    return (
        isinstance(last, ast.Raise)
        and isinstance(last.exc, ast.Call)
        and getattr(last.exc.func, "id", None) == "NotImplementedError"
        and isinstance(last.exc.args[0], ast.Constant)
        and last.exc.args[0].value.startswith("TODO")
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_starter_has_todos_and_a_solution_with_the_same_functions(name):
    starter, solution = EXERCISES / f"{name}.py", EXERCISES / "solutions" / f"{name}.py"
    assert starter.is_file() and solution.is_file(), f"{name}: the starter or the solution is missing"
    todo = _public_functions(starter)
    assert todo, f"{name}.py defines no function to implement"
    assert list(todo) == list(_public_functions(solution))
    assert all(_raises_todo(f) and ast.get_docstring(f) for f in todo.values()), (
        f"every function of {name}.py has a docstring and raises NotImplementedError('TODO: ...')"
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_grader_passes_the_reference_solution(name):
    passed, message = grade.grade(name, solutions=True)
    assert passed, f"the grader of {name} refuses its own solution: {message}"


@pytest.mark.parametrize("name", NAMES)
def test_the_grader_fails_the_untouched_starter(name):
    passed, message = grade.grade(name)
    assert not passed, f"the grader of {name} passes the untouched starter file"
    assert message


# ------------------------------------------------ the graders say WHAT is wrong
# Each case edits the reference solution into a classic mistake (old text -> new text)
# and expects the grader's message to name that mistake.

MISTAKES = [
    (
        "softplus",
        "np.log1p(np.exp(-np.abs(x.data)))",
        "np.log(1 + np.exp(x.data)) - np.maximum(x.data, 0)",
        "overflows",
    ),
    ("softplus", "(g * Tensor(sigmoid),)", "(Tensor(sigmoid),)", "ignores the incoming gradient g"),
    ("softplus", "0.5 * (1 + np.tanh(0.5 * x.data))", "0.5 * (1 - np.tanh(0.5 * x.data))", "sigmoid(-x)"),
    ("softmax", "np.exp(z - z.max(axis=-1, keepdims=True))", "np.exp(z)", "subtract each row's max"),
    ("softmax", "e.sum(axis=-1, keepdims=True)", "e.sum(axis=0, keepdims=True)", "axis 0"),
    (
        "softmax",
        "return p * (g - (g * p).sum(axis=-1, keepdims=True))",
        "return p * g",
        "ignores the sum over i",
    ),
    (
        "softmax",
        "return p * (g - (g * p).sum(axis=-1, keepdims=True))",
        "return g - (g * p).sum(axis=-1, keepdims=True)",
        "misses the factor p_j",
    ),
    ("softmax", "(g * p).sum(axis=-1, keepdims=True)", "(g * p).sum()", "runs over the whole batch"),
    (
        "log_softmax",
        "return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))",
        "e = np.exp(shifted)\n    return np.log(e / e.sum(axis=-1, keepdims=True))",
        "you took log(softmax(z))",
    ),
    ("log_softmax", "shifted = z - z.max(axis=-1, keepdims=True)", "shifted = z", "overflows"),
    (
        "log_softmax",
        "return g - np.exp(log_p) * g.sum(axis=-1, keepdims=True)",
        "return g - np.exp(log_p) * g",
        "ignores the sum over i",
    ),
    ("cross_entropy", "Tensor(p_minus_y / n)", "Tensor(p_minus_y)", "not divided by N"),
    (
        "cross_entropy",
        "(g * Tensor(p_minus_y / n),)",
        "(Tensor(p_minus_y / n),)",
        "ignores the incoming gradient g",
    ),
    (
        "cross_entropy",
        "loss = -log_p[rows, targets].sum() / n",
        "loss = -log_p[rows, targets].sum()",
        "SUM over the batch",
    ),
    ("cross_entropy", "shifted = z - z.max(axis=-1, keepdims=True)", "shifted = z", "max trick"),
    ("logistic_regression", "w.grad = b.grad = None", "pass", "never resets .grad"),
    ("logistic_regression", "b.data -= lr * b.grad.data", "pass", "never updates b"),
    ("logistic_regression", "-= lr *", "+= lr *", "stepped WITH the gradient"),
    ("two_layer_backward", "dZ /= n", "pass", "N times too large"),
    ("two_layer_backward", "db2 = dZ.sum(axis=0)", "db2 = dZ", "sum of dZ over the batch axis"),
    ("two_layer_backward", "dA = dH * (1 - H**2)", "dA = dH", "skipped tanh's derivative"),
    ("two_layer_backward", "dA = dH * (1 - H**2)", "dA = dH * (1 - (X @ W1 + b1) ** 2)", "pre-activation"),
    ("two_layer_backward", "dW2 = H.T @ dZ", "dW2 = dZ.T @ H", "dB = A^T G"),
]


@pytest.mark.parametrize("name, old, new, phrase", MISTAKES, ids=[f"{m[0]}-{m[3]}" for m in MISTAKES])
def test_the_grader_names_a_classic_mistake(name, old, new, phrase, tmp_path, monkeypatch):
    source = (EXERCISES / "solutions" / f"{name}.py").read_text(encoding="utf-8")
    assert old in source, f"the solution of {name} no longer contains {old!r}: update this test"
    (tmp_path / f"{name}.py").write_text(source.replace(old, new), encoding="utf-8")
    monkeypatch.setattr(grade, "SOLUTIONS", tmp_path)
    passed, message = grade.grade(name, solutions=True)
    assert not passed, f"the grader of {name} accepts the mistake {new!r}"
    assert phrase in message, f"for {new!r} the grader of {name} says: {message}"


def test_the_command_line_grades_and_exits_with_the_result():
    run = [sys.executable, str(EXERCISES / "grade.py")]
    starters = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    assert starters.returncode == 1
    assert all(f"FAIL  {name}: not done yet: TODO" in starters.stdout for name in NAMES), starters.stdout
    solutions = subprocess.run(run + ["--solutions", "softmax"], capture_output=True, text=True, cwd=ROOT)
    assert solutions.returncode == 0 and "PASS  softmax" in solutions.stdout, (
        solutions.stdout + solutions.stderr
    )
    unknown = subprocess.run(run + ["no_such_exercise"], capture_output=True, text=True, cwd=ROOT)
    assert unknown.returncode == 2 and "no exercise called no_such_exercise" in unknown.stderr
