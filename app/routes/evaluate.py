"""Evaluating graphs: `POST /api/evaluate` and `POST /api/parse`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from app.caches import BoundedCache
from app.errors import ApiError, is_json, not_json
from app.plans import Checked, Plan, PlanCache, Split
from app.schemas import (
    ERROR_RESPONSES,
    EvaluateIn,
    EvaluateOut,
    ParseIn,
    body_schema,
    validate_body,
)
from app.serialize import evaluation_to_json, graph_to_json, to_json
from app.settings import Settings
from engine.errors import EngineError
from engine.evaluate import Evaluation, evaluate
from engine.expr import parse_located, point_at_text
from engine.graph import Graph, build_graph
from engine.limits import Limits

log = logging.getLogger(__name__)
router = APIRouter(tags=["graphs"])
JSON = "application/json"


class ParsedCache:
    """The parser's graphs for recent expressions: students post the same text often.

    A kept graph is shared between requests, so nothing downstream may change it (build_graph
    only reads it).
    """

    # Bytes of a parsed node with its position, and of one number of a leaf (a float in a
    # list: nested lists hold Python floats, not packed ones), measured with tracemalloc and
    # rounded up.
    NODE_BYTES = 500
    NUMBER_BYTES = 40

    def __init__(self, entries: int = 512, budget: int = 32 * 1024 * 1024) -> None:
        self.graphs = BoundedCache(entries, budget)

    def parse(self, expression: str, inputs: dict | None, limits: Limits) -> tuple[dict, dict]:
        """The graph and where each node's text is, as engine.expr.parse_located gives them."""
        # The standard library's json spells any integer, however large, for the key.
        given = json.dumps(inputs, sort_keys=True) if inputs else ""
        key = (expression, given, limits)
        parsed = self.graphs.get(key)
        if parsed is not None:
            return parsed
        parsed = parse_located(expression, inputs, limits)
        # The key holds the inputs' text, used or not; a short text like `randn(1000, 1000)`
        # can make big leaves.
        spec = parsed[0]
        size = (
            len(expression)
            + len(given)
            + self.NODE_BYTES * len(spec["nodes"])
            + self.NUMBER_BYTES * _leaf_elements(spec)
        )
        self.graphs.put(key, parsed, size)
        return parsed


def graph_spec(
    body: EvaluateIn, limits: Limits, parsed: ParsedCache
) -> tuple[dict, dict[str, tuple[int, int]]]:
    """The plain graph dict for a request that gives either nodes or an expression.

    Second, for an expression, the line and column of the text that made each node, for
    `pointing_at`; empty for a graph given as nodes.
    """
    if body.expression is not None:
        if body.nodes is not None:
            raise ApiError(
                422, "ambiguous_request", "give either an expression or a list of nodes, not both"
            )
        return parsed.parse(body.expression, body.inputs, limits)
    if body.nodes is None:
        raise ApiError(422, "empty_request", "give a graph (nodes and output) or an expression")
    if body.output is None:
        raise ApiError(422, "missing_output", "a graph needs an output: the id of its last node")
    nodes = [node.model_dump(exclude_none=True) for node in body.nodes]
    if body.inputs:
        _set_inputs(nodes, body.inputs)
    return {"nodes": nodes, "output": body.output}, {}


def _set_inputs(nodes: list[dict], inputs: dict) -> None:
    """`inputs` sets the value of an input leaf by id, as it does for an expression."""
    for node in nodes:
        if node["id"] not in inputs:
            continue
        if node["op"] != "input":
            raise ApiError(
                422,
                "unknown_input",
                f"inputs gives a value for {node['id']!r}, a {node['op']} node that computes "
                f"its value; only input nodes can be given one",
            )
        node["value"] = inputs[node["id"]]


def ignored_inputs(inputs: dict | None, spec: dict) -> str | None:
    """A note naming the values in `inputs` that no input node took, so a typo shows."""
    if not inputs:
        return None
    ignored = sorted(set(inputs) - {node["id"] for node in spec["nodes"] if node["op"] == "input"})
    if not ignored:
        return None
    named = ", ".join(repr(name) for name in ignored)
    return f"inputs gives values for {named}, which the graph does not use; they were ignored."


@contextmanager
def pointing_at(positions: dict[str, tuple[int, int]]) -> Iterator[None]:
    """Errors about a node made from an expression point at the text that made it."""
    try:
        yield
    except EngineError as error:
        point_at_text(error, positions)
        raise


def _evaluate(graph: Graph, grad_output, settings: Settings) -> Evaluation:
    return evaluate(graph, grad_output=grad_output, limits=settings.limits)


