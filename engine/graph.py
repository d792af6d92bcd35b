"""A computational graph: nodes that name their inputs by id, checked and ordered once.

`build_graph` turns the plain-dict form of the JSON contract into a `Graph`, refusing every
malformed graph with an error that names the node(s). Topological order is computed
iteratively (Kahn's algorithm), so a chain of any length works without recursion.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import GraphError, LimitError
from engine.limits import DEFAULT_LIMITS, Limits
from engine.numbers import NONFINITE_NAMES
from engine.ops import OPS, Op


@dataclass(slots=True)
class Node:
    """One node: its op, the ids of its inputs in order, and (for leaves) its value."""

    id: str
    op: Op
    inputs: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    label: str | None = None
    group: str | None = None
    position: dict | None = None

    def to_dict(self) -> dict:
        """The node in the graph JSON form (the value stays a numpy number or array)."""
        body: dict[str, Any] = {"id": self.id, "op": self.op.name}
        if self.op.is_leaf:
            body["value"] = self.value
        else:
            body["inputs"] = list(self.inputs)
        if self.attrs:
            body["attrs"] = dict(self.attrs)
        for key in ("label", "group", "position"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


@dataclass
class Graph:
    """Nodes by id, the output id, and the forward (topological) order."""

    nodes: dict[str, Node]
    output: str
    order: list[str]
    requires_grad: dict[str, bool]

    def with_values(self, values: dict[str, Any]) -> Graph:
        """This graph with new values for some leaves, which the caller has checked.

        The structure (other nodes, order, requires_grad) is shared with this graph, not copied.
        """
        nodes = dict(self.nodes)
        for node_id, value in values.items():
            old = nodes[node_id]
            nodes[node_id] = Node(
                old.id, old.op, old.inputs, old.attrs, value, old.label, old.group, old.position
            )
        return Graph(nodes, self.output, self.order, self.requires_grad)

    def to_dict(self) -> dict:
        """The graph in the JSON contract's form (schema_version 1)."""
        return {
            "schema_version": 1,
            "nodes": [node.to_dict() for node in self.nodes.values()],
            "output": self.output,
        }


def to_value(raw: Any, where: str, limits: Limits = DEFAULT_LIMITS):
    """A number or nested list as float64: a 0-d value is np.float64, a tensor an ndarray."""
    if isinstance(raw, bool) or raw is None:
        raise GraphError(
            f"{where}: a value must be a number or nested lists of numbers", code="bad_value"
        )
    if isinstance(raw, int | float):
        try:
            return np.float64(raw)
        except OverflowError:
            raise GraphError(
                f"{where}: a number of {len(str(abs(raw)))} digits is beyond the largest "
                "float64 (about 1.8e308)",
                code="bad_value",
            ) from None
    if isinstance(raw, np.ndarray):
        # From Python callers; keeps shapes JSON cannot spell, such as (0, 3).
        check_dims(raw.ndim, where, limits)
        if raw.size > limits.max_tensor_elements:
            raise LimitError(
                f"{where}: more than {limits.max_tensor_elements:,} elements",
                what="tensor_elements",
                limit=limits.max_tensor_elements,
                actual=int(raw.size),
            )
        return raw.astype(np.float64) if raw.ndim else np.float64(raw)
    if isinstance(raw, str):
        if raw.lower() in NONFINITE_NAMES:
            return np.float64(NONFINITE_NAMES[raw.lower()])
        raise GraphError(f"{where}: {raw!r} is not a number", code="bad_value")
    if not isinstance(raw, list):
        raise GraphError(
            f"{where}: a value must be a number or nested lists of numbers", code="bad_value"
        )

    flat = _flatten_rectangular(raw, where, limits)
    shape, numbers = flat
    try:
        return np.array(numbers, dtype=np.float64).reshape(shape)
    except OverflowError:
        raise GraphError(
            f"{where}: a number is beyond the largest float64 (about 1.8e308)", code="bad_value"
        ) from None


