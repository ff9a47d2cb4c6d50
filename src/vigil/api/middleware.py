"""Request body limit and security headers, as plain ASGI middleware (no per-request task)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024

# The UI is served from the same origin and needs nothing else; data: images are the inline
# icons. Framing is refused (clickjacking) and no plugin or <base> tricks are allowed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's interactive docs load Swagger UI / ReDoc from a CDN with an inline bootstrap script.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, by the declared length when there is
    one and by counting otherwise (chunked uploads), before the body is buffered."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request body larger than {self.max_bytes} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    response = JSONResponse({"detail": "invalid Content-Length"}, 400)
                    await response(scope, receive, send)
                    return
                if int(value) > self.max_bytes:
                    await JSONResponse({"detail": too_large}, 413)(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes FastAPI's body parsing unchanged and becomes a
                    # JSON 413 through the regular handler.
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, limited_receive, send)


NUL_REFUSED = "text may not contain NUL (\\u0000) characters"


def _has_json_nul(data: bytes) -> bool:
    """Whether JSON text has a \\u0000 escape (one not itself escaped: `\\\\u0000` is a
    backslash and the letters u0000) or a raw NUL byte."""
    if b"\x00" in data:
        return True
    start = data.find(b"\\u0000")
    while start >= 0:
        before = start  # the backslash at `start` escapes when an even number precede it
        while before > 0 and data[before - 1] == ord("\\"):
            before -= 1
        if (start - before) % 2 == 0:
            return True
        start = data.find(b"\\u0000", start + 1)
    return False


class NulMiddleware:
    """Refuse NUL characters in the path, query, headers and JSON bodies with 422, before any
    of it reaches a route: PostgreSQL cannot store NUL in text (SQLite could, so both stores
    now refuse the same requests), and no name, filter or purpose needs one."""

    # The end of a chunk kept for the next one, so an escape split between two chunks counts.
    OVERLAP = 64

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if ("\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query
                or any(b"\x00" in value for _, value in scope["headers"])):
            await JSONResponse({"detail": NUL_REFUSED}, 422)(scope, receive, send)
            return
        tail = b""

        async def checked_receive() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = tail + message.get("body", b"")
                if _has_json_nul(chunk):
                    # As the body limit does: FastAPI's body parsing passes it on unchanged.
                    raise HTTPException(422, NUL_REFUSED)
                tail = chunk[-self.OVERLAP:]
            return message

        await self.app(scope, checked_receive, send)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(DOCS_PATHS)
        csp = DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", csp.encode("ascii")),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
