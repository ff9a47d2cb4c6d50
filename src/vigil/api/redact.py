"""Masking of credentials in camera URLs (stream and ONVIF addresses) before they leave the
server, and restoring them when a client sends the masked form back."""

from __future__ import annotations

import re
from urllib.parse import unquote

from vigil.config import CameraPtzConfig

MASK = "***"
# Greedy up to the last '@' before the path: passwords with a raw '@' are masked whole.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_SECRET_KEYS = frozenset({
    "user", "username", "login", "password", "pass", "passwd", "pwd", "token", "access_token",
    "auth", "authorization", "key", "apikey", "api_key", "secret", "sig", "signature",
})


def redact_url(url: str) -> str:
    """`rtsp://admin:pw@cam/x?token=abc` → `rtsp://***@cam/x?token=***`."""
    masked = _USERINFO.sub(rf"\1{MASK}@", url)
    head, sep, rest = masked.partition("?")
    if not sep:
        return masked
    query, hash_sep, fragment = rest.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, eq, _value = pair.partition("=")
        pairs.append(f"{name}={MASK}" if eq and unquote(name).lower() in _SECRET_KEYS else pair)
    return f"{head}?{'&'.join(pairs)}{hash_sep}{fragment}"


def restore_url(submitted: str, stored: str) -> str:
    """A client that edits a camera sends back the masked URL it was shown; that means
    "unchanged", not "set the password to ***"."""
    return stored if submitted != stored and submitted == redact_url(stored) else submitted


def redact_ptz(ptz: CameraPtzConfig | None) -> CameraPtzConfig | None:
    """A PTZ camera's settings with the credentials of its ONVIF address masked."""
    return ptz and ptz.model_copy(update={"onvif_url": redact_url(ptz.onvif_url)})


def restore_ptz(
    submitted: CameraPtzConfig | None, stored: CameraPtzConfig | None
) -> CameraPtzConfig | None:
    """The submitted PTZ settings, with the stored ONVIF credentials where they came back masked."""
    if submitted is None or stored is None:
        return submitted
    return submitted.model_copy(
        update={"onvif_url": restore_url(submitted.onvif_url, stored.onvif_url)}
    )
