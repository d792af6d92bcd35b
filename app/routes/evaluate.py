"""Evaluating graphs: `POST /api/evaluate` and `POST /api/parse`."""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import lru_cache

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.errors import ApiError
from app.schemas import ERROR_RESPONSES, EvaluateIn, EvaluateOut, ParseIn
from app.serialize import evaluation_to_json, graph_to_json, json_response
from engine.evaluate import evaluate
from engine.expr import parse
from engine.graph import build_graph
from engine.limits import Limits

log = logging.getLogger(__name__)
router = APIRouter(tags=["graphs"])


def parsed(expression: str, inputs: dict | None, limits: Limits) -> dict:
    """The parser's graph for an expression, remembered: students post the same text often.

    The graph dict is shared between requests, so nothing downstream may change it
    (build_graph only reads it).
    """
    key = orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS) if inputs else b""
    return _parsed(expression, key, limits)


@lru_cache(maxsize=1024)
def _parsed(expression: str, inputs_key: bytes, limits: Limits) -> dict:
    # A failed parse raises, and lru_cache keeps nothing for it.
    return parse(expression, orjson.loads(inputs_key) if inputs_key else None, limits)


def graph_spec(body: EvaluateIn, limits: Limits) -> dict:
    """The plain graph dict for a request that gives either nodes or an expression."""
    if body.expression is not None:
        if body.nodes is not None:
            raise ApiError(
                422, "ambiguous_request", "give either an expression or a list of nodes, not both"
            )
        return parsed(body.expression, body.inputs, limits)
    if body.nodes is None:
        raise ApiError(422, "empty_request", "give a graph (nodes and output) or an expression")
    if body.output is None:
        raise ApiError(422, "missing_output", "a graph needs an output: the id of its last node")
    nodes = [node.model_dump(exclude_none=True) for node in body.nodes]
    for node in nodes:
        # `inputs` sets the value of an input leaf by id, as it does for an expression.
        if body.inputs and node["op"] == "input" and node["id"] in body.inputs:
            node["value"] = body.inputs[node["id"]]
    return {"nodes": nodes, "output": body.output}


def _evaluate(spec: dict, grad_output, limits: Limits) -> dict:
    graph = build_graph(spec, limits)
    return evaluation_to_json(evaluate(graph, grad_output=grad_output, limits=limits))


class ResponseCache:
    """The latest answers by request body: an evaluation is a pure function of its body.

    A class working through one preset sends the same body dozens of times; those are
    answered without evaluating again. Only small answers are kept, so memory stays bounded.
    """

    def __init__(self, entries: int, largest: int) -> None:
        self.entries = entries
        self.largest = largest
        self.answers: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, body: bytes) -> bytes | None:
        answer = self.answers.get(body)
        if answer is not None:
            self.answers.move_to_end(body)
        return answer

    def put(self, body: bytes, answer: bytes) -> None:
        if self.entries == 0 or len(answer) > self.largest or len(body) > self.largest:
            return
        self.answers[body] = answer
        if len(self.answers) > self.entries:
            self.answers.popitem(last=False)


@router.post("/api/evaluate", response_model=EvaluateOut, responses=ERROR_RESPONSES)
async def evaluate_graph(body: EvaluateIn, request: Request) -> Response:
    """Run the forward and backward passes; return values and every edge's gradients."""
    settings = request.app.state.settings
    cache: ResponseCache = request.app.state.evaluate_cache
    raw = await request.body()  # already read for validation; Starlette keeps it
    answer = cache.get(raw)
    if answer is not None:
        return Response(answer, media_type="application/json")

    spec = graph_spec(body, settings.limits)
    # Small graphs are faster on the event loop; big ones must not block it.
    if len(spec["nodes"]) + _leaf_elements(spec) > settings.inline_work_limit:
        result = await run_in_threadpool(_evaluate, spec, body.grad_output, settings.limits)
    else:
        result = _evaluate(spec, body.grad_output, settings.limits)
    response = json_response(result)
    cache.put(raw, response.body)
    return response


def _leaf_elements(spec: dict) -> int:
    """A cheap upper bound on tensor work: count the numbers in list-valued leaves."""
    total = 0
    for node in spec["nodes"]:
        value = node.get("value") if isinstance(node, dict) else None
        while isinstance(value, list) and value:
            total += len(value)
            value = value[0]
    return total


@router.post("/api/parse", responses=ERROR_RESPONSES)
async def parse_expression(body: ParseIn, request: Request) -> dict:
    """Turn an expression into graph JSON without evaluating it."""
    limits = request.app.state.settings.limits
    graph = build_graph(parsed(body.expression, body.inputs, limits), limits)
    return {"graph": graph_to_json(graph)}
