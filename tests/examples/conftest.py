"""Run the examples and the demo as real processes against the emulator.

Helpers are in ``tests.support.examples``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.examples.serving import example_environment
from tests.support.examples import (
    EXAMPLES,
    REPO,
    Run,
    run_python,
)

# kept for branches in flight; import from tests.support
__all__ = [
    "EXAMPLES",
    "REPO",
    "Run",
    "run_python",
]


@pytest.fixture
def example_env(tmp_path: Path) -> dict[str, str]:
    """No TRUELAYER_* variable (so the emulator is used), a temp store, warnings as errors."""
    return example_environment(tmp_path)
