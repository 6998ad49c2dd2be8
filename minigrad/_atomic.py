"""The one way minigrad writes a file: atomically, so that no reader (and no crash) ever
sees half of it. Models (``serialization.save``) and figures (``plot.save``,
``draw_graph(..., path=)``) both go through ``atomic_write``.

The steps, and why each is there:

1. **Follow symlinks.** Saving to a link writes to the file it points to; the link stays
   a link (replacing the link itself would silently cut it loose from its target).
2. **Write to a temporary file beside the target**, created with ``O_EXCL`` (never reusing
   an existing file). Same folder, because ``os.replace`` is atomic only within one file
   system.
3. **Keep the permission bits** of the file being replaced; a new file gets the usual
   ``0o666`` minus the umask, as ``open()`` would give it (not ``mkstemp``'s ``0o600``).
4. **fsync the file, then rename it over the target** (``os.replace``, atomic on POSIX
   and Windows), **then fsync the folder** where the system allows it, so the rename
   itself survives a power cut.
5. **On any error** (an exception from the writer, a full disk, Ctrl-C) the temporary file
   is removed and the old file, if any, is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from typing import IO


def _fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable, where the system allows it (POSIX; Windows
    cannot open a folder, and some file systems refuse to fsync one: the file itself is
    already on disk then)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> str:
    """Call ``write(f)`` with a binary file open for writing, and make what it wrote the
    content of ``path`` in one step (see the module docstring for the steps). Returns the
    path actually written: ``path`` itself, or the file a symlink at ``path`` points to.
    The folder must exist."""
    target = os.path.realpath(os.fspath(path))  # a symlink: write where it points
    folder, base = os.path.split(target)
    temp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # replacing a file: keep its permissions
    except FileNotFoundError:
        mode = None
    # O_EXCL: never reuse an existing file; 0o666 lets the umask decide, as open() would
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None and not hasattr(os, "fchmod"):  # Windows: only the read-only bit exists
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)
    return target


__all__ = ["atomic_write"]
