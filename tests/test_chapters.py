"""Every tutorial chapter runs, and shows what its code does.

The chapters' code is run by ``chapters/check_chapter.py`` (with Sybil): each ```python
block in order, sharing one namespace per chapter, each printed output compared with the
```output block under it, each number quoted in the prose found among the printed ones,
each figure shown made by the chapter's code. Figures go to a temporary directory, so the
test run never rewrites the committed ones (``python chapters/make_figures.py`` does).

The second half checks that the checker can fail: small made-up chapters, each broken in
one way, must be refused.
"""

from __future__ import annotations

import importlib.util
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_chapter", ROOT / "chapters" / "check_chapter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_chapter = _load_checker()
CHAPTERS = check_chapter.chapter_paths()


def test_chapters_exist_and_are_listed_in_order_in_the_index():
    assert [p.name[:2] for p in CHAPTERS][:3] == ["01", "02", "03"]
    index = (ROOT / "chapters" / "README.md").read_text(encoding="utf-8")
    positions = [index.find(f"]({p.name})") for p in CHAPTERS]
    assert -1 not in positions, f"chapters/README.md does not link every chapter: {positions}"
    assert positions == sorted(positions), "chapters/README.md lists the chapters out of order"


# A learner runs a chapter in at most this many seconds on a 2-core machine; the test
# allows three times as much, to stay robust on a busy machine, and reports the times.
CHAPTER_SECONDS = 5


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_and_shows_what_its_code_prints(path, tmp_path, record_property):
    start, cpu_start = time.perf_counter(), time.process_time()
    shown = check_chapter.run_chapter(path, tmp_path / "figures")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    record_property("learner_seconds", (f"chapters/{path.name}", seconds, cpu, CHAPTER_SECONDS))
    assert seconds <= 3 * CHAPTER_SECONDS, (
        f"{path.name} took {seconds:.1f} s to run; a chapter should take at most {CHAPTER_SECONDS} s"
    )
    assert all(name.startswith(path.name[:3]) for name in shown), (
        f"figures of {path.name} should be named {path.name[:3]}*.png so chapters cannot collide"
    )


# ---------------------------------------------------------------- the checker can fail

GOOD = """\
# A chapter

The answer is 0.25 exactly.

```python
x = 0.5
print(f"{x * x:.2f}")
```

```output
0.25
```
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "99-made-up.md"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _run(tmp_path: Path, text: str) -> list[str]:
    fig_dir = Path(tempfile.mkdtemp(dir=tmp_path))  # fresh for every run
    return check_chapter.run_chapter(_write(tmp_path, text), fig_dir, tmp_path / "committed")


def test_a_correct_made_up_chapter_passes(tmp_path):
    assert _run(tmp_path, GOOD) == []


def test_a_wrong_number_in_an_output_block_fails(tmp_path):
    with pytest.raises(check_chapter.ChapterError, match="differs from what the code printed"):
        _run(tmp_path, GOOD.replace("0.25", "0.26"))  # prose and output block agree, the code does not


def test_printing_without_an_output_block_fails(tmp_path):
    with pytest.raises(check_chapter.ChapterError, match="no ```output block shows"):
        _run(tmp_path, GOOD + '\n```python\nprint("unshown")\n```\n')


def test_an_output_block_after_silent_code_fails(tmp_path):
    silent = GOOD.replace('print(f"{x * x:.2f}")', "y = x * x").replace("The answer is 0.25", "The answer is")
    with pytest.raises(check_chapter.ChapterError, match="does not follow a python block that printed"):
        _run(tmp_path, silent)


def test_an_exception_in_a_code_block_fails(tmp_path):
    with pytest.raises(ZeroDivisionError):
        _run(tmp_path, GOOD + "\n```python\n1 / 0\n```\n")


def test_blocks_share_state_in_order(tmp_path):
    later = GOOD + '\n```python\nprint(f"{x + 1:.1f}")\n```\n\n```output\n1.5\n```\n'
    assert _run(tmp_path, later) == []
    with pytest.raises(NameError):
        _run(tmp_path, later.replace("x = 0.5", "z = 0.5"))


@pytest.mark.parametrize(
    "sentence", ["The answer is 0.27 exactly.", "The answer is 0.27.", "The error is 2.5e-07 here."]
)
def test_a_number_in_the_prose_that_no_output_shows_fails(tmp_path, sentence):
    with pytest.raises(check_chapter.ChapterError, match="the prose states"):
        _run(tmp_path, GOOD.replace("The answer is 0.25 exactly.", sentence))


@pytest.mark.parametrize("fence", ["```py", "```python3", "```python "])
def test_a_python_block_that_would_not_run_is_refused(tmp_path, fence):
    with pytest.raises(check_chapter.ChapterError, match="is not run"):
        _run(tmp_path, GOOD + f"\n{fence}\nprint('never run')\n```\n")


def test_code_hidden_in_an_html_comment_is_refused(tmp_path):
    with pytest.raises(check_chapter.ChapterError, match="HTML comment"):
        _run(tmp_path, GOOD + "\n<!-- invisible-code-block: python\nx = 1\n-->\n")


def test_inline_math_broken_across_lines_is_refused(tmp_path):
    with pytest.raises(check_chapter.ChapterError, match="inline math must open and close"):
        _run(tmp_path, GOOD.replace("The answer is 0.25 exactly.", "The answer, $x^2 =\n0.25$, exactly."))


FIGURE = (
    GOOD
    + """
```python
import os
from pathlib import Path
fig_dir = Path(os.environ["MINIGRAD_FIGURES"])
fig_dir.mkdir(parents=True, exist_ok=True)
(fig_dir / "99-plot.png").write_bytes(b"png")
```

![a plot](figures/99-plot.png)
"""
)


def test_a_figure_must_be_made_by_the_code_and_committed(tmp_path):
    (tmp_path / "committed").mkdir()
    with pytest.raises(check_chapter.ChapterError, match="is not there"):
        _run(tmp_path, FIGURE)
    (tmp_path / "committed" / "99-plot.png").write_bytes(b"png")
    assert _run(tmp_path, FIGURE) == ["99-plot.png"]
    with pytest.raises(check_chapter.ChapterError, match="did not write it"):
        _run(tmp_path, FIGURE.replace('.write_bytes(b"png")', ".parent.mkdir(exist_ok=True)"))
    with pytest.raises(check_chapter.ChapterError, match="does not show"):
        _run(tmp_path, FIGURE.replace("![a plot](figures/99-plot.png)", ""))


def test_a_chapter_whose_figures_default_to_the_committed_folder_is_refused(tmp_path):
    committed = FIGURE.replace(
        'Path(os.environ["MINIGRAD_FIGURES"])', 'Path(os.environ.get("MINIGRAD_FIGURES", "chapters/figures"))'
    )
    with pytest.raises(check_chapter.ChapterError, match="must be a scratch folder"):
        _run(tmp_path, committed)
