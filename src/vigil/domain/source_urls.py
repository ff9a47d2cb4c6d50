"""Camera URL helpers: which kind of source a URL names, and how to show it without secrets."""

from __future__ import annotations

import enum
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class SourceKind(enum.Enum):
    RTSP = "rtsp"
    HTTP = "http"  # MJPEG or snapshot, decided by the content type the camera answers with
    FILE = "file"
    IMAGE = "image"


def classify(url: str) -> SourceKind:
    """Names the kind of source for a camera URL; ValueError for what Vigil cannot read."""
    if not url.strip():
        raise ValueError("camera URL is empty")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return SourceKind.RTSP
    if scheme in ("http", "https"):
        return SourceKind.HTTP
    # One letter is a Windows drive ("C:\\clips\\a.mp4"), not a scheme.
    if scheme in ("", "file") or len(scheme) == 1:
        suffix = local_path(url).suffix.lower()
        return SourceKind.IMAGE if suffix in IMAGE_SUFFIXES else SourceKind.FILE
    raise ValueError(
        f"unsupported camera URL {redact(url)!r}: use rtsp://, http(s)://, file:// or a file path"
    )


def local_path(url: str) -> Path:
    """The file a `file://` URL or plain path points to."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(url2pathname(unquote(parts.path)))
    return Path(url)


def redact(url: str) -> str:
    """The URL with any password replaced, safe for logs, status and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal needs its brackets back
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
