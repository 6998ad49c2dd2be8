"""``python examples/NAME.py --help`` shows the default of every flag that takes a value."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("[a-z]*.py"))


def _parser_of(script: str, monkeypatch) -> argparse.ArgumentParser:
    """The example's parser, caught as its main() starts parsing."""
    caught = {}

    def catch(self, args=None, namespace=None):
        caught["parser"] = self
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = importlib.import_module(script)
    with pytest.raises(SystemExit):
        module.main([])
    sys.modules.pop(script, None)
    return caught["parser"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_shows_every_default(script, monkeypatch):
    parser = _parser_of(script, monkeypatch)
    text = parser.format_help()
    text = text[text.index("options:") :]  # the flags' entries, after the usage lines
    starts = {
        a.option_strings[-1]: text.index(f"\n  {a.option_strings[0]}")
        for a in parser._actions
        if a.option_strings
    }
    ordered = sorted(starts.values()) + [len(text)]
    valued = [a for a in parser._actions if a.option_strings and a.nargs != 0 and a.default is not None]
    assert valued, f"{script}.py: no flag with a value was found (was the right parser caught?)"
    for action in valued:
        flag = action.option_strings[-1]
        start = starts[flag]
        entry = text[start : ordered[ordered.index(start) + 1]]
        assert "default" in entry, f"{script}.py --help does not show the default of {flag}"
