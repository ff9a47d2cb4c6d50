"""Helpers shared by CLI commands: friendly failures and config loading."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from vigil.config import ConfigError, VigilConfig, load_config


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def load_or_exit(path: Path) -> VigilConfig:
    """The config at `path`, checked whole (each camera's module settings against the modules
    themselves), or a clear failure naming every problem."""
    import vigil.modules.registry  # noqa: F401  (registers the modules the check needs)

    try:
        return load_config(path)
    except ConfigError as error:
        fail(str(error))
