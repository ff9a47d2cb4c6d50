"""Object detection through onnxruntime, on batches of frames from any number of cameras."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort
import supervision as sv

from vigil.config import DetectorConfig
from vigil.domain.coco import COCO_CLASSES
from vigil.vision.boxes import Letterbox, letterbox_into
from vigil.vision.decoders import Decoder, NanoDetDecoder, YoloDecoder
from vigil.vision.providers import ProviderError, execution_providers

# The largest batch TensorRT prepares an engine profile for (BatchingConfig.max_batch's bound).
MAX_BATCH = 1024


class Detector(Protocol):
    labels: tuple[str, ...]

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]:
        """Detections per image (BGR uint8), each with `data["class_name"]`."""
        ...


class ModelError(RuntimeError):
    """The model file is missing, unreadable, or does not match the configured family."""


def onnx_session(
    path: Path, threads: int, providers: list[str | tuple[str, dict[str, Any]]] | None = None
) -> ort.InferenceSession:
    if not Path(path).is_file():
        raise ModelError(f"model file not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads otherwise spin for a while after each run; with a detector and a face
    # model sharing two cores, the spinning of one steals the cores the other needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            str(path), options, providers=providers or ["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises several unrelated types for bad files
        raise ModelError(f"cannot load ONNX model {path}: {error}") from None


def _input_name(model: Path) -> str:
    """The model's image input, read without starting a GPU session (for TensorRT profiles)."""
    probe = onnx_session(model, 1)
    return str(probe.get_inputs()[0].name)


class DetectorClasses:
    """The class names a detector reports and the subset `detector.classes` keeps. Shared by
    the CPU detector and the GPU one (`torch_detector`), so both name and filter boxes alike."""

    def __init__(self, config: DetectorConfig) -> None:
        self.labels = tuple(config.labels) if config.labels else COCO_CLASSES
        wanted = set(config.classes) if config.classes else None
        unknown = (wanted or set()) - set(self.labels)
        if unknown:
            raise ModelError(
                f"detector.classes names unknown classes: {', '.join(sorted(unknown))}"
            )
        self._keep = np.array([wanted is None or name in wanted for name in self.labels])
        self._names = np.array(self.labels)

    def detections(
        self, xyxy: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, letterbox: Letterbox
    ) -> sv.Detections:
        """One image's boxes (network-input pixels) as detections in frame pixels, only of the
        kept classes."""
        class_ids = class_ids.astype(np.int64)
        keep = self._keep[class_ids]
        return sv.Detections(
            xyxy=letterbox.to_image(xyxy[keep]).reshape(-1, 4),
            confidence=scores[keep].astype(np.float32),
            class_id=class_ids[keep],
            data={"class_name": self._names[class_ids[keep]]},
        )


class OnnxDetector:
    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self.classes = DetectorClasses(config)
        self.labels = self.classes.labels
        providers = None
        if config.provider != "cpu":
            try:
                providers = execution_providers(config, _input_name(config.model), MAX_BATCH)
            except ProviderError as error:
                raise ModelError(str(error)) from None
        self.session = onnx_session(config.model, config.threads, providers)
        model_input = self.session.get_inputs()[0]
        # fp16 exports (Ultralytics `half=True`) take float16 input; the rest float32.
        self._input_type = np.float16 if model_input.type == "tensor(float16)" else np.float32
        self._input_name = model_input.name
        # A model exported with a fixed batch of 1 still works, one image per call.
        self._fixed_batch = model_input.shape[0] if isinstance(model_input.shape[0], int) else None
        size = config.input_size
        decoders: dict[str, Decoder] = {
            "nanodet": NanoDetDecoder(size, num_classes=len(self.labels)),
            "yolo": YoloDecoder(size, num_classes=len(self.labels)),
        }
        self.decoder = decoders[config.family]

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]:
        if not images:
            return []
        size = self.config.input_size
        canvas = np.empty((len(images), size, size, 3), dtype=np.uint8)
        canvas[:] = self.decoder.pad_bgr
        boxes = [letterbox_into(image, canvas[i]) for i, image in enumerate(images)]
        tensor = self.decoder.prepare(canvas).astype(self._input_type, copy=False)
        raws = []
        step = self._fixed_batch or len(images)
        for start in range(0, len(images), step):
            outputs = self.session.run(None, {self._input_name: tensor[start : start + step]})
            outputs = [np.asarray(output, dtype=np.float32) for output in outputs]
            raws.extend(
                self.decoder.decode(outputs, self.config.score_threshold, self.config.nms_iou)
            )
        return [
            self.classes.detections(*raw, box) for raw, box in zip(raws, boxes, strict=True)
        ]
