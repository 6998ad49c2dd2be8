"""Exercise: cross-entropy as one minigrad op, with its backward written as p - y.

Chapter 6 shows that the gradient of cross-entropy with respect to the logits is
prediction minus label, p - y; chapter 1 shows how ``record`` makes an op. Grade your
work with

    python chapters/exercises/grade.py cross_entropy
"""

from __future__ import annotations

import numpy as np

from minigrad import Tensor
from minigrad.tensor import record


def cross_entropy(logits: Tensor, targets: np.ndarray) -> Tensor:
    """The mean cross-entropy of ``logits`` (N, C) against class indices ``targets`` (N,),
    as ONE minigrad op named "cross_entropy".

    Forward, in numpy:   loss = -(1/N) sum_n log p_n[t_n],  log p = log_softmax(logits)
    computed by the max trick (chapter 5), so logits of 1e4 give a finite loss.

    Backward:   d loss / d logits = (p - y) / N,  with p = softmax(logits) and y the
    one-hot targets (y[n, t_n] = 1). The rule ``backward(g, out)`` gets the incoming
    gradient g (a scalar Tensor: d(final)/d(loss)) and returns a 1-tuple:
    ``(g * Tensor((p - y) / N),)``.

    Return ``record(loss_array, (logits,), "cross_entropy", backward)``, keeping the
    logits' dtype for the loss and the gradient (float32 in, float32 out).
    """
    raise NotImplementedError(
        "TODO: cross_entropy's forward (log-softmax, pick, mean) and its backward (p - y) / N"
    )
