"""Open streams follow revocation: an SSE or MJPEG response that runs for hours re-checks its
caller's credentials every few seconds, and ends when the request would no longer be let in.

`authorize` checks a request once, when it starts. A stream outlives that check: without
this, a revoked token, an ended session, a disabled or deleted user, or a role or camera-group
change would leave an already open live view or event feed running. The guard authenticates
the request's credentials again (the same cookie or bearer token, through the app's own
`optional_principal`) and compares the result with what the stream was opened with.
"""

from __future__ import annotations

import inspect
import time

from fastapi import Request

from vigil.auth.deps import optional_principal
from vigil.auth.policy import rule_for
from vigil.auth.principal import Principal
from vigil.auth.scope import AccessScope

# Well inside the 5 s within which a revoked credential must lose its open streams.
RECHECK_S = 2.0


def _shape(scope: AccessScope | None) -> tuple[object, ...] | None:
    if scope is None:
        return None
    return (frozenset(scope), scope.cameras, scope.kinds)


class StreamGuard:
    """Ask `still_allowed()` on every turn of a stream's loop; it answers from memory between
    re-checks, so calling it often costs nothing."""

    def __init__(self, request: Request, period_s: float = RECHECK_S) -> None:
        self._request = request
        self._period_s = period_s
        self._next = time.monotonic() + period_s
        opened: Principal | None = getattr(request.state, "principal", None)
        self._opened = opened
        self._shape = _shape(opened.scope()) if opened is not None else None
        route = request.scope.get("route")
        self._permission = rule_for(
            request.method, getattr(route, "path", request.url.path)
        ).permission

    async def still_allowed(self) -> bool:
        opened = self._opened
        if opened is None or opened.via == "internal":
            return True  # the process itself and its tests: nothing to revoke
        now = time.monotonic()
        if now < self._next:
            return True
        self._next = now + self._period_s
        resolve = self._request.app.dependency_overrides.get(optional_principal, optional_principal)
        # An override (tests, the fan-out bench) may be a plain function.
        found = resolve(self._request)
        current: Principal | None = await found if inspect.isawaitable(found) else found
        if current is None:
            return False
        if self._permission is not None and not current.can(self._permission):
            return False
        return _shape(current.scope()) == self._shape
