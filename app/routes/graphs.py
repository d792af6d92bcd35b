"""Shared graphs: save, open, overwrite and delete, with every revision kept.

Reading is public; changing needs the edit token returned when the graph was created. The
routes are `def`, so FastAPI runs them (and their blocking database calls) in the thread pool.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.errors import ApiError
from app.schemas import (
    ERROR_RESPONSES,
    ErrorOut,
    RevisionList,
    SavedGraphCreated,
    SavedGraphIn,
    SavedGraphOut,
    SavedGraphUpdated,
)
from app.settings import Settings
from app.storage import GraphStore, Revision
from engine.errors import GraphError
from engine.graph import Graph, build_graph

router = APIRouter(tags=["shared graphs"])

_bearer = HTTPBearer(
    auto_error=False, scheme_name="EditToken", description="The edit token of the graph."
)
_edit_token_header = APIKeyHeader(
    name="X-Edit-Token",
    auto_error=False,
    scheme_name="XEditToken",
    description="The same token, for clients that cannot set Authorization.",
)

NOT_FOUND = {404: {"model": ErrorOut, "description": "No saved graph has this id."}}
TOO_MANY = {429: {"model": ErrorOut, "description": "Too many saves from this address."}}
EDIT_ERRORS = {
    **ERROR_RESPONSES,
    **NOT_FOUND,
    403: {"model": ErrorOut, "description": "The edit token is missing or wrong."},
}


async def get_store(request: Request) -> GraphStore:
    """The app's graph store, opened at start-up."""
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise ApiError(503, "storage_unavailable", "saved graphs are not available right now")
    return store


async def edit_token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_edit_token_header)],
) -> str | None:
    """The token from `Authorization: Bearer <token>`, else from `X-Edit-Token`."""
    if bearer is not None:
        return bearer.credentials
    return header


Store = Annotated[GraphStore, Depends(get_store)]
EditToken = Annotated[str | None, Depends(edit_token)]


@router.post(
    "/api/graphs",
    status_code=201,
    response_model=SavedGraphCreated,
    responses={**ERROR_RESPONSES, **TOO_MANY},
)
def create_graph(body: SavedGraphIn, request: Request, store: Store) -> dict:
    """Save a graph; the answer holds its id and its edit token, shown only this once."""
    document = saved_document(body, request.app.state.settings)
    count_save(request)  # after the checks: a refused graph is no save
    revision, token = store.create(document, body.title or "")
    return {
        "id": revision.graph_id,
        "edit_token": token,
        "revision": revision.number,
        "url": f"/g/{revision.graph_id}",
    }


@router.get("/api/graphs/{graph_id}", response_model=SavedGraphOut, responses=NOT_FOUND)
def get_graph(graph_id: str, store: Store) -> dict:
    """The latest revision of a saved graph; anyone with the id may read it."""
    return revision_to_json(store.latest(graph_id))


@router.put(
    "/api/graphs/{graph_id}",
    response_model=SavedGraphUpdated,
    responses={**EDIT_ERRORS, **TOO_MANY},
)
def update_graph(
    graph_id: str, body: SavedGraphIn, request: Request, store: Store, token: EditToken
) -> dict:
    """Overwrite a saved graph (needs its edit token); the earlier revision is kept."""
    # Who may write is answered before what is written; update() checks again, under a lock.
    store.authorize(graph_id, token)
    document = saved_document(body, request.app.state.settings)
    count_save(request)
    revision = store.update(graph_id, token, document, body.title or "")
    return {"id": revision.graph_id, "revision": revision.number, "saved_at": revision.saved_at}


@router.delete("/api/graphs/{graph_id}", status_code=204, responses=EDIT_ERRORS)
def delete_graph(graph_id: str, store: Store, token: EditToken) -> Response:
    """Delete a saved graph and all its revisions (needs its edit token)."""
    store.delete(graph_id, token)
    return Response(status_code=204)


@router.get("/api/graphs/{graph_id}/revisions", response_model=RevisionList, responses=NOT_FOUND)
def list_revisions(graph_id: str, store: Store) -> dict:
    """Every revision of a saved graph, oldest first."""
    summaries = [
        {"revision": row["number"], "saved_at": row["saved_at"], "title": row["title"]}
        for row in store.revisions(graph_id)
    ]
    return {"id": graph_id, "revisions": summaries}


