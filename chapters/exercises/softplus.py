"""Exercise: a new minigrad op, softplus, with its own backward rule.

Chapter 1 shows what an op records (its result, its inputs, a backward rule) and how
``record`` builds one; ``minigrad/ops.py`` has dozens of examples (look at ``exp`` and
``tanh``). Grade your work with

    python chapters/exercises/grade.py softplus
"""

from __future__ import annotations

import numpy as np

from minigrad import Tensor
from minigrad.tensor import record


def softplus(x: Tensor) -> Tensor:
    """softplus(x) = log(1 + exp(x)), elementwise, as ONE minigrad op named "softplus".

    Forward, in numpy, stably: log(1 + exp(x)) overflows to inf at x = 1000, but the
    equal  max(x, 0) + log1p(exp(-|x|))  never does (its exp() argument is <= 0).

    Backward: d softplus(x) / dx = exp(x) / (1 + exp(x)) = sigmoid(x). Write the rule
    ``backward(g, out)``: it receives ``g`` = dL/d(out) as a Tensor and returns a tuple
    with one Tensor per input, here ``(g * sigmoid(x),)``. A numpy array ``s`` becomes a
    Tensor with ``Tensor(s)``; ``0.5 * (1 + np.tanh(0.5 * x))`` is a sigmoid that never
    overflows.

    Then return ``record(result_array, (x,), "softplus", backward)``. Keep x's dtype: a
    float32 x gives a float32 result and a float32 gradient.
    """
    raise NotImplementedError(
        "TODO: write softplus's forward with numpy and its backward rule, then return record(...)"
    )
