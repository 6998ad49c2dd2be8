"""minigrad: a small reverse-mode autodiff engine on numpy, written to be read."""

from .anomaly import AnomalyError, detect_anomaly
from .autograd import enable_grad, grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, hessian, jacobian
from .ops import (
    abs,
    broadcast_to,
    clip,
    concatenate,
    exp,
    log,
    matmul,
    maximum,
    mean,
    minimum,
    relu,
    sqrt,
    stack,
    tanh,
    where,
)
from .tensor import Tensor


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    """Same as ``Tensor(...)``: a new tensor holding a copy of ``data``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


__version__ = "0.1.0"
__all__ = [
    "Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad",
    "gradcheck", "jacobian", "hessian", "GradcheckError", "detect_anomaly", "AnomalyError",
    "abs", "broadcast_to", "clip", "concatenate", "exp", "log", "matmul", "maximum", "mean",
    "minimum", "relu", "sqrt", "stack", "tanh", "where",
]
