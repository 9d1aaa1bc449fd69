"""Running the examples and the demo as real processes: the repository's paths, the
environment an example runs in, run_python."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs

from tests.support.processes import REPO

EXAMPLES = REPO / "examples"


@attrs.frozen
class Run:
    code: int
    out: str
    err: str


def run_python(args: list[str], env: dict[str, str] | None, timeout: float = 60) -> Run:
    """Run ``python ARGS`` from the repository root (``env=None``: this process's)."""
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


def example_environment(tmp_path: Path) -> dict[str, str]:
    """The environment an example runs in: no TRUELAYER_* variable (so the default target,
    the emulator), a temporary token store, warnings as errors."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUELAYER_", "PYTEST_"))}
    env["TRUELAYER_ASYNC_STORE"] = str(tmp_path / "tokens.db")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PYTHONWARNINGS"] = "error"
    env["COLUMNS"] = "160"
    return env
