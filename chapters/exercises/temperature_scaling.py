"""Temperature scaling, by hand (chapter 11, exercise 1).

Fill in the three functions below, then run

    python chapters/exercises/grade.py temperature_scaling

Plain numpy is enough; every function takes logits of shape (n, C) (or probabilities) and
integer labels of shape (n,).
"""

from __future__ import annotations

import numpy as np


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """The expected calibration error (Guo et al., 2017).

    Confidence c_i = max_k probs[i, k]; prediction argmax_k probs[i, k]. Bin m (m = 1..M)
    holds the samples with c in ((m-1)/M, m/M] (closed on the right). Then

        ECE = sum_m |B_m| / n * | accuracy(B_m) - mean confidence(B_m) |

    over the bins that hold at least one sample.
    """
    raise NotImplementedError("TODO: bin the confidences, compare accuracy and confidence per bin")


def nll_grad_log_temperature(logits: np.ndarray, labels: np.ndarray, T: float) -> float:
    """d NLL / dt at T = e^t, where NLL(t) = -1/n sum_i log softmax(logits_i / T)_{labels_i}.

    With u_i = logits_i / T and p_i = softmax(u_i), y_i the one-hot label:

        d NLL / dt = -1/n sum_i (p_i - y_i) . u_i
    """
    raise NotImplementedError("TODO: prediction minus label, dotted with the scaled logits")


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 minimising the NLL, found by Newton's method on t = log T, from t = 0:

        t <- t - NLL'(t) / NLL''(t)

    until |NLL'(t)| < 1e-10. NLL'(t) is nll_grad_log_temperature; for NLL''(t) use
    1/n sum_i (Var_{p_i}(u_i) + (p_i - y_i) . u_i), where Var_p(u) = sum_k p_k u_k^2 - (sum_k p_k u_k)^2.
    Return T = e^t.
    """
    raise NotImplementedError("TODO: Newton steps on t = log T")
