"""Ops that only move elements: `reshape`, `flatten`, `transpose`.

Each downstream gradient is the upstream gradient moved back: reshaped to the input's shape,
or transposed by the inverse permutation. Choices where libraries differ:
- `flatten` follows torch.flatten: start_dim 0 and end_dim -1 by default, so the whole tensor
  becomes one axis (nn.Flatten keeps the batch axis with start_dim 1; set it to get that).
  A single number flattens to shape (1,), as in PyTorch.
- `transpose` follows numpy.transpose: no axes reverses every axis (for a matrix, the matrix
  transpose), and axes=[...] is a full permutation, like torch.permute. It is not PyTorch's
  two-axis swap transpose(dim0, dim1).
"""

from __future__ import annotations

import math

import numpy as np

from engine.ops import Attr, Op, register
from engine.ops.reduce import as_value, bad_attribute, normalize_axis, whole_number


def reshape_target(in_shape: tuple, shape) -> tuple:
    """The requested shape with its one -1 filled in, or a bad_attribute error."""
    if shape is None:
        raise bad_attribute("reshape: the attribute shape is required, e.g. shape=[2, -1]")
    items = list(shape) if isinstance(shape, list | tuple) else [shape]
    sizes = [whole_number(size, "reshape", "shape") for size in items]
    asked = tuple(sizes)
    if sizes.count(-1) > 1:
        raise bad_attribute(
            f"reshape: shape {asked} has more than one -1; only one size can be inferred"
        )
    if any(size < -1 for size in sizes):
        raise bad_attribute(
            f"reshape: shape {asked} has a negative size; use -1 for the one inferred size"
        )

    total = math.prod(in_shape)
    known = math.prod(size for size in sizes if size != -1)
    where = f"reshape: {in_shape} ({total} elements) cannot become {asked}"
    if -1 in sizes:
        if known == 0:
            raise bad_attribute(f"{where}: with a 0 in the shape, the -1 could be any size")
        if total % known:
            raise bad_attribute(f"{where}: {total} is not a multiple of {known}")
        sizes[sizes.index(-1)] = total // known
    elif known != total:
        raise bad_attribute(f"{where}: that shape holds {known} elements")
    return tuple(sizes)


def _reshape(a, shape=None):
    return np.reshape(a, reshape_target(np.shape(a), shape))


def _move_back(index, upstream, args, out, **attrs):
    """The vjp of every reshape-like op: the upstream gradient in the input's shape."""
    return as_value(np.reshape(upstream, np.shape(args[0])))


def flatten_shape(in_shape: tuple, start_dim, end_dim) -> tuple:
    """The shape after merging axes start_dim..end_dim (both included) into one."""
    shape = in_shape or (1,)  # torch.flatten treats a single number as one axis of size 1
    start = normalize_axis(start_dim, len(shape), "flatten", "start_dim")
    end = normalize_axis(end_dim, len(shape), "flatten", "end_dim")
    if start > end:
        raise bad_attribute(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor of "
            f"shape {in_shape}"
        )
    return shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :]


def _flatten(a, start_dim=0, end_dim=-1):
    return np.reshape(a, flatten_shape(np.shape(a), start_dim, end_dim))


def permutation(ndim: int, axes) -> tuple[int, ...]:
    """`axes` as a permutation of range(ndim); None reverses the axes."""
    if axes is None:
        return tuple(reversed(range(ndim)))

    items = list(axes) if isinstance(axes, list | tuple) else [axes]
    if len(items) != ndim:
        raise bad_attribute(
            f"transpose: axes {axes} must list each of the {ndim} axes of the input once"
        )
    order = tuple(normalize_axis(axis, ndim, "transpose", "axes") for axis in items)
    if sorted(order) != list(range(ndim)):
        raise bad_attribute(
            f"transpose: axes {axes} names an axis twice; it must be a permutation"
        )
    return order


def _transpose(a, axes=None):
    return np.transpose(a, permutation(np.ndim(a), axes))


def _transpose_vjp(index, upstream, args, out, axes=None):
    order = permutation(np.ndim(args[0]), axes)
    return as_value(np.transpose(upstream, np.argsort(order)))


register(
    Op(
        name="reshape",
        doc="The same elements in row-major order, in a new shape; one size may be -1.",
        arg_names=("a",),
        symbol="reshape",
        formula=r"\operatorname{reshape}($a)",
        local_formulas=(r"I \text{ (each element moves, unchanged)}",),
        forward=_reshape,
        vjp=_move_back,
        attrs=(Attr("shape", "ints", None, "The new shape, e.g. [2, -1]; -1 is inferred."),),
        category="tensor",
    )
)
register(
    Op(
        name="flatten",
        doc=(
            "Merge axes start_dim..end_dim into one, as torch.flatten (defaults: every axis; "
            "start_dim=1 keeps a batch axis)."
        ),
        arg_names=("a",),
        symbol="flatten",
        formula=r"\operatorname{flatten}($a)",
        local_formulas=(r"I \text{ (each element moves, unchanged)}",),
        forward=_flatten,
        vjp=_move_back,
        attrs=(
            Attr("start_dim", "int", 0, "First axis to merge."),
            Attr("end_dim", "int", -1, "Last axis to merge (included)."),
        ),
        category="tensor",
    )
)
register(
    Op(
        name="transpose",
        doc=(
            "Permute the axes, as numpy.transpose: no axes reverses them (the matrix "
            "transpose in 2-D); axes=[...] is a permutation."
        ),
        arg_names=("a",),
        symbol="ᵀ",
        formula=r"{$a}^{\top}",
        local_formulas=(r"I \text{ permuted (each element moves, unchanged)}",),
        forward=_transpose,
        vjp=_transpose_vjp,
        attrs=(Attr("axes", "ints", None, "A permutation of the axes; none reverses them."),),
        category="tensor",
    )
)
