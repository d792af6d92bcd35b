"""Layer geometry on plain data: output sizes, parameter counts and receptive fields.

A layer is a dict such as {"op": "conv2d", "out_channels": 6, "kernel_size": 5} and a shape is
C×H×W with the batch axis dropped. The conv and pooling ops take their window arithmetic from
here too (`Window`), so the size a page predicts is the size the engine computes.

Receptive fields follow the recurrence r_l = r_{l−1} + (k_eff − 1)·j_{l−1}, j_l = j_{l−1}·s_l,
start_l = start_{l−1} + ((k_eff − 1)/2 − p_l)·j_{l−1}, with r_0 = 1, j_0 = 1, start_0 = 0 and
k_eff = d(k − 1) + 1: the size, the step between neighbouring outputs and the centre of the first
output's field, all in input pixels. Padding moves the field; it does not change its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import EngineError, LimitError, ShapeError

AXES = ("height", "width")
AXIS_LETTERS = ("H", "W")
WINDOW_OPS = ("conv2d", "max_pool2d", "avg_pool2d")
POINTWISE_OPS = ("relu", "tanh", "sigmoid", "batch_norm")
LAYER_OPS = WINDOW_OPS + POINTWISE_OPS + ("flatten", "linear")
ALIASES = {"kernel": "kernel_size"}
_COMMON_KEYS = ("op", "name")
_LAYER_KEYS = {
    "conv2d": ("out_channels", "in_channels", "kernel_size", "stride", "padding", "dilation",
               "bias"),
    "max_pool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "avg_pool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "relu": (),
    "tanh": (),
    "sigmoid": (),
    "batch_norm": ("num_features",),
    "flatten": (),
    "linear": ("out_features", "in_features", "bias"),
}  # fmt: skip


def bad_attribute(message: str) -> EngineError:
    """An attribute value a layer or op cannot use; the message is the whole sentence."""
    return EngineError(message, code="bad_attribute")


# --- numbers of a window ---------------------------------------------------------------------


# Deliberate limits on window numbers and map sizes: far beyond any teaching network, and small
# enough that the arithmetic of one layer (a receptive-field walk, a padded copy) stays cheap.
MAXIMUM = {"kernel_size": 512, "stride": 1_000, "dilation": 1_000, "padding": 10_000,
           "size": 10_000, "out_channels": 10_000, "out_features": 100_000}  # fmt: skip


def whole(value: Any, op: str, name: str, minimum: int) -> int:
    """One whole number of at least `minimum`; 2.0 counts as 2 (JSON and sliders send floats)."""
    numeric = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not numeric or not math.isfinite(value):
        raise bad_attribute(f"{op}: {name} must be a whole number, got {value!r}")
    if not float(value).is_integer():
        raise bad_attribute(f"{op}: {name} must be a whole number, got {value!r}")
    if value < minimum:
        raise bad_attribute(f"{op}: {name} must be {minimum} or more, got {int(value)}")
    most = MAXIMUM.get(name)
    if most is not None and value > most:
        # The attribute's own name says what is limited: kernel_size, stride, padding...
        raise LimitError(
            f"{op}: {name} is {int(value):,}; the limit is {most:,}",
            what=name,
            limit=most,
            actual=int(value),
        )
    return int(value)


def as_pair(value: Any, op: str, name: str, minimum: int) -> tuple[int, int]:
    """An int or an [height, width] pair as a pair of whole numbers."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise bad_attribute(
                f"{op}: {name} is one number or a pair [height, width], got {list(value)}"
            )
        return (whole(value[0], op, name, minimum), whole(value[1], op, name, minimum))
    number = whole(value, op, name, minimum)
    return (number, number)


