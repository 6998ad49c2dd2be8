"""Neural-network building blocks: ``Parameter``, ``Module`` and a few layers.

A ``Module`` is an object that owns parameters and other modules. Assigning a
``Parameter`` or a ``Module`` to an attribute registers it (``self.fc = Linear(2, 3)``),
so ``model.parameters()`` finds every trainable tensor without being told, in the order
they were assigned. Names are dotted paths: ``fc.weight``, or ``0.weight`` inside a
``Sequential``. ``state_dict()`` and ``load_state_dict()`` move those named values in and
out as plain numpy arrays (``minigrad.save`` / ``minigrad.load`` write them to disk).

Layout note: ``Linear`` stores its weight as ``(in_features, out_features)`` so that the
forward pass reads as the maths, ``x @ W + b``. PyTorch stores the transpose,
``(out_features, in_features)``, and computes ``x @ W.T + b``; to load a PyTorch
weight into minigrad, transpose it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from . import ops
from .optim import zero_grad
from .tensor import Tensor


class Parameter(Tensor):
    """A tensor that a ``Module`` registers as trainable: it requires grad by default
    and must hold floating-point numbers. ``Parameter(data)`` copies ``data``, like
    ``Tensor``; lists become float64."""

    __slots__ = ()

    def __init__(
        self, data: Any, requires_grad: bool = True, dtype: Any = None, name: str | None = None
    ) -> None:
        super().__init__(data, requires_grad=False, dtype=dtype, name=name)
        if self.data.dtype.kind != "f":
            raise TypeError(
                f"a Parameter must hold floating-point numbers, got dtype {self.data.dtype}; "
                "convert it first, e.g. np.asarray(data, dtype=np.float64)"
            )
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` tolerated (both lists are empty when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign their parameters and
    submodules as attributes, and define ``forward``; calling the module calls
    ``forward``. ``training`` is True after construction; ``eval()`` sets it to False
    (and ``train()`` back) on the module and all its submodules, for layers that
    behave differently at evaluation time.
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these two dicts to exist already
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ----- registration by assignment -----
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, (Parameter, Module)) and (params is None or modules is None):
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__() ran: "
                f"call super().__init__() at the start of {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter) and params is not None and modules is not None:
            self.__dict__.pop(name, None)
            modules.pop(name, None)
            params[name] = value  # replacing a parameter keeps its place in the order
            if value.name is None:
                value.name = name  # a label for graph drawings
        elif isinstance(value, Module) and params is not None and modules is not None:
            self.__dict__.pop(name, None)
            params.pop(name, None)
            modules[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter '{name}': "
                    "expected a Parameter (or None to remove it)"
                )
            del params[name]
            object.__setattr__(self, name, None)
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to submodule '{name}': "
                    "expected a Module (or None to remove it)"
                )
            del modules[name]
            object.__setattr__(self, name, None)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails, i.e. for registered parameters and modules
        if name not in ("_parameters", "_modules"):  # (absent before __init__ or in copies)
            for registry in (self.__dict__.get("_parameters"), self.__dict__.get("_modules")):
                if registry is not None and name in registry:
                    return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # ----- walking the tree -----
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``, '' at the top) and every submodule below it,
        depth first, in assignment order. A module reached twice is listed once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child}" if name else child, m) for child, m in module._modules.items()]
            stack.extend(reversed(children))  # reversed: the first child is popped first

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def children(self) -> Iterator[Module]:
        """The direct submodules, in assignment order."""
        yield from self._modules.values()

    def named_parameters(self, remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for every parameter of this module and its
        submodules: a module's own parameters first, then each submodule's, in
        assignment order. A parameter shared by two modules is listed once unless
        ``remove_duplicate=False``."""
        seen: set[int] = set()
        for module_name, module in self._all_named_modules(remove_duplicate):
            for name, p in module._parameters.items():
                if remove_duplicate and id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{module_name}.{name}" if module_name else name), p

    def _all_named_modules(self, remove_duplicate: bool) -> Iterator[tuple[str, Module]]:
        if remove_duplicate:
            yield from self.named_modules()
            return
        yield "", self  # every path, so a shared submodule appears under each of its names
        for child_name, child in self._modules.items():
            for name, module in child._all_named_modules(False):
                yield (f"{child_name}.{name}" if name else child_name), module

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter, in the stable order of ``named_parameters()``; pass this to
        an optimizer."""
        for _, p in self.named_parameters():
            yield p

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward pass (backward *adds* into
        ``.grad``): ``.grad`` becomes None, or zeros with ``set_to_none=False``. The same
        function as ``Optimizer.zero_grad``: ``minigrad.optim.zero_grad``."""
        zero_grad(self.parameters(), set_to_none)

    # ----- train / eval -----
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    # ----- state dicts -----
    def state_dict(self) -> dict[str, np.ndarray]:
        """``{dotted name: copy of the parameter's array}``, in ``named_parameters``
        order. A shared parameter appears under each of its names."""
        return {name: p.data.copy() for name, p in self.named_parameters(remove_duplicate=False)}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy the arrays in ``state`` into the parameters of the same names.

        Everything is checked before anything is copied, so on error the model is left
        exactly as it was. The error names every missing key (a parameter with no value
        in ``state``), every unexpected key (a value with no parameter), and every value
        whose shape differs or which is not numeric. With ``strict=False`` missing and
        unexpected keys are allowed and returned; bad shapes are still errors. Values are
        converted to each parameter's dtype (a float64 file loads into a float32 model)
        and copied in place, so the Parameter objects (and an optimizer holding them)
        stay the same."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict() expects a mapping name -> array, got {type(state).__name__}")
        own = dict(self.named_parameters(remove_duplicate=False))
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        problems = []
        ready: list[tuple[Parameter, np.ndarray]] = []
        for name, p in own.items():
            if name in state:
                value, problem = _checked_value(name, p, state[name])
                if problem is None:
                    ready.append((p, value))
                else:
                    problems.append(problem)
        if strict:
            problems = (
                [f"missing key '{k}'" for k in missing]
                + [f"unexpected key '{k}'" for k in unexpected]
                + problems
            )
        if problems:
            raise ValueError(
                f"load_state_dict() into {type(self).__name__} failed; the model was not "
                "changed:\n  " + "\n  ".join(problems)
            )
        for p, value in ready:
            p.data[...] = value
            p.bump_version()  # a write into the array: tell the graph the values changed
        return LoadResult(missing if not strict else [], unexpected if not strict else [])

    # ----- calling -----
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- printing -----
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = self.extra_repr()
        body = "\n  ".join(([head] if head else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _checked_value(name: str, p: Parameter, value: Any) -> tuple[np.ndarray, str | None]:
    """``value`` as a copy in ``p``'s dtype, ready to load into ``p``, or a sentence
    saying why it cannot be (then the array is a placeholder)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        return np.empty(0), f"'{name}' cannot be read as an array ({err})"
    if array.dtype.kind not in "biuf":
        return array, f"'{name}' has dtype {array.dtype}, expected numbers"
    if array.shape != p.shape:
        return array, f"'{name}' has shape {array.shape} in the state dict but {p.shape} in the model"
    if not p.data.flags.writeable:
        return array, f"'{name}': the model's array is read-only"
    return array.astype(p.dtype, copy=True), None


class Linear(Module):
    """An affine map: ``y = x @ W + b``.

    ``weight`` W has shape ``(in_features, out_features)`` and ``bias`` b has shape
    ``(out_features,)`` (None with ``bias=False``). ``x`` may have any number of leading
    (batch) axes; its last axis must have ``in_features`` entries.

    Initialisation: every entry of W and b is drawn independently from the uniform
    distribution U(-k, k) with k = 1 / sqrt(in_features), the same distribution PyTorch
    uses for ``nn.Linear`` (its Kaiming-uniform with a = sqrt(5) works out to this k).
    It keeps the variance of each output about the same as that of each input
    (Var = in_features * k^2 / 3 * Var(x) = Var(x) / 3), whatever the layer width.
    W is drawn first, then b, from ``rng`` (a ``numpy.random.Generator``) or from
    ``np.random.default_rng(seed)``; with neither, from a fresh unseeded generator.

    Layout: PyTorch stores the transpose, ``(out_features, in_features)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = np.float64,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for label, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {label} must be a positive integer, got {n!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Linear: dtype must be a floating-point type, got {dtype}")
        if rng is not None and seed is not None:
            raise ValueError("Linear: pass rng or seed, not both")
        if rng is None:
            rng = np.random.default_rng(seed)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        k = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(rng.uniform(-k, k, (self.in_features, self.out_features)).astype(dtype))
        self.bias: Parameter | None
        if bias:
            self.bias = Parameter(rng.uniform(-k, k, (self.out_features,)).astype(dtype))
        else:
            self.bias = None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) needs inputs whose last axis has "
                f"{self.in_features} entries, got shape {x.shape}"
            )
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}{dtype}"
        )


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.
    The modules are registered under the names ``"0"``, ``"1"``, ..., so their
    parameters are named ``"0.weight"``, ``"0.bias"``, ...; ``seq[i]`` is the i-th."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, expected a Module")
            setattr(self, str(i), m)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return ops.relu(_as_tensor(x))


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return ops.tanh(_as_tensor(x))


class Sigmoid(Module):
    """The logistic function sigma(x) = 1 / (1 + exp(-x)), elementwise; its gradient is
    sigma (1 - sigma). The layer form of ``F.sigmoid`` (which explains how it stays
    accurate far into both tails)."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(_as_tensor(x))


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Any) -> Any:
        return x


__all__ = ["Parameter", "Module", "LoadResult", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "Identity"]
