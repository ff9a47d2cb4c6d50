"""Scene text on event snapshots (a van's lettering, a bus's route number, a plate) with RapidOCR.

RapidOCR (PyPI `rapidocr`, Apache-2.0) ships its PP-OCR detection and recognition models as
ONNX files inside the wheel and runs them with onnxruntime: nothing is downloaded. It runs in
the event output thread, after face redaction, on the crop of the object's box in the
face-blurred snapshot, for the classes where text means something (vehicles by default; never
people, whose clothes may carry a name). A time budget bounds what it may cost: events past the
budget simply get no text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.domain.events import Event, EventState

log = logging.getLogger(__name__)

MAX_TEXT = 200  # characters kept per event
_MARGIN = 0.05  # the box grown by this share on each side: lettering touches the edges
_REMEMBERED = 2048  # events whose text is carried to their later messages


class OcrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Read scene text on event snapshots")
    classes: list[str] = Field(
        default_factory=lambda: ["car", "truck", "bus"],
        description="Object classes whose snapshots are read (never 'person')",
    )
    min_score: float = Field(
        0.6, gt=0.0, le=1.0, description="Recognition confidence a text line needs to be kept"
    )
    budget_ms_per_s: float = Field(
        200.0, gt=0.0, description="OCR time allowed per second of wall time, on average "
        "(bursts up to 2 s worth); events over the budget get no text"
    )
    max_side: int = Field(
        640, ge=64, le=4096, description="Crops larger than this are scaled down first"
    )
    min_height_px: int = Field(
        24, ge=8, description="Object boxes lower than this are too small to read"
    )
    threads: int = Field(1, ge=1, le=16, description="onnxruntime threads for OCR")

    @field_validator("classes")
    @classmethod
    def _no_people(cls, classes: list[str]) -> list[str]:
        if "person" in classes:
            raise ValueError("OCR on people is not allowed: it could read names on clothing")
        return classes


class SceneTextReader:
    """Reads text in object crops and puts it in `event.attributes["text"]`.

    `read` is called with the face-blurred snapshot of an event's first (or improved) message;
    `carry` puts the text found then on the event's later messages too, so the stored event
    keeps it whatever message arrives last.
    """

    def __init__(self, settings: OcrSettings | None = None) -> None:
        self.settings = settings or OcrSettings()
        self.reads = 0
        self.texts_found = 0
        self.over_budget = 0
        self.seconds = 0.0
        self._engine: Any = None
        self._failed = False
        self._lock = threading.Lock()
        self._credit_ms = 2 * self.settings.budget_ms_per_s
        self._credit_at = time.monotonic()
        self._texts: OrderedDict[str, str] = OrderedDict()

    @property
    def available(self) -> bool:
        return self.settings.enabled and not self._failed

    def read(
        self, event: Event, image: np.ndarray, box: tuple[float, float, float, float] | None
    ) -> str | None:
        """OCR the object's crop of `image` (already face-blurred) if its class is read and the
        budget allows; the text (if any) is stored on the event and returned."""
        if not self.available or box is None or event.object is None:
            return None
        if event.object.class_name not in self.settings.classes:
            return None
        crop = _crop(image, box)
        if crop is None or crop.shape[0] < self.settings.min_height_px:
            return None
        if not self._spend():
            self.over_budget += 1
            return None
        started = time.monotonic()
        text = self.read_text(crop)
        elapsed = time.monotonic() - started
        self.seconds += elapsed
        self._credit_ms -= elapsed * 1000
        if text:
            self.texts_found += 1
            self._remember(event.id, text)
            event.attributes = {**event.attributes, "text": text}
        return text

    def carry(self, event: Event) -> None:
        """Put the text read earlier for this event on this (later) message of it."""
        text = self._texts.get(event.id)
        if text is not None and "text" not in event.attributes:
            event.attributes = {**event.attributes, "text": text}
        if event.state is EventState.ENDED:
            self._texts.pop(event.id, None)

    def read_text(self, image: np.ndarray) -> str | None:
        """All text lines of a BGR image that pass `min_score`, top to bottom, left to right,
        joined by spaces; None if there are none (or OCR is unavailable)."""
        engine = self._get_engine()
        if engine is None:
            return None
        scale = self.settings.max_side / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        self.reads += 1
        with self._lock:
            result = engine(np.ascontiguousarray(image))
        if result is None or not getattr(result, "txts", None):
            return None
        lines = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=False):
            if score >= self.settings.min_score and str(text).strip():
                points = np.asarray(box, dtype=np.float32).reshape(-1, 2)
                lines.append((float(points[:, 1].min()), float(points[:, 0].min()), str(text)))
        if not lines:
            return None
        lines.sort(key=lambda line: (round(line[0] / 10), line[1]))
        return " ".join(text.strip() for _, _, text in lines)[:MAX_TEXT]

    def _spend(self) -> bool:
        now = time.monotonic()
        budget = self.settings.budget_ms_per_s
        self._credit_ms = min(2 * budget, self._credit_ms + (now - self._credit_at) * budget)
        self._credit_at = now
        return self._credit_ms > 0

    def _remember(self, event_id: str, text: str) -> None:
        self._texts[event_id] = text
        self._texts.move_to_end(event_id)
        while len(self._texts) > _REMEMBERED:
            self._texts.popitem(last=False)

    def _get_engine(self) -> Any:
        if self._engine is not None or self._failed:
            return self._engine
        try:
            from rapidocr import RapidOCR

            self._engine = RapidOCR(
                params={
                    "Global.log_level": "error",
                    "Global.use_cls": False,  # scene text is upright; saves a model run
                    "Det.limit_type": "max",
                    "Det.limit_side_len": self.settings.max_side,
                    "EngineConfig.onnxruntime.intra_op_num_threads": self.settings.threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                }
            )
        except Exception:  # a missing or broken install must cost the text, never the event
            log.exception("scene text (OCR) is unavailable: rapidocr could not be loaded")
            self._failed = True
        return self._engine


def _crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    grow_x, grow_y = (x2 - x1) * _MARGIN, (y2 - y1) * _MARGIN
    left, top = max(0, int(x1 - grow_x)), max(0, int(y1 - grow_y))
    right, bottom = min(width, int(np.ceil(x2 + grow_x))), min(height, int(np.ceil(y2 + grow_y)))
    if right - left < 8 or bottom - top < 8:
        return None
    return image[top:bottom, left:right]
