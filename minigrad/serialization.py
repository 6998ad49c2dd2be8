"""Saving and loading state dicts as ``.npz`` files (numpy's zip of ``.npy`` arrays).

Two promises:

* **Loading never runs code.** Files are read with ``allow_pickle=False``: a pickle, or
  an ``.npz`` holding an object array (which numpy would unpickle), is refused.
* **Saving is atomic.** The arrays go to a temporary file in the target's directory,
  which is flushed to disk (fsync) and only then renamed over the target
  (``os.replace``, atomic on POSIX and Windows). A crash or an error mid-save leaves
  the old file intact, never a half-written one, and no temporary file behind. Saving
  over a file keeps its permission bits; saving to a symlink writes to the file it
  points to. (All of this is ``minigrad._atomic.atomic_write``, shared with figures.)

Typical use::

    minigrad.save(model.state_dict(), "model.npz")
    model.load_state_dict(minigrad.load("model.npz"))

To stop training and resume it later exactly where it was, save the optimizer's state
with the model, in one file::

    save_checkpoint("run.npz", model=model, optimizer=opt)
    ...
    load_checkpoint("run.npz", model=model, optimizer=opt)   # a new model and optimizer
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from ._atomic import atomic_write

# numeric arrays only: bool, signed and unsigned integers, floats, complex
_SAVABLE_KINDS = "biufc"


def _check_key(name: Any, state_dict: Mapping[str, Any]) -> None:
    """A key must survive the round trip through a zip member name ``<key>.npy``."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"save(): every key must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise ValueError(
            f"save(): the key {name!r} contains a NUL character ('\\x00'), which zip member "
            "names cannot hold (it would be cut there)"
        )
    if name.endswith(".npy") and name[:-4] in state_dict:
        raise ValueError(
            f"save(): the keys {name[:-4]!r} and {name!r} collide: each array is stored as "
            f"'<key>.npy', and numpy would read {name!r} back as the array of {name[:-4]!r}; "
            "rename one of them"
        )


def _check_state(state_dict: Any) -> dict[str, np.ndarray]:
    """The state dict as ``{name: array}``, or a clear error before any file is touched."""
    if not isinstance(state_dict, Mapping):
        hint = " (for a model, save model.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(f"save() expects a mapping name -> array, got {type(state_dict).__name__}{hint}")
    arrays = {}
    for name, value in state_dict.items():
        _check_key(name, state_dict)
        array = np.asarray(value)
        if array.dtype.kind not in _SAVABLE_KINDS:
            raise ValueError(
                f"save(): '{name}' has dtype {array.dtype}; only numeric arrays can be saved "
                "(object arrays would need pickle, which load() refuses)"
            )
        arrays[name] = array
    return arrays


def _write_npz(file: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to an open binary file as an ``.npz``: one ``name.npy`` member per
    array, exactly as ``np.savez`` lays it out (any name works, even 'file')."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def save(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write ``{name: array}`` (e.g. ``model.state_dict()``; Tensors are accepted as
    values) to ``path`` as an uncompressed ``.npz``, atomically: the old file at
    ``path``, if any, stays intact until the new one is complete, keeps its permission
    bits, and a symlink at ``path`` keeps pointing to the (new) file. The file name is
    used exactly as given (no ``.npz`` is appended). Only numeric arrays can be saved;
    keys are non-empty strings without ``"\\x00"``, and ``"a"`` and ``"a.npy"`` cannot
    both be keys (numpy's format would confuse them)."""
    arrays = _check_state(state_dict)
    atomic_write(path, lambda f: _write_npz(f, arrays))


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
            raise ValueError(
                f"cannot load '{path}': not a valid .npz state dict ({type(err).__name__}: {err})"
            ) from err
    return state


def save_checkpoint(path: str | os.PathLike, **parts: Any) -> None:
    """Save several objects that have a ``state_dict()`` (a model, its optimizer, ...) to
    one ``.npz``, atomically: ``save_checkpoint("run.npz", model=model, optimizer=opt)``
    stores the model's ``"weight"`` as ``"model.weight"``, the optimizer's ``"hyper.lr"``
    as ``"optimizer.hyper.lr"``, and so on. ``load_checkpoint`` with the same names puts
    everything back, so that training resumes exactly where it stopped."""
    if not parts:
        raise TypeError("save_checkpoint() needs at least one part, e.g. model=model, optimizer=opt")
    merged: dict[str, Any] = {}
    for part, obj in parts.items():
        if not callable(getattr(obj, "state_dict", None)):
            raise TypeError(
                f"save_checkpoint(): {part}= must have a state_dict() method, got {type(obj).__name__}"
            )
        merged.update({f"{part}.{key}": value for key, value in obj.state_dict().items()})
    save(merged, path)


def load_checkpoint(path: str | os.PathLike, **parts: Any) -> None:
    """Read a file written by ``save_checkpoint`` and call each part's
    ``load_state_dict`` with its share (the keys that start with ``"<part>."``, the
    prefix removed). Every part named must be in the file, and every part in the file
    must be named. If one part refuses its state, the parts already loaded are put back
    as they were, so a failed load changes nothing."""
    state = load(path)
    groups: dict[str, dict[str, np.ndarray]] = {part: {} for part in parts}
    for key, value in state.items():
        part, _, rest = key.partition(".")
        if part not in groups:
            raise ValueError(
                f"load_checkpoint(): '{path}' holds the part {part!r}, which was not passed "
                f"(passed: {sorted(parts)})"
            )
        groups[part][rest] = value
    empty = [part for part, group in groups.items() if not group]
    if empty:
        raise ValueError(f"load_checkpoint(): '{path}' holds nothing for {empty}")
    done: list[tuple[Any, dict[str, np.ndarray]]] = []
    try:
        for part, obj in parts.items():
            before = obj.state_dict()
            obj.load_state_dict(groups[part])
            done.append((obj, before))
    except BaseException:
        for obj, before in reversed(done):
            obj.load_state_dict(before)
        raise


__all__ = ["save", "load", "save_checkpoint", "load_checkpoint"]
