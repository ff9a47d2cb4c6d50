"""`python -m vigil …`, the same as the `vigil` command (how the local cluster starts nodes)."""

from vigil.cli import app

app()
