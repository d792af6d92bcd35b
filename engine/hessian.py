"""Exact second derivatives by differentiating the gradient graph.

The backward pass is itself a computation made of ordinary ops: for f = a·b it computes
upstream·b and upstream·a, for σ it computes upstream·out·(1 − out). `gradient_graph` writes
those computations down as new nodes of the engine's own ops, next to the forward nodes, so
that the parameters' gradients become nodes of one graph that still starts at the parameters.

Reverse mode over that graph then gives second derivatives. Its output is the scalar
s(θ) = Σ_p ⟨∇_p L(θ), v_p⟩ for a fixed direction v, whose gradient with respect to θ is the
Hessian-vector product H v, exactly (no step size, no finite difference). With v the i-th unit
vector, H v is the i-th column of H; one backward pass per parameter gives the full Hessian,
which is affordable for the few-hundred-parameter models Newton's method is meant for.

Piecewise-constant local derivatives (relu's step, abs's sign, the pick of max) enter the
gradient graph as constants: their derivative is zero wherever it exists. The one-hot rows of
class labels and the target of mse enter as constants too, since nothing differentiates them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.errors import EngineError, LimitError
from engine.evaluate import evaluate, forward
from engine.graph import Graph, build_graph
from engine.limits import DEFAULT_LIMITS, Limits
from engine.symbolic import FROZEN, PARTIAL_RULES

# Above this many parameters a full Hessian (n backward passes, n² numbers) stops being
# the right tool; Newton's method is offered for small models only.
MAX_HESSIAN_PARAMETERS = 300


class _Builder:
    """Adds nodes to a graph spec: the forward nodes first, then the backward ones."""

    def __init__(self, graph: Graph, values: dict[str, Any]) -> None:
        self.nodes: list[dict] = [_copy_node(graph.nodes[i]) for i in graph.order]
        self.values = values
        self.taken = set(graph.nodes)
        self.counter = 0
        self.numbers: dict[float, str] = {}
        self.added = 0

    def fresh(self, stem: str) -> str:
        while True:
            self.counter += 1
            node_id = f"{stem}__{self.counter}"
            if node_id not in self.taken:
                self.taken.add(node_id)
                return node_id

    def const(self, value) -> str:
        """A constant node; plain numbers are made once and shared."""
        key = float(value) if np.ndim(value) == 0 else None
        if key is not None and key in self.numbers:
            return self.numbers[key]
        node_id = self.fresh("c")
        self.nodes.append({"id": node_id, "op": "const", "value": np.asarray(value, float)})
        self.added += 1
        if key is not None:
            self.numbers[key] = node_id
        return node_id

    def op(self, name: str, *inputs: str, **attrs) -> str:
        """A new op node on the given inputs."""
        node_id = self.fresh("g")
        node = {"id": node_id, "op": name, "inputs": list(inputs)}
        if attrs:
            node["attrs"] = attrs
        self.nodes.append(node)
        self.added += 1
        return node_id


def _copy_node(node) -> dict:
    body: dict[str, Any] = {"id": node.id, "op": node.op.name}
    if node.op.is_leaf:
        body["value"] = node.value
    else:
        body["inputs"] = list(node.inputs)
        if node.attrs:
            body["attrs"] = dict(node.attrs)
    return body


def gradient_graph(graph: Graph, wrt: list[str] | None = None) -> tuple[list[dict], dict, int]:
    """Forward nodes plus backward nodes computing d output / d each of `wrt`.

    Returns the node specs, the id of the node holding each gradient, and how many backward
    nodes were added. The output must be a single number.
    """
    values, _, _ = forward(graph)
    if np.ndim(values[graph.output]) != 0:
        raise EngineError(
            "the gradient graph needs an output that is a single number, such as a loss",
            code="output_not_scalar",
            node_ids=[graph.output],
        )
    wrt = wrt if wrt is not None else [i for i in graph.order if graph.nodes[i].op.name == "input"]
    builder = _Builder(graph, values)
    grads: dict[str, str] = {graph.output: builder.const(1.0)}

    for node_id in reversed(graph.order):
        node = graph.nodes[node_id]
        if node_id not in grads or node.op.is_leaf:
            continue
        for index, source in enumerate(node.inputs):
            if not graph.requires_grad[source]:
                continue
            downstream = _downstream(builder, node, index, grads[node_id])
            previous = grads.get(source)
            grads[source] = (
                downstream if previous is None else builder.op("add", previous, downstream)
            )

    missing = {p: builder.const(np.zeros(np.shape(values[p]))) for p in wrt if p not in grads}
    return builder.nodes, {p: missing.get(p) or grads[p] for p in wrt}, builder.added


def _downstream(builder: _Builder, node, index: int, upstream: str) -> str:
    """The node holding the gradient that flows from `node` into its input `index`."""
    name = node.op.name
    if name in PARTIAL_RULES:
        return _elementwise(builder, node, index, upstream)
    rule = _TENSOR_RULES.get(name)
    if rule is None:
        raise EngineError(
            f"node {node.id!r}: no second-order rule for the op {name} yet, so its Hessian "
            "cannot be computed exactly; Newton's method needs models built from "
            + ", ".join(sorted(set(PARTIAL_RULES) | set(_TENSOR_RULES))),
            code="no_second_order_rule",
            node_ids=[node.id],
        )
    return rule(builder, node, index, upstream)


def _elementwise(builder: _Builder, node, index: int, upstream: str) -> str:
    template = PARTIAL_RULES[node.op.name][index]
    names = dict(zip(node.op.arg_names, node.inputs, strict=True))
    names["out"] = node.id

    if template == 1:
        product = upstream
    elif template == -1:
        product = builder.op("neg", upstream)
    elif template == FROZEN:
        args = [builder.values[i] for i in node.inputs]
        local = node.op.partials[index](*args, builder.values[node.id])
        product = builder.op("mul", upstream, builder.const(local))
    else:
        product = builder.op("mul", upstream, _instantiate(builder, template, names))

    out_shape = np.shape(builder.values[node.id])
    return _unbroadcast(builder, product, out_shape, np.shape(builder.values[node.inputs[index]]))


def _instantiate(builder: _Builder, template, names: dict[str, str]) -> str:
    if isinstance(template, str):
        return names[template]
    if isinstance(template, int | float):
        return builder.const(float(template))
    head, *rest = template
    return builder.op(head, *(_instantiate(builder, part, names) for part in rest))


def _unbroadcast(builder: _Builder, node_id: str, shape: tuple, target: tuple) -> str:
    """Sum a gradient of `shape` back to `target` over the axes broadcasting added."""
    if shape == target:
        return node_id
    extra = len(shape) - len(target)
    if extra > 0:
        node_id = builder.op("sum", node_id, axis=list(range(extra)))
        shape = shape[extra:]
    stretched = [i for i, n in enumerate(target) if n == 1 and shape[i] != 1]
    if stretched:
        node_id = builder.op("sum", node_id, axis=stretched, keepdims=True)
    return node_id


def _spread(builder: _Builder, upstream: str, shape: tuple, axes: tuple, keepdims: bool) -> str:
    """Copy an upstream gradient back over the axes a reduction removed (a broadcast)."""
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    if not keepdims:
        upstream = builder.op("reshape", upstream, shape=list(kept))
    return builder.op("add", upstream, builder.const(np.zeros(shape)))


def _reduced_axes(node, shape: tuple) -> tuple:
    axis = node.attrs.get("axis")
    if axis is None:
        return tuple(range(len(shape)))
    items = axis if isinstance(axis, list | tuple) else [axis]
    return tuple(int(a) % len(shape) for a in items)


def _sum_rule(builder, node, index, upstream):
    shape = np.shape(builder.values[node.inputs[0]])
    axes = _reduced_axes(node, shape)
    return _spread(builder, upstream, shape, axes, bool(node.attrs.get("keepdims")))


def _mean_rule(builder, node, index, upstream):
    shape = np.shape(builder.values[node.inputs[0]])
    axes = _reduced_axes(node, shape)
    spread = _spread(builder, upstream, shape, axes, bool(node.attrs.get("keepdims")))
    count = math.prod(shape[a] for a in axes)
    return builder.op("mul", spread, builder.const(1.0 / count)) if count else spread


def _reshape_rule(builder, node, index, upstream):
    shape = np.shape(builder.values[node.inputs[0]])
    return builder.op("reshape", upstream, shape=list(shape))


def _transpose_rule(builder, node, index, upstream):
    ndim = np.ndim(builder.values[node.inputs[0]])
    axes = node.attrs.get("axes")
    order = list(reversed(range(ndim))) if axes is None else [int(a) % ndim for a in axes]
    return builder.op("transpose", upstream, axes=[int(i) for i in np.argsort(order)])


def _swap_last(builder: _Builder, node_id: str, ndim: int) -> str:
    axes = list(range(ndim - 2)) + [ndim - 1, ndim - 2]
    return builder.op("transpose", node_id, axes=axes)


def _matmul_rule(builder, node, index, upstream):
    """As numpy's matmul: vectors become a row (left) or a column (right), batches sum back."""
    a_id, b_id = node.inputs
    a_shape = np.shape(builder.values[a_id])
    b_shape = np.shape(builder.values[b_id])
    a2 = a_shape if len(a_shape) >= 2 else (1,) + a_shape
    b2 = b_shape if len(b_shape) >= 2 else b_shape + (1,)
    batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    out2 = batch + (a2[-2], b2[-1])
    up2 = builder.op("reshape", upstream, shape=list(out2))
    if index == 0:
        b_node = b_id if b2 == b_shape else builder.op("reshape", b_id, shape=list(b2))
        grad = builder.op("matmul", up2, _swap_last(builder, b_node, len(b2)))
        grad = _unbroadcast(builder, grad, out2[:-2] + a2[-2:], a2)
        return builder.op("reshape", grad, shape=list(a_shape))
    a_node = a_id if a2 == a_shape else builder.op("reshape", a_id, shape=list(a2))
    grad = builder.op("matmul", _swap_last(builder, a_node, len(a2)), up2)
    grad = _unbroadcast(builder, grad, out2[:-2] + b2[-2:], b2)
    return builder.op("reshape", grad, shape=list(b_shape))


