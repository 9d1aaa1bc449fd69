"""Running the examples and the demo as real processes: the repository's paths, run_python."""

from __future__ import annotations

import subprocess
import sys

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
