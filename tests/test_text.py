"""The shipped text corpus and the character vocabulary helpers."""

import hashlib

import numpy as np
import pytest

from minigrad.text import available_texts, char_vocab, decode, encode, load_text


def test_pride_and_prejudice_is_the_documented_excerpt():
    text = load_text()
    assert text == load_text("pride_and_prejudice")
    assert len(text) == 53_712 and text.count("\n") == 1_128
    # the sha256 written in minigrad/datasets/text/README.md
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == (
        "6e5cc1ef5aaa9bb64269f58c6df1e60a474cb74443f5dcac412091eae5caf32c"
    )
    assert text.startswith("PRIDE AND PREJUDICE\n\nBy Jane Austen\n")
    assert "It is a truth universally acknowledged" in text
    assert "Chapter 7" in text and "Chapter 8" not in text
    assert text.endswith("of clothes.\n")


def test_charset_is_plain_printable_ascii():
    text = load_text()
    assert text.isascii() and "_" not in text and "\r" not in text
    assert all(c == "\n" or c.isprintable() for c in set(text))
    chars, stoi = char_vocab(text)
    assert len(chars) == 68
    assert chars[0] == "\n" and chars[1] == " "
    assert set("abcdefghijklmnopqrstuvwxyz") <= set(chars)


def test_available_texts_and_unknown_names():
    assert "pride_and_prejudice" in available_texts()
    for bad in ("no_such_text", "../text/README", "README", ""):
        with pytest.raises(ValueError, match="unknown text"):
            load_text(bad)


def test_char_vocab_is_sorted_and_inverse():
    chars, stoi = char_vocab("hello world")
    assert chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert all(chars[stoi[c]] == c for c in chars)
    with pytest.raises(ValueError, match="non-empty"):
        char_vocab("")


def test_encode_decode_round_trip():
    text = load_text()
    chars, stoi = char_vocab(text)
    ids = encode(text, stoi)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() == 0 and ids.max() == len(chars) - 1
    assert decode(ids, chars) == text
    with pytest.raises(ValueError, match="not in the vocabulary"):
        encode("zebra~", char_vocab("zebra")[1])


def test_decode_refuses_ids_outside_the_vocabulary_and_non_integers():
    chars = ["a", "b", "c"]
    assert decode([2, 0, 1], chars) == "cab" and decode([], chars) == ""
    with pytest.raises(ValueError, match=r"ids must lie in 0 .. 2 .*got -1"):
        decode([0, -1], chars)  # not "c": no wrapping around
    with pytest.raises(ValueError, match=r"ids must lie in 0 .. 2 .*got 3"):
        decode(np.array([3]), chars)
    with pytest.raises(TypeError, match=r"ids must be integers .*got dtype float64"):
        decode([1.7], chars)  # not "b": no silent truncation
    with pytest.raises(TypeError, match=r"ids must be integers"):
        decode(np.array([True]), chars)
