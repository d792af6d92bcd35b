"""Engine results as JSON-ready data; non-finite numbers travel as "nan", "inf", "-inf"."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from fastapi.responses import Response

from engine.display import latex_name
from engine.errors import LimitError
from engine.evaluate import Evaluation
from engine.groups import summarize_groups
from engine.numbers import fmt
from engine.ops import OPS


@lru_cache(maxsize=8192)
def _formulas(op_name: str, out: str, args: tuple[str, ...]) -> tuple[str, list[str]]:
    # The same few formulas come back request after request; build each once.
    return OPS[op_name].describe(out, list(args))


@lru_cache(maxsize=8192)
def _latex_name(node_id: str, label: str | None) -> str:
    return latex_name(node_id, label)


def number(value: float) -> float | str:
    """A float, or its name when JSON has none for it."""
    value = float(value)
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def tensor(value: Any) -> Any:
    """A scalar as a number, a tensor as nested lists; None stays None."""
    if value is None:
        return None
    if type(value) is np.float64 or np.ndim(value) == 0:
        return number(value)
    array = np.asarray(value, dtype=np.float64)
    if np.isfinite(array).all():
        return array.tolist()
    named = array.astype(object)
    named[np.isnan(array)] = "nan"
    named[np.isposinf(array)] = "inf"
    named[np.isneginf(array)] = "-inf"
    return named.tolist()


def graph_to_json(graph) -> dict:
    """The graph JSON form with leaf values made JSON-safe."""
    body = graph.to_dict()
    for node in body["nodes"]:
        if "value" in node:
            node["value"] = tensor(node["value"])
    return body


def count_numbers(evaluation: Evaluation) -> int:
    """How many numbers the response would carry: values, grads and every edge's three."""
    total = 2 * sum(map(_size, evaluation.values.values()))  # values and grads
    for edge in evaluation.edges:
        for part in (edge.upstream, edge.local, edge.downstream):
            if part is not None:
                total += _size(part)
    return total


def _size(value) -> int:
    # ndarrays and numpy scalars carry their size; np.size costs a call into numpy.
    return value.size if hasattr(value, "size") else int(np.size(value))


def evaluation_to_json(evaluation: Evaluation, max_numbers: int | None = None) -> dict:
    """The `/api/evaluate` response body; LimitError when it would carry too many numbers."""
    if max_numbers is not None:
        numbers = count_numbers(evaluation)
        if numbers > max_numbers:
            raise LimitError(
                f"the answer would carry {numbers:,} numbers (values, gradients and each "
                f"edge's upstream, local and downstream); the limit is {max_numbers:,}. "
                "Use smaller tensors."
            )
    graph = evaluation.graph
    names = {node_id: _display_name(node) for node_id, node in graph.nodes.items()}
    warnings = {w.node: w.message for w in evaluation.warnings}
    local_formulas: dict[str, list[str]] = {}

    nodes = {}
    for node_id in graph.order:
        node = graph.nodes[node_id]
        formula = None
        if not node.op.is_leaf:
            formula, local_formulas[node_id] = _formulas(
                node.op.name, names[node_id], tuple(names[i] for i in node.inputs)
            )
        nodes[node_id] = {
            "op": node.op.name,
            "inputs": list(node.inputs),
            "label": node.label,
            "symbol": node.op.symbol,
            "group": node.group,
            "shape": list(np.shape(evaluation.values[node_id])),
            "value": tensor(evaluation.values[node_id]),
            "grad": tensor(evaluation.grads.get(node_id)),
            "warning": warnings.get(node_id),
            "formula": formula,
            "position": node.position,
        }
        if node_id in evaluation.aux:
            nodes[node_id]["aux"] = {k: tensor(v) for k, v in evaluation.aux[node_id].items()}

    edges = [
        {
            "source": edge.source,
            "target": edge.target,
            "input_index": edge.input_index,
            "upstream": tensor(edge.upstream),
            "local": tensor(edge.local),
            "downstream": tensor(edge.downstream),
            "local_formula": local_formulas[edge.target][edge.input_index],
            "local_omitted": edge.local_omitted,
        }
        for edge in evaluation.edges
    ]

    return {
        "schema_version": 1,
        "output": graph.output,
        "graph": graph_to_json(graph),
        "forward_order": evaluation.forward_order,
        "backward_order": evaluation.backward_order,
        "nodes": nodes,
        "edges": edges,
        "groups": _groups_to_json(evaluation),
        "warnings": [
            {"node": w.node, "code": w.code, "message": w.message} for w in evaluation.warnings
        ],
        "first_nonfinite": evaluation.first_nonfinite,
        "notes": evaluation.notes,
    }


def _display_name(node) -> str:
    """A const shows its number; everything else its label or id."""
    if node.op.name == "const" and np.ndim(node.value) == 0:
        return fmt(node.value)
    return _latex_name(node.id, node.label)


def _groups_to_json(evaluation: Evaluation) -> dict:
    groups = summarize_groups(evaluation)
    return {
        name: {
            "nodes": group.nodes,
            "output": group.output,
            "symbol": group.symbol,
            "edges": [
                {
                    "source": edge.source,
                    "target": edge.target,
                    "upstream": tensor(edge.upstream),
                    "local": tensor(edge.local),
                    "downstream": tensor(edge.downstream),
                }
                for edge in group.edges
            ],
        }
        for name, group in groups.items()
    }


def json_response(body: dict, status_code: int = 200) -> Response:
    """JSON via orjson: several times faster than the standard library on these bodies.

    Every float in `body` has already been made finite or named by `number`, so orjson's
    habit of writing NaN as null never applies.
    """
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")
