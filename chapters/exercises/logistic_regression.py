"""Exercise: the logistic-regression training loop, with minigrad doing the gradients.

Chapter 7 trains this model with an optimizer; here you write the loop the optimizer
hides. Chapter 2 explains why the gradients must be reset at every step. Grade your work
with

    python chapters/exercises/grade.py logistic_regression
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.functional as F


def train(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, float, list[float]]:
    """Fit  p(y = 1 | x) = sigmoid(x . w + b)  by full-batch gradient descent.

    ``X`` is (N, D), ``y`` (N,) holds 0s and 1s. Start from w = 0 (shape (D,)) and b = 0,
    as Tensors in X's dtype with requires_grad=True. Then, ``steps`` times:

    1. the loss: ``F.binary_cross_entropy_with_logits(X @ w + b, y)``, the mean over the
       N examples of -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))];
    2. reset the gradients (``w.grad = None``, the same for b): backward() ADDS into .grad;
    3. ``loss.backward()``;
    4. step against the gradient, without recording it in a graph:
       ``with mg.no_grad(): w.data -= lr * w.grad.data`` (and the same for b).

    Return (w as a numpy array, b as a float, the list of the ``steps`` losses, each
    taken with ``loss.item()`` before that step's update).
    """
    raise NotImplementedError("TODO: the training loop: forward, reset, backward, update")
