"""Face redaction of frames that are torch tensors on the GPU, for snapshots and live frames of
cameras decoded there: the same pixelate-then-blur as `redact.redact_regions`, on the device,
so a frame is redacted before any copy of it reaches host memory.

The regions, the margin and the blur kernel come from `redact`, and the operations are the
torch equivalents of the cv2 calls (area average, nearest enlargement, Gaussian blur with
reflected borders), so the same code on CPU torch is tested against the host path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vigil.config import PrivacyMaskConfig
from vigil.domain.frames import DeviceImage
from vigil.privacy.masks import apply_masks
from vigil.privacy.redact import BLOCKS, blur_kernel, redact_until_clean, regions
from vigil.vision.faces import FaceDetector


def redact_regions_tensor(image: Any, boxes: np.ndarray, *, solid: bool = False) -> int:
    """Pixelate then blur each face box of the H×W×3 uint8 tensor `image` in place (or fill
    it with its mean colour with `solid`); returns how many boxes were given."""
    import torch
    import torch.nn.functional as F

    height, width = int(image.shape[0]), int(image.shape[1])
    for left, top, right, bottom in regions(boxes, width, height):
        region = image[top:bottom, left:right]
        planes = region.permute(2, 0, 1)[None].float()
        if solid:
            region[:] = planes.mean((2, 3))[0].to(torch.uint8)  # truncated, as numpy's astype
            continue
        small = F.interpolate(planes, size=(BLOCKS, BLOCKS), mode="area")
        coarse = F.interpolate(small, size=(bottom - top, right - left), mode="nearest")
        blurred = _gaussian_blur(coarse, blur_kernel(right - left, bottom - top))
        region[:] = blurred.round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0)
    return len(boxes)


def redact_faces_tensor(image: Any, detector: FaceDetector, *, solid: bool = False) -> int:
    """Redact faces of a frame tensor in place until the detector finds none, as
    `redact.redact_faces` does for host arrays."""
    def redact(faces: np.ndarray) -> int:
        return redact_regions_tensor(image, faces, solid=solid)

    return redact_until_clean(image, detector.detect_tensor, redact)


def redacted_on_device(
    image: DeviceImage,
    masks: Sequence[PrivacyMaskConfig],
    detector: FaceDetector,
    max_width: int | None = None,
) -> tuple[np.ndarray, float]:
    """A host copy of a device frame, no wider than `max_width`, made after it was scaled,
    its privacy masks blacked out and its faces redacted on the device (the order the live
    view and `EventOutput` follow on host arrays), and the scale applied: what crosses to the
    host is already the image that may be served. The frame itself is left as it was."""
    tensor, scale = _fit_width(image.tensor, max_width)
    if masks:
        _black_out(tensor, masks, scale)
    redact_faces_tensor(tensor, detector)
    return np.ascontiguousarray(tensor.cpu().numpy()), scale


def _fit_width(tensor: Any, max_width: int | None) -> tuple[Any, float]:
    """`overlay.fit_width` on the device: a new tensor (the frame is never written), shrunk
    by area averaging as cv2's INTER_AREA does."""
    import torch.nn.functional as F

    height, width = int(tensor.shape[0]), int(tensor.shape[1])
    if not max_width or width <= max_width:
        return tensor.clone(), 1.0
    scale = max_width / width
    size = (max(1, round(height * scale)), max_width)
    planes = tensor.permute(2, 0, 1)[None].float()
    small = F.interpolate(planes, size=size, mode="area").round().clamp(0, 255)
    return small.to(tensor.dtype)[0].permute(1, 2, 0).contiguous(), scale


def _black_out(tensor: Any, masks: Sequence[PrivacyMaskConfig], scale: float) -> None:
    """`masks.apply_masks` on a tensor: the polygons are filled by cv2 into a small host
    bitmap (one byte per pixel, the same pixels cv2 fills on a host frame), which is
    uploaded and applied where the frame is."""
    import torch

    height, width = int(tensor.shape[0]), int(tensor.shape[1])
    keep = apply_masks(np.ones((height, width), dtype=np.uint8), masks, scale)
    tensor[torch.from_numpy(keep == 0).to(tensor.device)] = 0


def _gaussian_blur(planes: Any, kernel: int) -> Any:
    """cv2.GaussianBlur(…, (kernel, kernel), 0): its sigma for that size, mirrored borders
    (BORDER_REFLECT_101, torch's "reflect"), applied as two separable passes."""
    import torch
    import torch.nn.functional as F

    sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8
    offsets = torch.arange(kernel, dtype=torch.float32, device=planes.device) - (kernel - 1) / 2
    weights = torch.exp(-(offsets**2) / (2 * sigma**2))
    weights = weights / weights.sum()
    channels, half = planes.shape[1], kernel // 2
    padded = F.pad(planes, (half, half, half, half), mode="reflect")
    rows = weights.view(1, 1, 1, kernel).repeat(channels, 1, 1, 1)
    columns = weights.view(1, 1, kernel, 1).repeat(channels, 1, 1, 1)
    return F.conv2d(F.conv2d(padded, rows, groups=channels), columns, groups=channels)
