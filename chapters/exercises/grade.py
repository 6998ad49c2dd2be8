"""Grade the build-it-yourself exercises.

    python chapters/exercises/grade.py                  # grade every exercise you edited
    python chapters/exercises/grade.py softmax tanh     # grade some of them, by name
    python chapters/exercises/grade.py --solutions      # grade the reference solutions

An exercise NAME is three files: ``chapters/exercises/NAME.py`` (the starter you edit),
``solutions/NAME.py`` (a reference solution, kept apart) and ``graders/NAME.py``, whose
``check(module)`` calls your functions and raises ``AssertionError`` with a message that
says what is wrong. This script prints PASS or FAIL per exercise, with the grader's
message, and exits with status 1 if any exercise fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
GRADERS = HERE / "graders"
SOLUTIONS = HERE / "solutions"


def exercise_names() -> list[str]:
    """Every exercise that has a grader, in alphabetical order (helper modules, whose
    names start with an underscore, are not exercises)."""
    return sorted(p.stem for p in GRADERS.glob("*.py") if not p.name.startswith("_"))


def load(path: Path, kind: str) -> ModuleType:
    """Import a file as a fresh module, under a name that cannot clash with another
    exercise's file of the same name (the starter, its solution and its grader are all
    called NAME.py)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    name = f"_exercise_{kind}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclasses and pickling look modules up here)
    spec.loader.exec_module(module)
    return module


def grade(name: str, solutions: bool = False) -> tuple[bool, str]:
    """Run the grader of exercise ``name`` on the starter (or the solution).
    Returns (passed, message)."""
    where = SOLUTIONS if solutions else HERE
    if str(GRADERS) not in sys.path:
        sys.path.insert(0, str(GRADERS))  # graders may share helpers (graders/_*.py)
    try:
        grader = load(GRADERS / f"{name}.py", "grader")
        module = load(where / f"{name}.py", "solution" if solutions else "starter")
        grader.check(module)
    except AssertionError as err:
        return False, str(err) or "the grader's check failed (it gave no message)"
    except NotImplementedError as err:
        return False, f"not done yet: {err}"
    except Exception as err:  # the learner's code crashed: show where
        frames = traceback.extract_tb(err.__traceback__)
        inside = [f for f in frames if not f.filename.endswith("grade.py")]
        where_line = f" ({Path(inside[-1].filename).name}, line {inside[-1].lineno})" if inside else ""
        return False, f"{type(err).__name__}: {err}{where_line}"
    return True, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade the build-it-yourself exercises.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="exercises to grade (default: all of them)")
    parser.add_argument(
        "--solutions",
        action="store_true",
        help="grade the reference solutions instead of your files (default: off)",
    )
    args = parser.parse_args(argv)
    known = exercise_names()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"no exercise called {', '.join(unknown)}; the exercises are: {', '.join(known)}")
    failed = 0
    for name in args.names or known:
        passed, message = grade(name, args.solutions)
        failed += not passed
        print(f"{'PASS' if passed else 'FAIL'}  {name}" + ("" if passed else f": {message}"))
    print(f"{len(args.names or known) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
