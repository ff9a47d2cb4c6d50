"""The browser fixtures of tests/ui (the real `vigil serve` with the bundled clip, Chromium)."""

from tests.ui.conftest import browser, page, screenshot, server  # noqa: F401
