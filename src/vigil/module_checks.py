"""The step of config parsing that checks analytics-module settings, installed from above.

A camera's `modules:` block and an alert rule's `module:` can only be checked by the modules
themselves (each has its settings model and its needs of the camera), but the config sits below
the modules in the house (docs/architecture.md) and must not import them. So parsing asks the
catalogue installed here, and `vigil.modules.registry` installs itself when it is imported;
every program that runs modules imports it. A config that names modules before any catalogue
is installed is refused with a clear message rather than accepted unchecked.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vigil.config import CameraConfig


class ModuleCatalogue(Protocol):
    def names(self) -> Collection[str]:
        """The names of the analytics modules a config may use."""
        ...

    def check_camera(self, camera: CameraConfig) -> None:
        """Check the camera's `modules:` settings and what each module needs of the camera;
        raise ValueError naming the module and the key at fault."""
        ...


_installed: ModuleCatalogue | None = None


def install(catalogue: ModuleCatalogue) -> None:
    global _installed
    _installed = catalogue


def catalogue() -> ModuleCatalogue:
    if _installed is None:
        raise ValueError(
            "analytics modules are not loaded, so module settings cannot be checked "
            "(import vigil.modules.registry before parsing a config that names modules)"
        )
    return _installed
