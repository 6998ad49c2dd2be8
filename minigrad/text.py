"""Small text corpora shipped with minigrad, and the character vocabulary a char-level model needs.

The texts live in ``minigrad/datasets/text/`` (their sources and licences are in the README
there). A character-level language model predicts the next character from the previous
ones, so its vocabulary is simply the set of characters in the text.
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np

__all__ = ["available_texts", "load_text", "char_vocab", "encode", "decode"]

_NAME = re.compile(r"[a-z0-9_]+")


def _text_dir():
    return resources.files("minigrad") / "datasets" / "text"  # one name per step: Python 3.10


def available_texts() -> list[str]:
    """Names accepted by ``load_text``, sorted."""
    return sorted(f.name[:-4] for f in _text_dir().iterdir() if f.name.endswith(".txt"))


def load_text(name: str = "pride_and_prejudice") -> str:
    """The whole text of a shipped corpus, as one string (UTF-8, ``\\n`` line ends).

    ``pride_and_prejudice``: Chapters 1-7 of Jane Austen's novel (public domain), 53,712
    characters of plain ASCII.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name not in available_texts():
        raise ValueError(f"unknown text {name!r}; the shipped texts are {available_texts()}")
    return _text_dir().joinpath(name + ".txt").read_text(encoding="utf-8")


def char_vocab(text: str) -> tuple[list[str], dict[str, int]]:
    """The sorted distinct characters of ``text`` and the map back: ``chars[stoi[c]] == c``.

    Sorting makes the ids depend only on the set of characters, not on where they first appear.
    """
    if not text:
        raise ValueError("char_vocab needs a non-empty text")
    chars = sorted(set(text))
    return chars, {c: i for i, c in enumerate(chars)}


def encode(text: str, stoi: dict[str, int]) -> np.ndarray:
    """The character ids of ``text`` as an int64 array."""
    try:
        return np.array([stoi[c] for c in text], dtype=np.int64)
    except KeyError as err:
        raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None


def decode(ids: np.ndarray | list[int], chars: list[str]) -> str:
    """The text spelled by character ids (the inverse of ``encode``). Every id must be an
    integer in ``0 .. len(chars) - 1``: a negative id would silently count from the end of
    the vocabulary, and a float would be cut to an integer, so both are refused."""
    array = np.asarray(ids)
    if array.size == 0:
        return ""
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"decode: ids must be integers (character ids 0 .. {len(chars) - 1}), got dtype {array.dtype}"
        )
    bad = (array < 0) | (array >= len(chars))
    if bad.any():
        raise ValueError(
            f"decode: ids must lie in 0 .. {len(chars) - 1} (the vocabulary has {len(chars)} "
            f"characters), got {array[bad].ravel()[0]}"
        )
    return "".join(chars[i] for i in array.ravel().tolist())
