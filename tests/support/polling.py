"""Polling a condition from synchronous test code, with a limit against hanging."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_for"]

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], *, limit: float = 30.0, every: float = 0.05) -> T:
    """Poll ``check`` until it returns something; fail after ``limit`` seconds (a safety
    net against hanging, never an assertion about how long things take)."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(every)
