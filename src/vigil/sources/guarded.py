"""HTTP connections that obey the source policy on every connect, redirects included.

httpx resolves and connects inside httpcore's network backend. Checking a URL's host before
the request is not enough: a redirect goes elsewhere, and the name may resolve differently a
moment later (DNS rebinding). So the backend itself resolves the host, asks the policy about
each address, and connects to a checked address, never to the name. TLS still verifies and
sends the name (httpcore passes the origin's host as the server name, not the address).
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from vigil.sources.policy import SourcePolicy


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, policy: SourcePolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        # PolicyRefusal is not an httpcore error: it passes through httpx unchanged, so the
        # source can tell "refused by policy" from "unreachable".
        addresses = self._policy.addresses(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None  # addresses() never returns an empty list
        raise last


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over the guarded backend; environment proxies are ignored (a
    proxy would make the connection on our behalf, past the address check)."""

    def __init__(self, policy: SourcePolicy) -> None:
        super().__init__(trust_env=False)
        # Replacing the pool is the one way httpx offers to choose httpcore's network backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_GuardedBackend(policy),
        )
