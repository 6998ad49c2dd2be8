"""The README's promises: its quick start is what CI runs, and its code blocks run."""

import re
import subprocess
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README, flags=re.S | re.M)


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the drawing example writes graph.png here
    blocks = _python_blocks()
    assert len(blocks) >= 4
    for block in blocks:
        if "detect_anomaly" in block:
            with pytest.raises(mg.AnomalyError, match=r"'log' produced -inf at index \(1,\)") as error, \
                    pytest.warns(RuntimeWarning, match="divide by zero"):
                exec(compile(block, "example.py", "exec"), {})
            line = re.search(r"example\.py:(\d+)", str(error.value))[1]
            assert f"example.py:{line}:" in README, f"the README's anomaly output should name line {line}"
        else:
            exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "graph.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "Tensor([ 3., 12., 27.])" in printed and "[ 0. 12.]]" in printed


def test_the_readme_cross_entropy_example_prints_a_zero_difference(capsys):
    block = next(b for b in _python_blocks() if "cross_entropy" in b and "p - y" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert float(capsys.readouterr().out.split()[-1]) < 1e-15


def test_ci_runs_the_readme_quick_start_commands():
    """.ci/run reads the two commands out of the README: check it finds both."""
    script = (ROOT / ".ci" / "run").read_text()
    assert "quickstart:install" in script and "quickstart:test" in script
    for marker in ("install", "test"):
        out = subprocess.run(
            ["bash", "-c", f"sed -n '/<!-- quickstart:{marker} -->/,/^```$/p' README.md"
             " | sed -n '/^```bash$/,/^```$/p' | sed '1d;$d'"],
            cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        assert out.count("\n") == 0 and out, f"the {marker} command must be one line"

