"""Regenerate the chapters' figures in chapters/figures/, in one command:

    python chapters/make_figures.py            # every chapter
    python chapters/make_figures.py chapters/03-checking-gradients.md   # only some

Each chapter is run exactly as the tests run it (``check_chapter.run_chapter``, every
check on), writing its figures into a fresh temporary directory; the figures it shows are
then copied into chapters/figures/ (atomically, by the writer minigrad saves models and
figures with). Commit them with the chapter.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from check_chapter import COMMITTED_FIGURES, chapter_paths, run_chapter

from minigrad._atomic import atomic_write


def make_figures(paths: list[Path]) -> list[str]:
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


def main(argv: list[str]) -> int:
    everything = not argv
    paths = chapter_paths() if everything else [Path(a) for a in argv]
    made = make_figures(paths)
    if everything:
        unused = sorted(p.name for p in COMMITTED_FIGURES.iterdir() if p.name not in made)
        for name in unused:
            print(f"chapters/figures/{name} is shown by no chapter: delete it (git rm)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
