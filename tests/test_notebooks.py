"""Every chapter has a notebook, up to date with its chapter, and the notebook runs.

The notebooks in chapters/notebooks/ are generated from the Markdown chapters by
``python chapters/make_notebooks.py`` (jupytext) and committed. Here each one is compared
with a fresh conversion of its chapter (a stale notebook fails), and executed top to bottom
in a fresh Jupyter kernel with nbclient, from chapters/notebooks/ as Jupyter would run it,
with ``MINIGRAD_FIGURES`` pointing at a scratch folder so that the committed figures are
never rewritten. The last tests check the converter itself on a made-up chapter.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import textwrap
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "chapters" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_notebooks = _load_maker()
CHAPTERS = make_notebooks.chapter_paths()
IDS = [p.stem for p in CHAPTERS]
FIGURE_LINK = re.compile(r"!\[[^\]]*\]\(figures/([^)\s]+)\)")
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
REGENERATE = "run python chapters/make_notebooks.py and commit the notebooks"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_notebook_is_up_to_date_with_its_chapter(chapter):
    path = make_notebooks.notebook_path(chapter)
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {REGENERATE}"
    committed = make_notebooks.cell_sources(nbformat.read(path, as_version=4))
    fresh = make_notebooks.cell_sources(make_notebooks.notebook_for(chapter))
    assert committed == fresh, f"{path.relative_to(ROOT)} is stale against {chapter.name}: {REGENERATE}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_the_code_cells_are_the_chapters_python_blocks_in_order(chapter):
    blocks = PYTHON_BLOCK.findall(chapter.read_text(encoding="utf-8"))
    cells = [cell.source for cell in make_notebooks.notebook_for(chapter).cells if cell.cell_type == "code"]
    assert cells == [block.rstrip("\n") for block in blocks]


def test_every_notebook_belongs_to_a_chapter():
    made = {make_notebooks.notebook_path(c).name for c in CHAPTERS}
    found = {p.name for p in make_notebooks.NOTEBOOKS_DIR.glob("*.ipynb")}
    assert found == made, f"notebooks without a chapter: {sorted(found - made)}; {REGENERATE}"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernel spec that runs this very interpreter (the one with minigrad installed),
    whatever other "python3" kernels the machine's Jupyter knows."""
    name = "minigrad-tests"
    folder = tmp_path_factory.mktemp("jupyter") / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "minigrad tests",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder.parents[1]), prepend=os.pathsep)
        yield name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_notebook_runs_in_a_fresh_kernel(chapter, tmp_path, monkeypatch, kernel_name):
    path = make_notebooks.notebook_path(chapter)
    nb = nbformat.read(path, as_version=4)
    figures = tmp_path / "figures"
    monkeypatch.setenv("MINIGRAD_FIGURES", str(figures))  # the kernel inherits the environment
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")  # small arrays; a BLAS thread pool only slows a busy machine
    committed = {p.name: p.stat().st_mtime_ns for p in (ROOT / "chapters" / "figures").glob("*.png")}
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name=kernel_name,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error

    ran = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert ran and all(cell.execution_count is not None for cell in ran)
    assert not any(out.get("output_type") == "error" for cell in ran for out in cell.outputs)
    shown = sorted(set(FIGURE_LINK.findall(chapter.read_text(encoding="utf-8"))))
    assert sorted(p.name for p in figures.glob("*.png")) == shown, "the figures went elsewhere"
    after = {p.name: p.stat().st_mtime_ns for p in (ROOT / "chapters" / "figures").glob("*.png")}
    assert after == committed, "running the notebook rewrote the committed figures"


# ---------------------------------------------------------------- the converter

MADE_UP = """\
# 99. A made-up chapter

See [the softmax chapter](04-softmax.md#the-definition), [the examples](../examples/README.md)
and [the docs](https://numpy.org).

```python
x = 0.5
print(f"{x * x:.2f}")
```

```output
0.25
```

![a plot](figures/99-plot.png)

**1.** A question.

<details><summary>Hint</summary>

Square it.

</details>

<details>
<summary>Answer</summary>

Like this:

```python
print(f"{x ** 2:.2f}")
```

```output
0.25
```

</details>
"""


def _convert(tmp_path: Path, text: str):
    chapter = tmp_path / "99-made-up.md"
    chapter.write_text(textwrap.dedent(text), encoding="utf-8")
    return chapter, make_notebooks.notebook_for(chapter)


def test_the_converter_makes_code_cells_of_python_blocks_only(tmp_path):
    _, nb = _convert(tmp_path, MADE_UP)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert code == ['x = 0.5\nprint(f"{x * x:.2f}")', 'print(f"{x ** 2:.2f}")']
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert markdown.count("```output\n0.25\n```") == 2  # the shown outputs stay, as Markdown
    assert nb.cells[0].cell_type == "markdown" and "99-made-up.md" in nb.cells[0].source
    nbformat.validate(nb)


def test_the_converter_rewrites_relative_links_for_the_notebooks_folder(tmp_path):
    _, nb = _convert(tmp_path, MADE_UP)
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "](../figures/99-plot.png)" in markdown
    assert "](04-softmax.ipynb#the-definition)" in markdown  # another chapter: its notebook
    assert "](../../examples/README.md)" in markdown
    assert "](https://numpy.org)" in markdown


def test_the_converter_unfolds_answers_with_code_and_keeps_hints_folded(tmp_path):
    _, nb = _convert(tmp_path, MADE_UP)
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "<details><summary>Hint</summary>" in markdown and markdown.count("</details>") == 1
    assert "**Answer**" in markdown and "<summary>Answer</summary>" not in markdown


def test_a_changed_chapter_makes_its_notebook_stale(tmp_path):
    chapter, nb = _convert(tmp_path, MADE_UP)
    make_notebooks.write_notebook(nb, make_notebooks.notebook_path(chapter, tmp_path / "nb"))
    assert not make_notebooks.is_stale(chapter, tmp_path / "nb")
    chapter.write_text(MADE_UP.replace("x = 0.5", "x = 0.25"), encoding="utf-8")
    assert make_notebooks.is_stale(chapter, tmp_path / "nb")
    assert make_notebooks.is_stale(tmp_path / "98-missing.md", tmp_path / "nb")
