"""2-D convolution `conv2d(x, k[, b])`, as PyTorch's: cross-correlation, the kernel not flipped.

x is N×C×H×W, or C×H×W for one image; k is C'×C×K_h×K_w; the optional bias has C' entries.
The forward pass is im2col: a strided view of the padded input lays every window out as one
column (no copy until the reshape), and a single matrix product with the kernels gives every
output. The backward pass uses one matrix product per input too; the input gradient is
scattered back with one strided add per kernel tap, so rows and columns that no window visits
(a stride that does not tile the input) keep a gradient of 0.

The windowed helpers here are shared with pooling (engine/ops/pool.py).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from engine.errors import LimitError, ShapeError
from engine.layers import Window, conv_window
from engine.limits import DEFAULT_LIMITS
from engine.ops import Attr, Op, register

# The im2col matrix and the multiply-adds grow with kernel size as well as output size, so
# they are bounded on their own: a 1000×1000 image with a 100×100 kernel has a small input
# and output but would need 8·10⁹ window entries.
MAX_WINDOW_ELEMENTS = 16 * DEFAULT_LIMITS.max_tensor_elements
MAX_MULTIPLY_ADDS = 2_000_000_000


# --- windows, shared with pooling ------------------------------------------------------------


def as_batch(x, op: str) -> tuple[np.ndarray, bool]:
    """x as N×C×H×W and whether it came without the batch axis (C×H×W), as PyTorch allows."""
    shape = np.shape(x)
    if len(shape) not in (3, 4):
        raise ShapeError(
            f"{op}: the input must be C×H×W or N×C×H×W, got shape {shape} ({len(shape)} axes)"
        )
    x = np.asarray(x, dtype=np.float64)
    return (x[None], True) if x.ndim == 3 else (x, False)


def check_work(op: str, window_elements: int, multiply_adds: int = 0) -> None:
    """Refuse a layer whose window matrix or arithmetic is past the deliberate limits."""
    if window_elements > MAX_WINDOW_ELEMENTS:
        raise LimitError(
            f"{op}: its windows hold {window_elements:,} numbers in all (output positions × "
            f"kernel size); the limit is {MAX_WINDOW_ELEMENTS:,}; use a smaller input, kernel "
            f"or batch",
            what="window_elements",
            limit=MAX_WINDOW_ELEMENTS,
            actual=window_elements,
        )
    if multiply_adds > MAX_MULTIPLY_ADDS:
        raise LimitError(
            f"{op}: it needs {multiply_adds:,} multiply-adds; the limit is "
            f"{MAX_MULTIPLY_ADDS:,}; use fewer channels, a smaller kernel or a smaller input",
            what="multiply_adds",
            limit=MAX_MULTIPLY_ADDS,
            actual=multiply_adds,
        )


def check_output(op: str, shape: tuple) -> None:
    """Refuse an output larger than one tensor may be, before allocating it."""
    size = math.prod(shape)
    if size > DEFAULT_LIMITS.max_tensor_elements:
        raise LimitError(
            f"{op} would have shape {shape} ({size:,} elements); one tensor may "
            f"hold at most {DEFAULT_LIMITS.max_tensor_elements:,}",
            what="tensor_elements",
            limit=DEFAULT_LIMITS.max_tensor_elements,
            actual=size,
        )


def pad_widths(size: tuple, window: Window, out_hw: tuple) -> list[tuple[int, int]]:
    """(before, after) per axis: the window's padding plus what a ceil-mode window reaches."""
    widths = []
    for axis in (0, 1):
        before, after = window.padding[axis]
        reach = (out_hw[axis] - 1) * window.stride[axis] + window.span[axis]
        widths.append((before, after + max(reach - size[axis] - before - after, 0)))
    return widths


def memory_order(array: np.ndarray) -> list[int]:
    """The axes of `array` from the outermost in memory to the innermost."""
    return sorted(range(array.ndim), key=lambda axis: (-abs(array.strides[axis]), axis))


def zeros_like_layout(shape: tuple, like: np.ndarray) -> np.ndarray:
    """Zeros of `shape` laid out in memory like `like` (same axis order).

    conv2d's values keep the batch axis innermost in memory; keeping that layout through
    relu and pooling lets the next matrix product read its gradient without a copy.
    """
    order = memory_order(like)
    return np.zeros([shape[axis] for axis in order]).transpose(np.argsort(order))


def padded(x4: np.ndarray, window: Window, out_hw: tuple, fill: float = 0.0) -> np.ndarray:
    """x4 with the window's padding on height and width, filled with `fill`, same layout."""
    widths = [(0, 0), (0, 0)] + pad_widths(x4.shape[2:], window, out_hw)
    if widths == [(0, 0)] * 4:
        return x4
    order = memory_order(x4)
    grown = np.pad(x4.transpose(order), [widths[axis] for axis in order], constant_values=fill)
    return grown.transpose(np.argsort(order))


