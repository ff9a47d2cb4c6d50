"""A PTZ camera's ONVIF address with its credentials, written as one URL
(`http://user:password@host:port`), so that it is stored encrypted, masked and restored by
the same code as a camera's stream URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class OnvifAddress:
    host: str
    port: int
    username: str
    password: str


def parse_onvif_url(value: str) -> OnvifAddress:
    """The parts of `http(s)://user:password@host[:port]`; ValueError says what is wrong."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"not a valid address ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("use http://user:password@host:port (the camera's ONVIF address)")
    if not parts.hostname:
        raise ValueError("no host: use http://user:password@host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("only the host and port: Vigil finds the ONVIF services itself")
    return OnvifAddress(
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )
