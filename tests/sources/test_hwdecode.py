"""Hardware decoding: on a machine without NVDEC each camera falls back to the CPU, says why in
its status, and delivers the very frames CPU decoding does; on a GPU worker NVDEC is used."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.sources.readers import Collector, read_to_end
from tests.sources.rtsp_process import RtspServerProcess
from tests.waiting import wait_until
from vigil.sources import CameraReader
from vigil.sources.base import SourceOptions
from vigil.sources.factory import create_source
from vigil.sources.file import FileSource
from vigil.sources.hwdecode import HardwareDecodeSource


def _nvdec_present() -> bool:
    if importlib.util.find_spec("PyNvVideoCodec") is None or not importlib.util.find_spec("torch"):
        return False
    import torch

    return bool(torch.cuda.is_available())


NVDEC = _nvdec_present()


@pytest.mark.skipif(NVDEC, reason="this machine has NVDEC: the fallback cannot happen here")
def test_without_a_gpu_the_camera_decodes_on_the_cpu_and_says_why(demo_clip: Path) -> None:
    options = SourceOptions(analysis_fps=10.0, loop=False, hardware_decode=True)
    source = create_source(str(demo_clip), options)
    assert isinstance(source, HardwareDecodeSource)
    source.open()
    try:
        decoder = source.decoder
        assert decoder.startswith("CPU (hardware decode unavailable")
        assert "NVDEC:" in decoder and "PyAV cuda:" in decoder
        raw = source.read()
        assert raw is not None
        got = raw.to_bgr()
    finally:
        source.close()
    cpu = FileSource(demo_clip, SourceOptions(analysis_fps=10.0, loop=False))
    cpu.open()
    try:
        first = cpu.read()
        assert first is not None
        np.testing.assert_array_equal(got, first.to_bgr())
    finally:
        cpu.close()


@pytest.mark.skipif(NVDEC, reason="this machine has NVDEC: the fallback cannot happen here")
def test_reader_reports_the_fallback_in_the_camera_status(demo_clip: Path) -> None:
    frames, reader = read_to_end(demo_clip, fps=5.0, hardware_decode=True)
    cpu_frames, _ = read_to_end(demo_clip, fps=5.0)
    assert len(frames) == len(cpu_frames) > 0
    status = reader.status
    assert status.decoder is not None and status.decoder.startswith("CPU")
    assert status.last_error is None  # a fallback is not a failure


def test_cameras_without_hardware_decode_report_no_decoder(demo_clip: Path) -> None:
    _, reader = read_to_end(demo_clip, fps=2.0)
    assert reader.status.decoder is None


@pytest.mark.skipif(not NVDEC, reason="needs PyNvVideoCodec, torch and a CUDA GPU (GPU workers)")
def test_on_a_gpu_worker_files_are_decoded_by_nvdec(demo_clip: Path) -> None:
    source = create_source(
        str(demo_clip), SourceOptions(analysis_fps=10.0, loop=False, hardware_decode=True)
    )
    assert isinstance(source, HardwareDecodeSource)
    source.open()
    try:
        assert source.decoder == "NVDEC"
        raw = source.read()
        assert raw is not None
        image = raw.to_bgr()
    finally:
        source.close()
    cpu = FileSource(demo_clip, SourceOptions(analysis_fps=10.0, loop=False))
    cpu.open()
    first = cpu.read()
    assert first is not None
    reference = first.to_bgr()
    cpu.close()
    assert image.shape == reference.shape
    # Different YUV→RGB conversions: close, not identical.
    assert np.abs(image.astype(int) - reference.astype(int)).mean() < 8


@pytest.mark.rtsp
@pytest.mark.skipif(NVDEC, reason="this machine has NVDEC: the fallback cannot happen here")
def test_rtsp_camera_with_hardware_decode_falls_back_and_streams(
    rtsp_server: RtspServerProcess,
) -> None:
    collector = Collector()
    reader = CameraReader("street", rtsp_server.url, 5.0, collector, hardware_decode=True)
    reader.start()
    try:
        wait_until(lambda: len(collector) >= 5, 20, what="frames over RTSP")
        status = reader.status
        assert status.online and status.last_error is None
        assert status.decoder is not None and status.decoder.startswith("CPU")
        assert "PyAV cuda:" in status.decoder
        assert "NVDEC" not in status.decoder  # NVDEC is tried on video files only
    finally:
        reader.stop()
