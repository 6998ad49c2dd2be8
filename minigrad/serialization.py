"""Saving and loading state dicts as ``.npz`` files (numpy's zip of ``.npy`` arrays).

Two promises:

* **Loading never runs code.** Files are read with ``allow_pickle=False``: a pickle, or
  an ``.npz`` holding an object array (which numpy would unpickle), is refused.
* **Saving is atomic.** The arrays go to a temporary file in the target's directory,
  which is flushed to disk (fsync) and only then renamed over the target
  (``os.replace``, atomic on POSIX and Windows). A crash or an error mid-save leaves
  the old file intact, never a half-written one.

Typical use::

    minigrad.save(model.state_dict(), "model.npz")
    model.load_state_dict(minigrad.load("model.npz"))
"""

from __future__ import annotations

import contextlib
import os
import secrets
import zipfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

# numeric arrays only: bool, signed and unsigned integers, floats, complex
_SAVABLE_KINDS = "biufc"


def _check_state(state_dict: Any) -> dict[str, np.ndarray]:
    """The state dict as ``{name: array}``, or a clear error before any file is touched."""
    if not isinstance(state_dict, Mapping):
        hint = " (for a model, save model.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(f"save() expects a mapping name -> array, got {type(state_dict).__name__}{hint}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save(): every key must be a non-empty string, got {name!r}")
        array = np.asarray(value)
        if array.dtype.kind not in _SAVABLE_KINDS:
            raise ValueError(f"save(): '{name}' has dtype {array.dtype}; only numeric arrays can be saved "
                             "(object arrays would need pickle, which load() refuses)")
        arrays[name] = array
    return arrays


def _write_npz(file: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to an open binary file as an ``.npz``: one ``name.npy`` member per
    array, exactly as ``np.savez`` lays it out (any name works, even 'file')."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write ``{name: array}`` (e.g. ``model.state_dict()``; Tensors are accepted as
    values) to ``path`` as an uncompressed ``.npz``, atomically: the old file at
    ``path``, if any, stays intact until the new one is complete. The file name is used
    exactly as given (no ``.npz`` is appended). Only numeric arrays can be saved."""
    arrays = _check_state(state_dict)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    # same directory: os.replace is only atomic within one file system
    temp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 lets the umask decide, as open() would
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


class _Refused(ValueError):
    """A readable file that is not what ``load`` accepts (the message says why)."""


# what numpy and zipfile raise for a file that is truncated, corrupt, or not an .npz
_UNREADABLE = (ValueError, EOFError, zipfile.BadZipFile, zlib.error, OSError, KeyError)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an ``.npz`` written by ``save`` (or ``np.savez``) into ``{name: array}``.

    Never unpickles: a file that is not an ``.npz`` of plain arrays (a pickle, a
    single ``.npy``, an object array, a truncated or corrupt file) raises ValueError
    naming the file and what is wrong with it. A missing file raises
    FileNotFoundError."""
    path = os.fspath(path)
    with open(path, "rb") as f:  # a missing or unreadable file raises its usual OSError here
        try:
            contents = np.load(f, allow_pickle=False)
            if not isinstance(contents, np.lib.npyio.NpzFile):
                raise _Refused("it holds a single .npy array, not an .npz archive of named arrays")
            with contents:
                state = {}
                for name in contents.files:
                    value = contents[name]
                    if not isinstance(value, np.ndarray):
                        raise _Refused(f"its member '{name}' is not a .npy array")
                    state[name] = value
        except _Refused as err:
            raise ValueError(f"cannot load '{path}': {err}") from None
        except _UNREADABLE as err:
            raise ValueError(f"cannot load '{path}': not a valid .npz state dict ({type(err).__name__}: "
                             f"{err})") from err
    return state


__all__ = ["save", "load"]
