"""Forward and backward passes over a graph, recording every edge's chain-rule numbers.

For an edge from input `a` into node `n`: upstream = dL/dn, local = dn/da (a number for
scalars, the Jacobian n.shape + a.shape for tensors, left out when too large), and
downstream = the upstream gradient carried through the local one. A node's grad is the sum
of the downstream gradients of its outgoing edges. Every call starts from zero gradients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError, LimitError, ShapeError
from engine.graph import Graph
from engine.limits import DEFAULT_LIMITS, Limits
from engine.numbers import fmt, is_finite
from engine.ops import elementwise_jacobian, jacobian_from_vjp, unbroadcast


@dataclass(slots=True)
class Edge:
    """The chain rule on one input edge of one node."""

    source: str
    target: str
    input_index: int
    upstream: Any = None
    local: Any = None
    downstream: Any = None
    local_omitted: str | None = None


@dataclass(slots=True)
class Warning_:
    """Something a student should know about a node, e.g. why its value is not finite."""

    node: str
    code: str
    message: str


@dataclass
class Evaluation:
    """Everything one forward and backward pass produced."""

    graph: Graph
    forward_order: list[str]
    backward_order: list[str]
    values: dict[str, Any]
    grads: dict[str, Any]
    edges: list[Edge]
    warnings: list[Warning_] = field(default_factory=list)
    first_nonfinite: str | None = None
    notes: list[str] = field(default_factory=list)


def evaluate(
    graph: Graph,
    grad_output: Any = None,
    limits: Limits = DEFAULT_LIMITS,
    with_local: bool = True,
) -> Evaluation:
    """Run the forward pass, then the backward pass from the output."""
    clock = _Clock(limits)
    with np.errstate(all="ignore"):
        values, warnings, first_nonfinite = forward(graph, limits, clock)
        evaluation = Evaluation(
            graph=graph,
            forward_order=list(graph.order),
            backward_order=[],
            values=values,
            grads={},
            edges=[],
            warnings=warnings,
            first_nonfinite=first_nonfinite,
        )
        backward(evaluation, grad_output, limits, with_local, clock)
    return evaluation


class _Clock:
    """Stops an evaluation that runs past its time budget."""

    def __init__(self, limits: Limits) -> None:
        self.budget = limits.max_seconds
        self.deadline = time.perf_counter() + limits.max_seconds

    def check(self, node_id: str) -> None:
        if time.perf_counter() > self.deadline:
            raise LimitError(
                f"the evaluation took longer than the limit of {self.budget:g} s "
                f"(it was at node {node_id!r}); make the graph or its tensors smaller",
                node_ids=[node_id],
            )


def forward(
    graph: Graph, limits: Limits = DEFAULT_LIMITS, clock: _Clock | None = None
) -> tuple[dict, list[Warning_], str | None]:
    """Values of every node in topological order, with a warning where one turns non-finite."""
    nodes = graph.nodes
    values: dict[str, Any] = {}
    warnings: list[Warning_] = []
    first_nonfinite = None
    clock = clock or _Clock(limits)
    elements = 0

    for node_id in graph.order:
        node = nodes[node_id]
        if node.op.is_leaf:
            values[node_id] = node.value
            if not is_finite(node.value):
                warnings.append(Warning_(node_id, "nonfinite_input", "this value is not finite"))
            continue

        clock.check(node_id)
        args = tuple(values[i] for i in node.inputs)
        out = _run_forward(node, args)
        values[node_id] = out
        if type(out) is not np.float64:
            elements += _check_size(node_id, out, elements, limits)
        if not is_finite(out) and all(is_finite(a) for a in args):
            warnings.append(Warning_(node_id, "nonfinite_value", _explain(node, args, out)))
            first_nonfinite = first_nonfinite or node_id
    return values, warnings, first_nonfinite


def _check_size(node_id: str, out, elements: int, limits: Limits) -> int:
    size = int(np.size(out))
    if size > limits.max_tensor_elements or elements + size > limits.max_graph_elements:
        raise LimitError(
            f"node {node_id!r} makes a tensor of shape {np.shape(out)}; the limits are "
            f"{limits.max_tensor_elements:,} elements per tensor and "
            f"{limits.max_graph_elements:,} in the whole graph",
            node_ids=[node_id],
        )
    return size


def _run_forward(node, args):
    try:
        out = node.op.forward(*args, **node.attrs)
    except EngineError as error:
        error.node_ids = error.node_ids or [node.id]
        error.message = f"node {node.id!r}: {error.message}"
        error.args = (error.message,)
        raise
    except ValueError as error:
        shapes = " and ".join(str(np.shape(a)) for a in args)
        raise ShapeError(
            f"node {node.id!r}: {node.op.name} cannot combine shapes {shapes} ({error})",
            node_ids=[node.id],
        ) from error
    if type(out) is np.ndarray and out.ndim == 0:
        out = out[()]
    return out


def _explain(node, args, out) -> str:
    """Say why a node's value is not finite, at the first element where it is not."""
    index: tuple = ()
    scalars = args
    if np.ndim(out) > 0:
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        scalars = tuple(np.broadcast_to(a, np.shape(out))[index] for a in args)
    reason = (
        node.op.explain(*scalars, **node.attrs)
        if node.op.explain
        else f"{node.op.name} gave {fmt(out if not index else out[index])}"
    )
    return reason + (f" (at index {index})" if index else "")


