"""Request and response models: the JSON contract (schema_version 1) as pydantic classes."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

# A number, one of "nan" / "inf" / "-inf", or nested lists of those (a tensor).
Value = Any


class NodeIn(BaseModel):
    """One node of a graph: a leaf with a value, or an op naming its inputs by id."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NODE_ID_PATTERN, description="Unique id, e.g. `q`.")
    op: str = Field(max_length=40, description="An op from `GET /api/ops`.")
    inputs: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("inputs", "args"),
        max_length=16,
        description="Ids of the input nodes, in order (`args` is accepted as an alias).",
    )
    attrs: dict[str, Any] = Field(default_factory=dict, description="Op attributes.")
    value: Value = Field(default=None, description="The value of an input or const leaf.")
    label: str | None = Field(default=None, max_length=100)
    group: str | None = Field(default=None, max_length=64)
    position: dict[str, float] | None = None


class EvaluateIn(BaseModel):
    """A graph (`nodes` + `output`) or an `expression`, with optional input values."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    nodes: list[NodeIn] | None = None
    output: str | None = None
    expression: str | None = Field(default=None, description="Text in the expression language.")
    inputs: dict[str, Value] | None = Field(
        default=None, description="Values for names the expression uses but does not define."
    )
    grad_output: Value = Field(
        default=None, description="Gradient to start the backward pass from (default 1)."
    )
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)


class ParseIn(BaseModel):
    """An expression to turn into graph JSON."""

    model_config = ConfigDict(extra="forbid")

    expression: str
    inputs: dict[str, Value] | None = None


class EdgeOut(BaseModel):
    source: str
    target: str
    input_index: int
    upstream: Value
    local: Value
    downstream: Value
    local_formula: str | None
    local_omitted: str | None


class NodeOut(BaseModel):
    op: str
    inputs: list[str]
    label: str | None
    symbol: str
    group: str | None
    shape: list[int]
    value: Value
    grad: Value
    warning: str | None
    formula: str | None
    position: dict[str, float] | None


class WarningOut(BaseModel):
    node: str
    code: str
    message: str


class EvaluateOut(BaseModel):
    """Forward values and, for every edge, upstream, local and downstream gradients."""

    schema_version: int
    output: str
    graph: dict[str, Any]
    forward_order: list[str]
    backward_order: list[str]
    nodes: dict[str, NodeOut]
    edges: list[EdgeOut]
    groups: dict[str, Any]
    warnings: list[WarningOut]
    first_nonfinite: str | None
    notes: list[str]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, machine-readable, e.g. `cycle`, `syntax_error`.")
    message: str = Field(description="A sentence a student understands.")
    node_ids: list[str] | None = None
    line: int | None = None
    column: int | None = None
    details: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Malformed JSON or an expression error."},
    413: {"model": ErrorOut, "description": "A documented size limit was exceeded."},
    422: {"model": ErrorOut, "description": "A graph that cannot be evaluated."},
}


class SavedGraphIn(BaseModel):
    """A graph to save and share, with its title, description and teaching options."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    title: str | None = Field(default=None, description="Up to 200 characters.")
    description: str | None = Field(
        default=None,
        description="Plain text or Markdown, stored exactly as sent; the page renders it.",
    )
    nodes: list[NodeIn]
    output: str
    hidden: list[str] = Field(
        default_factory=list,
        description="Ids of nodes whose value and grad students must predict.",
    )
    locked: list[str] = Field(
        default_factory=list, description="Ids of input nodes students cannot change."
    )


class SavedGraphOut(BaseModel):
    """One revision of a saved graph, as anyone with the link sees it."""

    id: str
    revision: int = Field(description="1 for the first save, one more for every overwrite.")
    created_at: str = Field(description="When the graph was first saved (ISO 8601, UTC).")
    saved_at: str = Field(description="When this revision was saved (ISO 8601, UTC).")
    schema_version: int
    title: str
    description: str
    nodes: list[dict[str, Any]]
    output: str
    hidden: list[str]
    locked: list[str]


class SavedGraphCreated(BaseModel):
    """The id of a new saved graph and its edit token, which is never shown again."""

    id: str
    edit_token: str = Field(
        description="Secret: send it as `Authorization: Bearer <token>` to change the graph."
    )
    revision: int
    url: str = Field(description="The page that shows the graph, e.g. `/g/<id>`.")


class SavedGraphUpdated(BaseModel):
    id: str
    revision: int
    saved_at: str


class RevisionSummary(BaseModel):
    revision: int
    saved_at: str
    title: str


class RevisionList(BaseModel):
    """Every revision of a saved graph, oldest first."""

    id: str
    revisions: list[RevisionSummary]


# FastAPI's own body parameters cost about 20 µs a request on top of pydantic's 1-2 µs (its
# dependency machinery and a second pass over the JSON); a route as hot as /api/evaluate
# reads the raw body, validates it with `validate_body` and documents it with `body_schema`.


Model = TypeVar("Model", bound=BaseModel)


def validate_body(raw: bytes, model: type[Model]) -> Model:
    """The request body as `model`; the same 400/422 errors as a FastAPI body parameter."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        problems = [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
        raise RequestValidationError(problems) from None


def body_schema(model: type[BaseModel]) -> dict:
    """openapi_extra for a route that validates its body with `validate_body`."""
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": reference}}}
    }
