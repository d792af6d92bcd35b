"""Pooling `max_pool2d` and `avg_pool2d`, with PyTorch's sizes, padding rule and ceil_mode.

Both slide a window over each channel on its own, with no weights. The work is one strided
slice per kernel tap (K_h·K_w of them), each covering every window at once.

- Max pooling sends each window's gradient to ONE input: its maximum, the first in row-major
  order when several tie (PyTorch on the CPU). Splitting among ties (torch.amax) or copying
  to every tie would change the total gradient. A nan counts as the maximum, as in PyTorch.
  Overlapping windows add their gradients.
- Average pooling divides by the window's size with padding counted (count_include_pad, the
  default); a ceil_mode window that runs past the padding counts only up to its edge.
"""

from __future__ import annotations

import numpy as np

from engine.errors import EngineError
from engine.layers import Window, pool_window
from engine.ops import Attr, Op, register
from engine.ops.conv import (
    as_batch,
    check_output,
    check_work,
    padded,
    padded_zeros,
    restore,
    tap_slices,
    unpad,
)


def _geometry(x, op, kernel_size, stride, padding, dilation, ceil_mode):
    x4, unbatched = as_batch(x, op)
    window = pool_window(kernel_size, stride, padding, dilation, ceil_mode, op)
    out_hw = window.output_size(x4.shape[2:], op)
    out_shape = x4.shape[:2] + out_hw
    check_output(f"{op}'s output", out_shape)
    check_work(op, int(np.prod(out_shape)) * window.kernel[0] * window.kernel[1])
    return x4, unbatched, window, out_hw


def _scatter(upstream_of_tap, x4, window: Window, out_hw: tuple) -> np.ndarray:
    """Add each tap's share of the gradient back where the tap read from; drop the padding."""
    grad = padded_zeros(x4, window, out_hw)
    # Windows that do not overlap (stride ≥ span, as in LeNet's pooling) never write the
    # same place twice, so assigning is enough and skips reading the zeros back.
    apart = all(s >= span for s, span in zip(window.stride, window.span, strict=True))
    for tap, (_, _, rows, cols) in enumerate(tap_slices(window, out_hw)):
        if apart:
            grad[:, :, rows, cols] = upstream_of_tap(tap)
        else:
            grad[:, :, rows, cols] += upstream_of_tap(tap)
    return unpad(grad, window, x4.shape[2:])


# --- max pooling -----------------------------------------------------------------------------


def _max_pool2d(x, kernel_size=None, stride=None, padding=0, dilation=1, ceil_mode=False):
    x4, unbatched, window, out_hw = _geometry(
        x, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode
    )
    # Padding is -inf, so it never wins unless a window holds nothing else.
    xp = padded(x4, window, out_hw, fill=-np.inf)
    best = None
    for _, _, rows, cols in tap_slices(window, out_hw):
        if best is None:
            best = xp[:, :, rows, cols].copy(order="K")
        else:
            np.maximum(best, xp[:, :, rows, cols], out=best)
    return restore(best, unbatched)


def _winning_tap(xp: np.ndarray, x_size: tuple, window: Window, out_hw: tuple) -> np.ndarray:
    """Per window, the index of the tap PyTorch's CPU loop picks, for windows with nan or −inf.

    Only real (unpadded) positions compete; the first one starts as the winner, and a later
    one takes over when it is larger or is nan. So on a tie the first maximum wins, and among
    nans the last.
    """
    best = np.full(xp.shape[:2] + tuple(out_hw), -np.inf)
    winner = np.full(best.shape, -1, dtype=np.intp)
    for tap, (u, v, rows, cols) in enumerate(tap_slices(window, out_hw)):
        candidate = xp[:, :, rows, cols]
        better = (winner < 0) | (candidate > best) | np.isnan(candidate)
        better &= _real(window, x_size, out_hw, u, v)
        np.copyto(best, candidate, where=better)
        winner[better] = tap
    return winner


def _real(window: Window, x_size: tuple, out_hw: tuple, u: int, v: int) -> np.ndarray:
    """H'×W' mask: does tap (u, v) of each window fall on the input rather than its padding?"""
    inside = []
    for axis, tap in ((0, u), (1, v)):
        start = np.arange(out_hw[axis]) * window.stride[axis] - window.padding[axis][0]
        position = start + tap * window.dilation[axis]
        inside.append((position >= 0) & (position < x_size[axis]))
    return np.outer(inside[0], inside[1])


def _max_pool2d_vjp(
    index, upstream, args, out, kernel_size=None, stride=None, padding=0, dilation=1,
    ceil_mode=False,
):  # fmt: skip
    x4, unbatched, window, out_hw = _geometry(
        args[0], "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode
    )
    upstream4 = np.asarray(upstream)[None] if unbatched else np.asarray(upstream)
    out4 = np.asarray(out)[None] if unbatched else np.asarray(out)
    xp = padded(x4, window, out_hw, fill=-np.inf)

    if np.isfinite(out4).all():
        return restore(_first_maximum_grad(xp, out4, upstream4, x4, window, out_hw), unbatched)
    # A nan, or a window whose maximum is −inf like its padding: follow PyTorch tap by tap.
    winner = _winning_tap(xp, x4.shape[2:], window, out_hw)
    grad = _scatter(lambda tap: np.where(winner == tap, upstream4, 0.0), x4, window, out_hw)
    return restore(grad, unbatched)


