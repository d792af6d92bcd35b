"""Forward and backward passes over a graph, recording every edge's chain-rule numbers.

For an edge from input `a` into node `n`: upstream = dL/dn, local = dn/da (a number for
scalars, the Jacobian n.shape + a.shape for tensors, left out when too large), and
downstream = the upstream gradient carried through the local one. A node's grad is the sum
of the downstream gradients of its outgoing edges. Every call starts from zero gradients.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError, LimitError, ShapeError
from engine.graph import Graph, check_dims, to_value
from engine.limits import DEFAULT_LIMITS, Limits
from engine.numbers import ONE, ZERO, fmt, is_finite
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
    """Everything one forward and backward pass produced.

    `edges` come in the order the backward pass visited them, then the edges no gradient
    reached (from consts, or into nodes the output does not depend on).
    """

    graph: Graph
    forward_order: list[str]
    backward_order: list[str]
    values: dict[str, Any]
    grads: dict[str, Any]
    # The backward pass records a scalar edge as a plain tuple of Edge's fields (cheaper than
    # an object in the hot loop); `edges` turns the records into Edges when first read.
    edge_records: list = field(default_factory=list, repr=False)
    warnings: list[Warning_] = field(default_factory=list)
    first_nonfinite: str | None = None
    notes: list[str] = field(default_factory=list)
    # Per node whose op has `aux`: its extra named arrays (batch_norm's running statistics).
    aux: dict[str, dict] = field(default_factory=dict)
    _edges: list[Edge] | None = field(default=None, repr=False)

    @property
    def edges(self) -> list[Edge]:
        """Every input edge with its upstream, local and downstream, as Edge objects."""
        if self._edges is None:
            self._edges = [e if type(e) is Edge else Edge(*e) for e in self.edge_records]
        return self._edges


def evaluate(
    graph: Graph,
    grad_output: Any = None,
    limits: Limits = DEFAULT_LIMITS,
    with_local: bool = True,
) -> Evaluation:
    """Run the forward pass, then the backward pass from the output."""
    clock = Clock(limits)
    with np.errstate(all="ignore"):
        aux: dict[str, dict] = {}
        kept: dict[str, Any] = {}
        values, warnings, first_nonfinite = forward(graph, limits, clock, aux, kept)
        evaluation = Evaluation(
            graph=graph,
            forward_order=list(graph.order),
            backward_order=[],
            values=values,
            grads={},
            warnings=warnings,
            first_nonfinite=first_nonfinite,
            aux=aux,
        )
        backward(evaluation, grad_output, limits, with_local, clock, kept)
    return evaluation


class Clock:
    """Stops an evaluation that runs past its time budget."""

    # Reading the clock costs about as much as a scalar op, so look every few nodes.
    EVERY = 32

    def __init__(self, limits: Limits) -> None:
        self.budget = limits.max_seconds
        self.start = time.perf_counter()
        self.deadline = self.start + limits.max_seconds

    def check(self, node_id: str) -> None:
        now = time.perf_counter()
        if now > self.deadline:
            raise LimitError(
                f"the evaluation took longer than the limit of {self.budget:g} s "
                f"(it was at node {node_id!r}); make the graph or its tensors smaller",
                node_ids=[node_id],
                # actual is the time spent when the clock was read, up to EVERY nodes late.
                what="seconds",
                limit=self.budget,
                actual=now - self.start,
            )


def forward(
    graph: Graph,
    limits: Limits = DEFAULT_LIMITS,
    clock: Clock | None = None,
    aux: dict | None = None,
    kept: dict | None = None,
) -> tuple[dict, list[Warning_], str | None]:
    """Values of every node in topological order, with a warning where one turns non-finite.

    When `aux` is a dict, it receives the extra arrays of ops that make some, by node id.
    """
    nodes = graph.nodes
    values: dict[str, Any] = {}
    warnings: list[Warning_] = []
    first_nonfinite = None
    clock = clock or Clock(limits)
    elements = 0
    countdown = 0

    # The hot loop of a scalar graph: one dict look-up per input, no per-node helpers.
    for node_id in graph.order:
        node = nodes[node_id]
        if node.op.is_leaf:
            value = values[node_id] = node.value
            if type(value) is np.float64 and math.isfinite(value) or is_finite(value):
                continue
            warnings.append(Warning_(node_id, "nonfinite_input", "this value is not finite"))
            continue

        countdown -= 1
        if countdown <= 0:
            countdown = Clock.EVERY
            clock.check(node_id)
        args = tuple(map(values.__getitem__, node.inputs))
        try:
            out = node.op.forward(*args, **node.attrs) if node.attrs else node.op.forward(*args)
        except (EngineError, ValueError) as error:
            raise _located(error, node, args) from error
        if node.op.keeps:
            out, saved = out
            if kept is not None:
                kept[node_id] = saved
        if type(out) is np.float64:
            values[node_id] = out
            if math.isfinite(out):
                continue
        else:
            if out.ndim == 0:
                out = out[()]
            values[node_id] = out
            elements += _check_size(node_id, out, elements, limits)
            # Only tensor ops have aux (batch_norm), so the scalar path above skips the check.
            if node.op.aux is not None and aux is not None:
                aux[node_id] = node.op.aux(*args, out, **node.attrs)

        if not is_finite(out) and all(is_finite(a) for a in args):
            warnings.append(Warning_(node_id, "nonfinite_value", _explain(node, args, out)))
            first_nonfinite = first_nonfinite or node_id
    return values, warnings, first_nonfinite


def _check_size(node_id: str, out, elements: int, limits: Limits) -> int:
    # reshape can give a node more dimensions than any input had.
    check_dims(np.ndim(out), f"node {node_id!r}", limits, node_ids=(node_id,))
    size = int(np.size(out))
    if size > limits.max_tensor_elements:
        what, limit, actual = "tensor_elements", limits.max_tensor_elements, size
    elif elements + size > limits.max_graph_elements:
        what, limit, actual = "graph_elements", limits.max_graph_elements, elements + size
    else:
        return size

    # One message for both limits (tests and the page rely on it); details say which one.
    raise LimitError(
        f"node {node_id!r} makes a tensor of shape {np.shape(out)}; the limits are "
        f"{limits.max_tensor_elements:,} elements per tensor and "
        f"{limits.max_graph_elements:,} in the whole graph",
        node_ids=[node_id],
        what=what,
        limit=limit,
        actual=actual,
    )


def _located(error: Exception, node, args) -> EngineError:
    """An op's error, naming the node; numpy's shape errors become ShapeError."""
    if isinstance(error, EngineError):
        error.node_ids = error.node_ids or [node.id]
        error.message = f"node {node.id!r}: {error.message}"
        error.args = (error.message,)
        return error
    shapes = " and ".join(str(np.shape(a)) for a in args)
    return ShapeError(
        f"node {node.id!r}: {node.op.name} cannot combine shapes {shapes} ({error})",
        node_ids=[node.id],
    )


def _explain(node, args, out) -> str:
    """Say why a node's value is not finite, at the first element where it is not.

    An elementwise op's explanation gets the input numbers at that element; any other op
    (matmul, mean) gets its whole inputs, since no one element of them made the result.
    """
    op = node.op
    index: tuple = ()
    if np.ndim(out) > 0:
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
    shown = out[index] if index else out
    if op.explain is None:
        reason = f"{op.name} gave {fmt(shown)}"
    elif op.is_elementwise:
        scalars = tuple(np.broadcast_to(a, np.shape(out))[index] for a in args)
        reason = op.explain(*scalars, **node.attrs)
    else:
        reason = op.explain(*args, **node.attrs)
    return reason + (f" (at index {index})" if index else "")


def backward(
    evaluation: Evaluation,
    grad_output: Any,
    limits: Limits,
    with_local: bool,
    clock: Clock,
    kept: dict | None = None,
) -> None:
    """Propagate gradients from the output back to the inputs, filling every edge."""
    graph, values = evaluation.graph, evaluation.values
    nodes, requires_grad = graph.nodes, graph.requires_grad
    grads = evaluation.grads
    seed = _seed(values[graph.output], grad_output, evaluation.notes)
    if not is_finite(seed):
        evaluation.warnings.append(
            Warning_(
                graph.output,
                "nonfinite_grad_output",
                "the gradient the backward pass starts from (grad_output) is not finite, so "
                "the gradients it reaches are not finite either",
            )
        )
    grads[graph.output] = seed if requires_grad[graph.output] else None
    edges = evaluation.edge_records
    visited = evaluation.backward_order
    float64, isfinite = np.float64, math.isfinite
    countdown = 0

    for node_id in reversed(graph.order):
        upstream = grads.get(node_id)
        if upstream is None:
            continue
        visited.append(node_id)
        node = nodes[node_id]
        op = node.op
        if op.is_leaf:
            continue
        countdown -= 1
        if countdown <= 0:
            countdown = Clock.EVERY
            clock.check(node_id)

        args = tuple(map(values.__getitem__, node.inputs))
        out = values[node_id]
        partials = op.partials if type(out) is float64 else None
        constants = op.constant_partials
        for index, source in enumerate(node.inputs):
            if not requires_grad[source]:
                edges.append((source, node_id, index, upstream, None, None, None))
                continue

            # Scalar fast path: the local gradient is a number and downstream a product.
            if partials is not None and type(args[index]) is float64:
                local = constants[index] if constants else partials[index](*args, out)
                downstream = upstream * local
                if not isfinite(downstream):
                    edge = Edge(source, node_id, index, upstream, local, downstream)
                    downstream = _nonfinite_downstream(evaluation, edge, op, args, out)
                edges.append((source, node_id, index, upstream, local, downstream, None))
            else:
                attrs = {**node.attrs, "kept": kept.get(node_id)} if op.keeps else node.attrs
                edge = _tensor_chain_rule(
                    node, index, args, out, upstream, attrs, limits, with_local
                )
                if not is_finite(edge.downstream):
                    _warn_nonfinite_grad(evaluation, edge)
                edges.append(edge)
                downstream = edge.downstream

            previous = grads.get(source)
            if previous is None:
                grads[source] = downstream
                continue
            total = grads[source] = previous + downstream
            if not is_finite(total):
                _warn_overflowing_sum(evaluation, source, previous, downstream)

    # Edges the backward pass never reached (consts, nodes off the output's path) are listed
    # too; when every node got a gradient there are none, and the walk is skipped.
    if len(grads) == len(graph.order):
        return
    for node_id in graph.order:
        if grads.setdefault(node_id, None) is None and not nodes[node_id].op.is_leaf:
            inputs = nodes[node_id].inputs
            edges.extend(
                (source, node_id, i, None, None, None, None) for i, source in enumerate(inputs)
            )


def _seed(output_value, grad_output, notes: list[str]):
    if grad_output is None and type(output_value) is np.float64:
        return ONE  # the usual case, without asking numpy for the shape
    if grad_output is not None:
        seed = np.asarray(to_value(grad_output, "grad_output"))
        if seed.shape != np.shape(output_value):
            raise ShapeError(
                f"grad_output has shape {seed.shape} but the output has shape "
                f"{np.shape(output_value)}",
                code="bad_grad_output",
            )
        return seed[()] if seed.ndim == 0 else seed
    if np.ndim(output_value) == 0:
        return ONE
    notes.append(
        "The output is not a single number, so the backward pass starts from a gradient of "
        "ones: the gradients are those of the sum of the output."
    )
    return np.ones(np.shape(output_value))


def _tensor_chain_rule(node, index, args, out, upstream, attrs, limits, with_local) -> Edge:
    """One edge of a tensor op: downstream as a vector-Jacobian product, local for display."""
    arg = args[index]
    op = node.op
    edge = Edge(node.inputs[index], node.id, index, upstream)

    if op.partials is not None:
        if op.vjp is not None:
            # An elementwise op may also give a direct vjp for tensors, fewer passes in memory
            # than building the partial first; the partial is then built only for display.
            edge.downstream = op.vjp(index, upstream, args, out)
        else:
            partial = op.partials[index](*args, out)
            product = upstream * partial
            if op.masks is not None and not is_finite(product):
                mask = op.masks[index]
                product = product if mask is None else np.where(mask(*args, out), 0.0, product)
            edge.downstream = unbroadcast(product, np.shape(arg))
        if with_local:
            _set_local(edge, out, arg, limits, lambda: elementwise_jacobian(
                op.partials[index](*args, out), np.shape(out), np.shape(arg)))  # fmt: skip
        return edge

    edge.downstream = op.vjp(index, upstream, args, out, **attrs)
    closed_form = op.extra.get("jacobian")
    if with_local and closed_form is not None:
        _set_local(edge, out, arg, limits, lambda: closed_form(index, args, out))
    elif with_local:
        _set_local(edge, out, arg, limits, lambda: jacobian_from_vjp(
            op, index, args, out, attrs))  # fmt: skip
    return edge


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


def _nonfinite_downstream(evaluation: Evaluation, edge: Edge, op, args: tuple, out):
    """For a downstream that is not finite: 0 where the op masks the input, else a warning."""
    mask = op.masks[edge.input_index] if op.masks is not None else None
    if mask is not None and mask(*args, out):
        return ZERO
    _warn_nonfinite_grad(evaluation, edge)
    return edge.downstream


def _warn_overflowing_sum(evaluation: Evaluation, source: str, previous, downstream) -> None:
    # A part that is not finite was reported where it was made; only finite parts that
    # overflow when added are new.
    if is_finite(previous) and is_finite(downstream):
        evaluation.warnings.append(
            Warning_(
                source,
                "nonfinite_grad",
                f"the gradients flowing into {source!r} are each finite, but their sum is "
                "beyond the largest float64 (about 1.8e308)",
            )
        )


def _warn_nonfinite_grad(evaluation: Evaluation, edge: Edge) -> None:
    if not is_finite(edge.upstream):
        return  # already reported where it started
    op = evaluation.graph.nodes[edge.target].op
    evaluation.warnings.append(
        Warning_(
            edge.source,
            "nonfinite_grad",
            f"the gradient flowing from {edge.target!r} ({op.name}) into {edge.source!r} is "
            "not finite: the local derivative is not finite at these values",
        )
    )
