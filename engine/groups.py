"""Composite blocks: a group of nodes (e.g. a sigmoid built from primitives) seen as one box.

For a scalar group with a single output node, the block's local gradient with respect to an
outside source is the sum, over paths inside the block, of the products of the members' local
gradients. It is accumulated here from the edges the backward pass already recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.evaluate import Evaluation

GROUP_SYMBOLS = {"sigmoid": "σ", "tanh": "tanh", "linear": "Wx+b", "softmax": "softmax"}


@dataclass
class GroupEdge:
    source: str
    target: str
    upstream: Any
    local: Any
    downstream: Any


@dataclass
class Group:
    name: str
    nodes: list[str]
    output: str | None
    symbol: str
    edges: list[GroupEdge] = field(default_factory=list)


def summarize_groups(evaluation: Evaluation) -> dict[str, Group]:
    """One summary per group name found on the graph's nodes."""
    graph = evaluation.graph
    members: dict[str, list[str]] = {}
    for node_id in graph.order:
        group = graph.nodes[node_id].group
        if group:
            members.setdefault(group, []).append(node_id)
    return {name: _summarize(evaluation, name, ids) for name, ids in members.items()}


def _summarize(evaluation: Evaluation, name: str, ids: list[str]) -> Group:
    inside = set(ids)
    # Members read by a node outside the block, found in one walk over the edges.
    read_outside = {
        edge.source
        for edge in evaluation.edges
        if edge.source in inside and edge.target not in inside
    }
    exits = [n for n in ids if n == evaluation.graph.output or n in read_outside]
    symbol = GROUP_SYMBOLS.get(name.rstrip("0123456789_"), name)
    group = Group(name=name, nodes=ids, output=exits[0] if len(exits) == 1 else None,
                  symbol=symbol)  # fmt: skip
    if group.output is None or not all(np.ndim(evaluation.values[i]) == 0 for i in ids):
        return group

    # d(output)/d(x) for every x feeding the block. Edges come in backward order, so every
    # consumer inside the block is done before the node it consumes.
    through = {group.output: 1.0}
    entering: dict[str, float] = {}
    for edge in evaluation.edges:
        if edge.target not in inside or edge.local is None or edge.target not in through:
            continue
        carried = through[edge.target] * float(edge.local)
        bucket = through if edge.source in inside else entering
        bucket[edge.source] = bucket.get(edge.source, 0.0) + carried

    upstream = evaluation.grads.get(group.output)
    for source, local in entering.items():
        downstream = None if upstream is None else float(upstream) * local
        group.edges.append(GroupEdge(source, name, upstream, local, downstream))
    return group