def _first_maximum_grad(xp, out4, upstream4, x4, window: Window, out_hw: tuple) -> np.ndarray:
    """Route each window's gradient to the first tap equal to its maximum (`out`).

    Every maximum is finite here, so the −inf padding never equals one.
    """
    grad = padded_zeros(x4, window, out_hw)
    # Windows that do not overlap write disjoint slices, so a product can go straight in.
    disjoint = all(s >= n for s, n in zip(window.stride, window.span, strict=True))
    free = None  # windows whose gradient has not found its maximum yet
    for _, _, rows, cols in tap_slices(window, out_hw):
        hit = xp[:, :, rows, cols] == out4
        if free is None:
            free = ~hit
        else:
            hit &= free
            free ^= hit
        if disjoint:
            np.multiply(upstream4, hit, out=grad[:, :, rows, cols])
        else:
            grad[:, :, rows, cols] += upstream4 * hit
    return unpad(grad, window, x4.shape[2:])


# --- average pooling -------------------------------------------------------------------------


def _divisor(size: tuple, window: Window, out_hw: tuple, count_include_pad: bool) -> np.ndarray:
    """How many positions each window averages over (H'×W'), PyTorch's rule."""
    counts = []
    for axis in (0, 1):
        k, s = window.kernel[axis], window.stride[axis]
        before, after = window.padding[axis]
        start = np.arange(out_hw[axis]) * s - before
        end = np.minimum(start + k, size[axis] + after)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size[axis])
        counts.append(end - start)
    return np.outer(counts[0], counts[1]).astype(np.float64)


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise EngineError(
            f"avg_pool2d: {name} must be true or false, got {value!r}", code="bad_attribute"
        )
    return bool(value)


def _avg_pool2d(
    x, kernel_size=None, stride=None, padding=0, ceil_mode=False, count_include_pad=True
):
    x4, unbatched, window, out_hw = _geometry(
        x, "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode
    )
    include = _flag(count_include_pad, "count_include_pad")
    xp = padded(x4, window, out_hw)
    total = None
    for _, _, rows, cols in tap_slices(window, out_hw):
        if total is None:
            total = xp[:, :, rows, cols].copy(order="K")
        else:
            total += xp[:, :, rows, cols]
    return restore(total / _divisor(x4.shape[2:], window, out_hw, include), unbatched)


def _avg_pool2d_vjp(
    index, upstream, args, out, kernel_size=None, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True,
):  # fmt: skip
    x4, unbatched, window, out_hw = _geometry(
        args[0], "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode
    )
    upstream4 = np.asarray(upstream)[None] if unbatched else np.asarray(upstream)
    include = _flag(count_include_pad, "count_include_pad")
    share = upstream4 / _divisor(x4.shape[2:], window, out_hw, include)
    return restore(_scatter(lambda tap: share, x4, window, out_hw), unbatched)


# --- registration ----------------------------------------------------------------------------


def _kernel_attr() -> Attr:
    return Attr(
        "kernel_size",
        "ints",
        None,
        "Window size: a number or [height, width] (required; `kernel` also works).",
        aliases=("kernel",),
    )


def _pool_attrs() -> tuple[Attr, ...]:
    return (
        _kernel_attr(),
        Attr("stride", "ints", None, "Step between windows; by default the kernel size."),
        Attr("padding", "ints", 0, "Padding on each side, at most half the kernel size."),
    )


_CEIL_MODE = Attr(
    "ceil_mode", "bool", False, "Round the output size up, keeping a last partial window."
)


def _max_pool2d_explain(x, **attrs) -> str:
    return (
        "a window covers only padding (the dilation steps over every real position), so its "
        "maximum is −∞, as in PyTorch; use less padding or dilation"
    )


def _avg_pool2d_explain(x, **attrs) -> str:
    return "a window's sum overflows float64 (about 1.8e308)"


register(
    Op(
        name="max_pool2d",
        doc=(
            "Max pooling: the largest value in each window of each channel. The gradient goes "
            "to one input per window, the first maximum in row-major order on a tie."
        ),
        arg_names=("a",),
        symbol="max",
        formula=r"\max_{u,v} \; ${a}_{c,\, si + du - p,\; sj + dv - p}",
        local_formulas=(r"\mathbb{1}[\text{first maximum of its window}]",),
        forward=_max_pool2d,
        vjp=_max_pool2d_vjp,
        attrs=_pool_attrs()
        + (Attr("dilation", "ints", 1, "Spacing between window taps."), _CEIL_MODE),
        explain=_max_pool2d_explain,
        category="cnn",
    )
)
register(
    Op(
        name="avg_pool2d",
        doc=(
            "Average pooling: the mean of each window of each channel; padding counts in the "
            "divisor unless count_include_pad is false."
        ),
        arg_names=("a",),
        symbol="avg",
        formula=r"\frac{1}{|w|} \sum_{u,v} ${a}_{c,\, si + u - p,\; sj + v - p}",
        local_formulas=(r"\frac{1}{|w|} \text{ for each position of the window } w",),
        forward=_avg_pool2d,
        vjp=_avg_pool2d_vjp,
        attrs=_pool_attrs()
        + (
            _CEIL_MODE,
            Attr("count_include_pad", "bool", True, "Count padding in the window's size."),
        ),
        explain=_avg_pool2d_explain,
        category="cnn",
    )
)
