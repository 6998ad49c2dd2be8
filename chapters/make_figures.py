"""Regenerate every committed figure, the chapters' and the examples', in one command:

    python chapters/make_figures.py            # everything (chapters and examples)
    python chapters/make_figures.py chapters/03-checking-gradients.md   # only some chapters
    python chapters/make_figures.py examples   # only the examples' figures

Each chapter is run exactly as the tests run it (``check_chapter.run_chapter``, every
check on), writing its figures into a fresh temporary directory; the figures it shows are
then copied into chapters/figures/. Each example whose figures README.md shows is run with
its default settings (``--out`` a temporary directory), and the shown ones are copied into
examples/figures/. Nothing else writes there: reading a chapter or running an example
writes to out/. Commit the figures with the change that altered them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from check_chapter import COMMITTED_FIGURES, chapter_paths, run_chapter

from minigrad._atomic import atomic_write

ROOT = COMMITTED_FIGURES.parents[1]
EXAMPLE_FIGURES = ROOT / "examples" / "figures"
# An example's figures are named <prefix>_<what>.png; the prefix says which run makes them.
EXAMPLE_RUNS = {
    "blobs": ["multinomial_regression.py"],
    "digits": ["multinomial_regression.py", "--dataset", "digits"],
    "moons": ["logistic_regression.py", "--dataset", "moons"],
    "attention": ["attention.py"],
    "sampling": ["temperature_sampling.py"],
    "policy": ["policy_gradient.py"],
}


def make_chapter_figures(paths: list[Path]) -> list[str]:
    """Run the chapters at ``paths`` and copy their figures to chapters/figures/."""
    COMMITTED_FIGURES.mkdir(exist_ok=True)
    made = []
    for path in paths:
        with tempfile.TemporaryDirectory() as scratch:
            fig_dir = Path(scratch)
            shown = run_chapter(path, fig_dir, committed_figures=fig_dir)  # not committed yet
            for name in shown:
                image = (fig_dir / name).read_bytes()
                atomic_write(COMMITTED_FIGURES / name, lambda f, image=image: f.write(image))
                print(f"{path.name}: wrote chapters/figures/{name}")
            made += shown
    return made


def readme_example_figures() -> list[str]:
    """The example figures that README.md or a chapter shows: ``![...](examples/figures/NAME)``
    (``../examples/figures/NAME`` from a chapter)."""
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.md"))]
    found = [
        name
        for text in texts
        for name in re.findall(r"!\[[^\]]*\]\((?:\.\./)?examples/figures/([^)\s]+)\)", text)
    ]
    return sorted(set(found))


def make_example_figures() -> list[str]:
    """Run each example that makes a figure README.md shows, with its defaults, and copy
    the shown figures to examples/figures/."""
    wanted = readme_example_figures()
    unknown = [name for name in wanted if name.split("_")[0] not in EXAMPLE_RUNS]
    if unknown:
        raise SystemExit(f"README.md shows {unknown}, which no run in EXAMPLE_RUNS makes")
    EXAMPLE_FIGURES.mkdir(exist_ok=True)
    for prefix, command in EXAMPLE_RUNS.items():
        names = [name for name in wanted if name.split("_")[0] == prefix]
        if not names:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            script = str(ROOT / "examples" / command[0])
            animate = [
                arg
                for name in names
                if name.endswith(".gif")  # a GIF: --animate makes it
                for arg in ("--animate", str(Path(scratch) / name))
            ]
            subprocess.run(
                [sys.executable, script, *command[1:], "--out", scratch, *animate],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd=scratch,
            )
            for name in names:
                image = (Path(scratch) / name).read_bytes()
                atomic_write(EXAMPLE_FIGURES / name, lambda f, image=image: f.write(image))
                print(f"examples/{' '.join(command)}: wrote examples/figures/{name}")
    return wanted


def _report_unused(folder: Path, made: list[str], shown_by: str) -> None:
    for name in sorted(p.name for p in folder.iterdir() if p.name not in made):
        print(f"{folder.relative_to(ROOT)}/{name} is shown by no {shown_by}: delete it (git rm)")


def main(argv: list[str]) -> int:
    everything = not argv
    chapters = [Path(a) for a in argv if a != "examples"]
    if everything or chapters:
        made = make_chapter_figures(chapter_paths() if everything else chapters)
        if everything:
            _report_unused(COMMITTED_FIGURES, made, "chapter")
    if everything or "examples" in argv:
        _report_unused(EXAMPLE_FIGURES, make_example_figures(), "README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
