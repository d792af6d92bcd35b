"""Matrix product `matmul` (the `@` operator), with numpy's and PyTorch's matmul rules.

A 1-D left operand acts as a row (1, k) and a 1-D right operand as a column (k, 1); the added
axis is removed from the result. Axes before the last two are batch axes and broadcast. Each
downstream gradient is summed back over the batch axes its input was broadcast along.
"""

from __future__ import annotations

import math

import numpy as np

from engine.errors import LimitError, ShapeError
from engine.limits import DEFAULT_LIMITS
from engine.ops import Op, register, unbroadcast
from engine.ops.reduce import as_value


def matmul_shape(a_shape: tuple, b_shape: tuple) -> tuple:
    """The shape of a @ b, or a ShapeError naming both shapes."""
    where = f"matmul: {a_shape} @ {b_shape}"
    if not a_shape or not b_shape:
        raise ShapeError(f"{where} — both sides need at least one axis; use * for a number")

    inner_b = b_shape[-2] if len(b_shape) >= 2 else b_shape[0]
    if a_shape[-1] != inner_b:
        raise ShapeError(f"{where} — inner sizes {a_shape[-1]} and {inner_b} differ")

    try:
        batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ShapeError(
            f"{where} — batch axes {a_shape[:-2]} and {b_shape[:-2]} do not broadcast"
        ) from None

    rows = a_shape[-2:-1]
    columns = b_shape[-1:] if len(b_shape) >= 2 else ()
    return batch + rows + columns


def _as_matrices(a, b):
    """Both operands as matrices: a vector is a row on the left and a column on the right."""
    a2 = np.reshape(a, (1,) + np.shape(a)) if np.ndim(a) == 1 else np.asarray(a)
    b2 = np.reshape(b, np.shape(b) + (1,)) if np.ndim(b) == 1 else np.asarray(b)
    return a2, b2


def _matmul(a, b):
    shape = matmul_shape(np.shape(a), np.shape(b))

    # The one op whose result can be far larger than its inputs ((n,1) @ (1,n)); refuse
    # before numpy tries to allocate it.
    size = math.prod(shape)
    if size > DEFAULT_LIMITS.max_tensor_elements:
        raise LimitError(
            f"matmul: {np.shape(a)} @ {np.shape(b)} would give {size:,} elements; one tensor "
            f"may hold at most {DEFAULT_LIMITS.max_tensor_elements:,}",
            what="tensor_elements",
            limit=DEFAULT_LIMITS.max_tensor_elements,
            actual=size,
        )
    return np.matmul(a, b)


def _matmul_vjp(index, upstream, args, out):
    a, b = args
    a2, b2 = _as_matrices(a, b)
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    upstream2 = np.reshape(upstream, batch + (a2.shape[-2], b2.shape[-1]))

    if index == 0:
        grad = upstream2 @ np.swapaxes(b2, -1, -2)
        return as_value(unbroadcast(grad, a2.shape).reshape(np.shape(a)))
    grad = np.swapaxes(a2, -1, -2) @ upstream2
    return as_value(unbroadcast(grad, b2.shape).reshape(np.shape(b)))


def _batch_map(shape: tuple, batch: tuple) -> np.ndarray:
    """For each element of the broadcast batch, the flat index of the batch element it reads."""
    own = np.arange(math.prod(shape)).reshape(shape)
    return np.broadcast_to(own, batch).ravel()


def matmul_jacobian(index, args, out):
    """The local Jacobian (out.shape + input.shape) written entry by entry, without vjp rows.

    d out[o, i, j] / d a[o', i', c] = [o' = batch of a read by o] [i' = i] b[o, c, j], and
    likewise for b. Costs one pass over the entries instead of one vjp per output element.
    """
    a, b = args
    a2, b2 = _as_matrices(a, b)
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a_of, b_of = _batch_map(a2.shape[:-2], batch), _batch_map(b2.shape[:-2], batch)
    (n, k), m = a2.shape[-2:], b2.shape[-1]
    a_flat = a2.reshape(math.prod(a2.shape[:-2]), n, k)
    b_flat = b2.reshape(math.prod(b2.shape[:-2]), k, m)

    o, i, j, c = np.ix_(np.arange(a_of.size), np.arange(n), np.arange(m), np.arange(k))
    if index == 0:
        jac = np.zeros((a_of.size, n, m) + a_flat.shape)
        jac[o, i, j, a_of[o], i, c] = b_flat[b_of[o], c, j]
    else:
        jac = np.zeros((a_of.size, n, m) + b_flat.shape)
        jac[o, i, j, b_of[o], c, j] = a_flat[a_of[o], i, c]
    return jac.reshape(np.shape(out) + np.shape(args[index]))


def _overflow_explain(*args, **attrs) -> str:
    return "a product or sum inside the matrix product overflows float64 (about 1.8e308)"


register(
    Op(
        name="matmul",
        doc=(
            "Matrix product a @ b: vector·matrix, matrix·vector, matrix·matrix and batches "
            "with broadcast batch axes, as numpy and PyTorch matmul."
        ),
        arg_names=("a", "b"),
        symbol="@",
        formula=r"$a \mathbin{@} $b",
        local_formulas=(
            r"{$b}^{\top} \;\; (\text{downstream} = \text{upstream} \, {$b}^{\top})",
            r"$a \;\; (\text{downstream} = {$a}^{\top} \, \text{upstream})",
        ),
        forward=_matmul,
        vjp=_matmul_vjp,
        explain=_overflow_explain,
        category="tensor",
        extra={"jacobian": matmul_jacobian},
    )
)
