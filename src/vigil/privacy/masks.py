"""Static privacy masks, and the person-attribute policy.

A mask is a polygon in pixels of the camera image that is blacked out (filled with zeros)
before anything else draws on or encodes the image: in live view and in every stored snapshot,
in addition to face redaction. Filling is irreversible: nothing under a mask is ever stored.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np

from vigil.config import PrivacyMaskConfig
from vigil.domain.events import Event


def apply_masks(
    image: np.ndarray, masks: Sequence[PrivacyMaskConfig], scale: float = 1.0
) -> np.ndarray:
    """Black out every mask polygon of `image` in place (coordinates times `scale`, for an
    image scaled from the camera's); returns the image."""
    if not masks:
        return image
    polygons = [
        np.round(np.asarray(mask.polygon, dtype=np.float64) * scale).astype(np.int32)
        for mask in masks
    ]
    cv2.fillPoly(image, polygons, (0,) * (image.shape[2] if image.ndim == 3 else 1))
    return image


class AttributePolicy:
    """Whether person colour attributes may be kept, per tenant: off unless the tenant's
    admin switched it on (an audited action). Applied before an event leaves the pipeline,
    so a colour that is not allowed is never published, stored or indexed."""

    def __init__(self, default: bool = False) -> None:
        self.default = default
        self._tenants: dict[str, bool] = {}
        self._lock = threading.Lock()

    def person_colors(self, tenant: str) -> bool:
        with self._lock:
            return self._tenants.get(tenant, self.default)

    def set(self, tenant: str, enabled: bool | None) -> None:
        """Set a tenant's choice; None returns it to the default."""
        with self._lock:
            if enabled is None:
                self._tenants.pop(tenant, None)
            else:
                self._tenants[tenant] = enabled

    def scrub(self, event: Event) -> None:
        obj = event.object
        if obj is not None and obj.class_name == "person" and obj.color is not None and (
            not self.person_colors(event.tenant)
        ):
            obj.color = None
