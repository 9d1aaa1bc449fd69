"""The emulator's own tests: a fixed start time, and whether the pytest plugin is installed."""

from __future__ import annotations

import importlib.metadata

__all__ = ["PLUGIN_INSTALLED", "START"]

#: 2024-05-01T10:00:00Z: a fixed start makes the synthetic data identical run after run.
START = 1_714_557_600.0

#: Whether pytest loads ``truelayer_async.testing.pytest_plugin`` through its entry point.
PLUGIN_INSTALLED = any(
    ep.name == "truelayer_async" for ep in importlib.metadata.entry_points(group="pytest11")
)
