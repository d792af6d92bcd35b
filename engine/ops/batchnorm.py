"""Batch normalization `batch_norm(x, gamma, beta[, running_mean, running_var])`, as PyTorch's.

Axis 1 holds the channels (features): an N×C batch is normalised over N per feature, an
N×C×H×W batch over N, H and W per channel. In training mode the batch's own mean and BIASED
variance normalise it, and the running statistics move towards the batch's mean and UNBIASED
variance: running = (1 − momentum)·running + momentum·batch. Missing running statistics start
at zeros and ones. In eval mode (training=False) the running statistics normalise instead.

The updated running statistics are not the op's value; `aux` hands them to the caller.
"""

from __future__ import annotations

import numpy as np

from engine.errors import EngineError, ShapeError
from engine.ops import Attr, Op, register
from engine.ops.reduce import as_value

ARG_NAMES = ("x", "gamma", "beta", "running_mean", "running_var")


def _bad(message: str) -> EngineError:
    return EngineError(message, code="bad_attribute")


def _settings(training, eps, momentum) -> tuple[bool, float, float]:
    if not isinstance(training, bool | np.bool_):
        raise _bad(f"batch_norm: training must be true or false, got {training!r}")
    for name, value in (("eps", eps), ("momentum", momentum)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise _bad(f"batch_norm: {name} must be a number, got {value!r}")
    if not eps >= 0:
        raise _bad(f"batch_norm: eps must be 0 or more, got {eps!r}")
    if not 0 <= momentum <= 1:
        raise _bad(f"batch_norm: momentum must be between 0 and 1, got {momentum!r}")
    return bool(training), float(eps), float(momentum)


def _layout(args) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The reduced axes, the shape a per-channel vector broadcasts as, and values per channel."""
    shape = np.shape(args[0])
    if len(shape) < 2:
        raise ShapeError(
            f"batch_norm: the input must be N×C or N×C×H×W (channels on axis 1), got {shape}"
        )
    channels = shape[1]
    for name, value in zip(ARG_NAMES[1:], args[1:], strict=False):
        if np.shape(value) != (channels,):
            raise ShapeError(
                f"batch_norm: {name} must have one entry per channel, shape ({channels},), "
                f"for the input {shape}; got {np.shape(value)}"
            )
    axes = (0,) + tuple(range(2, len(shape)))
    per_channel = int(np.prod(shape)) // channels if channels else 0
    return axes, (1, channels) + (1,) * (len(shape) - 2), per_channel


def _running(args, channels: int) -> tuple[np.ndarray, np.ndarray]:
    mean = args[3] if len(args) > 3 else np.zeros(channels)
    var = args[4] if len(args) > 4 else np.ones(channels)
    return np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)


def _statistics(args, training: bool, eps: float):
    """Per channel: the mean and variance used, 1/sqrt(var + eps), and the normalised x."""
    x = np.asarray(args[0], dtype=np.float64)
    axes, column, per_channel = _layout(args)
    if training:
        if per_channel <= 1:
            raise EngineError(
                f"batch_norm: in training mode each channel needs more than one value to have "
                f"a variance, but the input {np.shape(x)} gives each channel {per_channel}; "
                f"use a batch of 2 or more, or training=False to use the running statistics",
                code="batch_too_small",
            )
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        # The BIASED variance (divide by the count) normalises, as in PyTorch.
        var = np.mean(centered * centered, axis=axes, keepdims=True)
    else:
        running_mean, running_var = _running(args, x.shape[1])
        mean, var = running_mean.reshape(column), running_var.reshape(column)
        centered = x - mean
    inv_std = 1.0 / np.sqrt(var + eps)
    return axes, column, mean, var, inv_std, centered * inv_std


def _batch_norm(*args, training=True, eps=1e-5, momentum=0.1):
    training, eps, _ = _settings(training, eps, momentum)
    _, column, _, _, _, normalized = _statistics(args, training, eps)
    gamma, beta = np.reshape(args[1], column), np.reshape(args[2], column)
    return gamma * normalized + beta


def _batch_norm_vjp(index, upstream, args, out, training=True, eps=1e-5, momentum=0.1):
    training, eps, _ = _settings(training, eps, momentum)
    axes, column, _, _, inv_std, normalized = _statistics(args, training, eps)
    upstream = np.asarray(upstream, dtype=np.float64)

    if index == 1:
        return as_value(np.sum(upstream * normalized, axis=axes))
    if index == 2:
        return as_value(np.sum(upstream, axis=axes))
    if index >= 3:
        # The running statistics are buffers, not learned: like PyTorch, they get no gradient
        # (even in eval mode, where the value does depend on them).
        return as_value(np.zeros(np.shape(args[index])))

    scale = np.reshape(args[1], column) * inv_std
    if not training:
        return as_value(upstream * scale)
    # The batch's mean and variance depend on every x too, which takes out the upstream's
    # mean and its component along the normalised values.
    mean_upstream = upstream.mean(axis=axes, keepdims=True)
    along = np.mean(upstream * normalized, axis=axes, keepdims=True)
    return as_value(scale * (upstream - mean_upstream - normalized * along))


def _batch_norm_aux(*args_and_out, training=True, eps=1e-5, momentum=0.1) -> dict:
    """The running statistics after this pass (unchanged in eval mode) and the batch's own."""
    args = args_and_out[:-1]
    training, eps, momentum = _settings(training, eps, momentum)
    running_mean, running_var = _running(args, np.shape(args[0])[1])
    if not training:
        return {"running_mean": running_mean, "running_var": running_var}

    axes, _, mean, var, _, _ = _statistics(args, training, eps)
    per_channel = _layout(args)[2]
    mean, var = mean.ravel(), var.ravel()
    # The running variance is updated with the UNBIASED variance (divide by count − 1).
    unbiased = var * per_channel / (per_channel - 1)
    return {
        "running_mean": (1.0 - momentum) * running_mean + momentum * mean,
        "running_var": (1.0 - momentum) * running_var + momentum * unbiased,
        "batch_mean": mean,
        "batch_var": var,
    }


def _batch_norm_explain(*args, training=True, eps=1e-5, momentum=0.1) -> str:
    if eps == 0:
        return "a channel's variance is 0 and eps is 0, so normalising divides by zero"
    return "the input or a statistic is too large for float64 (about 1.8e308)"


register(
    Op(
        name="batch_norm",
        doc=(
            "Batch normalization over axis 1's channels: (x − mean)/sqrt(var + eps)·gamma + "
            "beta, with the batch's biased variance in training mode and the running "
            "statistics (optional inputs 4 and 5, default 0 and 1; give them as consts) in "
            "eval mode. The running statistics get no gradient."
        ),
        arg_names=("a", "b", "c", "d", "e"),
        input_names=("input", "gamma", "beta", "running_mean", "running_var"),
        symbol="BN",
        formula=r"${b} \, \frac{${a} - \mu}{\sqrt{\sigma^2 + \epsilon}} + ${c}",
        local_formulas=(
            r"\frac{${b}}{\sqrt{\sigma^2 + \epsilon}} \left(\delta_{ij} - \frac{1}{m} - "
            r"\frac{\hat{x}_i \hat{x}_j}{m}\right) \text{ (training; eval: } "
            r"\frac{${b}}{\sqrt{\sigma^2 + \epsilon}})",
            r"\hat{x} = \frac{${a} - \mu}{\sqrt{\sigma^2 + \epsilon}}",
            r"1",
            r"0 \text{ (a running statistic is not learned)}",
            r"0 \text{ (a running statistic is not learned)}",
        ),
        forward=_batch_norm,
        vjp=_batch_norm_vjp,
        attrs=(
            Attr("training", "bool", True, "Normalise with the batch's statistics."),
            Attr("eps", "float", 1e-5, "Added to the variance before the square root."),
            Attr("momentum", "float", 0.1, "Weight of this batch in the running statistics."),
        ),
        explain=_batch_norm_explain,
        min_args=3,
        category="cnn",
        aux=_batch_norm_aux,
    )
)
