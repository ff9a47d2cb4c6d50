"""Waiting in tests for what another thread or process brings about."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    check: Callable[[], T], timeout: float = 10.0, *, what: str = "the condition",
    step: float = 0.02,
) -> T:
    """`check()`'s first truthy result, asked every `step` s; fails the test after `timeout` s,
    naming `what` it waited for. The one way tests wait: no sleeping for a fixed time."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(step)
    return result
