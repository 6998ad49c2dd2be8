"""Shared test settings.

BLAS runs single-threaded in the tests: the suite's arrays are small, and on a busy
2-core machine OpenBLAS's thread pool made some tests ten times slower, not faster. The
environment variables are set here, before anything imports numpy, because OpenBLAS
reads them when it loads: limiting the threads afterwards at run time (threadpoolctl,
kept below in case numpy was imported first) left its routines several times slower
than a single-threaded start (chapter 8's Newton steps: 6 s against 2 s).
"""

import os

from threadpoolctl import threadpool_limits

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
threadpool_limits(1)


def pytest_terminal_summary(terminalreporter) -> None:
    """List the learner-time measurements (a test records them with
    ``record_property("learner_seconds", (what, wall seconds, cpu seconds, limit))``).

    Under pytest-xdist (``-n``) this runs in the controlling process, which receives each
    worker's reports with their recorded properties; the title says how many workers
    shared the machine while the times were measured."""
    reports = terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
    rows = [value for report in reports for key, value in report.user_properties if key == "learner_seconds"]
    if rows:
        workers = terminalreporter.config.getoption("numprocesses", None)  # None without pytest-xdist
        shared = f", {workers} test workers" if workers else ""
        terminalreporter.section(f"learner time (seconds: wall clock, CPU; target{shared})")
        for what, seconds, cpu, limit in sorted(rows):
            terminalreporter.write_line(f"{what:45s} {seconds:6.1f} {cpu:6.1f}   (target {limit:g})")