def _softmax_rule(builder, node, index, upstream):
    # p · (u − Σ u·p): p is the node itself.
    axis = node.attrs.get("axis", -1)
    weighted = builder.op("sum", builder.op("mul", upstream, node.id), axis=axis, keepdims=True)
    return builder.op("mul", node.id, builder.op("sub", upstream, weighted))


def _log_softmax_rule(builder, node, index, upstream):
    # u − exp(out) · Σ u
    axis = node.attrs.get("axis", -1)
    total = builder.op("sum", upstream, axis=axis, keepdims=True)
    return builder.op("sub", upstream, builder.op("mul", builder.op("exp", node.id), total))


def _loss_scale(builder, node, upstream: str, count: int) -> str:
    if node.attrs.get("reduction", "mean") == "mean" and count:
        return builder.op("mul", upstream, builder.const(1.0 / count))
    return upstream


def _cross_entropy_rule(builder, node, index, upstream):
    """(softmax(logits) · Σ_c w − w) · upstream / N, with w the target as class weights."""
    if index == 1:
        raise _target_error(node, "the target of cross_entropy")
    logits = builder.values[node.inputs[0]]
    target = builder.values[node.inputs[1]]
    shape = np.shape(logits)
    axis = 1 if len(shape) >= 2 else 0
    weights = _class_weights(logits, target, axis)
    count = math.prod(shape[:axis] + shape[axis + 1 :])

    probs = builder.op("softmax", node.inputs[0], axis=axis)
    total = builder.const(np.sum(weights, axis=axis, keepdims=True))
    local = builder.op("sub", builder.op("mul", probs, total), builder.const(weights))
    return builder.op("mul", local, _loss_scale(builder, node, upstream, count))