def backward(
    evaluation: Evaluation,
    grad_output: Any,
    limits: Limits,
    with_local: bool,
    clock: _Clock,
) -> None:
    """Propagate gradients from the output back to the inputs, filling every edge."""
    graph, values = evaluation.graph, evaluation.values
    nodes, requires_grad = graph.nodes, graph.requires_grad
    grads = evaluation.grads
    seed = _seed(values[graph.output], grad_output, evaluation.notes)
    grads[graph.output] = seed if requires_grad[graph.output] else None
    edges_of: dict[str, list[Edge]] = {}

    for node_id in reversed(graph.order):
        upstream = grads.get(node_id)
        if upstream is None:
            continue
        evaluation.backward_order.append(node_id)
        node = nodes[node_id]
        if node.op.is_leaf:
            continue
        clock.check(node_id)

        args = tuple(values[i] for i in node.inputs)
        out = values[node_id]
        edges = edges_of[node_id] = []
        for index, source in enumerate(node.inputs):
            edge = Edge(source, node_id, index, upstream)
            edges.append(edge)
            if not requires_grad[source]:
                continue
            _chain_rule(edge, node, args, out, limits, with_local)
            previous = grads.get(source)
            grads[source] = edge.downstream if previous is None else previous + edge.downstream

    for node_id in graph.order:
        grads.setdefault(node_id, None)
    evaluation.edges = _edges_in_graph_order(graph, edges_of)
    _warn_nonfinite_grads(evaluation)


def _seed(output_value, grad_output, notes: list[str]):
    if grad_output is not None:
        seed = np.asarray(grad_output, dtype=np.float64)
        if seed.shape != np.shape(output_value):
            raise ShapeError(
                f"grad_output has shape {seed.shape} but the output has shape "
                f"{np.shape(output_value)}",
                code="bad_grad_output",
            )
        return seed[()] if seed.ndim == 0 else seed
    if np.ndim(output_value) == 0:
        return np.float64(1.0)
    notes.append(
        "The output is not a single number, so the backward pass starts from a gradient of "
        "ones: the gradients are those of the sum of the output."
    )
    return np.ones(np.shape(output_value))


def _chain_rule(edge: Edge, node, args, out, limits: Limits, with_local: bool) -> None:
    """Fill one edge: local derivative and downstream = upstream carried through it."""
    index = edge.input_index
    arg = args[index]
    op = node.op

    if op.partials is not None:
        partial = op.partials[index](*args, out, **node.attrs)
        edge.downstream = unbroadcast(edge.upstream * partial, np.shape(arg))
        if type(out) is np.float64 and type(arg) is np.float64:
            edge.local = partial
        elif with_local:
            _set_local(
                edge,
                out,
                arg,
                limits,
                lambda: elementwise_jacobian(partial, np.shape(out), np.shape(arg)),
            )
        return

    edge.downstream = op.vjp(index, edge.upstream, args, out, **node.attrs)
    if with_local:
        _set_local(
            edge, out, arg, limits, lambda: jacobian_from_vjp(op, index, args, out, node.attrs)
        )


def _set_local(edge: Edge, out, arg, limits: Limits, build) -> None:
    entries = int(np.size(out)) * int(np.size(arg))
    if entries <= limits.max_jacobian_entries:
        edge.local = build()
    else:
        edge.local_omitted = (
            f"the local Jacobian has {entries:,} entries, more than the display limit of "
            f"{limits.max_jacobian_entries:,}; downstream was computed as a vector-Jacobian "
            "product without it"
        )


def _edges_in_graph_order(graph: Graph, edges_of: dict[str, list[Edge]]) -> list[Edge]:
    """All input edges, ordered by target in forward order, including those no gradient reached."""
    edges: list[Edge] = []
    for node_id in graph.order:
        node = graph.nodes[node_id]
        if node_id in edges_of:
            edges.extend(edges_of[node_id])
        else:
            edges.extend(Edge(source, node_id, i) for i, source in enumerate(node.inputs))
    return edges


def _warn_nonfinite_grads(evaluation: Evaluation) -> None:
    for edge in evaluation.edges:
        if edge.downstream is None or is_finite(edge.downstream):
            continue
        if edge.upstream is not None and not is_finite(edge.upstream):
            continue  # already reported where it started
        node = evaluation.graph.nodes[edge.target]
        evaluation.warnings.append(
            Warning_(
                edge.source,
                "nonfinite_grad",
                f"the gradient flowing from {edge.target!r} ({node.op.name}) into "
                f"{edge.source!r} is not finite: the local derivative is not finite here",
            )
        )
