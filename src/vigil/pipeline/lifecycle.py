"""Turns module signals into events with ids and a start → update → end life."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import CameraConfig
from vigil.domain.events import Event, EventMessage, EventState, ObjectInfo, Phase, uuid7
from vigil.domain.frames import Frame, Pixels
from vigil.modules.base import Signal
from vigil.store.media import media_key
from vigil.vision.color import color_name

# A later frame replaces an event's snapshot only if the object is seen this much more surely:
# every snapshot costs a face-redaction pass, so small gains are not worth it.
_SNAPSHOT_GAIN = 0.1


@dataclass(slots=True)
class SnapshotRequest:
    """Store this frame, face-blurred, as the event's snapshot, with the object's box drawn."""

    key: str
    image: Pixels  # a frame on the GPU is redacted there before it is copied (EventOutput)
    frame_seq: int
    box: tuple[float, float, float, float] | None


@dataclass(slots=True)
class _Open:
    event: Event
    snapshot_score: float
    best_score: float
    best_frame: Frame | None
    best_box: tuple[float, float, float, float] | None


def snapshot_key(event: Event) -> str:
    return media_key(event.tenant, event.camera_id, event.start_ms, event.id)


class EventLifecycle:
    """Per camera: maps each module's signal keys to events and decides when to snapshot."""

    def __init__(self, camera: CameraConfig) -> None:
        self.camera = camera
        self._open: dict[tuple[str, tuple[object, ...]], _Open] = {}
        self.events_by_module: dict[str, int] = {}

    @property
    def open_events(self) -> int:
        return len(self._open)

    def apply(
        self, module: str, signals: list[Signal], frame: Frame | None, ts_ms: int
    ) -> list[tuple[EventMessage, SnapshotRequest | None]]:
        """Messages to publish, each with the snapshot to store first (if any).

        `frame` is None when a camera stops and its open events are closed without a new frame.
        """
        out: list[tuple[EventMessage, SnapshotRequest | None]] = []
        for signal in signals:
            slot = (module, signal.key)
            current = self._open.get(slot)
            if current is None:
                current = self._open_event(module, signal, frame, ts_ms)
                out.append(self._emit(current, Phase.START, frame, signal, first=True))
                if not signal.instant and signal.phase is not Phase.END:
                    self._open[slot] = current
                    continue
            self._observe(current, signal, frame, ts_ms)
            if signal.phase is Phase.END:
                self._open.pop(slot, None)
                if signal.instant:
                    continue  # already published whole by the START emit above
                out.append(self._finish(current, ts_ms))
            else:
                out.append(
                    (EventMessage(phase=Phase.UPDATE, event=current.event.model_copy()), None)
                )
        return out

    def _open_event(self, module: str, signal: Signal, frame: Frame | None, ts_ms: int) -> _Open:
        ended = signal.instant or signal.phase is Phase.END
        event = Event(
            id=uuid7(ts_ms),
            tenant=self.camera.tenant,
            camera_id=self.camera.id,
            camera_name=self.camera.name,
            module=module,
            type=signal.type,
            state=EventState.ENDED if ended else EventState.ACTIVE,
            object=_object(signal, frame),
            zone=signal.zone,
            line=signal.line,
            direction=signal.direction,
            dwell_s=signal.dwell_s,
            start_ms=ts_ms,
            end_ms=ts_ms if ended else None,
            updated_ms=ts_ms,
            snapshot=None,
            attributes=dict(signal.attributes),
        )
        if frame is not None:
            height, width = frame.shape
            event.attributes["frame_size"] = [width, height]
            event.snapshot = snapshot_key(event)
        self.events_by_module[module] = self.events_by_module.get(module, 0) + 1
        score = signal.score or 0.0
        return _Open(event, score, score, None, None)

    def _emit(
        self, current: _Open, phase: Phase, frame: Frame | None, signal: Signal, first: bool
    ) -> tuple[EventMessage, SnapshotRequest | None]:
        event = current.event
        request = None
        if first and frame is not None and event.snapshot:
            request = SnapshotRequest(event.snapshot, frame.pixels, frame.seq, signal.box)
        phase = Phase.END if event.state is EventState.ENDED else phase
        return EventMessage(phase=phase, event=event.model_copy()), request

    def _observe(self, current: _Open, signal: Signal, frame: Frame | None, ts_ms: int) -> None:
        event = current.event
        event.updated_ms = ts_ms
        event.attributes.update(signal.attributes)  # peaks, reasons and durations as they grow
        if signal.dwell_s is not None:
            event.dwell_s = round(signal.dwell_s, 3)
        if frame is not None and signal.score is not None and signal.score > current.best_score:
            current.best_score = signal.score
            current.best_frame = frame
            current.best_box = signal.box

    def _finish(self, current: _Open, ts_ms: int) -> tuple[EventMessage, SnapshotRequest | None]:
        event = current.event
        event.state = EventState.ENDED
        event.end_ms = ts_ms
        request = None
        improved = current.best_score >= current.snapshot_score + _SNAPSHOT_GAIN
        if improved and current.best_frame is not None and event.object is not None:
            request = SnapshotRequest(
                event.snapshot or snapshot_key(event),
                current.best_frame.pixels,
                current.best_frame.seq,
                current.best_box,
            )
            event.snapshot = request.key
            event.object.score = round(current.best_score, 4)
            event.object.box = _rounded(current.best_box) if current.best_box else None
        return EventMessage(phase=Phase.END, event=event.model_copy()), request

    def close_all(
        self, modules_finish: dict[str, list[Signal]], ts_ms: int
    ) -> list[tuple[EventMessage, SnapshotRequest | None]]:
        out = []
        for module, signals in modules_finish.items():
            out.extend(self.apply(module, signals, None, ts_ms))
        for current in self._open.values():
            out.append(self._finish(current, ts_ms))
        self._open.clear()
        return out


def _object(signal: Signal, frame: Frame | None) -> ObjectInfo | None:
    if signal.class_name is None or signal.class_id is None:
        return None
    box = signal.box
    return ObjectInfo(
        class_name=signal.class_name,
        class_id=signal.class_id,
        track_id=signal.track_id,
        score=round(signal.score or 0.0, 4),
        box=_rounded(box) if box else None,
        color=_color(frame, box) if frame is not None and box else None,
    )


def _color(frame: Frame, box: tuple[float, float, float, float]) -> str | None:
    """The object's colour; of a frame on the GPU only the box is copied to the host, with the
    box moved by whole pixels so that `color_name` picks the same pixels as on the frame."""
    tensor = frame.device_image
    if tensor is None:
        return color_name(frame.image, box)
    x1, y1, x2, y2 = box
    left, top = max(int(x1), 0), max(int(y1), 0)
    crop = tensor[top : max(int(y2) + 1, top), left : max(int(x2) + 1, left)]
    return color_name(crop.cpu().numpy(), (x1 - left, y1 - top, x2 - left, y2 - top))


def _rounded(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (round(v, 1) for v in box)
    return x1, y1, x2, y2
