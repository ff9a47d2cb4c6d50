"""Letterboxing on the device: frames that are already torch tensors (decoded by NVDEC into GPU
memory) are resized and padded into the detector's batch where they are, so a thousand cameras'
frames never make the round trip through host memory that a cv2 letterbox would need.

The same code runs on CPU torch, which is how it is tested against the host path: the geometry
is `boxes.fit`, shared with `letterbox_into`, and torch's bilinear resampling without antialias
and with half-pixel centres is what cv2.INTER_LINEAR computes, so boxes map back identically and
pixels agree to rounding.
"""

from __future__ import annotations

from typing import Any

from vigil.vision.boxes import Letterbox, fit


def letterbox_tensors(
    images: list[Any], size: int, pad: tuple[int, int, int]
) -> tuple[Any, list[Letterbox]]:
    """(B, size, size, 3) uint8 on the images' device, and each image's Letterbox.

    `images` are H×W×3 uint8 tensors (any sizes, all on one device); `pad` fills the borders.
    Images of one size are resized in one call, the common case of a GPU worker whose cameras
    send the same sub-stream resolution.
    """
    import torch
    import torch.nn.functional as F

    device = images[0].device
    canvas = torch.empty((len(images), size, size, 3), dtype=torch.uint8, device=device)
    canvas[:] = torch.tensor(pad, dtype=torch.uint8, device=device)
    boxes: list[Letterbox] = []
    by_shape: dict[tuple[int, int], list[int]] = {}
    for index, image in enumerate(images):
        by_shape.setdefault((int(image.shape[0]), int(image.shape[1])), []).append(index)
        boxes.append(fit(int(image.shape[1]), int(image.shape[0]), size)[0])
    for (height, width), indices in by_shape.items():
        box, new_w, new_h = fit(width, height, size)
        stack = torch.stack([images[i] for i in indices]).permute(0, 3, 1, 2).float()
        resized = F.interpolate(stack, size=(new_h, new_w), mode="bilinear", align_corners=False)
        left, top = int(box.pad_x), int(box.pad_y)
        canvas[indices, top : top + new_h, left : left + new_w] = (
            resized.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        )
    return canvas, boxes
