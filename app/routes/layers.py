"""Layer geometry for the CNN lab: shapes, parameter counts and receptive fields."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.errors import ApiError
from app.schemas import ERROR_RESPONSES, example
from engine.layers import describe_stack, receptive_box, receptive_fields, unvisited

router = APIRouter(tags=["layers"])


# LeNet-5's first layers, the stack of figure 5.13.
LENET_FRONT = [
    {"op": "conv2d", "in_channels": 1, "out_channels": 6, "kernel_size": 5},
    {"op": "tanh"},
    {"op": "avg_pool2d", "kernel_size": 2},
    {"op": "conv2d", "in_channels": 6, "out_channels": 16, "kernel_size": 5},
]


class StackIn(BaseModel):
    """A stack of layers applied to an image of `input_shape` (C, H, W; no batch axis)."""

    model_config = example({"input_shape": [1, 32, 32], "layers": LENET_FRONT})

    input_shape: list[int] = Field(min_length=1, max_length=3)
    layers: list[dict[str, Any]] = Field(max_length=64)


class ReceptiveFieldIn(BaseModel):
    """A layer stack, and optionally an image shape and one output position (row, column).

    Receptive-field sizes need no image; the boxes of one output position do.
    """

    model_config = example({"input_shape": [1, 32, 32], "layers": LENET_FRONT, "position": [2, 3]})

    input_shape: list[int] | None = Field(default=None, min_length=3, max_length=3)
    layers: list[dict[str, Any]] = Field(max_length=64)
    position: list[int] | None = Field(default=None, min_length=2, max_length=2)


@router.post("/api/layers", responses=ERROR_RESPONSES)
def layers_table(body: StackIn) -> dict:
    """Output shape, parameter count, receptive field and unvisited rows of every layer."""
    table = describe_stack(body.layers, tuple(body.input_shape))
    fields = receptive_fields(body.layers, tuple(body.input_shape))
    shape = tuple(body.input_shape)
    for row, field, layer in zip(table["layers"], fields, body.layers, strict=True):
        row.update(rf=field["rf"], jump=field["jump"], start=field["start"])
        if len(shape) == 3:
            row["unvisited"] = unvisited(layer, tuple(shape[1:]))
        shape = tuple(row["output_shape"])
    return table


@router.post("/api/receptive-field", responses=ERROR_RESPONSES)
def receptive_field(body: ReceptiveFieldIn) -> dict:
    """Receptive field per layer, and the exact box one output position depends on."""
    shape = tuple(body.input_shape) if body.input_shape else None
    result: dict = {"layers": receptive_fields(body.layers, shape)}
    if body.position is not None:
        if shape is None:
            raise ApiError(422, "missing_input_shape", "a position needs the input_shape")
        result["boxes"] = receptive_box(body.layers, tuple(body.position), shape)
    return result
