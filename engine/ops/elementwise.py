"""Elementwise ops. Each gives its forward and one partial derivative per input.

The same definitions serve scalars (0-d values) and tensors with numpy broadcasting: the
evaluator multiplies the upstream gradient by the partial and sums broadcast axes back.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from engine.numbers import ONE, fmt
from engine.ops import Op, register


def elementwise(
    name, doc, args, symbol, formula, local_formulas, forward, partials, explain, vjp=None,
    constant=None, masks=None,
):  # fmt: skip
    """Register an elementwise op; `partials[i](*inputs, out)` is d out / d input i.

    `vjp`, when given, computes the same downstream gradient for tensors in fewer passes.
    """
    return register(
        Op(
            name=name,
            doc=doc,
            arg_names=args,
            symbol=symbol,
            formula=formula,
            local_formulas=local_formulas,
            forward=forward,
            partials=partials,
            explain=explain,
            vjp=vjp,
            constant_partials=constant,
            masks=masks,
        )
    )


def _tanh_vjp(index, upstream, args, out):
    # upstream · (1 − out²), with one temporary instead of three.
    grad = np.multiply(out, out)
    np.subtract(1.0, grad, out=grad)
    grad *= upstream
    return grad


def _relu_vjp(index, upstream, args, out):
    return np.where(args[0] > 0, upstream, 0.0)


def _one(*inputs_and_out):
    return ONE


def _minus_one(*inputs_and_out):
    return -ONE


elementwise(
    "add", "Sum of two values.", ("a", "b"), "+", "$a + $b", ("1", "1"),
    forward=operator.add,
    partials=(_one, _one),
    constant=(ONE, ONE),
    explain=lambda a, b: f"{fmt(a)} + {fmt(b)} has no finite value",
)  # fmt: skip
elementwise(
    "sub", "Difference of two values.", ("a", "b"), "−", "$a - $b", ("1", "-1"),
    forward=operator.sub,
    partials=(_one, _minus_one),
    constant=(ONE, -ONE),
    explain=lambda a, b: f"{fmt(a)} − {fmt(b)} has no finite value",
)  # fmt: skip
elementwise(
    "mul", "Product of two values.", ("a", "b"), "×", r"$a \cdot $b", ("$b", "$a"),
    forward=operator.mul,
    partials=(lambda a, b, out: b, lambda a, b, out: a),
    explain=lambda a, b: f"{fmt(a)} × {fmt(b)} has no finite value",
)  # fmt: skip


def _div_explain(a, b) -> str:
    if b == 0:
        return f"division by zero: {fmt(a)} / 0"
    return f"{fmt(a)} / {fmt(b)} has no finite value"


elementwise(
    "div", "Quotient of two values.", ("a", "b"), "÷", r"\frac{$a}{$b}",
    (r"\frac{1}{$b}", r"-\frac{$a}{$b^2}"),
    forward=operator.truediv,
    # -(a/b)/b, not -a/b²: b² overflows or underflows long before the quotient does.
    partials=(lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b),
    explain=_div_explain,
)  # fmt: skip
elementwise(
    "neg", "Negation.", ("a",), "−x", "-$a", ("-1",),
    forward=operator.neg,
    partials=(_minus_one,),
    constant=(-ONE,),
    explain=lambda a: f"−{fmt(a)} has no finite value",
)  # fmt: skip
elementwise(
    "reciprocal", "One over the value, 1/x (a block of the course's sigmoid figure).",
    ("a",), "1/x", r"\frac{1}{$a}", (r"-\frac{1}{$a^2}",),
    forward=lambda a: 1.0 / a,
    partials=(lambda a, out: -(out * out),),
    explain=lambda a: "division by zero: 1 / 0" if a == 0 else f"1 / {fmt(a)} is not finite",
)  # fmt: skip


def _pow_partial_base(a, b, out):
    # NOTE: b * a**(b-1) is 0 * inf = nan at a = 0, b = 0; PyTorch defines it as 0.
    return np.where(b == 0, 0.0, b * a ** (b - 1.0))[()]


def _pow_partial_exponent(a, b, out):
    # NOTE: out * log(a) is 0 * -inf = nan at a = 0; PyTorch defines it as 0 when b >= 0.
    return np.where((a == 0) & (b >= 0), 0.0, out * np.log(a))[()]


def _pow_explain(a, b) -> str:
    if a == 0 and b < 0:
        return f"0 to the negative power {fmt(b)} is a division by zero"
    if a < 0 and b != np.floor(b):
        return f"a negative base {fmt(a)} to the non-integer power {fmt(b)} is not a real number"
    return f"{fmt(a)} ** {fmt(b)} overflows"


elementwise(
    "pow", "Power a**b; the exponent may be a number or a variable.", ("a", "b"), "xʸ",
    "{$a}^{$b}", (r"$b \, {$a}^{$b - 1}", r"{$a}^{$b} \ln $a"),
    forward=lambda a, b: a**b,
    partials=(_pow_partial_base, _pow_partial_exponent),
    # Only the base: at a = 0 PyTorch multiplies the exponent's 0 by the upstream gradient.
    masks=(lambda a, b, out: b == 0, None),
    explain=_pow_explain,
)  # fmt: skip
elementwise(
    "exp", "Exponential.", ("a",), "exp", "e^{$a}", ("e^{$a}",),
    forward=np.exp,
    partials=(lambda a, out: out,),
    explain=lambda a: f"exp({fmt(a)}) overflows (float64 ends near exp(709.8))",
)  # fmt: skip


def _log_explain(a) -> str:
    if a == 0:
        return "log of 0 is −∞"
    if a < 0:
        return f"log of {fmt(a)} is not a real number"
    return f"log({fmt(a)}) is not finite"


elementwise(
    "log", "Natural logarithm.", ("a",), "log", r"\ln $a", (r"\frac{1}{$a}",),
    forward=np.log,
    partials=(lambda a, out: 1.0 / a,),
    explain=_log_explain,
)  # fmt: skip
elementwise(
    "sqrt", "Square root.", ("a",), "√", r"\sqrt{$a}", (r"\frac{1}{2\sqrt{$a}}",),
    forward=np.sqrt,
    partials=(lambda a, out: 0.5 / out,),
    explain=lambda a: f"square root of {fmt(a)} is not a real number",
)  # fmt: skip
elementwise(
    "abs", "Absolute value; its derivative at 0 is taken as 0, as PyTorch does.", ("a",),
    "|x|", r"\lvert $a \rvert", (r"\operatorname{sign}($a)",),
    forward=np.abs,
    partials=(lambda a, out: np.sign(a),),
    explain=lambda a: f"|{fmt(a)}| is not finite",
)  # fmt: skip
elementwise(
    "tanh", "Hyperbolic tangent.", ("a",), "tanh", r"\tanh $a", (r"1 - \tanh^2 $a",),
    forward=np.tanh,
    partials=(lambda a, out: 1.0 - out * out,),
    vjp=_tanh_vjp,
    explain=lambda a: f"tanh({fmt(a)}) is not finite",
)  # fmt: skip


def _sigmoid(a):
    # Stable for large |a|: exp is only ever taken of a non-positive number.
    if type(a) is np.float64:
        # A scalar through math is several times faster than through numpy's ufuncs.
        small = math.exp(-abs(a))
        return np.float64(1.0 / (1.0 + small) if a >= 0 else small / (1.0 + small))
    small = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + small), small / (1.0 + small))[()]


elementwise(
    "sigmoid", "Logistic sigmoid 1/(1+e^-x), as one fused block; local gradient σ(1−σ).",
    ("a",), "σ", r"\sigma($a)", (r"\sigma($a)\,(1 - \sigma($a))",),
    forward=_sigmoid,
    partials=(lambda a, out: out * (1.0 - out),),
    explain=lambda a: f"sigmoid({fmt(a)}) is not finite",
)  # fmt: skip
elementwise(
    "relu", "Rectified linear unit max(0, x); its derivative at 0 is 0, as in PyTorch.",
    ("a",), "relu", r"\max(0, $a)", (r"\mathbb{1}[$a > 0]",),
    forward=lambda a: np.maximum(a, 0.0),
    partials=(lambda a, out: (a > 0) * ONE,),
    masks=(lambda a, out: a <= 0,),
    vjp=_relu_vjp,
    explain=lambda a: f"relu({fmt(a)}) is not finite",
)  # fmt: skip


def _tie_split(mine, other, wins):
    # NOTE: at a tie PyTorch's maximum/minimum give each side half the gradient.
    return np.where(mine == other, 0.5, wins.astype(np.float64))[()]


elementwise(
    "max", "The larger of two values; a tie splits the gradient half and half, as PyTorch.",
    ("a", "b"), "max", r"\max($a, $b)", (r"\mathbb{1}[$a > $b]", r"\mathbb{1}[$b > $a]"),
    forward=np.maximum,
    partials=(
        lambda a, b, out: _tie_split(a, b, np.greater(a, b)),
        lambda a, b, out: _tie_split(b, a, np.greater(b, a)),
    ),
    masks=(lambda a, b, out: a < b, lambda a, b, out: b < a),
    explain=lambda a, b: f"max({fmt(a)}, {fmt(b)}) is not finite",
)  # fmt: skip
elementwise(
    "min", "The smaller of two values; a tie splits the gradient half and half, as PyTorch.",
    ("a", "b"), "min", r"\min($a, $b)", (r"\mathbb{1}[$a < $b]", r"\mathbb{1}[$b < $a]"),
    forward=np.minimum,
    partials=(
        lambda a, b, out: _tie_split(a, b, np.less(a, b)),
        lambda a, b, out: _tie_split(b, a, np.less(b, a)),
    ),
    masks=(lambda a, b, out: a > b, lambda a, b, out: b > a),
    explain=lambda a, b: f"min({fmt(a)}, {fmt(b)}) is not finite",
)  # fmt: skip