def _answer(evaluation: Evaluation, note: str | None, settings: Settings) -> bytes:
    """The answer's JSON text, with `note` (about ignored inputs) added to its notes."""
    result = evaluation_to_json(evaluation, settings.max_response_numbers)
    if note is not None:
        result["notes"].append(note)
    return to_json(result)


class ResponseCache:
    """The latest answers by request body: an evaluation is a pure function of its body.

    A class working through one preset sends the same body dozens of times; those are
    answered without evaluating again.
    """

    def __init__(self, entries: int, budget: int) -> None:
        self.answers = BoundedCache(entries, budget)

    def get(self, body: bytes) -> bytes | None:
        return self.answers.get(body)

    def put(self, body: bytes, answer: bytes) -> None:
        self.answers.put(body, answer, len(body) + len(answer))


@router.post(
    "/api/evaluate",
    response_model=EvaluateOut,
    responses=ERROR_RESPONSES,
    openapi_extra=body_schema(EvaluateIn),
)
async def evaluate_graph(request: Request) -> Response:
    """Run the forward and backward passes; return values and every edge's gradients."""
    state = request.app.state
    content_type = _content_type(request.scope)
    if not is_json(content_type):
        raise not_json(content_type)
    cache: ResponseCache = state.evaluate_cache
    raw = await request.body()
    answer = cache.get(raw)
    if answer is not None:
        return Response(answer, media_type=JSON)

    plans: PlanCache = state.evaluate_plans
    split = plans.split(raw)
    plan = plans.get(split) if split is not None else None
    if plan is not None:
        # Not kept by body: a plan answers in a few tens of µs, and the bodies that use one
        # are mostly new (a value being edited), so keeping them would only push out others.
        return Response(_planned_answer(plan, split, state.settings), media_type=JSON)

    answer = await _checked_answer(raw, state, split)
    cache.put(raw, answer)
    return Response(answer, media_type=JSON)


def _content_type(scope: dict) -> str | None:
    # Read off the raw headers: building Starlette's Headers costs more on this hot path.
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1")
    return None


def _planned_answer(plan: Plan, split: Split, settings: Settings) -> bytes:
    """The answer for a body whose structure was checked before: only its numbers are new."""
    answer = plan.taped_answer(split.numbers)
    if answer is not None:
        return answer
    graph, grad_output = plan.graph_and_grad_output(split.numbers)
    with pointing_at(plan.positions):
        evaluation = _evaluate(graph, grad_output, settings)
    answer = plan.answer(evaluation, settings.limits)
    return answer if answer is not None else _answer(evaluation, plan.note, settings)


async def _checked_answer(raw: bytes, state: State, split: Split | None) -> bytes:
    """The full path: validate the body, parse, check the graph, evaluate; keep its plan."""
    settings: Settings = state.settings
    body = validate_body(raw, EvaluateIn)
    spec, positions = graph_spec(body, settings.limits, state.parsed)
    note = ignored_inputs(body.inputs, spec)
    with pointing_at(positions):
        # Small graphs are faster on the event loop; big ones must not block it.
        if len(spec["nodes"]) + _leaf_elements(spec) > settings.inline_work_limit:
            return await run_in_threadpool(_build_and_answer, spec, body, note, settings)
        graph = build_graph(spec, settings.limits)
        evaluation = _evaluate(graph, body.grad_output, settings)
    answer = _answer(evaluation, note, settings)
    if split is not None:
        checked = Checked(graph, positions, note, body.grad_output)
        state.evaluate_plans.put(split, checked, len(answer))
    return answer


def _build_and_answer(spec: dict, body: EvaluateIn, note: str | None, settings: Settings) -> bytes:
    graph = build_graph(spec, settings.limits)
    return _answer(_evaluate(graph, body.grad_output, settings), note, settings)


def _leaf_elements(spec: dict) -> int:
    """The numbers held by the graph's leaves (lists are rectangular or refused later)."""
    total = 0
    for node in spec["nodes"]:
        value = node.get("value") if isinstance(node, dict) else None
        if value is None:
            continue  # an op node, which holds no number until it is evaluated
        if isinstance(value, np.ndarray):
            total += value.size
            continue
        count = 1
        while isinstance(value, list):
            count *= len(value)
            value = value[0] if value else None
        total += count
    return total


@router.post("/api/parse", responses=ERROR_RESPONSES)
async def parse_expression(body: ParseIn, request: Request) -> dict:
    """Turn an expression into graph JSON without evaluating it."""
    state = request.app.state
    limits = state.settings.limits
    spec, positions = state.parsed.parse(body.expression, body.inputs, limits)
    with pointing_at(positions):
        graph = build_graph(spec, limits)
    return {"graph": graph_to_json(graph)}
