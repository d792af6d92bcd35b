"""A small symbolic differentiator over a graph's scalar ops, to measure expression swell.

Symbolic differentiation writes the derivative out as a formula. Written out without sharing
(every use of a subexpression copied in full, as a formula on paper is), the derivative of a
deep composition grows much faster than the graph: the logistic map f = 4·f·(1 − f) nested
k times has a derivative whose written size grows about like k·2^k, while reverse-mode
autodiff needs a fixed handful of values per node.

The differentiator keeps only local constant folding (0·u = 0, 1·u = u, u + 0 = u and numbers
combined into one number), which tidies the formula without changing how it grows. Formulas
are built as a DAG of shared Python objects so that depth 12 costs nothing to build, and each
node knows its `size`: the number of nodes it would have written out as a tree. `nodes` counts
the distinct nodes instead, which is the size with common subexpressions shared.

`PARTIAL_RULES` holds, for every elementwise op, each local derivative d out / d input written
with the engine's own ops; engine/hessian.py uses the same table to build a gradient graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.errors import EngineError
from engine.graph import Graph
from engine.ops import OPS

# A local derivative that is piecewise constant (relu's step, abs's sign, max's pick): it is
# taken as the number the op's own partial gives at the point, and its own derivative is zero
# wherever it exists.
FROZEN = "frozen"

# d out / d input_i for each elementwise op. "a" and "b" are the op's inputs, "out" is the
# node itself, numbers are constants, and (op, *args) applies an engine op.
PARTIAL_RULES: dict[str, tuple] = {
    "add": (1, 1),
    "sub": (1, -1),
    "mul": ("b", "a"),
    "div": (("reciprocal", "b"), ("neg", ("div", "a", ("mul", "b", "b")))),
    "neg": (-1,),
    "reciprocal": (("neg", ("mul", "out", "out")),),
    "pow": (("mul", "b", ("pow", "a", ("sub", "b", 1))), ("mul", "out", ("log", "a"))),
    "exp": ("out",),
    "log": (("reciprocal", "a"),),
    "sqrt": (("div", 0.5, "out"),),
    "abs": (FROZEN,),
    "tanh": (("sub", 1, ("mul", "out", "out")),),
    "sigmoid": (("mul", "out", ("sub", 1, "out")),),
    "relu": (FROZEN,),
    "max": (FROZEN, FROZEN),
    "min": (FROZEN, FROZEN),
}


@dataclass(eq=False, slots=True)
class Expr:
    """One node of a formula: a number, a variable, or an op applied to formulas."""

    op: str  # "num", "var", an engine op name, or "d<op>/d<arg>" for a frozen partial
    args: tuple[Expr, ...] = ()
    number: float = 0.0
    name: str = ""
    size: int = field(init=False, default=1)

    def __post_init__(self) -> None:
        # The written-out size is known from the children's, so it costs O(1) to keep.
        self.size = 1 + sum(arg.size for arg in self.args)

    def is_number(self, number: float | None = None) -> bool:
        """True for a number node (and, when given, for that number)."""
        return self.op == "num" and (number is None or self.number == number)


def num(number: float) -> Expr:
    """A number node."""
    return Expr("num", number=float(number))


def var(name: str) -> Expr:
    """A variable node."""
    return Expr("var", name=name)


def apply(op: str, *args: Expr) -> Expr:
    """An op applied to formulas, with the local constant folding described above."""
    if all(arg.op == "num" for arg in args) and op in OPS:
        with np.errstate(all="ignore"):
            return num(float(OPS[op].forward(*(np.float64(a.number) for a in args))))

    folded = _fold(op, args)
    return folded if folded is not None else Expr(op, tuple(args))


def _fold(op: str, args: tuple[Expr, ...]) -> Expr | None:
    """The identities that only remove zeros and ones; None when none applies."""
    if op == "mul":
        a, b = args
        if a.is_number(0) or b.is_number(0):
            return num(0)
        if a.is_number(1):
            return b
        if b.is_number(1):
            return a
    elif op == "add":
        a, b = args
        if a.is_number(0):
            return b
        if b.is_number(0):
            return a
    elif op == "sub":
        a, b = args
        if b.is_number(0):
            return a
        if a.is_number(0):
            return apply("neg", b)
    elif op == "div":
        a, b = args
        if a.is_number(0):
            return num(0)
        if b.is_number(1):
            return a
    return None


def instantiate(template, names: dict[str, Expr], op: str, index: int) -> Expr:
    """A rule of PARTIAL_RULES as a formula, with "a", "b" and "out" replaced."""
    if template == FROZEN:
        arg_names = OPS[op].arg_names
        return Expr(f"d{op}/d{arg_names[index]}", tuple(names[n] for n in arg_names))
    if isinstance(template, str):
        return names[template]
    if isinstance(template, int | float):
        return num(template)
    head, *rest = template
    return apply(head, *(instantiate(part, names, op, index) for part in rest))


@dataclass
class Derivative:
    """The formulas of a graph's output and of its derivative with respect to one input."""

    function: Expr
    derivative: Expr

    @property
    def function_size(self) -> int:
        """Nodes of the output's formula written out as a tree."""
        return self.function.size

    @property
    def derivative_size(self) -> int:
        """Nodes of the derivative written out as a tree: what naive symbolic rules produce."""
        return self.derivative.size

    @property
    def derivative_nodes(self) -> int:
        """Distinct nodes of the derivative: its size with common subexpressions shared."""
        return count_nodes(self.derivative)


