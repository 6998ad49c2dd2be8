"""Every example, run as a learner runs it (``python examples/NAME.py``, default settings),
finishes in at most 10 seconds on a 2-core machine.

The test runs each script once in a subprocess, writing its figures to a temporary
folder, and bounds its wall time at three times the target, to stay robust on a busy
machine; the measured times are listed at the end of the pytest run (``learner time``),
wall clock and CPU time: on a machine shared with other work, the CPU time is the closer
estimate of what the learner waits on an idle one. The README's test command runs one
pytest-xdist worker per core (``-n auto``), so a timed script shares the machine with
other tests but, like a learner's run, has about a core to itself.
The chapters' times are measured where they already run, in tests/test_chapters.py.

The scripts run with the learner's environment (BLAS thread settings removed), not with
the single-threaded BLAS of the rest of the suite (tests/conftest.py): an example that
needs fewer threads must say so itself (examples/_blas.py).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SECONDS = 10
# the training examples; the softmax explorer is an interactive window, driven by its own test
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("[a-z]*.py") if p.name != "softmax_explorer.py")


def _children_cpu() -> float:
    """CPU seconds used by finished child processes (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_every_example_is_timed():
    assert len(EXAMPLES) >= 5 and "temperature_sampling.py" in EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_with_default_settings_runs_within_the_learner_time(script, tmp_path, record_property):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}  # as the learner runs it
    env["MPLBACKEND"] = "Agg"
    start, cpu_start = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    assert done.returncode == 0, done.stderr
    assert "figures written (" in done.stdout
    record_property("learner_seconds", (f"examples/{script}", seconds, cpu, EXAMPLE_SECONDS))
    assert seconds <= 3 * EXAMPLE_SECONDS, (
        f"{script} took {seconds:.1f} s with its defaults; an example should take at most {EXAMPLE_SECONDS} s"
    )
