"""Picks the source implementation for a camera URL."""

from __future__ import annotations

from vigil.domain.source_urls import SourceKind, classify, local_path
from vigil.sources.base import FrameSource, SourceOptions
from vigil.sources.file import FileSource
from vigil.sources.http import HttpSource
from vigil.sources.hwdecode import HardwareDecodeSource
from vigil.sources.image import StillImageSource
from vigil.sources.rtsp import RtspSource


def create_source(url: str, options: SourceOptions) -> FrameSource:
    """A new, unopened source for `url`, through hardware decoding if the options ask for it
    (falling back to the CPU source below when the hardware cannot decode it)."""
    kind = classify(url)
    if options.hardware_decode and kind in (SourceKind.RTSP, SourceKind.FILE):
        return HardwareDecodeSource(url, options, cpu=lambda: cpu_source(url, options))
    return cpu_source(url, options)


def cpu_source(url: str, options: SourceOptions) -> FrameSource:
    """A new, unopened source for `url`; ValueError if no source can read such a URL.

    `rtsp://` and `rtsps://` are RTSP cameras; `http(s)://` are MJPEG streams or snapshot
    URLs (decided by the camera's answer when opened); anything else is a file path or
    `file://` URL, read as a still image if its extension is an image's.

    With `options.policy` (a tenant's camera), a local file must be one the policy allows and
    is opened by its resolved path; network sources check each address when they connect.
    PolicyRefusal if the policy refuses the URL outright.
    """
    kind = classify(url)
    if kind is SourceKind.RTSP:
        return RtspSource(url, options)
    if kind is SourceKind.HTTP:
        return HttpSource(url, options)
    policy = options.policy
    path = local_path(url) if policy is None else policy.local_file(url)
    if kind is SourceKind.IMAGE:
        return StillImageSource(path, options)
    return FileSource(path, options)
