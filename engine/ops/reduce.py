"""Reductions `sum` and `mean`, and the attribute checks every tensor op shares.

`axis` is None (every axis), one integer or a list of integers; negative axes count from the
end, as in numpy and PyTorch. An empty list is refused: numpy reads it as "reduce nothing" and
PyTorch as "reduce everything", so either answer would surprise half the students.
"""

from __future__ import annotations

import math

import numpy as np

from engine.errors import EngineError
from engine.ops import Attr, Op, register


def bad_attribute(message: str) -> EngineError:
    """An attribute value the op cannot use; the message is the whole sentence."""
    return EngineError(message, code="bad_attribute")


def as_value(array):
    """A 0-d result as np.float64 (the engine's scalar), anything else unchanged."""
    array = np.asarray(array, dtype=np.float64)
    return array[()] if array.ndim == 0 else array


def whole_number(value, op: str, name: str) -> int:
    """An integer attribute; 2.0 is accepted because expressions parse every number as a float."""
    numeric = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not numeric or not float(value).is_integer():
        raise bad_attribute(f"{op}: {name} must be a whole number, got {value!r}")
    return int(value)


def flag(value, op: str, name: str) -> bool:
    """A true/false attribute."""
    if not isinstance(value, bool | np.bool_):
        raise bad_attribute(f"{op}: {name} must be true or false, got {value!r}")
    return bool(value)


def normalize_axis(axis, ndim: int, op: str, name: str = "axis") -> int:
    """One axis as a non-negative index; a negative axis counts from the end."""
    axis = whole_number(axis, op, name)
    if ndim == 0:
        raise bad_attribute(f"{op}: {name} {axis} cannot be used on a single number (no axes)")
    if not -ndim <= axis < ndim:
        raise bad_attribute(
            f"{op}: {name} {axis} is out of range for a tensor with {ndim} dimension(s) "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return axis % ndim


def normalize_axes(axis, ndim: int, op: str) -> tuple[int, ...]:
    """`axis` as sorted distinct non-negative axes; None means every axis."""
    if axis is None:
        return tuple(range(ndim))

    items = list(axis) if isinstance(axis, list | tuple) else [axis]
    if not items:
        raise bad_attribute(
            f"{op}: axis [] names no axis; leave axis out to reduce over every axis"
        )

    axes = [normalize_axis(item, ndim, op) for item in items]
    if len(set(axes)) != len(axes):
        raise bad_attribute(f"{op}: axis {axis} names the same axis twice")
    return tuple(sorted(axes))


def _count(shape: tuple, axes: tuple) -> int:
    return math.prod(shape[axis] for axis in axes)


def _spread(upstream, shape: tuple, axes: tuple, keepdims: bool):
    """Copy each upstream entry back over the axes it was reduced from."""
    if not keepdims:
        upstream = np.expand_dims(upstream, axes)
    return as_value(np.broadcast_to(upstream, shape).copy())


def _sum(a, axis=None, keepdims=False):
    axes = normalize_axes(axis, np.ndim(a), "sum")
    return np.sum(a, axis=axes, keepdims=flag(keepdims, "sum", "keepdims"))


def _sum_vjp(index, upstream, args, out, axis=None, keepdims=False):
    (a,) = args
    axes = normalize_axes(axis, np.ndim(a), "sum")
    return _spread(upstream, np.shape(a), axes, keepdims)


def _mean(a, axis=None, keepdims=False):
    axes = normalize_axes(axis, np.ndim(a), "mean")
    total = np.sum(a, axis=axes, keepdims=flag(keepdims, "mean", "keepdims"))

    # The mean of no elements is nan (0/0), as in PyTorch; that is an answer, not an accident.
    with np.errstate(invalid="ignore"):
        return total / _count(np.shape(a), axes)


def _mean_vjp(index, upstream, args, out, axis=None, keepdims=False):
    (a,) = args
    axes = normalize_axes(axis, np.ndim(a), "mean")
    spread = _spread(upstream, np.shape(a), axes, keepdims)
    return spread / _count(np.shape(a), axes) if np.size(spread) else spread


def _overflow_explain(*args, **attrs) -> str:
    return "the total overflows float64 (its largest number is about 1.8e308)"


def _mean_explain(a, **attrs) -> str:
    if np.size(a) == 0:
        return "the mean of no elements is 0/0 = nan, as in PyTorch"
    return _overflow_explain(a)


_AXIS = Attr("axis", "axis", None, "Axis or list of axes to reduce; none means every axis.")
_KEEPDIMS = Attr("keepdims", "bool", False, "Keep each reduced axis with size 1.")

register(
    Op(
        name="sum",
        doc="Sum of the elements, over every axis or the given axis (or axes).",
        arg_names=("a",),
        symbol="Σ",
        formula=r"\sum_{i} {$a}_{i}",
        local_formulas=("1",),
        forward=_sum,
        vjp=_sum_vjp,
        attrs=(_AXIS, _KEEPDIMS),
        explain=_overflow_explain,
        category="tensor",
    )
)
register(
    Op(
        name="mean",
        doc="Mean of the elements, over every axis or the given axis (or axes); empty gives nan.",
        arg_names=("a",),
        symbol="mean",
        formula=r"\frac{1}{n} \sum_{i} {$a}_{i}",
        local_formulas=(r"\frac{1}{n}",),
        forward=_mean,
        vjp=_mean_vjp,
        attrs=(_AXIS, _KEEPDIMS),
        explain=_mean_explain,
        category="tensor",
    )
)
