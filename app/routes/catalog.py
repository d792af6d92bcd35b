"""What the engine offers: `GET /api/ops` and the presets."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.errors import ApiError
from app.presets import PRESETS
from app.schemas import ERROR_RESPONSES
from app.serialize import graph_to_json
from engine.expr import parse
from engine.graph import build_graph
from engine.ops import OPS

router = APIRouter(tags=["catalog"])


@router.get("/api/ops")
async def list_ops() -> dict:
    """Every op the engine offers, with its symbol, formulas and attributes."""
    return {"ops": [op.to_dict() for op in OPS.values()]}


@router.get("/api/presets")
async def list_presets() -> dict:
    """The demo graphs, by name."""
    return {
        "presets": [
            {"name": p.name, "title": p.title, "description": p.description}
            for p in PRESETS.values()
        ]
    }


@router.get("/api/presets/{name}", responses={404: ERROR_RESPONSES[422]})
async def get_preset(name: str, request: Request) -> dict:
    """One demo graph: the text for the expression box and the graph it stands for."""
    preset = PRESETS.get(name)
    if preset is None:
        known = ", ".join(PRESETS)
        raise ApiError(404, "unknown_preset", f"there is no preset {name!r}; presets: {known}")
    limits = request.app.state.settings.limits
    spec = preset.graph or parse(preset.expression, None, limits)
    return {
        "name": preset.name,
        "title": preset.title,
        "description": preset.description,
        "expression": preset.expression,
        "graph": graph_to_json(build_graph(spec, limits)),
    }
