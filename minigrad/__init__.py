"""minigrad: a small reverse-mode autodiff engine on numpy, written to be read."""

from . import data, functional, nn, optim, plot, sampling, text
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .autograd import grad
from .creation import arange, eye, full, full_like, ones, ones_like, rand, randn, zeros, zeros_like
from .draw import draw_graph, graph_layout, to_dot
from .forward_mode import jvp
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, hessian, jacobian
from .ops import (
    abs,
    broadcast_to,
    clip,
    concatenate,
    exp,
    expand_dims,
    expm1,
    flatten,
    log,
    log1p,
    matmul,
    maximum,
    mean,
    minimum,
    prod,
    relu,
    sqrt,
    squeeze,
    stack,
    std,
    tanh,
    unsqueeze,
    where,
)
from .serialization import load, save
from .tensor import Tensor

__version__ = "0.1.0"
__all__ = [
    "Tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad",
    "gradcheck", "jacobian", "hessian", "GradcheckError", "jvp",
    "zeros", "ones", "full", "arange", "eye", "zeros_like", "ones_like", "full_like", "randn", "rand",
    "detect_anomaly", "is_anomaly_enabled", "AnomalyError", "draw_graph", "graph_layout", "to_dot",
    "save", "load", "data", "functional", "nn", "optim", "plot", "sampling", "text",
    "abs", "broadcast_to", "clip", "concatenate", "exp", "log", "matmul", "maximum", "mean",
    "minimum", "relu", "sqrt", "stack", "tanh", "where",
    "expand_dims", "expm1", "flatten", "log1p", "prod", "squeeze", "std", "unsqueeze",
]
