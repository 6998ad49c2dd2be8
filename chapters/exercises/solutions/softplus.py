"""Reference solution: softplus as a minigrad op."""

from __future__ import annotations

import numpy as np

from minigrad import Tensor
from minigrad.tensor import record


def softplus(x: Tensor) -> Tensor:
    """softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).   d/dx = sigmoid(x)."""
    data = np.maximum(x.data, 0) + np.log1p(np.exp(-np.abs(x.data)))

    def backward(g: Tensor, out: Tensor) -> tuple[Tensor]:
        sigmoid = 0.5 * (1 + np.tanh(0.5 * x.data))  # = 1 / (1 + exp(-x)), without overflow
        return (g * Tensor(sigmoid),)

    return record(data, (x,), "softplus", backward)
