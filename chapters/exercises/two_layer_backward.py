"""Exercise: the backward pass of a two-layer network, by hand, in numpy.

Every rule you need is in the chapters: the gradient of mean cross-entropy with respect
to the logits is (p - y) / N (chapter 6); for a product C = A B with incoming gradient
G, dA = G B^T and dB = A^T G (chapter 2); a bias broadcast over the batch gets the sum
of its rows (chapter 2); tanh'(a) = 1 - tanh(a)^2. Grade your work with

    python chapters/exercises/grade.py two_layer_backward
"""

from __future__ import annotations

import numpy as np


def forward_backward(
    X: np.ndarray, targets: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients of a tanh network, with numpy only (no minigrad).

    Shapes: X (N, D), integer ``targets`` (N,), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    Forward:

        A = X W1 + b1            (N, H)   pre-activations
        H = tanh(A)              (N, H)   hidden layer
        Z = H W2 + b2            (N, C)   logits
        loss = -(1/N) sum_n log softmax(Z_n)[t_n]    (use the max trick)

    Backward: go through the same lines in reverse, from dZ = d loss / dZ down to dW1.
    Each gradient has the shape of what it is the gradient of.

    Return (loss as a float, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}).
    """
    raise NotImplementedError("TODO: the forward pass, then dZ, dW2, db2, dH, dA, dW1, db1")
