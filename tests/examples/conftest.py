"""Run the examples and the demo as real processes against the emulator.

Helpers are in ``tests.support.examples``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.examples import example_environment


@pytest.fixture
def example_env(tmp_path: Path) -> dict[str, str]:
    """No TRUELAYER_* variable (so the emulator is used), a temp store, warnings as errors."""
    return example_environment(tmp_path)
