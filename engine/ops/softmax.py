"""Softmax, log-softmax and the two losses: `cross_entropy` and `mse`.

Softmax is computed after subtracting the largest score along the axis (the result does not
change, and exp never sees a positive number), so logits of ±1000 give finite answers.

cross_entropy(logits, target) follows torch.nn.functional.cross_entropy. The class axis is 0
for logits (C,) and 1 for (N, C, ...). The target's shape decides what it is: the logits'
shape means probabilities (or one-hot rows); the logits' shape without the class axis means
class labels, written as whole numbers 0..C-1 (a scalar for unbatched (C,) logits).
The gradient for the target: the loss is constant between whole-number labels, so a class
label gets a zero gradient (and is normally a const with none at all); a probability target
gets its true gradient −log softmax(logits), as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from engine.errors import EngineError, ShapeError
from engine.numbers import fmt
from engine.ops import Attr, Op, register
from engine.ops.reduce import as_value, bad_attribute, normalize_axis


def _with_axes(a, axis, op: str):
    """The values with at least one axis, and `axis` as a non-negative index."""
    # PyTorch takes the softmax of a single number as one class with probability 1.
    values = np.asarray(a, dtype=np.float64).reshape(np.shape(a) or (1,))
    return values, normalize_axis(axis, values.ndim, op)


def log_softmax(a, axis: int):
    """log softmax along one axis through log-sum-exp, stable for any finite scores."""
    top = np.max(a, axis=axis, keepdims=True, initial=-np.inf)
    shifted = a - top
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax(a, axis=-1):
    values, axis = _with_axes(a, axis, "softmax")
    exps = np.exp(values - np.max(values, axis=axis, keepdims=True, initial=-np.inf))
    return (exps / np.sum(exps, axis=axis, keepdims=True)).reshape(np.shape(a))


def _softmax_vjp(index, upstream, args, out, axis=-1):
    probs, axis = _with_axes(out, axis, "softmax")
    upstream = np.reshape(upstream, probs.shape)
    grad = probs * (upstream - np.sum(upstream * probs, axis=axis, keepdims=True))
    return as_value(grad.reshape(np.shape(out)))


def _log_softmax(a, axis=-1):
    values, axis = _with_axes(a, axis, "log_softmax")
    return log_softmax(values, axis).reshape(np.shape(a))


def _log_softmax_vjp(index, upstream, args, out, axis=-1):
    logp, axis = _with_axes(out, axis, "log_softmax")
    upstream = np.reshape(upstream, logp.shape)
    grad = upstream - np.exp(logp) * np.sum(upstream, axis=axis, keepdims=True)
    return as_value(grad.reshape(np.shape(out)))


def _labels(target, classes: int) -> np.ndarray:
    """Class labels as integers, or a bad_value error naming the first bad one."""
    target = np.asarray(target, dtype=np.float64)
    whole = np.isfinite(target) & (target == np.round(target))
    inside = whole & (target >= 0) & (target < classes)
    if inside.all():
        return target.astype(np.intp)

    index = tuple(int(i) for i in np.argwhere(~inside)[0]) if target.ndim else ()
    value = target[index]
    at = f" at index {index}" if index else ""
    problem = "is out of range" if whole[index] else "is not a whole number"
    raise EngineError(
        f"cross_entropy: the class label {fmt(value)}{at} {problem}; with {classes} classes "
        f"a label is one of 0 to {classes - 1}",
        code="bad_value",
    )


def _targets(logits, target):
    """The class axis, the target as weights over the classes, and the labels (or None)."""
    shape, target_shape = np.shape(logits), np.shape(target)
    if not shape:
        raise ShapeError(
            "cross_entropy: logits of shape () have no class axis; give one score per class"
        )
    axis = 1 if len(shape) >= 2 else 0
    if target_shape == shape:
        return axis, np.asarray(target, dtype=np.float64), None

    label_shape = shape[:axis] + shape[axis + 1 :]
    if target_shape != label_shape:
        raise ShapeError(
            f"cross_entropy: logits {shape} and target {target_shape} do not fit; the target "
            f"must be class labels of shape {label_shape} or probabilities of shape {shape}"
        )

    labels = np.expand_dims(_labels(target, shape[axis]), axis)
    onehot = np.zeros(shape)
    np.put_along_axis(onehot, labels, 1.0, axis)
    return axis, onehot, labels


def _reduction(reduction, op: str) -> str:
    if reduction not in ("mean", "sum"):
        raise bad_attribute(f'{op}: reduction must be "mean" or "sum", got {reduction!r}')
    return reduction


def _reduce(losses, reduction: str):
    total = np.sum(losses)
    if reduction == "sum":
        return total

    # The mean over an empty batch is nan (0/0), as in PyTorch.
    with np.errstate(invalid="ignore"):
        return total / np.size(losses)


def _cross_entropy(logits, target, reduction="mean"):
    reduction = _reduction(reduction, "cross_entropy")
    axis, weights, labels = _targets(logits, target)
    logp = log_softmax(np.asarray(logits, dtype=np.float64), axis)

    # Picking the label's entry (rather than summing weight * logp) keeps a −∞ score of some
    # other class from turning into 0 · (−∞) = nan.
    if labels is not None:
        losses = -np.squeeze(np.take_along_axis(logp, labels, axis), axis)
    else:
        losses = -np.sum(weights * logp, axis=axis)
    return _reduce(losses, reduction)


def _cross_entropy_vjp(index, upstream, args, out, reduction="mean"):
    logits, target = args
    axis, weights, labels = _targets(logits, target)
    shape = np.shape(logits)
    losses = math.prod(shape[:axis] + shape[axis + 1 :])
    scale = upstream / losses if reduction == "mean" and losses else upstream
    logp = log_softmax(np.asarray(logits, dtype=np.float64), axis)

    if index == 0:
        probs = np.exp(logp)
        return as_value(scale * (probs * np.sum(weights, axis=axis, keepdims=True) - weights))
    if labels is not None:
        return as_value(np.zeros(np.shape(target)))
    return as_value(-scale * logp)


def _mse(a, b, reduction="mean"):
    reduction = _reduction(reduction, "mse")
    if np.shape(a) != np.shape(b):
        # PyTorch only warns here and broadcasts, which silently averages the wrong pairs.
        raise ShapeError(
            f"mse: prediction {np.shape(a)} and target {np.shape(b)} have different shapes; "
            "they must match element for element"
        )
    difference = np.subtract(a, b)
    return _reduce(difference * difference, reduction)


def _mse_vjp(index, upstream, args, out, reduction="mean"):
    difference = np.subtract(*args)
    scale = upstream / np.size(difference) if reduction == "mean" else upstream
    grad = 2.0 * difference * scale
    return as_value(grad if index == 0 else -grad)


def _loss_explain(*args, reduction="mean", **attrs) -> str:
    if reduction == "mean" and any(np.size(arg) == 0 for arg in args):
        return "the mean over an empty batch is 0/0 = nan, as in PyTorch"
    return "the loss overflows float64 (its largest number is about 1.8e308)"


def _softmax_explain(*args, **attrs) -> str:
    return "a score is so far below the largest that its probability underflows to 0"


_AXIS = Attr("axis", "int", -1, "The axis the probabilities are taken along.")
_REDUCTION = Attr(
    "reduction", "str", "mean", 'How the per-sample losses combine: "mean" or "sum".'
)

register(
    Op(
        name="softmax",
        doc="Probabilities exp(a_i) / Σ exp(a_j) along one axis, computed stably (max-shifted).",
        arg_names=("a",),
        symbol="softmax",
        formula=r"\frac{e^{{$a}_i}}{\sum_j e^{{$a}_j}}",
        local_formulas=(r"{$out}_i \, (\delta_{ij} - {$out}_j)",),
        forward=_softmax,
        vjp=_softmax_vjp,
        attrs=(_AXIS,),
        explain=_softmax_explain,
        category="tensor",
    )
)
register(
    Op(
        name="log_softmax",
        doc="log softmax along one axis, computed as a − log-sum-exp(a), stable for large scores.",
        arg_names=("a",),
        symbol="log softmax",
        formula=r"{$a}_i - \log \sum_j e^{{$a}_j}",
        local_formulas=(r"\delta_{ij} - \operatorname{softmax}($a)_j",),
        forward=_log_softmax,
        vjp=_log_softmax_vjp,
        attrs=(_AXIS,),
        explain=_softmax_explain,
        category="tensor",
    )
)
register(
    Op(
        name="cross_entropy",
        doc=(
            "cross_entropy(logits, target): −log softmax(logits) at the target class, averaged "
            "over the batch; the target is class labels or probabilities (decided by shape)."
        ),
        arg_names=("a", "b"),
        input_names=("logits", "target"),
        symbol="CE",
        formula=r"-\frac{1}{N} \sum_{n} \sum_{c} {$b}_{nc} \log \operatorname{softmax}($a)_{nc}",
        local_formulas=(
            r"\frac{1}{N} \left( \operatorname{softmax}($a) - $b \right)",
            r"-\frac{1}{N} \log \operatorname{softmax}($a) \text{ (0 for class labels)}",
        ),
        forward=_cross_entropy,
        vjp=_cross_entropy_vjp,
        attrs=(_REDUCTION,),
        explain=_loss_explain,
        category="loss",
    )
)
register(
    Op(
        name="mse",
        doc="mse(prediction, target): mean of the squared differences (or their sum).",
        arg_names=("a", "b"),
        input_names=("prediction", "target"),
        symbol="MSE",
        formula=r"\frac{1}{n} \sum_{i} ({$a}_i - {$b}_i)^2",
        local_formulas=(r"\frac{2}{n} ($a - $b)", r"-\frac{2}{n} ($a - $b)"),
        forward=_mse,
        vjp=_mse_vjp,
        attrs=(_REDUCTION,),
        explain=_loss_explain,
        category="loss",
    )
)
