"""The FastAPI application: routes, error handlers, static files and templates."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from app.errors import install_error_handlers
from app.limits import BodySizeLimit
from app.plans import PlanCache
from app.ratelimit import SaveLimit
from app.routes import ROUTERS
from app.routes.evaluate import ParsedCache, ResponseCache
from app.settings import Settings
from app.storage import open_store
from engine.allocator import keep_freed_memory

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; `gradplay serve` and the tests both start here."""
    settings = settings or Settings()
    app = FastAPI(
        title="gradplay",
        summary="Forward values and per-edge gradients of computational graphs.",
        version="0.1.0",
        lifespan=_lifespan,
        # /docs is served by routes/pages.py from the vendored Swagger UI, never a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    app.state.asset_version = _asset_version(STATIC)
    entries, budget = settings.evaluate_cache_entries, settings.evaluate_cache_bytes
    app.state.evaluate_cache = ResponseCache(entries, budget)
    app.state.evaluate_plans = PlanCache(entries, budget)
    app.state.parsed = ParsedCache(entries, budget)
    app.state.save_limit = SaveLimit(settings.saves_per_minute)

    install_error_handlers(app)
    # Each router's routes go on the app's own router: FastAPI 0.165 matches an included
    # router through an extra layer costing about 10 µs a request, a tenth of a small
    # evaluation. (Such routes would not see app.dependency_overrides; none relies on them.)
    for router in ROUTERS:
        app.router.routes.extend(router.routes)
    app.mount("/static", RevalidatedStatic(directory=STATIC), name="static")
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/api/images": settings.max_upload_bytes},
    )
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the graph store (migrating it) before the first request; close it at shutdown."""
    app.state.store = await run_in_threadpool(open_store, app.state.settings)
    # Big tensors (LeNet at batch 64) are freed and allocated again on every pass.
    log.info("freed memory is kept for reuse: %s", "yes" if keep_freed_memory() else "no glibc")
    try:
        yield
    finally:
        store, app.state.store = app.state.store, None
        await run_in_threadpool(store.close)


class RevalidatedStatic(StaticFiles):
    """Static files that browsers must revalidate, except the versioned vendor folder.

    Only the entry script carries `?v=<hash>`; the modules it imports are fetched by their
    plain URL, so without revalidation a browser could mix old and new modules after an
    upgrade. Revalidation is a cheap 304 thanks to the ETag.
    """

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        if "/vendor/" not in str(args[0] if args else kwargs.get("full_path", "")):
            response.headers["Cache-Control"] = "no-cache"
        return response


def _asset_version(folder: Path) -> str:
    """A short hash of the browser files, so a new release is never served from a stale cache."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "vendor" not in path.parts:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