def check_dims(dims: int, where: str, limits: Limits, node_ids: tuple = ()) -> None:
    """Refuse a tensor of more dimensions than the limit (see Limits.max_tensor_dims)."""
    if dims > limits.max_tensor_dims:
        raise LimitError(
            f"{where}: a tensor with more than {limits.max_tensor_dims} dimensions "
            "(max_tensor_dims)",
            # The walk through nested lists stops at the first level past the limit.
            what="tensor_dims",
            limit=limits.max_tensor_dims,
            actual=dims,
            node_ids=node_ids,
        )


def _flatten_rectangular(raw: list, where: str, limits: Limits):
    """Walk nested lists level by level (no recursion), checking every row has one length."""
    shape: list[int] = []
    level: list = [raw]
    while level and all(isinstance(item, list) for item in level):
        lengths = {len(item) for item in level}
        if len(lengths) != 1:
            raise GraphError(
                f"{where}: rows have different lengths {sorted(lengths)}; a tensor is rectangular",
                code="bad_value",
            )
        shape.append(lengths.pop())
        check_dims(len(shape), where, limits)
        if math.prod(shape) > limits.max_tensor_elements:
            raise LimitError(
                f"{where}: more than {limits.max_tensor_elements:,} elements in one tensor",
                # The walk stops at the first level past the limit, so the deeper levels are
                # not counted: actual is a lower bound on the tensor's size.
                what="tensor_elements",
                limit=limits.max_tensor_elements,
                actual=math.prod(shape),
            )
        level = [x for item in level for x in item]
    if any(isinstance(item, list) for item in level):
        raise GraphError(f"{where}: mixes numbers and lists at one depth", code="bad_value")

    numbers = []
    for item in level:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise GraphError(f"{where}: {item!r} is not a number", code="bad_value")
        numbers.append(to_value(item, where) if isinstance(item, str) else item)
    return tuple(shape), numbers


def build_graph(spec: dict, limits: Limits = DEFAULT_LIMITS) -> Graph:
    """Check a graph given as plain data and order it; raise GraphError naming the nodes."""
    raw_nodes = spec.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise GraphError("a graph needs a non-empty list of nodes", code="empty_graph")
    if len(raw_nodes) > limits.max_nodes:
        raise LimitError(
            f"the graph has {len(raw_nodes):,} nodes; the limit is {limits.max_nodes:,}",
            what="nodes",
            limit=limits.max_nodes,
            actual=len(raw_nodes),
        )

    nodes: dict[str, Node] = {}
    for raw in raw_nodes:
        node = _build_node(raw, limits)
        if node.id in nodes:
            raise GraphError(
                f"two nodes have the id {node.id!r}", code="duplicate_id", node_ids=[node.id]
            )
        nodes[node.id] = node

    _check_inputs_exist(nodes)
    output = spec.get("output")
    if output not in nodes:
        raise GraphError(
            f"the output {output!r} is not a node of the graph", code="missing_output"
        )

    order = topological_order(nodes)
    _check_leaf_values(nodes)
    requires_grad = {}
    for node_id in order:
        node = nodes[node_id]
        requires_grad[node_id] = node.op.name == "input" or any(
            requires_grad[i] for i in node.inputs
        )
    return Graph(nodes=nodes, output=output, order=order, requires_grad=requires_grad)


def _build_node(raw: Any, limits: Limits) -> Node:
    if not isinstance(raw, dict):
        raise GraphError("every node must be an object with an id and an op", code="bad_node")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id:
        raise GraphError("every node needs a non-empty string id", code="bad_node")

    op = OPS.get(raw.get("op"))
    if op is None:
        known = ", ".join(sorted(OPS))
        raise GraphError(
            f"node {node_id!r} has the unknown op {raw.get('op')!r}; known ops: {known}",
            code="unknown_op",
            node_ids=[node_id],
        )

    inputs = raw.get("inputs") or ()
    if type(inputs) is not list and inputs != () or not all(type(i) is str for i in inputs):
        raise GraphError(
            f"node {node_id!r}: inputs must be a list of node ids",
            code="bad_node",
            node_ids=[node_id],
        )
    low, high = op.arity
    if not low <= len(inputs) <= high:
        wanted = str(high) if low == high else f"{low} to {high}"
        raise GraphError(
            f"node {node_id!r}: {op.name} takes {wanted} input(s), got {len(inputs)}",
            code="wrong_arity",
            node_ids=[node_id],
        )

    value = None
    if not op.is_leaf and raw.get("value") is not None:
        raise GraphError(
            f"node {node_id!r} is a {op.name} node, which computes its value; only input "
            f"and const nodes take a value",
            code="bad_node",
            node_ids=[node_id],
        )
    if op.is_leaf and raw.get("value") is not None:
        try:
            value = to_value(raw["value"], f"node {node_id!r}", limits)
        except GraphError as error:
            error.node_ids = [node_id]
            raise

    attrs = check_attrs(op, raw.get("attrs") or {}, node_id)
    return Node(
        id=node_id,
        op=op,
        inputs=tuple(inputs),
        attrs=attrs,
        value=value,
        label=raw.get("label"),
        group=raw.get("group"),
        position=raw.get("position"),
    )


