"""Camera inputs: files, RTSP, HTTP MJPEG/snapshot and still images, read by CameraReader."""

from vigil.domain.source_urls import SourceKind, classify, redact
from vigil.sources.base import FrameSource, RawFrame, SourceError, SourceOptions
from vigil.sources.factory import create_source
from vigil.sources.file import FileSource
from vigil.sources.http import HttpSource
from vigil.sources.image import StillImageSource
from vigil.sources.reader import CameraReader, FrameCallback
from vigil.sources.rtsp import RtspSource

__all__ = [
    "CameraReader",
    "FileSource",
    "FrameCallback",
    "FrameSource",
    "HttpSource",
    "RawFrame",
    "RtspSource",
    "SourceError",
    "SourceKind",
    "SourceOptions",
    "StillImageSource",
    "classify",
    "create_source",
    "redact",
]
