"""RTSP URLs pinned to a checked address, because FFmpeg resolves names by itself.

FFmpeg's RTSP client takes a URL and connects on its own; there is no hook between its DNS
lookup and its connect. So for a tenant's camera the host is resolved here, each address is
checked by the source policy, and FFmpeg gets the URL with the host replaced by the address
it may use: a name that resolves elsewhere a moment later (DNS rebinding) is never asked
again. RTSP has no virtual hosting, so cameras answer the same to their address. (A tenant's
camera goes one step further: FFmpeg reaches the checked address only through the relay of
`vigil.sources.rtsp_relay`, which refuses redirects.)
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from vigil.domain.source_urls import redact
from vigil.sources.policy import PolicyRefusal, SourcePolicy


def checked_target(url: str, policy: SourcePolicy) -> tuple[str, int]:
    """The first address (and the port) of `url`'s host that the policy allows."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise PolicyRefusal(f"{redact(url)} names no host")
    try:
        port = parts.port or (322 if parts.scheme.lower() == "rtsps" else 554)
    except ValueError:
        raise PolicyRefusal(f"{redact(url)} has an invalid port") from None
    address = ipaddress.ip_address(policy.addresses(host, port)[0].partition("%")[0])
    return str(address), port


def with_address(url: str, address: str, port: int, scheme: str | None = None) -> str:
    """`url` with its host and port replaced (and its scheme, if given); credentials, path
    and query kept."""
    parts = urlsplit(url)
    shown = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    userinfo, at, _hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{shown}:{port}"
    return urlunsplit(parts._replace(scheme=scheme or parts.scheme, netloc=netloc))
