"""An ASGI middleware that refuses request bodies over the size limit before parsing them."""

from __future__ import annotations

import json


class BodySizeLimit:
    """413 for a body larger than `max_bytes`, whether or not it declares its length."""

    def __init__(self, app, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Paths allowed a bigger body, e.g. photo uploads, which are not JSON.
        self.larger = larger or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)

        limit = self.larger.get(scope["path"], self.max_bytes)
        declared, chunked = _length_headers(scope)
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                return await self._refuse(send, limit, int(declared))
            if not chunked:
                # The server reads exactly the declared length, no more: nothing to count.
                return await self.app(scope, receive, send)

        # Read the body up front (it is small JSON) so an undeclared length is bounded too.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                # The rest is not read, so actual is the size when the limit was passed.
                return await self._refuse(send, limit, size)
            more = message.get("more_body", False)

        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send, limit: int, actual: int) -> None:
        error = {
            "code": "request_too_large",
            "message": f"the request body is larger than the limit of {limit:,} bytes",
            "details": {"what": "request_bytes", "limit": limit, "actual": actual},
        }
        # Spelled as every other error answer is (Starlette's JSONResponse).
        body = json.dumps({"error": error}, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _length_headers(scope) -> tuple[bytes | None, bool]:
    """The declared content-length (the last, if repeated); whether a transfer-encoding is set."""
    declared, chunked = None, False
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            declared = value
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked
