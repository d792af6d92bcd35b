"""Leaves of a graph: `input` receives a gradient, `const` does not."""

from __future__ import annotations

from engine.ops import Op, register


def _no_forward(*args, **attrs):
    # Leaves carry their value on the node; the evaluator never calls this.
    raise AssertionError("a leaf has no forward function")


register(
    Op(
        name="input",
        doc="A value the student sets; the backward pass computes its gradient.",
        arg_names=(),
        symbol="",
        formula="",
        local_formulas=(),
        forward=_no_forward,
        category="leaf",
    )
)
register(
    Op(
        name="const",
        doc="A fixed value (a number in an expression, a label, a fixed kernel); no gradient.",
        arg_names=(),
        symbol="",
        formula="",
        local_formulas=(),
        forward=_no_forward,
        category="leaf",
    )
)