@router.get(
    "/api/graphs/{graph_id}/revisions/{number}", response_model=SavedGraphOut, responses=NOT_FOUND
)
def get_revision(graph_id: str, number: int, store: Store) -> dict:
    """One earlier (or the latest) revision of a saved graph, by number."""
    return revision_to_json(store.revision(graph_id, number))


def count_save(request: Request) -> None:
    """Count a save against its client address; 429 with Retry-After past the limit."""
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.save_limit.wait(address)
    if wait:
        per_minute = request.app.state.settings.saves_per_minute
        raise ApiError(
            429,
            "too_many_saves",
            f"this address has saved {per_minute} times in the last minute, the most allowed; "
            f"try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def saved_document(body: SavedGraphIn, settings: Settings) -> str:
    """The JSON text to store, after checking the limits, the graph and the teaching options."""
    _check_sizes(body, settings)
    nodes = [node.model_dump(exclude_unset=True, exclude_none=True) for node in body.nodes]
    document = {
        "schema_version": 1,
        "title": body.title or "",
        "description": body.description or "",
        "nodes": nodes,
        "output": body.output,
        "hidden": list(dict.fromkeys(body.hidden)),
        "locked": list(dict.fromkeys(body.locked)),
    }
    # Encoded before the engine sees the nodes, so what is stored is what was sent.
    text = _encode(document)

    graph = build_graph({"nodes": nodes, "output": body.output}, settings.limits)
    _check_teaching_options(document, graph)
    return text


def revision_to_json(revision: Revision) -> dict:
    """A stored revision as the GET answer: the document plus where it sits in the history."""
    document = json.loads(revision.document)
    return {
        "id": revision.graph_id,
        "revision": revision.number,
        "created_at": revision.created_at,
        "saved_at": revision.saved_at,
        **document,
    }


def _check_sizes(body: SavedGraphIn, settings: Settings) -> None:
    checks = [
        ("title", "title_chars", len(body.title or ""), settings.max_title_chars, "characters"),
        ("description", "description_chars", len(body.description or ""),
         settings.max_description_chars, "characters"),
        ("graph", "saved_nodes", len(body.nodes), settings.max_saved_nodes, "nodes"),
    ]  # fmt: skip
    for part, what, size, limit, unit in checks:
        if size > limit:
            raise ApiError(
                413,
                "limit_exceeded",
                f"a saved {part} can have at most {limit:,} {unit}; this one has {size:,}",
                details={"what": what, "limit": limit, "actual": size},
            )


def _encode(document: dict) -> str:
    try:
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        # Python's JSON reader accepts NaN and Infinity tokens; stored JSON must stay standard.
        raise ApiError(
            422,
            "nonfinite_number",
            'write non-finite numbers as the strings "nan", "inf" or "-inf"',
        ) from None

    # JSON's \ud800 escapes can spell half a UTF-16 pair, which no database or answer can hold.
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ApiError(
            422, "invalid_text", "the text holds an unpaired surrogate, which is not Unicode"
        ) from None
    if "\x00" in document["title"]:
        # The title also has a column of its own, and PostgreSQL text cannot hold NUL.
        raise ApiError(422, "invalid_text", "a title cannot contain the NUL character")
    return text


def _check_teaching_options(document: dict, graph: Graph) -> None:
    unknown = [node_id for node_id in document["hidden"] if node_id not in graph.nodes]
    if unknown:
        raise GraphError(
            f"hidden names nodes that are not in the graph: {_some(unknown)}",
            code="unknown_node",
            node_ids=[node_id[:64] for node_id in unknown[:100]],
        )

    not_inputs = [
        node_id
        for node_id in document["locked"]
        if node_id not in graph.nodes or graph.nodes[node_id].op.name != "input"
    ]
    if not_inputs:
        raise GraphError(
            f"locked may only name input nodes; these are not: {_some(not_inputs)}",
            code="not_an_input",
            node_ids=[node_id[:64] for node_id in not_inputs[:100]],
        )


def _some(node_ids: list[str]) -> str:
    """A few ids for a message, each cut short: they are whatever the client sent."""
    shown = ", ".join(repr(node_id[:64]) for node_id in node_ids[:10])
    return shown + (" ..." if len(node_ids) > 10 else "")
