"""Shared test settings.

BLAS runs single-threaded in the tests: the suite's arrays are small, and on a busy
2-core machine OpenBLAS's thread pool made some tests ten times slower, not faster.
threadpool_limits only reaches the libraries already loaded, so numpy (and its OpenBLAS)
is imported first.
"""

import numpy  # noqa: F401  (loads OpenBLAS, so that the limit below applies to it)
from threadpoolctl import threadpool_limits

threadpool_limits(1)
