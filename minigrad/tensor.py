"""``Tensor``: a numpy array that remembers how it was computed.

The ops themselves (forward and backward side by side) live in ``ops.py``; this file
holds the data structure, its conversions, and the operator sugar that calls the ops.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import anomaly, autograd
from .autograd import Node
from .grad_mode import state


class Tensor:
    """An n-dimensional array with an optional gradient.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)`` copies ``data``. Python
    numbers and lists become float64 unless ``dtype`` says otherwise; numpy arrays keep
    their dtype (integer arrays make good class labels, but only floating-point tensors
    can require grad). ``name`` labels the tensor in ``draw_graph``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "name", "_retains_grad", "_hooks",
                 "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators instead of detaching us

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        from_python = not isinstance(data, (np.ndarray, np.generic))
        array = np.array(data, dtype=dtype)  # always a copy
        if dtype is None and from_python and array.dtype.kind in "iub":
            array = array.astype(np.float64)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor data must be numeric, got dtype {array.dtype}")
        self.data = array
        self.grad: Tensor | None = None
        self._node: Node | None = None
        self.name = name
        self._retains_grad = False
        self._hooks: dict | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----- construction from an op: skips the checks and the copy -----
    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        t = object.__new__(Tensor)  # no __init__: no checks, no copy
        # numpy hands back scalars (np.float64, ...) for 0-d results; keep .data an ndarray
        t.data = data if data.__class__ is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = False
        t._node = None
        t.name = None
        t._retains_grad = False
        t._hooks = None
        return t

    # ----- properties -----
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def op(self) -> str | None:
        """The name of the op that produced this tensor (None for a leaf)."""
        return None if self._node is None else self._node.op

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self)

    # ----- conversions -----
    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def clone(self) -> Tensor:
        """A copy with an array of its own, still in the graph (its gradient passes
        straight through)."""
        return _ops.clone(self)

    def detach(self) -> Tensor:
        """The same data, cut off from the graph (shares memory)."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, this one is {self.data.dtype}; "
                "convert it with .astype(np.float64) or pass dtype=")
        self.requires_grad = bool(flag)
        return self

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first axis (without this, Python would iterate a
        0-d tensor as an empty sequence instead of raising)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", precision=4)
        extras = []
        if self.data.dtype != np.float64:
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"op={self._node.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # ----- autograd -----
    def backward(self, grad: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Add d(self)/d(leaf), times ``grad``, into ``.grad`` of every leaf that
        requires grad. ``grad`` may be omitted only for a one-element tensor (it is
        then 1). The graph's saved tensors are freed unless ``retain_graph`` (which
        defaults to ``create_graph``); with ``create_graph`` the gradients are themselves
        differentiable."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of its graph "
                "has requires_grad=True (or it was computed under no_grad)")
        seed = autograd.seed_gradient(self, grad)
        if retain_graph is None:
            retain_graph = create_graph
        autograd.run_backward(self, seed, retain_graph, create_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this intermediate tensor too (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``fn(grad)`` when the gradient flowing into this tensor is complete during
        backward; if ``fn`` returns a tensor, it replaces the gradient. Returns a handle
        whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        handle = _HookHandle(self)
        self._hooks[handle.key] = fn
        return handle

    # ----- operators (the rules are in ops.py) -----
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # comparisons give boolean tensors outside the graph (== stays identity, as for dict keys)
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data < _raw(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data <= _raw(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data > _raw(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data >= _raw(other))

    __hash__ = object.__hash__

    # ----- methods named as numpy names them -----
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def expm1(self) -> Tensor:
        return _ops.expm1(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        return _ops.clip(self, min, max)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.var(self, axis, keepdims, ddof)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        return _ops.transpose(self, *axes)

    permute = transpose

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _ops.swapaxes(self, axis1, axis2)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def expand(self, *shape: Any) -> Tensor:
        return _ops.broadcast_to(self, _ops._shape_arg(shape))

    def astype(self, dtype: Any) -> Tensor:
        return _ops.astype(self, dtype)

    def sum_to_size(self, *shape: Any) -> Tensor:
        """Sum over the axes that broadcasting would add or stretch to go from ``shape`` to
        this tensor's shape (the gradient of a broadcast, as PyTorch's ``sum_to_size``)."""
        return _ops.unbroadcast(self, shape[0] if shape and shape[0].__class__ is tuple
                                else _ops._shape_arg(shape))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest entry along ``axis`` (of the flattened tensor for None);
        the first one on ties, as numpy. ``keepdims`` keeps the axis with length 1."""
        return Tensor._wrap(np.asarray(self.data.argmax(axis=axis, keepdims=keepdims)))

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest entry along ``axis``; see ``argmax``."""
        return Tensor._wrap(np.asarray(self.data.argmin(axis=axis, keepdims=keepdims)))

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.prod(self, axis, keepdims)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.std(self, axis, keepdims, ddof)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return _ops.unsqueeze(self, axis)

    expand_dims = unsqueeze

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        return _ops.flatten(self, start_axis, end_axis)


class _HookHandle:
    __slots__ = ("tensor", "key")
    _next = 0

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.key = _HookHandle._next
        _HookHandle._next += 1

    def remove(self) -> None:
        if self.tensor._hooks:
            self.tensor._hooks.pop(self.key, None)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def record(data: np.ndarray, inputs: tuple, op: str, backward: Callable) -> Tensor:
    """Wrap an op's result, and, if grad mode is on and an input requires grad, attach
    the node that lets backward() reach the inputs: ``backward(g, out)`` returns one
    gradient per input, given the gradient ``g`` flowing into the result ``out``."""
    out = Tensor._wrap(data)
    if state.grad_enabled:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out._node = Node(op, inputs, backward)
                break
    if state.anomaly:
        anomaly.check_forward(out, op, inputs)
    return out


def lift(x: Any, like: Tensor | None = None) -> Tensor:
    """Make an operand a Tensor. Python and numpy scalars are weakly typed: they take the
    other operand's floating dtype, so ``float32_tensor * 2.5`` stays float32."""
    if isinstance(x, Tensor):
        return x
    if like is not None and (x.__class__ is float or x.__class__ is int  # (the common case, tested first)
                             or isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, complex)):
        dtype = like.data.dtype
        if dtype.kind != "f":
            dtype = np.result_type(dtype, x)
        return _wrap(np.asarray(x, dtype=dtype))
    if isinstance(x, np.ndarray):
        return _wrap(x)
    return Tensor(x)


_wrap = Tensor._wrap

from . import ops as _ops  # noqa: E402  (ops needs Tensor; Tensor's methods need ops)
