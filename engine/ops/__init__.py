"""The op registry: every op is defined once, with its forward, its gradient and its formulas.

An op is either *elementwise*, and then it gives one partial derivative per input (the
evaluator multiplies the upstream gradient by it and sums broadcast axes back), or it gives a
vector-Jacobian product directly. Either way the local Jacobian shown on a page is derived
from the same definition, so the number a student reads is the number the engine used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from string import Template
from typing import Any

import numpy as np

Value = Any  # np.float64 for a scalar, np.ndarray (float64) for a tensor


@dataclass(frozen=True)
class Attr:
    """One keyword attribute of an op, e.g. `axis` of `sum`."""

    name: str
    kind: str  # "int", "float", "bool", "str", "ints", "axis", "padding"
    default: Any
    doc: str
    # Other names accepted for it, e.g. `kernel` for `kernel_size` as the course writes it.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Op:
    """An operation: forward, gradient rule, display formulas and attributes side by side."""

    name: str
    doc: str
    arg_names: tuple[str, ...]
    symbol: str
    formula: str  # LaTeX of the value; `$a`, `$b` stand for the inputs
    local_formulas: tuple[str, ...]  # LaTeX of d out / d arg_i, same placeholders plus `$out`
    forward: Callable[..., Value]
    partials: tuple[Callable[..., Value], ...] | None = None
    vjp: Callable[..., Value] | None = None
    attrs: tuple[Attr, ...] = ()
    explain: Callable[..., str] | None = None
    min_args: int | None = None
    category: str = "scalar"
    extra: dict = field(default_factory=dict)
    # Named arrays an op makes besides its value (batch_norm's updated running statistics):
    # aux(*inputs, out, **attrs) -> {name: array}, called after forward for tensor values.
    aux: Callable[..., dict] | None = None
    # When true, forward returns (value, kept) and vjp receives `kept=`: what the backward
    # pass reuses from the forward one (conv2d's im2col matrix). Held for one evaluation.
    keeps: bool = False
    # For ops whose partials are numbers that never change (add: 1 and 1), the numbers
    # themselves, so the scalar backward loop need not call a function for them.
    constant_partials: tuple | None = None
    # Per input (None for none), where the local derivative is a mask rather than a slope:
    # mask(*inputs, out) is true where the input did not make the value (relu below 0, the
    # smaller side of max). There the downstream gradient is 0 even when the upstream is not
    # finite, where the product would be inf · 0 = nan; PyTorch's backward selects the same way.
    masks: tuple | None = None
    # What each input is, for the page and /api/ops ("kernels", "gamma"), when the formula's
    # placeholders a, b, c say nothing; None means the placeholders are the names.
    input_names: tuple[str, ...] | None = None

    is_leaf: bool = field(init=False)
    # Smallest and largest number of inputs the op takes.
    arity: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        # Plain fields, not properties: the graph checks and the backward loop read them
        # for every node.
        object.__setattr__(self, "is_leaf", self.name in ("input", "const"))
        most = len(self.arg_names)
        object.__setattr__(self, "arity", (most if self.min_args is None else self.min_args, most))

    @property
    def is_elementwise(self) -> bool:
        return self.partials is not None

    def describe(self, out: str, args: list[str]) -> tuple[str, list[str]]:
        """The value formula and one local-derivative formula per input, in LaTeX."""
        names = {name: arg for name, arg in zip(self.arg_names, args, strict=False)}
        names["out"] = out
        value = f"{out} = " + Template(self.formula).safe_substitute(names)
        local = [
            rf"\frac{{\partial {out}}}{{\partial {arg}}} = "
            + Template(formula).safe_substitute(names)
            for arg, formula in zip(args, self.local_formulas, strict=False)
        ]
        return value, local

    def to_dict(self) -> dict:
        """The op as `GET /api/ops` lists it."""
        return {
            "name": self.name,
            "doc": self.doc,
            "category": self.category,
            "symbol": self.symbol,
            "arg_names": list(self.arg_names),
            "input_names": list(self.input_names or self.arg_names),
            "arity": list(self.arity),
            "formula": self.formula,
            "local_formulas": list(self.local_formulas),
            "attrs": [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "default": a.default,
                    "doc": a.doc,
                    "aliases": list(a.aliases),
                }
                for a in self.attrs
            ],
        }


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry; names are unique."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is defined twice")
    OPS[op.name] = op
    return op


def unbroadcast(grad: Value, shape: tuple[int, ...]) -> Value:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    if np.shape(grad) == shape:
        return grad
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    grad = np.broadcast_to(grad, shape) if grad.shape != shape else grad
    return grad[()] if grad.ndim == 0 else grad


def elementwise_jacobian(partial: Value, out_shape: tuple, in_shape: tuple) -> np.ndarray:
    """The local Jacobian (out_shape + in_shape) of an elementwise op with broadcasting.

    Entry [o, i] is the partial at o when input element i is the one broadcast to o, else 0.
    """
    out_size = int(np.prod(out_shape))
    in_size = int(np.prod(in_shape))
    jac = np.zeros((out_size, in_size))
    if out_size == 0 or in_size == 0:
        return jac.reshape(out_shape + in_shape)

    out_index = np.indices(out_shape).reshape(len(out_shape), -1)
    padded = (1,) * (len(out_shape) - len(in_shape)) + tuple(in_shape)
    in_index = [
        np.zeros(out_size, dtype=int) if n == 1 else out_index[axis]
        for axis, n in enumerate(padded)
    ][len(out_shape) - len(in_shape) :]
    columns = np.ravel_multi_index(in_index, in_shape) if in_shape else np.zeros(out_size, int)

    jac[np.arange(out_size), columns] = np.broadcast_to(partial, out_shape).ravel()
    return jac.reshape(out_shape + in_shape)


def jacobian_from_vjp(op: Op, index: int, args: tuple, out: Value, attrs: dict) -> np.ndarray:
    """Build the local Jacobian row by row from the op's vector-Jacobian product (display only)."""
    out_shape, in_shape = np.shape(out), np.shape(args[index])
    out_size = int(np.prod(out_shape))
    jac = np.zeros((out_size,) + in_shape)
    basis = np.zeros(out_size)
    for row in range(out_size):
        basis[row] = 1.0
        jac[row] = op.vjp(index, basis.reshape(out_shape), args, out, **attrs)
        basis[row] = 0.0
    jac = jac.reshape(out_shape + in_shape)
    return jac[()] if jac.ndim == 0 else jac


def _load_all() -> None:
    # Importing the modules registers their ops; the order is the order of `GET /api/ops`.
    from engine.ops import (  # noqa: F401
        batchnorm,
        conv,
        elementwise,
        leaves,
        linalg,
        pool,
        reduce,
        shape,
        softmax,
    )


_load_all()
