"""The detector on a GPU: the same ONNX model run by PyTorch (onnx2torch) in fp16 on CUDA.

onnxruntime's CUDA and TensorRT providers need `onnxruntime-gpu` (see docs/deployment.md);
where only PyTorch is installed, this runs the same ONNX file. Large batches are what make a GPU
pay (NanoDet-416 fp16 on an H200: 175 images/s at batch 1, 11,600 at batch 256), so everything
after letterboxing stays on the GPU and is done once per batch, not per image: normalisation,
the network, box decoding, the score threshold, and one class-aware NMS over the whole batch
(images are kept apart by offsetting their class ids). Only the kept boxes come back to the host.
Frames that are already tensors on the device (decoded by NVDEC) are letterboxed there
(`tensor_frames`), with no round trip through host memory; host arrays are letterboxed on the
host and the canvases uploaded as uint8, a quarter of the bytes of float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import supervision as sv

from vigil.config import DetectorConfig
from vigil.domain.coco import COCO_CLASSES
from vigil.vision.boxes import Letterbox, letterbox_into
from vigil.vision.detector import ModelError
from vigil.vision.tensor_frames import letterbox_tensors


class TorchDetector:
    """Implements vision.detector.Detector; needs torch, torchvision and onnx2torch."""

    def __init__(self, config: DetectorConfig, device: str = "cuda") -> None:
        try:
            import onnx
            import torch
            from onnx2torch import convert
        except ImportError as error:
            raise ModelError(
                f"the GPU detector needs {error.name}, which is not installed"
            ) from None
        if not config.model.is_file():
            raise ModelError(f"model file not found: {config.model}")
        self.config = config
        self.labels = tuple(config.labels) if config.labels else COCO_CLASSES
        self._torch = torch
        self._device = torch.device(device)
        half = self._device.type == "cuda"
        self._dtype = torch.float16 if half else torch.float32
        model = convert(onnx.load(str(config.model))).eval().to(self._device)
        self._model = model.half() if half else model
        size = config.input_size
        self._size = size
        if config.family == "nanodet":
            self._pad = (104, 116, 124)
            self._mean = torch.tensor([103.53, 116.28, 123.675], device=self._device)
            self._scale = 1.0 / torch.tensor([57.375, 57.12, 58.395], device=self._device)
            self._bgr = True
            self._centres, self._strides = _nanodet_grid(torch, size, self._device)
        else:
            self._pad = (114, 114, 114)
            self._mean = torch.zeros(3, device=self._device)
            self._scale = torch.full((3,), 1 / 255, device=self._device)
            self._bgr = False
        wanted = set(config.classes) if config.classes else None
        unknown = (wanted or set()) - set(self.labels)
        if unknown:
            raise ModelError(
                f"detector.classes names unknown classes: {', '.join(sorted(unknown))}"
            )
        self._keep = np.array([wanted is None or name in wanted for name in self.labels])
        self._labels_array = np.array(self.labels)

    def detect(self, images: Sequence[Any]) -> list[sv.Detections]:
        """Like every Detector, on BGR uint8 host arrays; or on H×W×3 BGR uint8 tensors, which
        are letterboxed on the device they are on."""
        if not images:
            return []
        torch = self._torch
        with torch.inference_mode():
            if isinstance(images[0], torch.Tensor):
                on_device = [image.to(self._device, non_blocking=True) for image in images]
                batch, boxes = letterbox_tensors(on_device, self._size, self._pad)
            else:
                canvas = np.empty((len(images), self._size, self._size, 3), dtype=np.uint8)
                canvas[:] = self._pad
                boxes = [letterbox_into(image, canvas[i]) for i, image in enumerate(images)]
                batch = torch.from_numpy(canvas).to(self._device, non_blocking=True)
            if not self._bgr:
                batch = batch.flip(-1)
            tensor = ((batch.float() - self._mean) * self._scale).permute(0, 3, 1, 2)
            outputs = self._model(tensor.to(self._dtype).contiguous())
            if not isinstance(outputs, (list, tuple)):
                outputs = [outputs]
            outputs = [output.float() for output in outputs]
            xyxy, scores, classes, image_of = self._candidates(outputs)
            xyxy, scores, classes, image_of = (
                t.cpu().numpy() for t in (xyxy, scores, classes, image_of)
            )
        return [
            self._to_detections(
                xyxy[image_of == i], scores[image_of == i], classes[image_of == i], box
            )
            for i, box in enumerate(boxes)
        ]

    def _candidates(self, outputs: list[Any]) -> tuple[Any, Any, Any, Any]:
        """Kept boxes of the whole batch: xyxy, score, class, and the image each belongs to."""
        torch = self._torch
        import torchvision

        if self.config.family == "nanodet":
            boxes, scores_by_class = self._nanodet_boxes(outputs)
        else:
            out = outputs[0]
            classes = len(self.labels)
            if out.shape[-1] == 6:  # end-to-end: NMS already done inside the model
                rows = out.reshape(-1, 6)
                image_of = torch.arange(out.shape[0], device=out.device).repeat_interleave(
                    out.shape[1]
                )
                keep = rows[:, 4] > self.config.score_threshold
                return rows[keep, :4], rows[keep, 4], rows[keep, 5].long(), image_of[keep]
            if out.shape[1] == 4 + classes and out.shape[2] != 4 + classes:
                out = out.transpose(1, 2)
            if out.shape[2] == 5 + classes:  # YOLOv5: objectness times class scores
                scores_by_class = out[..., 5:] * out[..., 4:5]
            else:
                scores_by_class = out[..., 4:]
            half = out[..., 2:4] / 2
            boxes = torch.cat([out[..., :2] - half, out[..., :2] + half], -1)
        best, classes_of = scores_by_class.max(-1)  # (B, N)
        keep = best > self.config.score_threshold
        image_of = torch.nonzero(keep)[:, 0]
        kept_boxes, kept_scores, kept_classes = boxes[keep], best[keep], classes_of[keep]
        groups = image_of * len(self.labels) + kept_classes
        selected = torchvision.ops.batched_nms(kept_boxes, kept_scores, groups, self.config.nms_iou)
        return (
            kept_boxes[selected],
            kept_scores[selected],
            kept_classes[selected],
            image_of[selected],
        )

    def _nanodet_boxes(self, outputs: list[Any]) -> tuple[Any, Any]:
        """Scores (B,N,C) and boxes (B,N,4): GFL bins → distances × stride around cell centres."""
        torch = self._torch
        classes, bins = len(self.labels), 11
        by_shape = {(o.shape[1], o.shape[2]): o for o in outputs}
        cells = [(self._size // s) ** 2 for s in (8, 16, 32)]
        try:
            scores = torch.cat([by_shape[(n, classes)] for n in cells], 1)
            regs = torch.cat([by_shape[(n, 4 * bins)] for n in cells], 1)
        except KeyError:
            raise ModelError(
                f"unexpected NanoDet outputs {[tuple(o.shape) for o in outputs]}"
            ) from None
        weights = torch.arange(bins, device=regs.device, dtype=regs.dtype)
        distances = regs.reshape(*regs.shape[:2], 4, bins).softmax(-1) @ weights
        distances = distances * self._strides[None, :, None]
        centres = self._centres[None]
        boxes = torch.cat([centres - distances[..., :2], centres + distances[..., 2:]], -1)
        return boxes, scores

    def _to_detections(
        self, xyxy: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, letterbox: Letterbox
    ) -> sv.Detections:
        class_ids = class_ids.astype(np.int64)
        keep = self._keep[class_ids]
        return sv.Detections(
            xyxy=letterbox.to_image(xyxy[keep]).reshape(-1, 4),
            confidence=scores[keep].astype(np.float32),
            class_id=class_ids[keep],
            data={"class_name": self._labels_array[class_ids[keep]]},
        )


def _nanodet_grid(torch: Any, size: int, device: Any) -> tuple[Any, Any]:
    centres, strides = [], []
    for stride in (8, 16, 32):
        cells = size // stride
        ys, xs = torch.meshgrid(torch.arange(cells), torch.arange(cells), indexing="ij")
        centres.append(
            torch.stack([(xs.flatten() + 0.5) * stride, (ys.flatten() + 0.5) * stride], 1)
        )
        strides.append(torch.full((cells * cells,), float(stride)))
    return torch.cat(centres).to(device), torch.cat(strides).to(device)
