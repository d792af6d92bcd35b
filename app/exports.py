"""A graph written out in other forms: a PyTorch program, Graphviz DOT.

The PyTorch program builds the same computation with autograd and prints the same gradients
`/api/evaluate` returns, so a student can check gradplay against the library they will use.
"""

from __future__ import annotations

import keyword
import math

import numpy as np

from engine.evaluate import Evaluation
from engine.graph import Graph, Node

# One entry per op: how PyTorch spells it. `{0}`, `{1}`... are the inputs, `{attr}` attributes.
TORCH_SPELLING = {
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "div": "{0} / {1}",
    "neg": "-{0}",
    "pow": "{0} ** {1}",
    "reciprocal": "torch.reciprocal({0})",
    "exp": "torch.exp({0})",
    "log": "torch.log({0})",
    "sqrt": "torch.sqrt({0})",
    "abs": "torch.abs({0})",
    "tanh": "torch.tanh({0})",
    "sigmoid": "torch.sigmoid({0})",
    "relu": "torch.relu({0})",
    "max": "torch.maximum({0}, {1})",
    "min": "torch.minimum({0}, {1})",
    "matmul": "{0} @ {1}",
    "softmax": "torch.softmax({0}, dim={axis})",
    "log_softmax": "torch.log_softmax({0}, dim={axis})",
    "mse": "F.mse_loss({0}, {1}, reduction={reduction!r})",
    "flatten": "torch.flatten({0}, {start_dim}, {end_dim})",
    "reshape": "{0}.reshape({shape})",
}

_RESERVED = {"torch", "F", "print", "json"}


def python_name(node_id: str) -> str:
    """A node id as a Python variable that shadows nothing."""
    if keyword.iskeyword(node_id) or node_id in _RESERVED:
        return node_id + "_"
    return node_id


def literal(value) -> str:
    """A number or nested list as Python source, exact to the last bit."""
    if np.ndim(value) == 0:
        number = float(value)
        return repr(number) if math.isfinite(number) else f"float('{number}')"
    return "[" + ", ".join(literal(item) for item in value) + "]"


def torch_expression(node: Node, evaluation: Evaluation) -> str:
    """The right-hand side that computes `node` in PyTorch."""
    args = [python_name(i) for i in node.inputs]
    attrs = node.attrs
    name = node.op.name
    if name in ("sum", "mean"):
        axis = attrs.get("axis")
        if axis is None:
            return f"torch.{name}({args[0]})"
        return f"torch.{name}({args[0]}, dim={axis!r}, keepdim={attrs.get('keepdims', False)})"
    if name == "transpose":
        axes = attrs.get("axes")
        if axes is None:
            return f"{args[0]}.permute(*reversed(range({args[0]}.dim())))"
        return f"{args[0]}.permute({list(axes)!r})"
    if name == "cross_entropy":
        logits, target = node.inputs
        same_shape = np.shape(evaluation.values[logits]) == np.shape(evaluation.values[target])
        target_code = args[1] if same_shape else f"{args[1]}.long()"
        return f"F.cross_entropy({args[0]}, {target_code}, reduction={attrs['reduction']!r})"
    if name in TORCH_SPELLING:
        return TORCH_SPELLING[name].format(*args, **attrs)
    return _layer_expression(node, args)


def _layer_expression(node: Node, args: list[str]) -> str:
    """The CNN layers, whose PyTorch functions take their attributes by keyword."""
    attrs = dict(node.attrs)
    name = node.op.name
    keywords = ", ".join(f"{key}={value!r}" for key, value in attrs.items())
    if name == "conv2d":
        bias = args[2] if len(args) > 2 else "None"
        return f"F.conv2d({args[0]}, {args[1]}, {bias}, {keywords})"
    if name in ("max_pool2d", "avg_pool2d"):
        return f"F.{name}({args[0]}, {keywords})"
    if name == "batch_norm":
        stats = ", ".join(args[3:5]) if len(args) > 3 else "None, None"
        return f"F.batch_norm({args[0]}, {stats}, {args[1]}, {args[2]}, {keywords})"
    raise KeyError(f"no PyTorch spelling for op {name!r}")


def to_pytorch(evaluation: Evaluation, grad_output=None) -> str:
    """A short, runnable PyTorch program computing the graph and printing its gradients."""
    graph: Graph = evaluation.graph
    lines = [
        "# Made by gradplay: the same graph in PyTorch, with the same gradients.",
        "import torch",
        "import torch.nn.functional as F",
        "",
    ]
    for node_id in graph.order:
        node = graph.nodes[node_id]
        name = python_name(node_id)
        if node.op.is_leaf:
            grad = ", requires_grad=True" if node.op.name == "input" else ""
            value = literal(node.value)
            lines.append(f"{name} = torch.tensor({value}, dtype=torch.float64{grad})")
        else:
            lines.append(f"{name} = {torch_expression(node, evaluation)}")

    output = python_name(graph.output)
    lines.append("")
    if grad_output is not None:
        lines.append(
            f"{output}.backward(torch.tensor({literal(grad_output)}, dtype=torch.float64))"
        )
    elif np.ndim(evaluation.values[graph.output]) == 0:
        lines.append(f"{output}.backward()")
    else:
        lines.append(f"{output}.backward(torch.ones_like({output}))  # gradient of the sum")
    lines.append(f"print('{graph.output} =', {output}.tolist())")
    for node_id in graph.order:
        if graph.nodes[node_id].op.name == "input":
            name = python_name(node_id)
            lines.append(f"print('{node_id}.grad =', {name}.grad.tolist())")
    return "\n".join(lines) + "\n"


def to_dot(graph: Graph) -> str:
    """Graphviz DOT, drawn left to right like the course's figures."""
    lines = ["digraph gradplay {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node_id in graph.order:
        node = graph.nodes[node_id]
        if node.op.is_leaf:
            text = node.label or node_id
            lines.append(f'  "{node_id}" [shape=plaintext, label="{_dot_text(text)}"];')
        else:
            label = _dot_text(node.op.symbol) + "\\n" + node_id
            lines.append(f'  "{node_id}" [shape=circle, label="{label}"];')
    for node_id in graph.order:
        for index, source in enumerate(graph.nodes[node_id].inputs):
            lines.append(f'  "{source}" -> "{node_id}" [label="{index}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
