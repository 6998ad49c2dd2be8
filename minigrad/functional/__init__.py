"""``minigrad.functional`` (import it as ``F``): softmax and its family, each ONE fused graph
node with a hand-derived backward, and next to each a *composed twin* built from the
engine's primitive ops.

The family, with p = softmax(x) taken along the class axis:

    softmax(x)_i      = exp(x_i) / sum_j exp(x_j)         Jacobian  diag(p) - p p^T
    log_softmax(x)_i  = x_i - logsumexp(x)                Jacobian  I - 1 p^T
    logsumexp(x)      = log sum_j exp(x_j)                gradient  p
    cross_entropy     = -sum_i y_i log p_i                gradient  p - y   (sum_i y_i = 1)
    sigmoid(x)        = 1 / (1 + exp(-x)) = softmax([x, 0])_0
    bce_with_logits   = cross_entropy([x, 0], [y, 1 - y]) gradient  sigmoid(x) - y

**One stability trick serves them all.** softmax does not change when a constant is added
to every logit, so we subtract the largest one first: the biggest exponent becomes
exp(0) = 1, no exp() can overflow, and the sum is at least 1, so its log is finite.
Log-probabilities are formed as ``x - logsumexp(x)``, never as ``log(softmax(x))``, which
underflows to log(0) = -inf as soon as a probability drops below ~1e-38 (float32).

**Why fused?** Composed from primitives, cross-entropy is a chain of eleven nodes
(sub, exp, sum, log, sub, reshape, getitem -- the gather of each target's log p -- mul,
neg, sum, div) whose backward passes rebuild the answer piece by piece, with a temporary
array at every step. The fused node jumps straight to it: ``(p - y) * scale``. It is
shorter, faster, and shows the one fact worth remembering: *the gradient of
cross-entropy with respect to the logits is prediction minus label.*

**Second derivatives.** Every backward rule is itself written with Tensor ops, and the
softmax-like ones use the op's *output* ``out``: softmax's backward is
``out * (g - sum(g * out))``. With ``create_graph=True`` those ops are recorded, so
``minigrad.hessian`` of logsumexp or of cross-entropy comes out as diag(p) - p p^T.

**Composed twins** (``softmax_composed``, ``log_softmax_composed``, ...) compute the same
values with primitive ops only, so you can compare graph sizes and hold the fused ops
against them in tests. By default they use the max-subtraction trick too (as a constant
shift, outside the graph); ``stable=False`` gives the naive textbook formula, to *see*
it overflow. They have none of the fused ops' guards: a fully masked slice gives nan.

Classes live on the LAST axis (minigrad follows numpy's ``axis``, not PyTorch's dim 1);
logits of shape (..., C) with targets of shape (...) reduce like the flattened (M, C) case.

**Where to read what.** ``softmax_family.py``: softmax, log_softmax, logsumexp and the
max trick. ``losses.py``: cross_entropy and nll_loss. ``binary.py``: sigmoid,
log_sigmoid and the binary cross-entropies. ``reduction.py``: the losses' 'none', 'sum'
and 'mean', forward and backward. ``regression.py``: ``mse_loss`` and ``one_hot``.
``checks.py``: the argument checks they share.
``scaled_dot_product_attention`` is composed from matmul and softmax (no backward rule
of its own) and lives in ``minigrad/attention.py``.
"""

from ..attention import scaled_dot_product_attention
from ..ops import relu, tanh
from .binary import (
    binary_cross_entropy,
    binary_cross_entropy_composed,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_composed,
    log_sigmoid,
    log_sigmoid_composed,
    sigmoid,
    sigmoid_composed,
    softplus_composed,
)
from .divergence import distillation_loss, kl_div
from .gumbel import gumbel_softmax
from .losses import cross_entropy, cross_entropy_composed, nll_loss, nll_loss_composed
from .regression import mse_loss, one_hot
from .softmax_family import (
    log_softmax,
    log_softmax_composed,
    logsumexp,
    logsumexp_composed,
    softmax,
    softmax_composed,
)

__all__ = [
    "softmax",
    "softmax_composed",
    "log_softmax",
    "log_softmax_composed",
    "logsumexp",
    "logsumexp_composed",
    "cross_entropy",
    "cross_entropy_composed",
    "nll_loss",
    "nll_loss_composed",
    "sigmoid",
    "sigmoid_composed",
    "log_sigmoid",
    "log_sigmoid_composed",
    "softplus_composed",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_composed",
    "binary_cross_entropy",
    "binary_cross_entropy_composed",
    "relu",
    "tanh",
    "scaled_dot_product_attention",
    "kl_div",
    "distillation_loss",
    "gumbel_softmax",
    "mse_loss",
    "one_hot",
]
