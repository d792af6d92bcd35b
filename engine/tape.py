"""A scalar graph compiled to positions in a list, to run one checked structure many times.

`evaluate` works on any graph: it looks nodes up by id, builds dicts of values and grads and a
record per edge, and explains every number that is not finite. When the same small scalar
graph is run again and again with new leaf values (the API's plans: a student editing an
input), most of that is the same each time. A tape is that graph with the look-ups done once:
each step reads and writes positions in a list.

It calls the same op functions in the same order as `evaluate`'s scalar path, so its numbers
are bit for bit evaluate's. It covers only the plain case: every value a finite float64, with
nothing to warn about. A run that meets anything else returns None, and the caller evaluates
the graph in full, which explains the number that is not finite.

The scalar chain rule is thus written twice, here and in evaluate.backward: a change to one
must be made in the other, and tests/engine/test_tape.py holds them equal bit for bit. Making
evaluate itself run compiled steps would remove the copy, but compiling costs about one pass,
which a graph evaluated once (most requests) would pay for nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError
from engine.graph import Graph
from engine.limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True, slots=True)
class Run:
    """A tape's numbers: per node in forward order its value and grad, then each edge's three.

    The edges come in the order `Evaluation.edge_records` has them, as upstream, local,
    downstream; None where evaluate has None (an edge into a const, a node off the output's
    path, the grad of a node that gets none).
    """

    values: list
    grads: list
    edge_numbers: list


@dataclass(frozen=True, slots=True)
class ScalarTape:
    """The forward and backward steps of a scalar graph, over positions in its forward order."""

    size: int
    # Per leaf, in the graph's node order (the order its caller gives leaf values in): its
    # position in the forward order.
    leaves: tuple[int, ...]
    # Per op node, in forward order: (position, forward, input positions, attrs).
    forward_steps: tuple
    # Per node the backward pass reaches, in backward order: (position, input positions,
    # constant partials or None, partials, per input whether it takes a gradient).
    backward_steps: tuple
    output: int
    # Whether the output takes a gradient: if not, no edge gets one.
    output_requires_grad: bool
    # The edges no gradient reaches, as (None, None, None) each, after the others.
    unreached_edges: int
    seconds: float

    # A run does not look at the clock between steps as evaluate does, so only graphs this
    # small, which run in well under a millisecond, get a tape.
    MAX_NODES = 1024

    @classmethod
    def of(cls, graph: Graph, limits: Limits = DEFAULT_LIMITS) -> ScalarTape | None:
        """The tape of `graph`; None when it is too big, or has an op a tape cannot run."""
        if len(graph.order) > cls.MAX_NODES:
            return None
        position = {node_id: index for index, node_id in enumerate(graph.order)}
        nodes = graph.nodes
        if any(node.op.is_leaf and type(node.value) is not np.float64 for node in nodes.values()):
            return None  # a tensor leaf

        forward_steps = []
        for node_id in graph.order:
            node = nodes[node_id]
            if node.op.is_leaf:
                continue
            # keeps and aux belong to tensor ops; an op without partials has only a vjp.
            if node.op.partials is None or node.op.keeps or node.op.aux is not None:
                return None
            inputs = tuple(position[source] for source in node.inputs)
            forward_steps.append((position[node_id], node.op.forward, inputs, node.attrs))

        reached, backward_steps = _backward_steps(graph, position)
        unreached = sum(
            len(nodes[node_id].inputs)
            for node_id in graph.order
            if node_id not in reached and not nodes[node_id].op.is_leaf
        )
        leaves = tuple(position[node_id] for node_id, node in nodes.items() if node.op.is_leaf)
        return cls(
            size=len(graph.order),
            leaves=leaves,
            forward_steps=tuple(forward_steps),
            backward_steps=tuple(backward_steps),
            output=position[graph.output],
            output_requires_grad=graph.requires_grad[graph.output],
            unreached_edges=unreached,
            seconds=limits.max_seconds,
        )

    def run(self, leaf_values: list, seed) -> Run | None:
        """Forward and backward with these leaf values and this output gradient (float64s).

        None when a value, gradient or the seed is not a finite float64: evaluate explains it.
        """
        deadline = time.perf_counter() + self.seconds
        float64, isfinite = np.float64, math.isfinite
        values = [None] * self.size
        for index, value in zip(self.leaves, leaf_values, strict=True):
            if type(value) is not float64 or not isfinite(value):
                return None
            values[index] = value

        with np.errstate(all="ignore"):
            try:
                for index, forward, inputs, attrs in self.forward_steps:
                    args = [values[i] for i in inputs]
                    out = forward(*args, **attrs) if attrs else forward(*args)
                    if type(out) is not float64 or not isfinite(out):
                        return None
                    values[index] = out
                run = self._backward(values, seed)
            except (EngineError, ValueError):
                return None  # evaluate gives the error, naming the node

        # Past the time limit, evaluate runs again and gives the limit's error.
        return run if time.perf_counter() <= deadline else None

    def _backward(self, values: list, seed) -> Run | None:
        if type(seed) is not np.float64 or not math.isfinite(seed):
            return None
        isfinite = math.isfinite
        grads = [None] * self.size
        if self.output_requires_grad:
            grads[self.output] = seed
        edge_numbers: list = []

        for index, inputs, constants, partials, takes_grad in self.backward_steps:
            upstream = grads[index]
            args = [values[i] for i in inputs]
            out = values[index]
            for k, source in enumerate(inputs):
                if not takes_grad[k]:
                    edge_numbers += (upstream, None, None)
                    continue
                local = constants[k] if constants else partials[k](*args, out)
                downstream = upstream * local
                previous = grads[source]
                grad = downstream if previous is None else previous + downstream
                if not isfinite(downstream) or not isfinite(grad):
                    return None
                edge_numbers += (upstream, local, downstream)
                grads[source] = grad

        edge_numbers += (None,) * (3 * self.unreached_edges)
        return Run(values, grads, edge_numbers)


def _backward_steps(graph: Graph, position: dict[str, int]) -> tuple[set[str], list]:
    """The nodes a backward pass reaches, and its steps, in the order evaluate takes them."""
    nodes, requires_grad = graph.nodes, graph.requires_grad
    reached = {graph.output} if requires_grad[graph.output] else set()
    steps = []
    for node_id in reversed(graph.order):
        node = nodes[node_id]
        if node_id not in reached or node.op.is_leaf:
            continue
        takes_grad = tuple(requires_grad[source] for source in node.inputs)
        reached.update(source for source in node.inputs if requires_grad[source])
        inputs = tuple(position[source] for source in node.inputs)
        steps.append(
            (position[node_id], inputs, node.op.constant_partials, node.op.partials, takes_grad)
        )
    return reached, steps