def differentiate(graph: Graph, wrt: str) -> Derivative:
    """The output of a scalar graph as a formula, and its derivative with respect to `wrt`.

    Goes through the graph in forward order (no recursion), carrying each node's formula and
    the formula of its derivative; a node's derivative is the sum over its inputs of the
    local derivative times the input's derivative.
    """
    if wrt not in graph.nodes or graph.nodes[wrt].op.name != "input":
        raise EngineError(f"{wrt!r} is not an input of the graph", code="unknown_input")

    formulas: dict[str, Expr] = {}
    derivatives: dict[str, Expr] = {}
    for node_id in graph.order:
        node = graph.nodes[node_id]
        formulas[node_id], derivatives[node_id] = _node_formulas(node, formulas, derivatives, wrt)
    return Derivative(formulas[graph.output], derivatives[graph.output])


def _node_formulas(node, formulas: dict, derivatives: dict, wrt: str) -> tuple[Expr, Expr]:
    if node.op.is_leaf:
        if np.ndim(node.value) != 0:
            raise _not_scalar(node.id)
        if node.op.name == "const":
            return num(float(node.value)), num(0)
        return var(node.label or node.id), num(1 if node.id == wrt else 0)

    rules = PARTIAL_RULES.get(node.op.name)
    if rules is None:
        raise EngineError(
            f"node {node.id!r}: the symbolic differentiator knows scalar ops only, not "
            f"{node.op.name}",
            code="unsupported_op",
            node_ids=[node.id],
        )
    args = [formulas[i] for i in node.inputs]
    out = apply(node.op.name, *args)
    names = dict(zip(node.op.arg_names, args, strict=True))
    names["out"] = out

    total = num(0)
    for index, input_id in enumerate(node.inputs):
        inner = derivatives[input_id]
        if inner.is_number(0):
            continue  # the chain rule's term is 0 whatever the local derivative is
        local = instantiate(rules[index], names, node.op.name, index)
        total = apply("add", total, apply("mul", local, inner))
    return out, total


def _not_scalar(node_id: str) -> EngineError:
    return EngineError(
        f"node {node_id!r} holds a tensor; the symbolic differentiator works on scalars",
        code="unsupported_op",
        node_ids=[node_id],
    )


def count_nodes(expr: Expr) -> int:
    """Distinct nodes reachable from a formula (shared subexpressions counted once)."""
    seen = {id(expr)}
    stack = [expr]
    while stack:
        for arg in stack.pop().args:
            if id(arg) not in seen:
                seen.add(id(arg))
                stack.append(arg)
    return len(seen)


_INFIX = {"add": ("+", 1), "sub": ("−", 1), "mul": ("·", 2), "div": ("/", 2), "pow": ("^", 4)}


def to_text(expr: Expr, max_chars: int = 2_000) -> str:
    """The formula written out in full as plain text, cut at `max_chars` with an ellipsis."""
    if expr.size > max_chars:
        return "(" + f"{expr.size:,} nodes; too long to write out" + ")"
    return _text(expr, 0)


def _text(expr: Expr, outer: int) -> str:
    # Recursion is bounded: to_text only writes formulas of at most max_chars nodes.
    if expr.op == "num":
        text = _number_text(expr.number)
        return f"({text})" if expr.number < 0 and outer > 1 else text
    if expr.op == "var":
        return expr.name
    if expr.op in _INFIX:
        symbol, precedence = _INFIX[expr.op]
        left = _text(expr.args[0], precedence)
        right = _text(expr.args[1], precedence + (0 if expr.op in ("add", "mul") else 1))
        text = f"{left} {symbol} {right}" if precedence == 1 else f"{left}{symbol}{right}"
        return f"({text})" if precedence < outer else text
    if expr.op == "neg":
        return f"−{_text(expr.args[0], 3)}"
    if expr.op == "reciprocal":
        return f"1/{_text(expr.args[0], 3)}"
    return f"{expr.op}(" + ", ".join(_text(arg, 0) for arg in expr.args) + ")"


def _number_text(number: float) -> str:
    whole = math.isfinite(number) and number == int(number)
    text = str(int(number)) if whole else f"{number:g}"
    return text.replace("-", "−")


def value_of(expr: Expr, variables: dict[str, float]) -> float:
    """The number a formula stands for, each shared node computed once (no recursion)."""
    values: dict[int, np.float64] = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, ready = stack.pop()
            if id(node) in values:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((arg, False) for arg in node.args if id(arg) not in values)
                continue
            values[id(node)] = _node_value(node, [values[id(a)] for a in node.args], variables)
    return float(values[id(expr)])


def _node_value(node: Expr, args: list, variables: dict[str, float]) -> np.float64:
    if node.op == "num":
        return np.float64(node.number)
    if node.op == "var":
        return np.float64(variables[node.name])
    if node.op in OPS:
        return np.float64(OPS[node.op].forward(*args))

    # A frozen partial "d<op>/d<arg>": the op's own partial derivative at these inputs.
    op_name, arg_name = node.op[1:].split("/d")
    op = OPS[op_name]
    out = op.forward(*args)
    return np.float64(op.partials[op.arg_names.index(arg_name)](*args, out))