@dataclass(frozen=True)
class Window:
    """How a kernel slides along height and width: size, stride, padding, dilation."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]  # (before, after) per axis
    dilation: tuple[int, int] = (1, 1)
    ceil_mode: bool = False

    @property
    def span(self) -> tuple[int, int]:
        """The effective kernel size d(k − 1) + 1 per axis: what one window covers."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation, strict=True))

    def output_size(self, size: tuple[int, int], op: str) -> tuple[int, int]:
        """Output height and width for an input of `size`, or kernel_too_large."""
        return tuple(self._axis_output(axis, n, op) for axis, n in enumerate(size))

    def _axis_output(self, axis: int, n: int, op: str) -> int:
        k, s, d = self.kernel[axis], self.stride[axis], self.dilation[axis]
        before, after = self.padding[axis]
        room = n + before + after - d * (k - 1) - 1
        if not self.ceil_mode:
            out = room // s + 1
        else:
            out = -(-room // s) + 1
            # PyTorch's rule: a last window that would start inside the right padding is
            # dropped, so every window holds at least one real element.
            if out >= 1 and (out - 1) * s >= n + before:
                out -= 1
        if out < 1:
            raise self._too_large(axis, n, out, op)
        return out

    def _too_large(self, axis: int, n: int, out: int, op: str) -> EngineError:
        k, s, d = self.kernel[axis], self.stride[axis], self.dilation[axis]
        before, after = self.padding[axis]
        name, letter = AXES[axis], AXIS_LETTERS[axis]
        span, padded = d * (k - 1) + 1, n + before + after
        pad_text = f"2·{before}" if before == after else f"{before} + {after}"
        left, right = ("⌈", "⌉") if self.ceil_mode else ("⌊", "⌋")
        formula = (
            f"{left}({letter} + 2P − D(K − 1) − 1)/S{right} + 1 = "
            f"{left}({n} + {pad_text} − {d}·({k} − 1) − 1)/{s}{right} + 1 = {out}"
        )
        return EngineError(
            f"{op}: the kernel is too large for the input along the {name}: it spans {span} "
            f"pixels (dilation {d} × (kernel {k} − 1) + 1) but the padded input is only "
            f"{padded} ({n} + padding {before + after}), so the output {name} would be "
            f"{formula}; use a smaller kernel or dilation, or more padding",
            code="kernel_too_large",
            details={
                "axis": name,
                "input_size": n,
                "padding": [before, after],
                "kernel_size": k,
                "dilation": d,
                "stride": s,
                "effective_kernel": span,
                "padded_size": padded,
                "output_size": out,
            },
        )

    def receptive_step(self, axis: int) -> tuple[int, int, int]:
        """(k_eff, stride, padding before) along one axis, for the receptive-field recurrence."""
        return self.span[axis], self.stride[axis], self.padding[axis][0]


def conv_window(
    kernel: tuple[int, int], stride: Any = 1, padding: Any = 0, dilation: Any = 1, op="conv2d"
) -> Window:
    """The window of a convolution; padding is a number, a pair, "same" or "valid"."""
    strides = as_pair(stride, op, "stride", 1)
    dilations = as_pair(dilation, op, "dilation", 1)
    if isinstance(padding, str):
        return Window(kernel, strides, _named_padding(padding, kernel, strides, dilations, op),
                      dilations)  # fmt: skip
    pads = as_pair(padding, op, "padding", 0)
    return Window(kernel, strides, ((pads[0], pads[0]), (pads[1], pads[1])), dilations)


def _named_padding(name: str, kernel, strides, dilations, op: str):
    if name == "valid":
        return ((0, 0), (0, 0))
    if name != "same":
        raise bad_attribute(
            f'{op}: padding is a number, a pair [height, width], "same" or "valid", got {name!r}'
        )
    if strides != (1, 1):
        raise bad_attribute(
            f'{op}: padding="same" needs stride 1 (got stride {list(strides)}): with a larger '
            f"stride the output cannot have the input's size; give the padding as a number"
        )
    # Total padding d(k − 1) keeps the size; an odd total puts the extra pixel after, as
    # PyTorch does.
    totals = [d * (k - 1) for k, d in zip(kernel, dilations, strict=True)]
    return tuple((total // 2, total - total // 2) for total in totals)


def pool_window(
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: Any = False,
    op: str = "max_pool2d",
) -> Window:
    """The window of a pooling layer; the stride defaults to the kernel size."""
    if kernel_size is None:
        raise bad_attribute(f"{op}: kernel_size is required, as in {op}(x, kernel_size=2)")
    kernel = as_pair(kernel_size, op, "kernel_size", 1)
    strides = kernel if stride is None else as_pair(stride, op, "stride", 1)
    pads = as_pair(padding, op, "padding", 0)
    for k, p in zip(kernel, pads, strict=True):
        # PyTorch's check. It keeps windows off pure padding, except where dilation steps
        # over the whole input (max_pool2d then gives −∞, as PyTorch does).
        if p > k // 2:
            raise bad_attribute(
                f"{op}: padding {p} is more than half the kernel size {k}; pooling allows "
                f"padding up to {k // 2} for that kernel"
            )
    if not isinstance(ceil_mode, bool | np.bool_):
        raise bad_attribute(f"{op}: ceil_mode must be true or false, got {ceil_mode!r}")
    dilations = as_pair(dilation, op, "dilation", 1)
    return Window(kernel, strides, tuple((p, p) for p in pads), dilations, bool(ceil_mode))


# --- layers as plain data --------------------------------------------------------------------


def _checked(layer: dict) -> tuple[str, dict]:
    """The layer's op and its keys with aliases resolved; unknown ops and keys are errors."""
    op = layer.get("op") if isinstance(layer, dict) else None
    if isinstance(layer, dict) and op is None:
        raise EngineError(
            f"a layer needs an op, one of: {', '.join(LAYER_OPS)}; this one has only "
            f"{', '.join(sorted(map(str, layer))) or 'no keys'}",
            code="unknown_layer",
        )
    if not isinstance(op, str) or op not in _LAYER_KEYS:
        shown = repr(op if isinstance(layer, dict) else layer)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise EngineError(
            f"unknown layer {shown}; the layers are: {', '.join(LAYER_OPS)}",
            code="unknown_layer",
        )
    op = layer["op"]
    keys: dict = {}
    for key, value in layer.items():
        name = ALIASES.get(key, key)
        if name not in _LAYER_KEYS[op] and name not in _COMMON_KEYS:
            allowed = ", ".join(_LAYER_KEYS[op]) or "none"
            raise EngineError(
                f"{op}: a layer has no attribute {key!r} (it has: {allowed})",
                code="unknown_attribute",
            )
        if name in keys:
            raise bad_attribute(f"{op}: {name} is given twice (as {key!r} and {name!r})")
        keys[name] = value
    return op, keys


def layer_window(layer: dict) -> Window | None:
    """The sliding window of a conv or pooling layer; None for other layers."""
    op, keys = _checked(layer)
    if op == "conv2d":
        if keys.get("kernel_size") is None:
            raise bad_attribute("conv2d: kernel_size is required in a layer description")
        kernel = as_pair(keys["kernel_size"], op, "kernel_size", 1)
        return conv_window(kernel, keys.get("stride", 1), keys.get("padding", 0),
                           keys.get("dilation", 1), op)  # fmt: skip
    if op in ("max_pool2d", "avg_pool2d"):
        return pool_window(
            keys.get("kernel_size"),
            keys.get("stride"),
            keys.get("padding", 0),
            keys.get("dilation", 1),
            keys.get("ceil_mode", False),
            op,
        )
    return None


def _image(shape: tuple, op: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(f"{op}: needs a C×H×W input (batch axis dropped), got shape {shape}")
    return shape


def _shape(input_shape: Any) -> tuple[int, ...]:
    """A shape given as plain data, as a tuple of sizes; anything else is a ShapeError."""
    if not isinstance(input_shape, list | tuple):
        raise ShapeError(f"a shape is a list of sizes such as [1, 32, 32], got {input_shape!r}")
    sizes = []
    for size in input_shape:
        numeric = isinstance(size, int | float | np.integer | np.floating)
        if isinstance(size, bool) or not numeric or not float(size).is_integer() or size < 0:
            raise ShapeError(f"the shape {list(input_shape)} holds {size!r}, not a size")
        if size > MAXIMUM["size"]:
            raise LimitError(
                f"the shape {list(input_shape)} has a size above the limit of {MAXIMUM['size']:,}",
                what="axis_size",
                limit=MAXIMUM["size"],
                actual=int(size),
            )
        sizes.append(int(size))
    return tuple(sizes)


def output_shape(layer: dict, input_shape: tuple) -> tuple:
    """The output shape of one layer for an input of `input_shape` (batch axis dropped)."""
    op, keys = _checked(layer)
    shape = _shape(input_shape)
    window = layer_window(layer)
    if window is not None:
        channels, height, width = _image(shape, op)
        _check_in(keys, "in_channels", channels, op, shape)
        if op == "conv2d":
            channels = whole(keys.get("out_channels", channels), op, "out_channels", 1)
        return (channels,) + window.output_size((height, width), op)
    if op == "flatten":
        return (math.prod(shape),)
    if op == "linear":
        if not shape:
            raise ShapeError("linear: the input has no axis to act on; flatten first")
        _check_in(keys, "in_features", shape[-1], op, shape)
        return shape[:-1] + (whole(keys.get("out_features"), op, "out_features", 1),)
    if op == "batch_norm":
        _check_in(keys, "num_features", shape[0] if shape else None, op, shape)
    return shape


def _check_in(keys: dict, name: str, actual, op: str, shape: tuple) -> None:
    if keys.get(name) is not None and keys[name] != actual:
        raise ShapeError(
            f"{op}: {name} is {keys[name]} but the input of shape {shape} has {actual}"
        )


def parameter_count(layer: dict, input_shape: tuple) -> int:
    """Learned numbers in one layer: weights plus biases (pooling and activations have none)."""
    op, keys = _checked(layer)
    shape = _shape(input_shape)
    out = output_shape(layer, shape)
    bias = keys.get("bias", True)
    if not isinstance(bias, bool):
        raise bad_attribute(f"{op}: bias must be true or false, got {bias!r}")
    if op == "conv2d":
        kernel = as_pair(keys["kernel_size"], op, "kernel_size", 1)
        return out[0] * shape[0] * kernel[0] * kernel[1] + (out[0] if bias else 0)
    if op == "linear":
        return shape[-1] * out[-1] + (out[-1] if bias else 0)
    if op == "batch_norm":
        # gamma and beta per channel; the running statistics are buffers, not parameters.
        return 2 * shape[0]
    return 0


def describe_stack(layers: list[dict], input_shape: tuple) -> dict:
    """Every layer's name, op, output shape and parameter count, plus the total."""
    shape = _shape(input_shape)
    rows = []
    for position, layer in enumerate(layers, start=1):
        op, _ = _checked(layer)
        params = parameter_count(layer, shape)
        shape = output_shape(layer, shape)
        rows.append(
            {
                "name": layer.get("name") or f"{op}_{position}",
                "op": op,
                "output_shape": shape,
                "params": params,
            }
        )
    return {
        "input_shape": _shape(input_shape),
        "layers": rows,
        "total_params": sum(row["params"] for row in rows),
    }


# --- receptive fields ------------------------------------------------------------------------


def _same_or_pair(values: list) -> Any:
    """One number when height and width agree, else [height, width]."""
    return values[0] if values[0] == values[1] else list(values)


def _steps(layers: list[dict], input_shape: tuple | None):
    """Per layer: its name, op and (k_eff, stride, padding before) for each axis.

    A linear layer sees its whole input, so it acts as a kernel as large as the map before
    it (this needs input_shape); flatten and pointwise layers change no geometry.
    """
    size = tuple(input_shape[1:]) if input_shape is not None else None
    for position, layer in enumerate(layers, start=1):
        op, _ = _checked(layer)
        name = layer.get("name") or f"{op}_{position}"
        window = layer_window(layer)
        if window is not None:
            steps = [window.receptive_step(axis) for axis in (0, 1)]
            if size is not None:
                size = window.output_size(size, op)
        elif op == "linear":
            if size is None:
                raise bad_attribute(
                    "linear: its receptive field is the whole map before it; give input_shape"
                )
            steps = [(n, 1, 0) for n in size]
            size = (1, 1)
        else:
            steps = [(1, 1, 0), (1, 1, 0)]
        yield name, op, steps


def receptive_fields(layers: list[dict], input_shape: tuple | None = None) -> list[dict]:
    """Receptive field size, jump and start of the first output after every layer."""
    if input_shape is not None:
        input_shape = _image(_shape(input_shape), "receptive_fields")
    rf, jump, start = [1, 1], [1, 1], [0.0, 0.0]
    rows = []
    for name, op, steps in _steps(layers, input_shape):
        for axis, (k_eff, stride, before) in enumerate(steps):
            start[axis] += ((k_eff - 1) / 2 - before) * jump[axis]
            rf[axis] += (k_eff - 1) * jump[axis]
            jump[axis] *= stride
        shown_start = [int(s) if float(s).is_integer() else s for s in start]
        rows.append(
            {
                "layer": name,
                "op": op,
                "rf": _same_or_pair(rf),
                "jump": _same_or_pair(jump),
                "start": _same_or_pair(shown_start),
            }
        )
    return rows


def receptive_box(layers: list[dict], position: tuple[int, int], input_shape: tuple) -> list[dict]:
    """For one output position of the last layer, the box it depends on in every map.

    The first entry is the input, the last the output map itself. `rows` and `cols` are the
    first and last index it depends on, inside the real (unpadded) map (None when it reads
    only padding, as a 1×1 kernel at padding 1 does in a corner); `extent_rows` and
    `extent_cols` the same before clipping, padding included (their length is the receptive
    field); `count` how many positions it depends on (dilation and stride leave holes).
    """
    shape = _image(_shape(input_shape), "receptive_box")
    maps = [("input", "input", None, shape[1:])]
    for index, layer in enumerate(layers, start=1):
        op, _ = _checked(layer)
        if op in ("flatten", "linear"):
            raise bad_attribute(
                f"receptive_box: {op} has no rows and columns; list the spatial layers only"
            )
        window = layer_window(layer)
        size = window.output_size(maps[-1][3], op) if window else maps[-1][3]
        maps.append((layer.get("name") or f"{op}_{index}", op, window, size))

    position = as_pair(position, "receptive_box", "position", 0)
    per_axis = [_backtrack(maps, axis, position[axis]) for axis in (0, 1)]
    boxes = []
    for depth, (name, op, _, size) in enumerate(maps):
        rows, extent_rows, row_count = per_axis[0][depth]
        cols, extent_cols, col_count = per_axis[1][depth]
        empty = row_count * col_count == 0
        boxes.append(
            {
                "layer": name,
                "op": op,
                "shape": size,
                "rows": None if empty else rows,
                "cols": None if empty else cols,
                "extent_rows": extent_rows,
                "extent_cols": extent_cols,
                "count": row_count * col_count,
            }
        )
    return boxes


def _backtrack(maps: list, axis: int, index: int) -> list:
    """Along one axis, from the last map back to the input: (box, extent, count) per map.

    The exact set of indices is carried, not just its ends: with dilation the nearest real
    index to a border may come from an inner position, and stride leaves gaps.
    """
    last = maps[-1][3][axis]
    if not 0 <= index < last:
        raise bad_attribute(
            f"receptive_box: position {index} is outside the output {AXES[axis]} 0..{last - 1}"
        )
    exact = np.array([index])
    low = high = index
    found = [None] * len(maps)
    found[-1] = ([index, index], [index, index], 1)
    for depth in range(len(maps) - 1, 0, -1):
        window, size = maps[depth][2], maps[depth - 1][3][axis]
        if window is not None:
            k_eff, stride, before = window.receptive_step(axis)
            taps = np.arange(window.kernel[axis]) * window.dilation[axis]
            reached = (exact[:, None] * stride - before + taps[None, :]).ravel()
            exact = np.unique(reached[(reached >= 0) & (reached < size)])
            low, high = low * stride - before, high * stride - before + k_eff - 1
        # A position that reads nothing but padding depends on no position at all.
        box = [int(exact[0]), int(exact[-1])] if exact.size else None
        found[depth - 1] = (box, [low, high], int(exact.size))
    return found


def unvisited(layer: dict, input_size: int | tuple[int, int]) -> dict:
    """Input rows and columns no window of a conv or pooling layer ever reads."""
    op, _ = _checked(layer)
    window = layer_window(layer)
    if window is None:
        return {"rows": [], "cols": []}
    size = as_pair(input_size, op, "input_size", 1)
    out = window.output_size(size, op)
    found = []
    for axis in (0, 1):
        _, stride, before = window.receptive_step(axis)
        taps = np.arange(window.kernel[axis]) * window.dilation[axis]
        read = (np.arange(out[axis])[:, None] * stride - before + taps[None, :]).ravel()
        found.append(sorted(set(range(size[axis])) - {int(i) for i in read}))
    return {"rows": found[0], "cols": found[1]}