def _class_weights(logits, target, axis: int) -> np.ndarray:
    """The target as weights over the classes: itself, or one-hot rows for class labels."""
    if np.shape(target) == np.shape(logits):
        return np.asarray(target, dtype=float)
    labels = np.expand_dims(np.asarray(target).astype(np.intp), axis)
    onehot = np.zeros(np.shape(logits))
    np.put_along_axis(onehot, labels, 1.0, axis)
    return onehot


def _mse_rule(builder, node, index, upstream):
    a_id, b_id = node.inputs
    count = int(np.size(builder.values[a_id]))
    difference = builder.op("sub", a_id, b_id) if index == 0 else builder.op("sub", b_id, a_id)
    scaled = builder.op("mul", difference, builder.const(2.0))
    return builder.op("mul", scaled, _loss_scale(builder, node, upstream, count))


def _target_error(node, what: str) -> EngineError:
    return EngineError(
        f"node {node.id!r}: {what} must be a const for the exact Hessian",
        code="no_second_order_rule",
        node_ids=[node.id],
    )


_TENSOR_RULES = {
    "sum": _sum_rule,
    "mean": _mean_rule,
    "reshape": _reshape_rule,
    "flatten": _reshape_rule,
    "transpose": _transpose_rule,
    "matmul": _matmul_rule,
    "softmax": _softmax_rule,
    "log_softmax": _log_softmax_rule,
    "cross_entropy": _cross_entropy_rule,
    "mse": _mse_rule,
}


