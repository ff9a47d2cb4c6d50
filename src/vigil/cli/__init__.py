"""The `vigil` command line."""

from vigil.cli.main import app

__all__ = ["app"]
