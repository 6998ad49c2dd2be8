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
            with (
                pytest.raises(mg.AnomalyError, match=r"'log' produced -inf at index \(1,\)") as error,
                pytest.warns(RuntimeWarning, match="divide by zero"),
            ):
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


def quickstart(marker: str, readme: Path = ROOT / "README.md") -> subprocess.CompletedProcess:
    """Run .ci/quickstart.sh, the extraction .ci/run itself uses."""
    return subprocess.run(
        ["bash", str(ROOT / ".ci" / "quickstart.sh"), marker, str(readme)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_ci_runs_the_readme_quick_start_commands():
    """.ci/run takes its two commands from .ci/quickstart.sh: check that it does, and that
    the script finds each command in the README, as one line shown to the reader."""
    script = (ROOT / ".ci" / "run").read_text()
    assert "$(.ci/quickstart.sh install)" in script and "$(.ci/quickstart.sh test)" in script
    for marker in ("install", "test"):
        result = quickstart(marker)
        assert result.returncode == 0, result.stderr
        command = result.stdout.strip()
        assert command and "\n" not in command, f"the {marker} command must be one line"
        assert f"<!-- quickstart:{marker} -->\n```bash\n{command}\n```" in README
    assert "pip install -e" in quickstart("install").stdout
    assert "pytest" in quickstart("test").stdout


def test_quickstart_extraction_fails_loudly_without_its_marker(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# a README\n\n<!-- quickstart:install -->\n```bash\npip install .\n```\n")
    assert quickstart("install", readme).stdout == "pip install .\n"
    missing = quickstart("test", readme)
    assert missing.returncode != 0 and missing.stdout == ""
    assert "quickstart:test" in missing.stderr