def hessian(
    graph: Graph, params: list[str], limits: Limits = DEFAULT_LIMITS
) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and the exact Hessian of a scalar output, parameters flattened in order.

    One reverse pass over the gradient graph per parameter element, each giving H e_i.
    """
    sizes = [int(np.size(graph.nodes[p].value)) for p in params]
    total = sum(sizes)
    if total > MAX_HESSIAN_PARAMETERS:
        raise LimitError(
            f"the model has {total:,} parameters; the exact Hessian is computed for at most "
            f"{MAX_HESSIAN_PARAMETERS} (Newton's method is for small models)",
            code="too_many_parameters",
            what="hessian_parameters",
            limit=MAX_HESSIAN_PARAMETERS,
            actual=total,
        )

    nodes, grad_ids, _ = gradient_graph(graph, params)
    directions = {p: f"v__{p}" for p in params}
    terms = []
    for p in params:
        nodes.append(
            {"id": directions[p], "op": "const", "value": np.zeros(np.shape(graph.nodes[p].value))}
        )
        nodes.append({"id": f"gv__{p}", "op": "mul", "inputs": [grad_ids[p], directions[p]]})
        nodes.append({"id": f"sgv__{p}", "op": "sum", "inputs": [f"gv__{p}"]})
        terms.append(f"sgv__{p}")
    output = terms[0]
    for k, term in enumerate(terms[1:]):
        nodes.append({"id": f"s__{k}", "op": "add", "inputs": [output, term]})
        output = f"s__{k}"
    second = build_graph({"nodes": nodes, "output": output}, limits)

    gradient = None
    columns = np.zeros((total, total))
    for column in range(total):
        _set_direction(second, params, directions, sizes, column)
        evaluation = evaluate(second, limits=limits, with_local=False)
        if gradient is None:
            gradient = _flatten([evaluation.values[grad_ids[p]] for p in params])
        columns[:, column] = _flatten(
            [_or_zeros(evaluation.grads.get(p), graph.nodes[p].value) for p in params]
        )
    return gradient if gradient is not None else np.zeros(0), columns


def _set_direction(graph: Graph, params, directions, sizes, column: int) -> None:
    start = 0
    for p, size in zip(params, sizes, strict=True):
        node = graph.nodes[directions[p]]
        flat = np.zeros(size)
        if start <= column < start + size:
            flat[column - start] = 1.0
        node.value = flat.reshape(np.shape(node.value)) if np.ndim(node.value) else flat[0]
        start += size


def _or_zeros(grad, like):
    return np.zeros(np.shape(like)) if grad is None else grad


def _flatten(parts) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(part, dtype=float)) for part in parts])
