"""Errors the engine raises: each has a stable `code` and a sentence a student understands."""

from __future__ import annotations


class EngineError(Exception):
    """A problem with a graph or an expression that the user can fix."""

    code = "engine_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        node_ids: tuple[str, ...] | list[str] = (),
        line: int | None = None,
        column: int | None = None,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.node_ids = list(node_ids)
        self.line = line
        self.column = column
        self.details = details or {}

    def to_dict(self) -> dict:
        """The error as the JSON body the API sends."""
        body: dict = {"code": self.code, "message": self.message}
        if self.node_ids:
            body["node_ids"] = self.node_ids
        if self.line is not None:
            body["line"] = self.line
            body["column"] = self.column
        if self.details:
            body["details"] = self.details
        return body


class GraphError(EngineError):
    """The graph itself is malformed: a cycle, an unknown op, a missing input."""

    code = "invalid_graph"


class ShapeError(EngineError):
    """Tensor shapes that an op cannot combine."""

    code = "shape_mismatch"


class ParseError(EngineError):
    """An expression that is not part of the language; carries line and column."""

    code = "syntax_error"


class LimitError(EngineError):
    """A deliberate size limit was exceeded; the message names the limit."""

    code = "limit_exceeded"

    def __init__(
        self,
        message: str,
        *,
        what: str,
        limit: int | float,
        actual: int | float,
        code: str | None = None,
        node_ids: tuple[str, ...] | list[str] = (),
        line: int | None = None,
        column: int | None = None,
        **more,
    ) -> None:
        """A limit error whose details are what, limit, actual, then any extra keys."""
        # One spelling for every limit: the key order is part of the JSON bytes the API sends.
        super().__init__(
            message,
            code=code,
            node_ids=node_ids,
            line=line,
            column=column,
            details={"what": what, "limit": limit, "actual": actual, **more},
        )
