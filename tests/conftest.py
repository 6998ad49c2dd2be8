"""Shared test settings.

BLAS runs single-threaded in the tests: the suite's arrays are small, and on a busy
2-core machine OpenBLAS's thread pool made some tests ten times slower, not faster.
"""

from threadpoolctl import threadpool_limits

threadpool_limits(1)
