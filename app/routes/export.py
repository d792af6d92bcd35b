"""A graph in other forms: `/api/export/pytorch` and `/api/export/dot`."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from app.exports import to_dot, to_pytorch
from app.routes.evaluate import graph_spec, pointing_at
from app.schemas import ERROR_RESPONSES, EvaluateIn
from engine.evaluate import evaluate
from engine.graph import build_graph

router = APIRouter(tags=["export"])


def _pytorch(body: EvaluateIn, request: Request) -> dict:
    limits = request.app.state.settings.limits
    spec, positions = graph_spec(body, limits, request.app.state.parsed)
    with pointing_at(positions):
        graph = build_graph(spec, limits)
        evaluation = evaluate(graph, grad_output=body.grad_output, limits=limits, with_local=False)
    return {"program": to_pytorch(evaluation, body.grad_output)}


@router.post("/api/export/pytorch", responses=ERROR_RESPONSES)
async def export_pytorch(body: EvaluateIn, request: Request) -> dict:
    """A short PyTorch program that builds the same graph and prints the same gradients."""
    return _pytorch(body, request)


@router.get("/api/export/pytorch", responses=ERROR_RESPONSES)
async def export_pytorch_of_expression(
    request: Request, expression: str = Query(max_length=100_000)
) -> dict:
    """The same, for an expression given in the query string."""
    return _pytorch(EvaluateIn(expression=expression), request)


@router.post("/api/export/dot", responses=ERROR_RESPONSES)
async def export_dot(body: EvaluateIn, request: Request) -> dict:
    """The graph in Graphviz DOT, drawn left to right."""
    limits = request.app.state.settings.limits
    spec, positions = graph_spec(body, limits, request.app.state.parsed)
    with pointing_at(positions):
        return {"dot": to_dot(build_graph(spec, limits))}
