"""Engine results as JSON-ready data; non-finite numbers travel as "nan", "inf", "-inf"."""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from fastapi.responses import Response

from engine.display import latex_name
from engine.errors import LimitError
from engine.evaluate import Evaluation
from engine.groups import Group, summarize_groups
from engine.numbers import fmt
from engine.ops import OPS
from engine.tape import Run


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
    """The `/api/evaluate` response body; LimitError when it would carry too many numbers.

    Numbers are numpy floats or nested lists; `to_json` writes both.
    """
    scalar = _scalar(evaluation)
    if max_numbers is not None:
        _check_count(evaluation, max_numbers, scalar)

    groups = summarize_groups(evaluation)
    numbers = _numbers(evaluation, groups)
    # A scalar graph's numbers are written as they are once they are known to be finite (the
    # usual case); otherwise every number goes through `tensor`, which names the others.
    if not (scalar and _all_finite(numbers)):
        numbers = map(tensor, numbers)
    return _body(evaluation, groups, iter(numbers))


def _check_count(evaluation: Evaluation, max_numbers: int, scalar: bool) -> None:
    # A scalar graph carries at most one number per value and grad and three per edge.
    bound = 2 * len(evaluation.values) + 3 * len(evaluation.edge_records)
    if scalar and bound <= max_numbers:
        return
    numbers = count_numbers(evaluation)
    if numbers > max_numbers:
        raise LimitError(
            f"the answer would carry {numbers:,} numbers (values, gradients and each "
            f"edge's upstream, local and downstream); the limit is {max_numbers:,}. "
            "Use smaller tensors.",
            what="answer_numbers",
            limit=max_numbers,
            actual=numbers,
        )


def _all_finite(numbers: list) -> bool:
    return all(map(math.isfinite, filter(functools.partial(operator.is_not, None), numbers)))


def _numbers(evaluation: Evaluation, groups: dict[str, Group]) -> list:
    """Every number of the response, None where it has none, in the order of the JSON text."""
    graph, values, grads, aux = (
        evaluation.graph,
        evaluation.values,
        evaluation.grads,
        evaluation.aux,
    )
    numbers = [node.value for node in graph.nodes.values() if node.op.is_leaf]
    if aux:
        for node_id in graph.order:
            numbers += (values[node_id], grads.get(node_id), *aux.get(node_id, {}).values())
    else:
        # Each node's value and grad, without a Python-level step per node.
        pairs = zip(map(values.__getitem__, graph.order), map(grads.get, graph.order), strict=True)
        numbers += itertools.chain.from_iterable(pairs)
    # The records, not `edges`: building an Edge for each costs more than the rest here.
    for record in evaluation.edge_records:
        if type(record) is tuple:
            numbers += record[3:6]  # upstream, local, downstream
        else:
            numbers += (record.upstream, record.local, record.downstream)
    for group in groups.values():
        for edge in group.edges:
            numbers += (edge.upstream, edge.local, edge.downstream)
    return numbers


def _body(evaluation: Evaluation, groups: dict[str, Group], numbers: Iterator) -> dict:
    """The response, taking its numbers from `numbers` in the order `_numbers` gives them.

    That is the order they have in the JSON text, which `AnswerTemplate` relies on: the parts
    below are built in the order they are written, and Python builds a dict display from left
    to right.
    """
    graph = evaluation.graph
    names = {node_id: _display_name(node) for node_id, node in graph.nodes.items()}
    warnings = {w.node: w.message for w in evaluation.warnings}
    local_formulas: dict[str, list[str]] = {}

    echo = graph.to_dict()
    for node in echo["nodes"]:
        if "value" in node:
            node["value"] = next(numbers)

    nodes = {}
    for node_id in graph.order:
        node = graph.nodes[node_id]
        op = node.op
        formula = None
        if not op.is_leaf:
            formula, local_formulas[node_id] = _formulas(
                op.name, names[node_id], tuple(names[i] for i in node.inputs)
            )
        value = evaluation.values[node_id]
        nodes[node_id] = {
            "op": op.name,
            "inputs": list(node.inputs),
            "label": node.label,
            "symbol": op.symbol,
            "group": node.group,
            "shape": [] if type(value) is np.float64 else list(np.shape(value)),
            "value": next(numbers),
            "grad": next(numbers),
            "warning": warnings.get(node_id),
            "formula": formula,
            "position": node.position,
        }
        if node_id in evaluation.aux:
            nodes[node_id]["aux"] = {name: next(numbers) for name in evaluation.aux[node_id]}

    edges = [
        {
            "source": edge.source,
            "target": edge.target,
            "input_index": edge.input_index,
            "upstream": next(numbers),
            "local": next(numbers),
            "downstream": next(numbers),
            "local_formula": local_formulas[edge.target][edge.input_index],
            "local_omitted": edge.local_omitted,
        }
        for edge in evaluation.edges
    ]

    return {
        "schema_version": 1,
        "output": graph.output,
        "graph": echo,
        "forward_order": evaluation.forward_order,
        "backward_order": evaluation.backward_order,
        "nodes": nodes,
        "edges": edges,
        "groups": {name: _group_json(group, numbers) for name, group in groups.items()},
        "warnings": [
            {"node": w.node, "code": w.code, "message": w.message} for w in evaluation.warnings
        ],
        "first_nonfinite": evaluation.first_nonfinite,
        "notes": evaluation.notes,
    }


