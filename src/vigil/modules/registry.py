"""The module registry: every analytics module by name, with its description and settings schema."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import ValidationError

from vigil import module_checks
from vigil.modules.base import AnalyticsModule

if TYPE_CHECKING:
    from vigil.config import CameraConfig

_REGISTRY: dict[str, type[AnalyticsModule]] = {}


M = TypeVar("M")


def register(module: M) -> M:
    """Class decorator: make a module available to camera configs under its `name`."""
    checked = cast(type[AnalyticsModule], module)
    if checked.name in _REGISTRY:
        raise ValueError(f"analytics module {checked.name!r} is registered twice")
    _REGISTRY[checked.name] = checked
    return module


def registry() -> dict[str, type[AnalyticsModule]]:
    _load_builtin_modules()
    return dict(_REGISTRY)


def describe_modules() -> list[dict[str, Any]]:
    """Name, description and JSON Schema of the settings of every module."""
    return [
        {
            "name": name,
            "description": module.description,
            "settings_schema": module.settings_model.model_json_schema(),
        }
        for name, module in sorted(registry().items())
    ]


def validate_module_settings(camera: CameraConfig) -> None:
    """Check a camera's `modules:` block; raise ValueError naming the module and key at fault."""
    modules = registry()
    for name, settings in camera.modules.items():
        module = modules.get(name)
        if module is None:
            raise ValueError(
                f"unknown analytics module {name!r}; available: {', '.join(sorted(modules))}"
            )
        try:
            parsed = module.settings_model.model_validate(settings or {})
        except ValidationError as error:
            problems = "; ".join(
                f"modules.{name}.{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
                for item in error.errors()
            )
            raise ValueError(problems) from None
        _check_references(camera, name, parsed)


class _Catalogue:
    """The registry as the step config parsing calls (`vigil.module_checks`)."""

    def names(self) -> Collection[str]:
        return registry().keys()

    def check_camera(self, camera: CameraConfig) -> None:
        validate_module_settings(camera)
        # Modules that need more of the camera than its zones and lines (a ground
        # calibration, say) check it in their `check_camera(settings, camera)`.
        modules = registry()
        for name, settings in camera.modules.items():
            module = modules[name]
            module.check_camera(module.settings_model.model_validate(settings or {}), camera)


module_checks.install(_Catalogue())


def build_modules(camera: CameraConfig) -> list[AnalyticsModule]:
    modules = registry()
    return [
        modules[name](modules[name].settings_model.model_validate(settings or {}), camera)
        for name, settings in camera.modules.items()
    ]


def _check_references(camera: CameraConfig, module: str, settings: Any) -> None:
    """Zones and lines named by a module must exist on the camera."""
    for field, known in (("zones", camera.zones), ("lines", camera.lines)):
        wanted = getattr(settings, field, None)
        names = {item.name for item in known}
        missing = sorted(set(wanted or []) - names)
        if missing:
            raise ValueError(
                f"modules.{module}.{field}: {', '.join(missing)} not defined on camera "
                f"{camera.id!r} (defined: {', '.join(sorted(names)) or 'none'})"
            )


def _load_builtin_modules() -> None:
    """Import every file of this package once: their @register decorators fill the registry."""
    import vigil.modules as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
