"""LeNet-5 for the CNN lab: `POST /api/cnn/lenet5`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.cnn import run_lenet5
from app.schemas import ERROR_RESPONSES, example
from app.serialize import json_response

router = APIRouter(tags=["cnn"])


class LeNetIn(BaseModel):
    """Which digit LeNet-5 reads."""

    model_config = example({"digit": 3})

    digit: int = Field(ge=0, le=9, description="Which shipped handwritten digit to classify.")


@router.post("/api/cnn/lenet5", responses=ERROR_RESPONSES)
async def lenet5(body: LeNetIn, request: Request):
    """LeNet-5 forward and backward on a real digit: every layer's maps and gradients."""
    limits = request.app.state.settings.limits
    # Some tens of milliseconds of numpy: off the event loop.
    return json_response(await run_in_threadpool(run_lenet5, body.digit, limits))