def check_attrs(op: Op, given: dict, node_id: str) -> dict:
    """Fill defaults and refuse attributes the op does not have."""
    if not given and not op.attrs:
        return {}  # most nodes of a scalar graph: nothing to check
    if not isinstance(given, dict):
        raise GraphError(f"node {node_id!r}: attrs must be an object", node_ids=[node_id])
    known = {attr.name: attr for attr in op.attrs}
    given = _resolve_aliases(op, given, node_id) if op.attrs else given
    unknown = sorted(set(given) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise GraphError(
            f"node {node_id!r}: {op.name} has no attribute {unknown[0]!r} (it has: {allowed})",
            code="unknown_attribute",
            node_ids=[node_id],
        )
    return {name: given.get(name, attr.default) for name, attr in known.items()}


def _resolve_aliases(op: Op, given: dict, node_id: str) -> dict:
    """Rename aliases (`kernel` for `kernel_size`) to their attribute; both at once is an error."""
    aliases = {alias: attr.name for attr in op.attrs for alias in attr.aliases}
    if not aliases or not aliases.keys() & given.keys():
        return given
    resolved = {}
    for key, value in given.items():
        name = aliases.get(key, key)
        if name in resolved:
            raise GraphError(
                f"node {node_id!r}: {op.name} got {name!r} twice (once as its alias "
                f"{next(a for a, n in aliases.items() if n == name)!r}); give it once",
                code="duplicate_attribute",
                node_ids=[node_id],
            )
        resolved[name] = value
    return resolved


def _check_leaf_values(nodes: dict[str, Node]) -> None:
    # Checked after the structure, so a cyclic graph is reported as a cycle first.
    for node in nodes.values():
        if node.op.is_leaf and node.value is None:
            raise GraphError(
                f"node {node.id!r}: an {node.op.name} node needs a value",
                code="missing_value",
                node_ids=[node.id],
            )


def _check_inputs_exist(nodes: dict[str, Node]) -> None:
    for node in nodes.values():
        for input_id in node.inputs:
            if input_id not in nodes:
                raise GraphError(
                    f"node {node.id!r} uses {input_id!r}, which is not a node of the graph",
                    code="undefined_input",
                    node_ids=[node.id, input_id],
                )


def topological_order(nodes: dict[str, Node]) -> list[str]:
    """Kahn's algorithm, stable in the given node order; a cycle is an error naming it."""
    waiting = {node_id: len(set(node.inputs)) for node_id, node in nodes.items()}
    consumers: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for node in nodes.values():
        for input_id in set(node.inputs):
            consumers[input_id].append(node.id)

    ready = deque(node_id for node_id, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        node_id = ready.popleft()
        order.append(node_id)
        for consumer in consumers[node_id]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                ready.append(consumer)

    if len(order) < len(nodes):
        cycle = _find_cycle(nodes, {n for n, count in waiting.items() if count > 0})
        path = " → ".join(cycle + [cycle[0]])
        raise GraphError(
            f"the graph has a cycle: {path}; a computational graph must not loop back",
            code="cycle",
            node_ids=cycle,
        )
    return order


def _find_cycle(nodes: dict[str, Node], stuck: set[str]) -> list[str]:
    """Walk inputs inside the stuck set until a node repeats; that loop is a cycle."""
    start = next(node_id for node_id in nodes if node_id in stuck)
    seen: dict[str, int] = {}
    path: list[str] = []
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = next(i for i in nodes[current].inputs if i in stuck)
    return list(reversed(path[seen[current] :]))
