"""Drawing an activity grid (the `heatmap` module's stats) as a colour-mapped image.

Only the grid and, optionally, an already face-blurred frame go in: this module never sees a
raw camera frame.
"""

from __future__ import annotations

import cv2
import numpy as np

ALPHA = 0.65  # opacity of the hottest cells over a background frame


def render_heatmap(
    grid: np.ndarray, size: tuple[int, int], background: np.ndarray | None = None
) -> np.ndarray:
    """A BGR image of `size` (width, height): the grid scaled to its maximum (square-root
    scale, so that rarely visited places still show), smoothed, colour-mapped (TURBO: blue =
    little, red = most), and blended over `background` if given, where cold areas stay clear."""
    width, height = size
    values = np.asarray(grid, dtype=np.float32)
    peak = float(values.max()) if values.size else 0.0
    level = np.sqrt(values / peak) if peak > 0 else np.zeros_like(values)
    level = np.clip(cv2.resize(level, (width, height), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
    colours = cv2.applyColorMap(np.round(level * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    if background is None:
        return colours
    if background.shape[:2] != (height, width):
        background = cv2.resize(background, (width, height), interpolation=cv2.INTER_AREA)
    alpha = (ALPHA * level)[..., None]
    blended = background.astype(np.float32) * (1.0 - alpha) + colours.astype(np.float32) * alpha
    return np.round(blended).astype(np.uint8)
