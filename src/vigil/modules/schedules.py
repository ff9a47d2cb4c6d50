"""The schedule part of module settings: which settings say *when* a module acts (weekly time
windows and the time zone they are read in), so that one camera's schedules can be copied onto
others without their zones, classes and thresholds.

A site's cameras usually share opening hours while each looks at a different scene; copying
whole module settings would overwrite the per-scene tuning. Schedule settings are found from
the settings models themselves (a field of `TimeWindow`s, or `timezone`), so a module that gains
a schedule is covered without a list to keep up to date.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from vigil.domain.schedule import TimeWindow
from vigil.modules.registry import registry


def _mentions_window(annotation: Any) -> bool:
    return annotation is TimeWindow or any(_mentions_window(arg) for arg in get_args(annotation))


def schedule_fields(settings_model: type[BaseModel]) -> frozenset[str]:
    """Names of the settings of this model that belong to its schedule."""
    return frozenset(
        name
        for name, field in settings_model.model_fields.items()
        if name == "timezone" or _mentions_window(field.annotation)
    )


def copy_schedules(
    source: dict[str, dict[str, Any]], target: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The target's modules with the schedule settings of the source's same modules.

    Only modules both cameras run are touched (copying a schedule does not switch a module on);
    a schedule setting the source leaves at its default is removed from the target, so both
    act at the same times afterwards.
    """
    modules = registry()
    result = {name: dict(settings or {}) for name, settings in target.items()}
    for name, settings in result.items():
        module = modules.get(name)
        if module is None or name not in source:
            continue
        copied = source[name] or {}
        for field in schedule_fields(module.settings_model):
            if field in copied:
                settings[field] = copied[field]
            else:
                settings.pop(field, None)
    return result
