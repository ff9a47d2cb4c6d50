"""Scene text (OCR) on event snapshots, with RapidOCR's bundled models, offline."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.modules.synth import camera
from tests.vision.footage import BASE_MS, clip_frame
from vigil.bus import MemoryBus
from vigil.bus.base import BusMessage
from vigil.domain.events import EventMessage, Phase
from vigil.domain.frames import Frame
from vigil.modules.base import Signal
from vigil.pipeline.lifecycle import EventLifecycle
from vigil.pipeline.output import EventOutput
from vigil.store import LocalMediaStore
from vigil.vision.ocr import OcrSettings, SceneTextReader

PLATE = "AB 1234"
VAN = (640.0, 40.0, 735.0, 110.0)  # the parked van, with a sign on it
SIGN = (655, 60, 725, 80)


def van_with_sign() -> np.ndarray:
    """A frame of the street clip with a sign on the van: black letters on white."""
    frame = clip_frame(300).copy()
    x1, y1, x2, y2 = SIGN
    cv2.rectangle(frame, (x1, y1), (x2, y2), (255, 255, 255), -1)
    cv2.putText(frame, PLATE, (x1 + 3, y2 - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    return frame


@pytest.fixture(scope="module")
def reader() -> SceneTextReader:
    return SceneTextReader(OcrSettings())


def test_reads_a_known_string_in_a_street_frame(reader: SceneTextReader) -> None:
    frame = clip_frame(300).copy()
    cv2.rectangle(frame, (300, 300), (520, 360), (255, 255, 255), -1)
    cv2.putText(frame, PLATE, (310, 345), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    assert reader.read_text(frame[280:380, 280:540]) == PLATE
    assert reader.read_text(frame) == PLATE  # the whole frame: the only text there is


def test_reads_small_lettering_on_a_vehicle_crop(reader: SceneTextReader) -> None:
    frame = van_with_sign()
    crop = frame[int(VAN[1]) : int(VAN[3]), int(VAN[0]) : int(VAN[2])]
    assert reader.read_text(crop) == PLATE


def test_nothing_to_read_is_none(reader: SceneTextReader) -> None:
    assert reader.read_text(clip_frame(300)[300:500, 0:300]) is None  # the lawn


class Published(MemoryBus):
    """Keeps what the event output published, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[EventMessage] = []

    def publish(self, message: BusMessage) -> None:
        assert isinstance(message, EventMessage)
        self.messages.append(message)


class Redactor:
    """Stands in for face redaction: blurs `region` (where a face would be) or nothing."""

    def __init__(self, region: tuple[int, int, int, int] | None = None) -> None:
        self.region = region
        self.detector = None

    def redact(self, image: np.ndarray) -> np.ndarray:
        out = image.copy()
        if self.region is not None:
            x1, y1, x2, y2 = self.region
            out[y1:y2, x1:x2] = cv2.GaussianBlur(out[y1:y2, x1:x2], (0, 0), 8)
        return out


def car_event_messages(
    tmp_path: Path, reader: SceneTextReader, redactor: Redactor, class_name: str = "car"
) -> list[EventMessage]:
    """A car's zone visit through the real lifecycle and event output: start, update, end."""
    lifecycle = EventLifecycle(camera({"zone": {}}))
    frame = Frame("cam", 1, BASE_MS, van_with_sign())
    bus = Published()
    output = EventOutput(bus, LocalMediaStore(tmp_path), redactor, ocr=reader)  # type: ignore[arg-type]
    fields = {"track_id": 3, "class_id": 2, "class_name": class_name, "score": 0.8, "box": VAN}
    try:
        for index, phase in enumerate((Phase.START, Phase.UPDATE, Phase.END)):
            signal = Signal(("plaza", 3), phase, "zone.presence", zone="plaza", **fields)
            for message, snapshot in lifecycle.apply("zone", [signal], frame, BASE_MS + index):
                output.submit(message, snapshot)
    finally:
        output.close()
    return bus.messages


def test_text_is_on_every_message_of_a_vehicle_event(
    tmp_path: Path, reader: SceneTextReader
) -> None:
    messages = car_event_messages(tmp_path, reader, Redactor())
    assert [m.phase for m in messages] == [Phase.START, Phase.UPDATE, Phase.END]
    assert all(m.event.attributes.get("text") == PLATE for m in messages)


def test_ocr_reads_the_face_blurred_snapshot_only(
    tmp_path: Path, reader: SceneTextReader
) -> None:
    # if redaction blurs the sign (as it would a face), OCR has nothing to read
    messages = car_event_messages(tmp_path, reader, Redactor(region=SIGN))
    assert all("text" not in m.event.attributes for m in messages)


def test_people_are_never_read(tmp_path: Path, reader: SceneTextReader) -> None:
    messages = car_event_messages(tmp_path, reader, Redactor(), class_name="person")
    assert all("text" not in m.event.attributes for m in messages)
    with pytest.raises(ValueError, match="OCR on people is not allowed"):
        OcrSettings(classes=["car", "person"])


def test_time_budget_skips_reads_once_spent(tmp_path: Path) -> None:
    stingy = SceneTextReader(OcrSettings(budget_ms_per_s=1.0))
    first = car_event_messages(tmp_path / "a", stingy, Redactor())
    second = car_event_messages(tmp_path / "b", stingy, Redactor())
    assert first[0].event.attributes.get("text") == PLATE  # the starting credit: 2 ms
    assert "text" not in second[0].event.attributes  # that read cost far more than 1 ms/s
    assert stingy.over_budget == 1 and stingy.reads == 1


def test_disabled_or_unavailable_ocr_costs_only_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = SceneTextReader(OcrSettings(enabled=False))
    assert all("text" not in m.event.attributes
               for m in car_event_messages(tmp_path / "off", off, Redactor()))
    import builtins

    real_import = builtins.__import__

    def no_rapidocr(name: str, *args: object, **kwargs: object) -> object:
        if name == "rapidocr":
            raise ImportError("No module named 'rapidocr'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_rapidocr)
    broken = SceneTextReader(OcrSettings())
    messages = car_event_messages(tmp_path / "broken", broken, Redactor())
    assert [m.phase for m in messages] == [Phase.START, Phase.UPDATE, Phase.END]
    assert messages[0].event.snapshot is not None and not broken.available
