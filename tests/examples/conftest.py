"""Run the examples and the demo as real processes against the emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from .serving import example_environment

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@attrs.frozen
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def example_env(tmp_path: Path) -> dict[str, str]:
    """No TRUELAYER_* variable (so the emulator is used), a temp store, warnings as errors."""
    return example_environment(tmp_path)


def run_python(args: list[str], env: dict[str, str], timeout: float = 60) -> Run:
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
