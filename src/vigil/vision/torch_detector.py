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
from vigil.vision.boxes import letterbox_into
from vigil.vision.decoders import NANODET_MEAN, NANODET_STD, NanoDetDecoder, YoloDecoder
from vigil.vision.detector import DetectorClasses, ModelError
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
        self.classes = DetectorClasses(config)
        self.labels = self.classes.labels
        self._torch = torch
        self._device = torch.device(device)
        if self._device.type == "cuda" and not torch.cuda.is_available():
            raise ModelError("detector.provider torch runs on a CUDA GPU, and torch sees none")
        half = self._device.type == "cuda"
        self._dtype = torch.float16 if half else torch.float32
        model = convert(onnx.load(str(config.model))).eval().to(self._device)
        self._model = model.half() if half else model
        size = config.input_size
        self._size = size
        if config.family == "nanodet":
            # The CPU decoder's preprocessing and cell grid, as tensors on the device.
            grid = NanoDetDecoder(size, num_classes=len(self.labels))
            self._pad = grid.pad_bgr
            self._mean = torch.tensor(NANODET_MEAN, device=self._device)
            self._scale = 1.0 / torch.tensor(NANODET_STD, device=self._device)
            self._bgr = True
            self._centres = torch.from_numpy(grid.centres).to(self._device)
            self._strides = torch.from_numpy(grid.cell_strides).to(self._device)
        else:
            self._pad = YoloDecoder.pad_bgr
            self._mean = torch.zeros(3, device=self._device)
            self._scale = torch.full((3,), 1 / 255, device=self._device)
            self._bgr = False

    def variant(self, config: DetectorConfig) -> TorchDetector:
        """The same model on the same device with other settings (a camera's input size)."""
        return TorchDetector(config, device=str(self._device))

    def detect(self, images: Sequence[Any]) -> list[sv.Detections]:
        """Like every Detector, on BGR uint8 host arrays; or on H×W×3 BGR uint8 tensors, which
        are letterboxed on the device they are on. A batch mixing both (cameras that fell back
        to CPU decoding beside NVDEC ones) uploads its host frames and letterboxes all there."""
        if not images:
            return []
        torch = self._torch
        with torch.inference_mode():
            if any(isinstance(image, torch.Tensor) for image in images):
                on_device = [
                    (image if isinstance(image, torch.Tensor) else torch.from_numpy(image)).to(
                        self._device, non_blocking=True
                    )
                    for image in images
                ]
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
            self.classes.detections(
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
