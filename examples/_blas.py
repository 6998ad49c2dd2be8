"""Imported by an example before numpy, for its side effect: BLAS runs on one thread.

The examples multiply small matrices (a few hundred rows, tens to hundreds of columns).
For those, OpenBLAS's thread pool costs more than it gains, and on a machine whose cores
are busy with other work its threads spin waiting for each other: on a shared 2-core
machine the character model took two to five times longer with the default pool. A value
the user sets in the environment wins.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
