"""Which event types count as alerts on a camera, and which are just recorded.

A camera without a setting keeps the default: every rule may fire for its events, and review
grades them by type (vigil.store.review). A camera with a setting lists the modules
("loitering") or exact event types ("tamper.covered") that count as alerts there: rules fire
only for those, and review shows them as alerts; everything else of the camera is recorded
(stored, searchable, in review as info) but never alerts. A parking-lot camera, say, where
zone presence is routine, records it and alerts on tampering only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

AlertTypes = Mapping[str, frozenset[str]]  # camera id → modules and types that alert


def counts_as_alert(settings: AlertTypes, camera_id: str, module: str, event_type: str
                    ) -> bool | None:
    """True or False under the camera's setting; None when the camera has none (default)."""
    chosen = settings.get(camera_id)
    if chosen is None:
        return None
    return module in chosen or event_type in chosen


def choices(modules: Collection[str], seen_types: Collection[str]) -> list[str]:
    """What a camera's setting may name: its modules and the event types it has recorded."""
    return sorted({*modules, *seen_types})
