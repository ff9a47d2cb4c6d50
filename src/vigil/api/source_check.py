"""The one source-policy check of a camera's URLs before it is started or stored, shared by
POST/PUT /api/cameras, bulk import and apply-to, so that no way of saving a camera skips it."""

from __future__ import annotations

import logging

from vigil.config import CameraConfig
from vigil.sources.policy import PolicyRefusal, SourcePolicy

log = logging.getLogger(__name__)


def source_refusal(policy: SourcePolicy, camera: CameraConfig) -> tuple[str, str] | None:
    """(field, what the tenant may be told) for the first URL of `camera` the policy refuses;
    None if all may be opened. The tenant learns only "refused by policy"; the log keeps why,
    for the system administrator. The config file's own cameras are not the tenant's choice."""
    onvif_url = camera.ptz.onvif_url if camera.ptz else None
    for field, url in (
        ("url", camera.url),
        ("main_url", camera.main_url),
        ("ptz.onvif_url", onvif_url),
    ):
        if url is None or policy.trusts(camera.id, url):
            continue
        try:
            policy.check_url(url)
        except PolicyRefusal as refusal:
            log.warning("camera %s of tenant %s refused: %s", camera.id, camera.tenant, refusal)
            return field, refusal.public
    return None
