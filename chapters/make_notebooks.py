"""Turn every chapter into a Jupyter notebook, in one command:

    python chapters/make_notebooks.py            # every chapters/NN-*.md -> chapters/notebooks/NN-*.ipynb
    python chapters/make_notebooks.py --check    # only report notebooks that are stale or missing

The Markdown chapters stay the source of truth; the notebooks are generated from them with
jupytext and committed, so that they render on a code-hosting site and can be downloaded.
jupytext makes each ```python block a code cell and the prose around it Markdown cells;
the outputs the chapter shows (```output blocks) stay as Markdown, right under the code
that prints them, so a reader sees what to expect before running a cell. Three things are
adapted for a notebook that lives in chapters/notebooks/:

- relative links get ``../`` in front, so ``figures/04-softmax.png`` still finds the
  committed figure, and a link to another chapter, ``05-....md``, opens its notebook;
- an answer in ``<details>`` that holds code cannot stay folded (a fold cannot span
  cells), so its summary becomes a bold line; folds of prose only (hints) stay folded;
- a first cell says where the notebook comes from.

Running a notebook does not touch chapters/figures/: the chapters save their figures into
``FIG_DIR``, read from the environment variable ``MINIGRAD_FIGURES``, whose default is
relative to the working directory (chapters/notebooks/ in Jupyter).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import jupytext
import nbformat

CHAPTERS_DIR = Path(__file__).resolve().parent
NOTEBOOKS_DIR = CHAPTERS_DIR / "notebooks"

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

# a fold that holds code: <details> (up to its </details>) with a ```python block inside
_DETAILS = re.compile(
    r"<details>\s*(?:<summary>(?P<summary>.*?)</summary>)?(?P<body>.*?)</details>", re.DOTALL
)
# a Markdown link or image target, relative to the chapter: not a URL, an anchor or absolute
_RELATIVE_LINK = re.compile(r"(\]\()(?![a-zA-Z][a-zA-Z0-9+.-]*:|#|/)([^)\s]+)(\))")
_CHAPTER_NAME = re.compile(r"^\d\d-[^/]*\.md$")


def chapter_paths(directory: Path = CHAPTERS_DIR) -> list[Path]:
    """The chapters in reading order: ``NN-title.md``."""
    return sorted(directory.glob("[0-9][0-9]-*.md"))


def notebook_path(chapter: Path, directory: Path = NOTEBOOKS_DIR) -> Path:
    """Where the notebook of ``chapter`` lives: ``chapters/notebooks/NN-title.ipynb``."""
    return directory / (Path(chapter).stem + ".ipynb")


def _unfold_code(match: re.Match) -> str:
    """A fold holding code becomes its summary in bold and its body; other folds stay."""
    body = match.group("body")
    if "```python" not in body:
        return match.group(0)
    summary = (match.group("summary") or "Details").strip()
    return f"**{summary}**\n{body}"


def _relink(target: str) -> str:
    """A link target relative to chapters/, seen from chapters/notebooks/."""
    path, hash_, anchor = target.partition("#")
    if _CHAPTER_NAME.match(path):
        return Path(path).stem + ".ipynb" + hash_ + anchor
    return "../" + target


def notebook_for(chapter: Path) -> nbformat.NotebookNode:
    """The notebook of the chapter at ``chapter`` (read with jupytext, then adapted as the
    module docstring says). Cell ids are their positions, so regenerating an unchanged
    chapter gives the same file."""
    chapter = Path(chapter)
    text = _DETAILS.sub(_unfold_code, chapter.read_text(encoding="utf-8"))
    nb = jupytext.reads(text, fmt="md")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _RELATIVE_LINK.sub(
                lambda m: m.group(1) + _relink(m.group(2)) + m.group(3), cell.source
            )
    origin = nbformat.v4.new_markdown_cell(
        f"*Generated from the chapter [{chapter.name}](../{chapter.name}) by "
        "`python chapters/make_notebooks.py`: edit the chapter, not this notebook. "
        "Run the cells in order; the shown outputs are what each cell prints.*"
    )
    nb.cells.insert(0, origin)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def cell_sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What decides whether a notebook is up to date: its cells' kinds and texts."""
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def is_stale(chapter: Path, directory: Path = NOTEBOOKS_DIR) -> bool:
    """True if the committed notebook of ``chapter`` is missing or differs from a fresh
    conversion of the chapter."""
    path = notebook_path(chapter, directory)
    if not path.is_file():
        return True
    return cell_sources(nbformat.read(path, as_version=4)) != cell_sources(notebook_for(chapter))


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write atomically: a temporary file beside ``path``, renamed over it when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make_notebooks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list stale or missing notebooks and exit 1 if there are any",
    )
    args = parser.parse_args(argv)
    chapters = chapter_paths()
    if args.check:
        stale = [c for c in chapters if is_stale(c)]
        for chapter in stale:
            print(f"{notebook_path(chapter).relative_to(CHAPTERS_DIR.parent)} is stale or missing")
        return 1 if stale else 0
    for chapter in chapters:
        path = notebook_path(chapter)
        write_notebook(notebook_for(chapter), path)
        print(f"{chapter.name}: wrote {path.relative_to(CHAPTERS_DIR.parent)}")
    wanted = {notebook_path(c).name for c in chapters}
    for orphan in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        if orphan.name not in wanted:  # its chapter was renamed or removed
            orphan.unlink()
            print(f"removed {orphan.relative_to(CHAPTERS_DIR.parent)}: no chapter makes it any more")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
