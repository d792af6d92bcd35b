"""HTML pages, rendered from templates/."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from app.storage import GraphNotFound

router = APIRouter(include_in_schema=False)

# Only the app's own scripts run; KaTeX writes inline styles, so styles allow them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


def render(request: Request, template: str, **context) -> HTMLResponse:
    """A page with the security headers every page sends."""
    templates = request.app.state.templates
    response = templates.TemplateResponse(
        request, template, {"asset_version": request.app.state.asset_version, **context}
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/", response_class=HTMLResponse)
async def playground(request: Request) -> HTMLResponse:
    """The playground: graph canvas, expression box, presets, both passes."""
    return render(request, "index.html")


@router.get("/cnn", response_class=HTMLResponse)
async def cnn_lab(request: Request) -> HTMLResponse:
    """The CNN lab: kernels on photos, banks, stacks and receptive fields, LeNet-5, batch norm."""
    return render(request, "cnn.html")


@router.get("/g/{graph_id}", response_class=HTMLResponse)
async def shared_graph(request: Request, graph_id: str) -> HTMLResponse:
    """A saved graph for students: read-only, values changeable in the page, never saved."""
    # The page fetches the graph itself; the server only says whether it exists (404 page).
    response = render(request, "shared.html")
    if not await _graph_exists(request, graph_id):
        response.status_code = 404
    return response


async def _graph_exists(request: Request, graph_id: str) -> bool:
    store = getattr(request.app.state, "store", None)
    if store is None:
        return True  # storage is down: the page itself reports what the API says
    try:
        await run_in_threadpool(store.latest, graph_id)
    except GraphNotFound:
        return False
    return True


SWAGGER = "/static/vendor/swagger-ui-5.35.0"


@router.get("/docs", response_class=HTMLResponse)
async def api_reference(request: Request) -> HTMLResponse:
    """The OpenAPI reference, served from the vendored Swagger UI (no CDN)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="gradplay API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
