"""Photos for the CNN lab: the samples, and uploads decoded into tensors."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from app.images import SAMPLES, decode, sample
from app.schemas import ERROR_RESPONSES

router = APIRouter(tags=["images"])


@router.get("/api/images")
async def list_images() -> dict:
    """The shipped photographs, with their credit and licence."""
    return {
        "images": [
            {"name": name, "url": f"/static/images/{file}", "credit": credit, "licence": licence}
            for name, (file, credit, licence) in SAMPLES.items()
        ]
    }


@router.get("/api/images/{name}", responses=ERROR_RESPONSES)
def get_image(
    name: str, mode: str = Query("grey"), size: int = Query(128)
) -> dict:  # fmt: skip
    """A shipped photo as a C×H×W tensor in [0, 1] (grey: C = 1, rgb: C = 3)."""
    return sample(name, mode, size)


@router.post(
    "/api/images",
    responses=ERROR_RESPONSES,
    openapi_extra={
        "requestBody": {
            "content": {"image/png": {}, "image/jpeg": {}},
            "description": "The PNG or JPEG file itself as the request body.",
        }
    },
)
async def upload_image(
    request: Request, mode: str = Query("grey"), size: int = Query(128)
) -> dict:  # fmt: skip
    """Decode an uploaded PNG or JPEG (the body) into a tensor, upright, at most `size` px."""
    return decode(await request.body(), mode, size)
