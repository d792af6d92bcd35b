"""One error shape for every JSON error, produced by the handlers registered here.

Body: {"error": {"code": "...", "message": "...", "node_ids"?, "line"?, "column"?, "details"?}}.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import EngineError, LimitError

log = logging.getLogger(__name__)

# Status by code family: limits are 413, an expression that is not in the language 400,
# everything else a well-formed request that describes an impossible graph: 422.
_STATUS_BY_CODE = {
    "syntax_error": 400,
    "forbidden_syntax": 400,
    "malformed_json": 400,
    "unknown_function": 400,
    "undefined_variable": 400,
    "redefined": 400,
    "unsupported_operator": 400,
    "bad_argument": 400,
    "empty_expression": 400,
    "unused_expression": 400,
}


class ApiError(Exception):
    """An error raised by a route, outside the engine (e.g. an unknown preset)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details or {}


def error_response(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one place an error body is wrapped and sent."""
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def status_for(error: EngineError) -> int:
    if isinstance(error, LimitError):
        return 413
    return _STATUS_BY_CODE.get(error.code, 422)


async def _engine_error(request: Request, error: EngineError) -> JSONResponse:
    status = status_for(error)
    log.info("rejected %s %s: %s (%d)", request.method, request.url.path, error.code, status)
    return error_response(status, error.to_dict())


async def _api_error(request: Request, error: ApiError) -> JSONResponse:
    log.info("rejected %s %s: %s (%d)", request.method, request.url.path, error.code, error.status)
    body = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return error_response(error.status, body, error.headers)


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON: application/json or a +json type, any parameters."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def not_json(content_type: str | None) -> ApiError:
    """The 415 for a body sent as something other than JSON."""
    said = f"it said {content_type!r}" if content_type else "it gave no Content-Type"
    return ApiError(
        415,
        "unsupported_media_type",
        f"send the body as JSON with the header Content-Type: application/json ({said})",
    )


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = error.errors()
    first = problems[0] if problems else {}
    content_type = request.headers.get("content-type")
    if first.get("loc", ())[:1] == ("body",) and not is_json(content_type):
        # FastAPI leaves a body that is not JSON unread and reports it missing or of the wrong
        # type, which says nothing of the real mistake.
        return await _api_error(request, not_json(content_type))
    if first.get("type") == "json_invalid":
        body, status = _invalid_json(str(first.get("msg", "")))
    else:
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        # A number beyond float64 has a code of its own, as the saved-graph route gives it.
        nonfinite = first.get("type") == "nonfinite_number"
        body = {
            "code": "nonfinite_number" if nonfinite else "invalid_request",
            "message": f"{where or 'body'}: {first.get('msg', 'invalid value')}",
            "details": {"problems": [_plain(p) for p in problems[:20]]},
        }
        status = 422
    log.info("rejected %s %s: %s (%d)", request.method, request.url.path, body["code"], status)
    return error_response(status, body)


# pydantic-core's JSON parser refuses to nest deeper than this; valid JSON beyond it is a limit,
# not a syntax error, and is answered as one.
JSON_DEPTH = 200


def _invalid_json(message: str) -> tuple[dict, int]:
    """The error for a body the JSON parser refused: broken JSON, or one of its limits."""
    body: dict = {}
    at = re.search(r"at line (\d+) column (\d+)", message)
    if at:
        body = {"line": int(at.group(1)), "column": int(at.group(2))}
    where = f" (line {at.group(1)}, column {at.group(2)})" if at else ""
    if "recursion limit exceeded" in message:
        return {
            "code": "limit_exceeded",
            "message": f"the request body nests more than {JSON_DEPTH} levels deep{where}; "
            "the JSON parser goes no deeper",
            # The parser stops at the first level past the limit, so that is the depth known.
            "details": {"what": "json_depth", "limit": JSON_DEPTH, "actual": JSON_DEPTH + 1},
            **body,
        }, 413
    if "number out of range" in message:
        return {
            "code": "nonfinite_number",
            "message": f"a number in the request body{where} is beyond the largest float64 "
            "(about 1.8e308)",
            **body,
        }, 422
    return {
        "code": "malformed_json",
        "message": f"the request body is not valid JSON ({message})",
        **body,
    }, 400


def _plain(problem: dict) -> dict:
    return {
        "loc": [str(part) for part in problem.get("loc", ())],
        "msg": str(problem.get("msg", "")),
        "type": str(problem.get("type", "")),
    }


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    codes = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed",
             413: "request_too_large"}  # fmt: skip
    code = codes.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    if error.status_code == 400:
        # Starlette's own words for a body it could not read at all.
        message = (
            "the request body could not be read as JSON: it must be UTF-8 text holding one "
            "JSON value, nested at most a few hundred levels deep"
        )
    return error_response(error.status_code, {"code": code, "message": message})


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return error_response(
        500, {"code": "internal_error", "message": "something went wrong on the server"}
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers so every error leaves in the same shape."""
    app.add_exception_handler(EngineError, _engine_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
