"""Request and response models: the JSON contract (schema_version 1) as pydantic classes."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

# A number, one of "nan" / "inf" / "-inf", or nested lists of those (a tensor).
Value = Any


def _finite_numbers(value: Any) -> Any:
    """Refuse JSON numbers beyond float64 (1e400, a 400-digit integer) and NaN / Infinity.

    The contract spells non-finite numbers as strings; a number token that still parses to
    inf or nan is a mistake to report, not a value to compute with.
    """
    if type(value) is list:
        finite = _all_finite(value)
    else:
        finite = type(value) not in (float, int) or _finite(value)
    if finite:
        return value
    raise PydanticCustomError(
        "nonfinite_number",
        "a number here is beyond float64 (too large, or a NaN or Infinity token); write "
        'non-finite numbers as the strings "nan", "inf" or "-inf"',
    )


def _all_finite(rows: list) -> bool:
    level = rows
    while any(type(item) is list for item in level):
        level = [x for item in level for x in (item if type(item) is list else (item,))]
    numbers = [x for x in level if type(x) in (float, int)]
    try:
        # One pass in C; a sum is finite exactly when every term is, unless it overflows.
        if math.isfinite(math.fsum(numbers)):
            return True
    except (OverflowError, ValueError):
        pass
    return all(map(_finite, numbers))


def _finite(number: float | int) -> bool:
    try:
        return math.isfinite(float(number))
    except OverflowError:  # an integer beyond float64
        return False


# A value as a request carries it: like Value, with every JSON number finite.
ValueIn = Annotated[Any, AfterValidator(_finite_numbers)]


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
    value: ValueIn = Field(default=None, description="The value of an input or const leaf.")
    label: str | None = Field(default=None, max_length=100)
    group: str | None = Field(default=None, max_length=64)
    position: dict[str, float] | None = None


# The course's first example, f = (x + y)·z at x = -2, y = 5, z = -4: what /docs puts in
# "Try it out" for the routes that take a graph or an expression.
COURSE_EXPRESSION = "x = -2\ny = 5\nz = -4\nf = (x + y) * z"
COURSE_GRAPH = {
    "nodes": [
        {"id": "x", "op": "input", "value": -2},
        {"id": "y", "op": "input", "value": 5},
        {"id": "z", "op": "input", "value": -4},
        {"id": "q", "op": "add", "inputs": ["x", "y"]},
        {"id": "f", "op": "mul", "inputs": ["q", "z"]},
    ],
    "output": "f",
}


def example(body: dict) -> ConfigDict:
    """A model's config with `body` as the request /docs offers; it must be one that works."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [body]})


class EvaluateIn(BaseModel):
    """A graph (`nodes` + `output`) or an `expression`, with optional input values."""

    model_config = example({"expression": COURSE_EXPRESSION})

    schema_version: Literal[1] = 1
    nodes: list[NodeIn] | None = None
    output: str | None = None
    expression: str | None = Field(default=None, description="Text in the expression language.")
    inputs: dict[str, ValueIn] | None = Field(
        default=None, description="Values for names the expression uses but does not define."
    )
    grad_output: ValueIn = Field(
        default=None, description="Gradient to start the backward pass from (default 1)."
    )
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)


class ParseIn(BaseModel):
    """An expression to turn into graph JSON."""

    model_config = example({"expression": COURSE_EXPRESSION})

    expression: str
    inputs: dict[str, ValueIn] | None = None


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
    415: {"model": ErrorOut, "description": "The body was not sent as application/json."},
    422: {"model": ErrorOut, "description": "A graph that cannot be evaluated."},
}


class SavedGraphIn(BaseModel):
    """A graph to save and share, with its title, description and teaching options."""

    model_config = example({"title": "(x + y)·z", "hidden": ["q"], **COURSE_GRAPH})

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
    """openapi_extra for a route that validates its body with `validate_body`.

    The model's own example (see `example`) is what /docs offers in "Try it out".
    """
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": reference}}}
    }