def _group_json(group: Group, numbers: Iterator) -> dict:
    return {
        "nodes": group.nodes,
        "output": group.output,
        "symbol": group.symbol,
        "edges": [
            {
                "source": edge.source,
                "target": edge.target,
                "upstream": next(numbers),
                "local": next(numbers),
                "downstream": next(numbers),
            }
            for edge in group.edges
        ],
    }


def _display_name(node) -> str:
    """A const shows its number; everything else its label or id."""
    if node.op.name == "const" and np.ndim(node.value) == 0:
        return fmt(node.value)
    return _latex_name(node.id, node.label)


def json_response(body: dict, status_code: int = 200) -> Response:
    """`body` as a JSON response (see `to_json`)."""
    return Response(to_json(body), status_code=status_code, media_type="application/json")


def to_json(body: dict) -> bytes:
    """JSON via orjson: several times faster than the standard library on these bodies.

    Every float in `body` has already been checked finite or named by `number`, so orjson's
    habit of writing NaN as null never applies. numpy floats are written as floats.
    """
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


class AnswerTemplate:
    """An answer's JSON text cut where its numbers go, for answers alike in all but those.

    Requests that share a plan (app.plans) have the same graph with other input values. When
    their evaluation is scalar and finite, with no warning and no note, its answer differs from
    the first one only in its numbers: it is the template's pieces with the numbers between
    them, written without building the answer's dicts again.
    """

    # A string no answer holds: the first answer is written with it in place of every number.
    MARK = "\x00gradplay-number\x00"

    def __init__(self, pieces: list[bytes], grouped: bool, nulls: int) -> None:
        self.pieces = pieces
        # Groups are part of the structure: a template cut without any never needs them.
        self.grouped = grouped
        # Where a number is None (the grad of a node off the output's path, an edge into a
        # const) depends on the structure only, so every answer of this template has as many.
        self.nulls = nulls

    @staticmethod
    def fits(evaluation: Evaluation) -> bool:
        """Scalar, with no warning and no note: an evaluation a template can answer."""
        return not evaluation.warnings and not evaluation.notes and _scalar(evaluation)

    @classmethod
    def of(cls, evaluation: Evaluation, note: str | None) -> AnswerTemplate | None:
        """The template of a fitting `evaluation`'s answer, with `note` among its notes."""
        groups = summarize_groups(evaluation)
        body = _body(evaluation, groups, itertools.repeat(cls.MARK))
        if note is not None:
            body["notes"] = [note]
        pieces = to_json(body).split(orjson.dumps(cls.MARK))
        numbers = _numbers(evaluation, groups)
        # A label holding the mark would cut the text once more; such a graph gets no template.
        if len(pieces) != len(numbers) + 1:
            return None
        return cls(pieces, bool(groups), sum(number is None for number in numbers))

    def fill(self, evaluation: Evaluation) -> bytes | None:
        """The answer for a fitting `evaluation`; None when its numbers do not fit."""
        groups = summarize_groups(evaluation) if self.grouped else {}
        return self._write(_numbers(evaluation, groups))

    def fill_run(self, leaf_values: list, run: Run) -> bytes | None:
        """The answer from a tape's run (engine.tape) of an ungrouped graph."""
        numbers = list(leaf_values)  # first in `_numbers`' order, as the echoed graph has them
        numbers += itertools.chain.from_iterable(zip(run.values, run.grads, strict=True))
        numbers += run.edge_numbers
        return self._write(numbers)

    def _write(self, numbers: list) -> bytes | None:
        if len(numbers) != len(self.pieces) - 1:
            return None
        written = orjson.dumps(numbers, option=orjson.OPT_SERIALIZE_NUMPY)
        # orjson writes a number that is not finite as null: one null too many means such a
        # number, which must be written as its name in the full answer.
        if written.count(b"null") != self.nulls:
            return None
        # Scalars and nulls hold no comma, so the written list splits into the numbers.
        written = written[1:-1].split(b",")
        text = [b""] * (2 * len(written) + 1)
        text[0::2] = self.pieces
        text[1::2] = written
        return b"".join(text)


def _scalar(evaluation: Evaluation) -> bool:
    return all(type(value) is np.float64 for value in evaluation.values.values())
