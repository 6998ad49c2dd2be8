"""``Tensor``: a numpy array that remembers how it was computed.

The ops themselves (forward and backward side by side) live in ``ops.py``; this file
holds the data structure, its conversions, and the operator sugar that calls the ops.
"""

from __future__ import annotations

import numbers
import operator
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

    __slots__ = (
        "_data",
        "_grad",
        "_version",
        "requires_grad",
        "_node",
        "name",
        "_retains_grad",
        "_hooks",
        "__weakref__",
    )
    __array_ufunc__ = None  # numpy defers to our reflected operators instead of detaching us

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        self._data = _array_from(data, dtype)
        self._grad: Tensor | None = None
        self._version = 0
        self._node: Node | None = None
        self.name = name
        self._retains_grad = False
        self._hooks: dict | None = None
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    # ----- construction from an op: skips the checks and the copy -----
    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        t = object.__new__(Tensor)  # no __init__: no checks, no copy
        # numpy hands back scalars (np.float64, ...) for 0-d results; keep .data an ndarray
        t._data = data if data.__class__ is np.ndarray else np.asarray(data)
        t._grad = None
        t._version = 0
        t.requires_grad = False
        t._node = None
        t.name = None
        t._retains_grad = False
        t._hooks = None
        return t

    # ----- the array, the gradient, and the version counter -----
    def _set_data(self, value: Any) -> None:
        """``t.data = array`` (and ``t.data -= step``, which Python runs as an assignment)
        changes the tensor in place as far as the graph knows: its version goes up."""
        self._data = value
        self.bump_version()

    # (the getter is C code, not a Python function: .data is read by every op)
    data = property(operator.attrgetter("_data"), _set_data, doc="The underlying numpy array.")

    def _set_grad(self, value: Tensor | None) -> None:
        """``.grad`` accepts None or a Tensor of this tensor's shape and dtype, as in
        PyTorch: a wrong gradient is refused where it is assigned, not steps later inside
        an optimizer. (The engine writes ``_grad`` directly: its gradients already fit.)"""
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    grad = property(
        operator.attrgetter("_grad"),
        _set_grad,
        doc="The gradient backward() accumulated into this tensor (None before).",
    )

    def bump_version(self) -> None:
        """Record that this tensor's values changed in place, so that backward refuses a
        graph recorded before the change (its gradient would be taken at the old values).

        ``_version`` is the count of in-place changes minigrad has seen, in all tensors,
        at this tensor's latest change (0: never changed); every graph node remembers the
        count when its op ran, and backward raises if an input or the result of the op
        has a later version. It goes up with every change, like PyTorch's version counter;
        one clock shared by all tensors lets a node remember one number, not one per input.

        Assigning ``.data`` (optimizer steps do ``p.data -= ...``), ``load_state_dict`` and
        L-BFGS call this. Writing into the array itself (``t.data[...] = v``,
        ``t.numpy()[0] = v``) is invisible to minigrad and bypasses the check, as in
        PyTorch: call ``t.bump_version()`` after such a write to keep it. (PyTorch does not
        count changes made through ``.data`` at all; minigrad counts assignments to it,
        because ``w.data -= lr * w.grad.data`` is how the chapters update by hand.)"""
        state.changes += 1
        self._version = state.changes

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
        if not isinstance(flag, (bool, np.bool_)):  # "no" or 0.5 would pass as True
            raise TypeError(f"requires_grad must be True or False, got {flag!r}")
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, this one is {self.data.dtype}; "
                "convert it with .astype(np.float64) or pass dtype="
            )
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

    def __format__(self, spec: str) -> str:
        """``f"{t:.3f}"`` for a one-element tensor formats its number (as in PyTorch)."""
        if spec and self.data.size == 1:
            return format(self.data.item(), spec)
        return format(str(self), spec)

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
    def backward(
        self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Add d(self)/d(leaf), times ``grad``, into ``.grad`` of every leaf that
        requires grad. ``grad`` may be omitted only for a one-element tensor (it is
        then 1). The graph's saved tensors are freed unless ``retain_graph`` (which
        defaults to ``create_graph``); with ``create_graph`` the gradients are themselves
        differentiable."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of its graph "
                "has requires_grad=True (or it was computed under no_grad)"
            )
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

    # comparisons give boolean tensors outside the graph (not differentiable), elementwise
    # with numpy's broadcasting, as in numpy and PyTorch: np.mean(pred == y) is an accuracy
    # (``t == None`` stays a plain False, as in PyTorch: ``if t.grad == None`` keeps working)
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:
            return NotImplemented
        return Tensor._wrap(np.asarray(self.data == _raw(other)))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:
            return NotImplemented
        return Tensor._wrap(np.asarray(self.data != _raw(other)))

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data < _raw(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data <= _raw(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data > _raw(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data >= _raw(other))

    # Hashing stays by identity, so tensors still work as dict keys and set members (the
    # engine's dicts and sets of tensors: a lookup checks ``is`` before ``==``). Never
    # look a tensor up in a list (``in``, ``index``, ``remove`` compare with ==).
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

    def mean(self, axis: Any = None, keepdims: bool = False, dtype: Any = None, out: None = None) -> Tensor:
        """Mean over ``axis``. ``dtype`` and ``out`` are there for ``np.mean(t)``, which
        calls this method with them: ``np.mean(pred == y)`` is an accuracy."""
        if out is not None:
            raise TypeError("mean(): out= is not supported (tensors are not written in place)")
        x = self if dtype is None else _ops.astype(self, dtype)
        return _ops.mean(x, axis, keepdims)

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
        return _ops.unbroadcast(
            self, shape[0] if shape and shape[0].__class__ is tuple else _ops._shape_arg(shape)
        )

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


def _array_from(data: Any, dtype: Any) -> np.ndarray:
    """The constructor's array: a copy of ``data``. Python numbers and lists become
    float64 unless ``dtype`` says otherwise; numpy arrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    from_python = not isinstance(data, (np.ndarray, np.generic))
    if from_python and isinstance(data, (list, tuple)) and _holds_graph(data):
        raise TypeError(
            "Tensor(list of tensors) copies their values and would drop their graph; "
            "use mg.stack(tensors) (or mg.concatenate) to keep the gradient flowing"
        )
    try:
        array = np.array(data, dtype=dtype)  # always a copy
    except OverflowError:
        raise OverflowError(f"Tensor(): an integer does not fit in dtype {np.dtype(dtype)}") from None
    if dtype is None and from_python and array.dtype.kind in "iub":
        array = array.astype(np.float64)
    if array.dtype.kind == "O" and _has_big_int(data):
        raise OverflowError(
            "Tensor(): an integer does not fit in a 64-bit integer; "
            "pass a float (e.g. 2.0**70) for a large number"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor data must be numeric, got dtype {array.dtype}")
    return array


def _holds_graph(items: Any) -> bool:
    """True if a (nested) list holds a tensor that requires grad."""
    for x in items:
        if isinstance(x, Tensor) and x.requires_grad:
            return True
        if isinstance(x, (list, tuple)) and _holds_graph(x):
            return True
    return False


def _has_big_int(items: Any) -> bool:
    """True if a (nested) list holds a Python int that no 64-bit integer dtype can hold."""
    if isinstance(items, int):
        return not -(2**63) <= items < 2**64
    return isinstance(items, (list, tuple)) and any(_has_big_int(x) for x in items)


def _check_grad(t: Tensor, g: Any) -> None:
    if not isinstance(g, Tensor):
        raise TypeError(f"assigned grad must be a Tensor or None, got {type(g).__name__}")
    if g.data.shape != t.data.shape:
        raise ValueError(f"assigned grad has shape {g.shape}, but the tensor has shape {t.shape}")
    if g.data.dtype != t.data.dtype:
        raise TypeError(
            f"assigned grad has dtype {g.dtype}, but the tensor has dtype {t.dtype}; "
            f"convert it with .astype(np.{t.dtype})"
        )


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
    other operand's floating dtype, so ``float32_tensor * 2.5`` stays float32. An integer
    or boolean array beside a floating tensor takes its dtype too (``float32_tensor *
    int64_array`` stays float32, as in PyTorch)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and (
        x.__class__ is float
        or x.__class__ is int  # (the common case, tested first)
        or isinstance(x, (numbers.Number, np.generic))
        and not isinstance(x, complex)
    ):
        dtype = like.data.dtype
        if dtype.kind != "f":
            dtype = np.result_type(dtype, x)  # type: ignore[arg-type]
        return _wrap(np.asarray(x, dtype=dtype))
    if isinstance(x, np.ndarray):
        if like is not None and x.dtype.kind in "biu" and like.data.dtype.kind == "f":
            x = x.astype(like.data.dtype)  # as PyTorch: an integer operand never promotes a float
        return _wrap(x)
    return Tensor(x)


_wrap = Tensor._wrap

from . import ops as _ops  # noqa: E402  (ops needs Tensor; Tensor's methods need ops)
