"""Turning user values into float64 numbers and back into short text."""

from __future__ import annotations

import math

import numpy as np

NONFINITE_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "+inf": math.inf}

# 1.0 and 0.0 as the engine's scalars are; numpy scalars are immutable, so one object serves
# everywhere (constant local derivatives, the gradient a backward pass starts from, a masked
# downstream gradient).
ONE = np.float64(1.0)
ZERO = np.float64(0.0)


def fmt(value) -> str:
    """A number as a student would write it: -3, 0.5, 1e+300, nan."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def is_finite(value) -> bool:
    """True when every element is finite; fast for the scalar case."""
    if type(value) is np.float64:
        return math.isfinite(value)
    # A sum is finite exactly when every element is, unless finite values overflow it;
    # summing allocates nothing, so try that first and confirm only when it says no.
    if math.isfinite(np.sum(value)):
        return True
    return bool(np.isfinite(value).all())
