"""What minigrad's two drawing modules (``plot`` and ``draw``) share: choosing
matplotlib's backend and writing a figure to a file.

The rule for the backend lives here only: headless Agg unless a backend was chosen already
(MPLBACKEND, matplotlibrc, ``matplotlib.use``, an earlier pyplot import) or windows were
asked for. It must be decided before pyplot is first imported, so nothing imports
matplotlib at import time: this module, like ``plot`` and ``draw``, loads it only when
something is drawn.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ._atomic import atomic_write


def pyplot(show: bool = False) -> Any:
    """matplotlib.pyplot. With ``show=False`` the headless Agg backend is selected first
    (unless a backend was chosen already), so figures render without a display; with
    ``show=True`` matplotlib picks its interactive backend as usual, for ``plt.show()``."""
    import matplotlib

    if not show and "matplotlib.pyplot" not in sys.modules:
        get = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
        if get is not None:
            chosen = get()
        else:  # matplotlib < 3.7
            import matplotlib.rcsetup as rcsetup

            chosen = dict.__getitem__(matplotlib.rcParams, "backend")
            if chosen is getattr(rcsetup, "_auto_backend_sentinel", None):
                chosen = None
        if chosen is None:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike) -> str:
    """Write ``fig`` to ``path``, its format taken from the extension (png without one),
    creating missing folders; returns the path. Atomic, like saving a model: both go
    through ``_atomic.atomic_write`` (temporary file beside ``path``, fsync, rename; the
    permission bits of a replaced file are kept, a symlink is written through, a failure
    leaves no temporary file)."""
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fmt = os.path.splitext(base)[1][1:].lower() or "png"
    atomic_write(path, lambda f: fig.savefig(f, format=fmt))
    return path
