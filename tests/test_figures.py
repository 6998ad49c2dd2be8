"""Every committed figure is shown somewhere, and chapters/make_figures.py can remake it.

Chapter figures (chapters/figures/) must be shown by a chapter, example figures
(examples/figures/) by README.md; the example figures README.md shows must each come
from a run that make_figures.py knows. (The chapters' own figure checks, that a chapter's
code writes what it shows, are in tests/test_chapters.py.)
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _make_figures():
    sys.path.insert(0, str(ROOT / "chapters"))  # make_figures imports check_chapter
    try:
        spec = importlib.util.spec_from_file_location("make_figures", ROOT / "chapters" / "make_figures.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "chapters"))
    return module


make_figures = _make_figures()


def test_every_committed_chapter_figure_is_shown_by_a_chapter():
    shown = {
        name
        for path in (ROOT / "chapters").glob("[0-9][0-9]-*.md")
        for name in re.findall(r"\]\(figures/([^)\s]+)\)", path.read_text(encoding="utf-8"))
    }
    committed = {p.name for p in (ROOT / "chapters" / "figures").iterdir()}
    unshown = sorted(committed - shown)
    assert not unshown, f"committed chapter figures that no chapter shows: {unshown}"


def test_every_committed_example_figure_is_shown_by_the_readme_and_can_be_remade():
    shown = set(make_figures.readme_example_figures())
    committed = {p.name for p in (ROOT / "examples" / "figures").iterdir()}
    assert shown, "README.md shows no example figure: the pattern no longer matches"
    unshown = sorted(committed - shown)
    assert not unshown, f"committed example figures that README.md does not show: {unshown}"
    assert shown <= committed, f"README.md shows example figures that are not committed: {shown - committed}"
    for name in shown:
        command = make_figures.EXAMPLE_RUNS.get(name.split("_")[0])
        assert command and (ROOT / "examples" / command[0]).is_file(), (
            f"no run in make_figures.py makes {name}"
        )
