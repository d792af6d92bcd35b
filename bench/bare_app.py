"""The reference for the API benchmark: a FastAPI endpoint that does no work."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/evaluate")
    async def bare() -> dict:
        return {"ok": True}

    return app
