"""Run a chapter's code and check that the chapter shows what its code does.

A chapter is Markdown. Its ```python blocks run in reading order in one namespace (a
block sees what the blocks above it defined), through Sybil, which finds and runs the
blocks. On top of that this file adds the checks that keep prose and code together:

- whatever a python block prints must be shown, exactly, by the ```output block that
  follows it (and an output block must follow a block that printed);
- every decimal number the prose states (two or more digits after the point, or in
  e-notation, like 0.64 or 6.1e-07) must appear among the numbers of the output blocks;
- the code's default figure folder (when ``MINIGRAD_FIGURES`` is unset) is a scratch
  folder, never ``chapters/figures``: running a chapter never overwrites a committed file;
- every figure the chapter shows, ``![...](figures/NAME.png)``, must be written by this
  run of its code into ``fig_dir`` (the chapter reads it from the environment variable
  ``MINIGRAD_FIGURES``) and be committed under ``chapters/figures/``; and the code may
  write no figure the chapter does not show;
- no code is hidden from the reader or silently left out: fences like ``py`` or
  ``python3`` (which would not run) and Sybil's invisible-code comments are refused;
- inline math, ``$...$``, opens and closes on one line, so that GitHub renders it.

``run_chapter(path, fig_dir)`` does all of it and raises ``ChapterError`` (or the
chapter's own exception, with a traceback pointing into the Markdown file).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
from sybil import Document, Example, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.example import SybilFailure
from sybil.parsers.markdown import CodeBlockParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

CHAPTERS_DIR = Path(__file__).resolve().parent
COMMITTED_FIGURES = CHAPTERS_DIR / "figures"
FIGURES_ENV = "MINIGRAD_FIGURES"

# A decimal number as prose quotes a printed result: 0.64, 12.250, 6.14e-07, 2.2e-16.
# One digit after the point (0.5, 1.5) or plain e-notation (1e-6) reads as an input, not
# a result, and is not checked.
_RESULT_NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?(?!\w|\.\d)")  # not 3.11.2
_ANY_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_FIGURE_LINK = re.compile(r"!\[[^\]]*\]\(figures/([^)\s]+)\)")
_FIGURE_DEFAULT = re.compile(r"""environ\.get\(\s*["']MINIGRAD_FIGURES["']\s*,\s*["']([^"']*)["']""")
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_HIDDEN_CODE = re.compile(r"<!--+\s*(?:;\s*)?(?:invisible-)?code(?:-block)?\b")  # Sybil's comment code


class ChapterError(AssertionError):
    """The chapter does not show what its code does."""


def _is_result_number(token: str) -> bool:
    mantissa = token.split("e")[0]
    return "e" in token or len(mantissa.split(".")[1]) >= 2


def _normalise(text: str) -> str:
    """Compare outputs line by line, ignoring trailing spaces and surrounding blank lines
    (editors strip them from Markdown) and indentation common to all lines (Sybil
    dedents a block's text)."""
    return "\n".join(line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines())


class _PrintedOutputChecker:
    """Evaluators for the two kinds of block: python blocks run with their printed
    output captured, output blocks compare themselves with what was captured."""

    def __init__(self) -> None:
        self._run = PythonEvaluator()
        self.pending: tuple[int, str] | None = None  # (line, printed text) not yet shown

    def unshown(self) -> str | None:
        if self.pending is None:
            return None
        line, printed = self.pending
        return (
            f"the python block at line {line} printed output that no ```output block "
            f"shows; add one right after it:\n{printed}"
        )

    def python(self, example: Example) -> str | None:
        __tracebackhide__ = True
        problem = self.unshown()
        if problem:
            return problem
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                self._run(example)
        except BaseException:  # let pytest show what the block printed before it failed
            sys.stdout.write(printed.getvalue())
            raise
        text = printed.getvalue()
        self.pending = (example.line, text) if text.strip() else None
        return None

    def output(self, example: Example) -> str | None:
        if self.pending is None:
            return "this ```output block does not follow a python block that printed something"
        line, printed = self.pending
        self.pending = None
        expected, actual = _normalise(str(example.parsed)), _normalise(printed)
        if expected == actual:
            return None
        diff = difflib.unified_diff(
            expected.splitlines(),
            actual.splitlines(),
            "shown in the chapter",
            f"printed by the block at line {line}",
            lineterm="",
        )
        return "the output block differs from what the code printed:\n" + "\n".join(diff)


def _static_problems(text: str, fences: list, shown_outputs: list[str]) -> list[str]:
    """Problems visible without running anything: blocks that would not run, hidden
    code, and numbers in the prose that no output block prints."""
    prose = list(text)
    for region in fences:  # blank out code and output blocks, keeping line numbers
        for i in range(region.start, region.end):
            if prose[i] != "\n":
                prose[i] = " "
    prose_text = "".join(prose)
    return (
        _code_problems(text, fences)
        + _math_problems(prose_text)
        + _number_problems(prose_text, shown_outputs)
        + _figure_default_problems(text)
    )


def _code_problems(text: str, fences: list) -> list[str]:
    """Blocks that look like Python but would not run, and code hidden in comments."""
    problems = []
    for region in fences:
        language = str(region.lexemes["language"])  # as written: "python " would not run either
        if language.strip().lower().startswith("py") and language != "python":
            line = text.count("\n", 0, region.start) + 1
            problems.append(f"line {line}: a ```{language} block is not run; write exactly ```python")
    for match in _HIDDEN_CODE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.append(f"line {line}: code in an HTML comment is not allowed: the reader must see all code")
    return problems


def _figure_default_problems(text: str) -> list[str]:
    """The chapter's figure folder must default to a scratch folder, never the committed one."""
    problems = []
    for match in _FIGURE_DEFAULT.finditer(text):
        if Path(match.group(1)).as_posix().rstrip("/").endswith("chapters/figures"):
            line = text.count("\n", 0, match.start()) + 1
            problems.append(
                f"line {line}: the default of {FIGURES_ENV} must be a scratch folder (like "
                "out/chapters), so that running the code never overwrites a committed figure"
            )
    return problems


def _math_problems(prose_text: str) -> list[str]:
    problems = []
    for number, line in enumerate(prose_text.splitlines(), start=1):
        bare = _CODE_SPAN.sub("", line).replace("\\$", "").replace("$$", "")
        if bare.count("$") % 2:
            problems.append(
                f"line {number}: inline math must open and close on the same line "
                "($...$ across a line break may not render on GitHub)"
            )
    return problems


def _number_problems(prose_text: str, shown_outputs: list[str]) -> list[str]:
    printed_numbers = {m.group(0) for out in shown_outputs for m in _ANY_NUMBER.finditer(out)}
    problems = []
    for match in _RESULT_NUMBER.finditer(prose_text):
        number = match.group(0)
        if _is_result_number(number) and number not in printed_numbers:
            line = prose_text.count("\n", 0, match.start()) + 1
            problems.append(
                f"line {line}: the prose states {number}, which no output block shows "
                "(quote numbers exactly as the code prints them)"
            )
    return problems


def run_chapter(path: Path, fig_dir: Path, committed_figures: Path = COMMITTED_FIGURES) -> list[str]:
    """Run every python block of the chapter at ``path`` in order and check it (see the
    module docstring). Figures are written to ``fig_dir``, which should be empty. Returns
    the names of the figures the chapter shows."""
    __tracebackhide__ = True
    path, fig_dir = Path(path), Path(fig_dir)
    if fig_dir.is_dir() and any(fig_dir.iterdir()):
        raise ValueError(
            f"{fig_dir} is not empty: give each run a fresh directory, so that a "
            "figure found there is one this run wrote"
        )
    text = path.read_text(encoding="utf-8")
    fences = list(FencedCodeBlockLexer(language=r"[^\n]*")(Document(text, str(path))))
    outputs = [str(r.lexemes["source"]) for r in fences if str(r.lexemes["language"]).strip() == "output"]
    problems = _static_problems(text, fences, outputs)
    if problems:
        raise ChapterError(f"{path}:\n  " + "\n  ".join(problems))

    checker = _PrintedOutputChecker()
    sybil = Sybil(
        parsers=[CodeBlockParser("python", checker.python), CodeBlockParser("output", checker.output)]
    )
    document = sybil.parse(path)
    saved_env = os.environ.get(FIGURES_ENV)
    os.environ[FIGURES_ENV] = str(fig_dir)
    try:
        with np.printoptions():  # a chapter's set_printoptions must not leak into other code
            for example in document:
                try:
                    example.evaluate()
                except SybilFailure as failure:  # one error type for every kind of mismatch
                    raise ChapterError(str(failure)) from None
    finally:
        if saved_env is None:
            os.environ.pop(FIGURES_ENV, None)
        else:
            os.environ[FIGURES_ENV] = saved_env
    problem = checker.unshown()
    if problem:
        raise ChapterError(f"{path}: {problem}")

    shown = _FIGURE_LINK.findall(text)
    written = sorted(p.name for p in fig_dir.iterdir()) if fig_dir.is_dir() else []
    problems = [
        f"the chapter shows figures/{name}, but its code did not write it"
        for name in shown
        if name not in written
    ]
    problems += [
        f"the chapter shows figures/{name}, but chapters/figures/{name} is not there "
        "(run python chapters/make_figures.py and commit it)"
        for name in shown
        if not (committed_figures / name).is_file()
    ]
    problems += [
        f"the code wrote {name}, which the chapter does not show" for name in written if name not in shown
    ]
    if problems:
        raise ChapterError(f"{path}:\n  " + "\n  ".join(problems))
    return shown


def chapter_paths(directory: Path = CHAPTERS_DIR) -> list[Path]:
    """The chapters in reading order: ``NN-title.md``."""
    return sorted(directory.glob("[0-9][0-9]-*.md"))