def padded_size(size: tuple, window: Window, out_hw: tuple) -> tuple[int, int]:
    """Height and width of the padded map the windows read."""
    widths = pad_widths(size, window, out_hw)
    return tuple(n + a + b for n, (a, b) in zip(size, widths, strict=True))


def padded_zeros(x4: np.ndarray, window: Window, out_hw: tuple) -> np.ndarray:
    """A zero gradient of the padded map, laid out like x4."""
    return zeros_like_layout(x4.shape[:2] + padded_size(x4.shape[2:], window, out_hw), x4)


def tap_slices(window: Window, out_hw: tuple):
    """For each kernel tap (u, v): the strided slices of the padded map it reads."""
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    ho, wo = out_hw
    for u in range(kh):
        rows = slice(u * dh, u * dh + (ho - 1) * sh + 1, sh)
        for v in range(kw):
            yield u, v, rows, slice(v * dw, v * dw + (wo - 1) * sw + 1, sw)


def unpad(grad_padded: np.ndarray, window: Window, size: tuple) -> np.ndarray:
    """The part of a padded-map gradient that lies on the real input."""
    (top, _), (left, _) = window.padding
    return grad_padded[:, :, top : top + size[0], left : left + size[1]]


def restore(value: np.ndarray, unbatched: bool) -> np.ndarray:
    """Drop the batch axis again for an input given as C×H×W."""
    return value[0] if unbatched else value


# --- conv2d ----------------------------------------------------------------------------------


def _geometry(x, k, bias, stride, padding, dilation):
    """Check shapes; the batched input, window, output size and whether x was unbatched."""
    x4, unbatched = as_batch(x, "conv2d")
    kernel_shape = np.shape(k)
    if len(kernel_shape) != 4:
        raise ShapeError(
            f"conv2d: the kernels must be C'×C×K_h×K_w (4 axes), got shape {kernel_shape}"
        )
    if 0 in kernel_shape[2:]:
        raise ShapeError(f"conv2d: the kernels {kernel_shape} have no rows or no columns")
    if kernel_shape[1] != x4.shape[1]:
        raise ShapeError(
            f"conv2d: the input {np.shape(x)} has {x4.shape[1]} channel(s) but the kernels "
            f"{kernel_shape} expect {kernel_shape[1]} (axis 1 of the kernels)"
        )
    if bias is not None and np.shape(bias) != kernel_shape[:1]:
        raise ShapeError(
            f"conv2d: the bias must have one entry per output channel, shape "
            f"{kernel_shape[:1]}, got {np.shape(bias)}"
        )

    window = conv_window(kernel_shape[2:], stride, padding, dilation)
    out_hw = window.output_size(x4.shape[2:], "conv2d")
    out_shape = (x4.shape[0], kernel_shape[0]) + out_hw
    columns = x4.shape[0] * out_hw[0] * out_hw[1]
    check_output("conv2d's output", out_shape)
    # The padded copy of the input is made too: a little input with a huge padding or
    # dilation must not allocate gigabytes.
    check_output("conv2d's padded input", x4.shape[:2] + padded_size(x4.shape[2:], window, out_hw))
    check_work("conv2d", columns * math.prod(kernel_shape[1:]), columns * np.size(k))
    return x4, unbatched, window, out_hw


# The working layout is C×H×W×N in memory (batch innermost): a window's row then runs
# over W'·N contiguous numbers, so the im2col copy and the col2im adds move long runs.


def _image_rows(x4: np.ndarray, window: Window, out_hw: tuple) -> np.ndarray:
    """The padded input as a C-contiguous C×H_p×W_p×N array."""
    widths = pad_widths(x4.shape[2:], window, out_hw)
    image = x4.transpose(1, 2, 3, 0)
    if widths == [(0, 0), (0, 0)]:
        return np.ascontiguousarray(image)
    return np.pad(image, ((0, 0), *widths, (0, 0)))


def _columns(x4: np.ndarray, window: Window, out_hw: tuple) -> np.ndarray:
    """im2col: (C·K_h·K_w) × (H'·W'·N), one column per output position.

    A strided view of the padded input (no copy) lays each window out along the rows; the
    reshape into a matrix is the one copy.
    """
    image = _image_rows(x4, window, out_hw)
    c, n = image.shape[0], image.shape[3]
    sc, sh, sw, sn = image.strides
    (kh, kw), (dh, dw), (th, tw) = window.kernel, window.dilation, window.stride
    view = as_strided(
        image,
        shape=(c, kh, kw) + tuple(out_hw) + (n,),
        strides=(sc, sh * dh, sw * dw, sh * th, sw * tw, sn),
        writeable=False,
    )
    return view.reshape(c * kh * kw, out_hw[0] * out_hw[1] * n)


