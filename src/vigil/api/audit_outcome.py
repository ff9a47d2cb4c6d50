"""The audit record of a change tells how it ended: allowed, denied or failed, with the reason.

`authorize` decides who may try a change before the handler runs, but only the handler knows
whether it then happened: a camera URL refused by the source policy, a 409, a validation
error. So `authorize` leaves the record of a change (POST, PUT, PATCH, DELETE) pending on the
request, and this middleware writes it once the response status is known: 2xx/3xx "allowed",
403 "denied", anything else "failed", with the status and the error's detail.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.privacy.audit import audit

PENDING = "pending_audit"
_MAX_BODY = 4096


def outcome_of(status: int) -> str:
    if status < 400:
        return "allowed"
    return "denied" if status == 403 else "failed"


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        return ""
    return str(detail)[:300]


class ChangeAuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        body = bytearray()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif (
                message["type"] == "http.response.body" and status >= 400 and len(body) < _MAX_BODY
            ):
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            pending: dict[str, Any] | None = scope.get("state", {}).pop(PENDING, None)
            if pending is not None:
                details = dict(pending["details"])
                if status >= 400:
                    details.update(status=status, error=_detail(bytes(body)))
                await run_in_threadpool(
                    audit,
                    Request(scope),
                    pending["action"],
                    target=pending["target"],
                    outcome=outcome_of(status),
                    details=details,
                )
