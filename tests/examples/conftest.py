"""Run the examples and the demo as real processes against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@attrs.frozen
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def example_env(tmp_path: Path) -> dict[str, str]:
    """No real credentials (so the emulator is used), a temp store, warnings as errors."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUELAYER_", "PYTEST_"))}
    env["TRUELAYER_ASYNC_STORE"] = str(tmp_path / "tokens.db")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PYTHONWARNINGS"] = "error"
    env["COLUMNS"] = "160"
    return env


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