def _as_rows(upstream4: np.ndarray, channels: int) -> np.ndarray:
    """An N×C'×H'×W' gradient as C' × (H'·W'·N); free when laid out as conv2d's value is."""
    return upstream4.transpose(1, 2, 3, 0).reshape(channels, -1)


def _conv2d(x, k, b=None, stride=1, padding=0, dilation=1):
    x4, unbatched, window, out_hw = _geometry(x, k, b, stride, padding, dilation)
    channels = np.shape(k)[0]

    columns = _columns(x4, window, out_hw)
    out = np.reshape(k, (channels, -1)) @ columns
    if b is not None:
        out += np.reshape(b, (channels, 1))

    # C'×H'×W'×N in memory, shown as N×C'×H'×W'.
    out = out.reshape((channels,) + out_hw + (x4.shape[0],)).transpose(3, 0, 1, 2)
    # The kernel's gradient needs the same im2col matrix: keep it for the backward pass.
    return restore(out, unbatched), columns


def _conv2d_vjp(index, upstream, args, out, stride=1, padding=0, dilation=1, kept=None):
    x, k = args[0], args[1]
    b = args[2] if len(args) > 2 else None
    x4, unbatched, window, out_hw = _geometry(x, k, b, stride, padding, dilation)
    upstream4 = np.asarray(upstream)[None] if unbatched else np.asarray(upstream)
    grad_rows = _as_rows(upstream4, np.shape(k)[0])

    if index == 2:
        return grad_rows.sum(axis=1)
    if index == 1:
        columns = kept if kept is not None else _columns(x4, window, out_hw)
        grad = grad_rows @ columns.T
        return grad.reshape(np.shape(k))
    return restore(_input_grad(x4, k, grad_rows, window, out_hw), unbatched)


def _input_grad(x4, k, grad_rows, window: Window, out_hw: tuple) -> np.ndarray:
    """col2im: each column's gradient added back onto the input positions it was read from."""
    n, c = x4.shape[:2]
    kh, kw = window.kernel
    columns = np.reshape(k, (np.shape(k)[0], -1)).T @ grad_rows
    columns = columns.reshape((c, kh, kw) + tuple(out_hw) + (n,))

    # One strided add per kernel tap (K_h·K_w of them), each over every pixel at once.
    grad = np.zeros((c,) + padded_size(x4.shape[2:], window, out_hw) + (n,))
    for u, v, rows, cols in tap_slices(window, out_hw):
        grad[:, rows, cols] += columns[:, u, v]
    (top, _), (left, _) = window.padding
    height, width = x4.shape[2:]
    return grad[:, top : top + height, left : left + width].transpose(3, 0, 1, 2)


def _conv2d_explain(*args, **attrs) -> str:
    return "a product or sum inside the convolution overflows float64 (about 1.8e308)"


register(
    Op(
        name="conv2d",
        doc=(
            "2-D convolution conv2d(x, k[, b]) as in PyTorch (cross-correlation: the kernel "
            "is not flipped): x is N×C×H×W or C×H×W, k is C'×C×K_h×K_w, b has C' entries. "
            "Output size ⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1."
        ),
        arg_names=("a", "b", "c"),
        input_names=("input", "kernels", "bias"),
        symbol="conv",
        formula=(
            r"${a} \star ${b}: \; y_{c'ij} = \sum_{c,u,v} ${b}_{c'cuv} \, "
            r"${a}_{c,\, si + du - p,\; sj + dv - p} \; (+\, \text{bias}_{c'})"
        ),
        local_formulas=(
            r"${b}_{c'cuv} \text{ where tap } (u, v) \text{ lands on it, else } 0",
            r"${a}_{c,\, si + du - p,\; sj + dv - p}",
            r"1 \text{ at every position of channel } c'",
        ),
        forward=_conv2d,
        vjp=_conv2d_vjp,
        keeps=True,
        attrs=(
            Attr("stride", "ints", 1, "Step between windows: a number or [height, width]."),
            Attr(
                "padding",
                "padding",
                0,
                'Zeros added on each side: a number, [height, width], "same" or "valid".',
            ),
            Attr("dilation", "ints", 1, "Spacing between kernel taps: a number or a pair."),
        ),
        explain=_conv2d_explain,
        min_args=2,
        category="cnn",
    )
)
