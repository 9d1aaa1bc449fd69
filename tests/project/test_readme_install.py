"""The README's first command, as written, installs the package into a fresh virtual
environment and runs the demo (from PyPI, so it takes a while: marked slow, and CI runs
it, since nothing deselects slow tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.clean_checkout import clean_env, copy_repository
from tests.support.doc_blocks import readme_block


def first_command() -> str:
    commands = [
        line
        for line in readme_block("commands").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return commands[0]


@pytest.mark.slow
def test_the_first_command_installs_and_runs_the_demo_in_a_fresh_venv(tmp_path: Path) -> None:
    command = first_command()
    assert "truelayer-async demo" in command
    copy = copy_repository(tmp_path / "clone")
    assert not (copy / ".venv").exists()

    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=copy,
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),  # a shell with no venv active
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "truelayer-async demo" in proc.stdout
    assert "Token refreshes: 1" in proc.stdout  # the demo's last line: it ran to the end
    assert "Traceback" not in proc.stderr
    venv_python = copy / ".venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import truelayer_async; print(truelayer_async.__file__)"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(copy)  # installed editable, in .venv
