"""A newcomer's view of the project: a copy of the repository with nothing beside it, a
clean environment for subprocesses (no virtualenv, no PYTHONPATH), and running a command in
it with this checkout importable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.processes import REPO

# What a copy leaves out when git cannot list the files (no .git, or no git binary).
_NOT_COPIED = (
    ".git",
    ".venv",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
    "build",
    "dist",
    "artifacts",
    "_work",
)


def _listed_files(repo: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, as git sees them (None without git)."""
    git = shutil.which("git")
    if git is None or not (repo / ".git").exists():
        return None
    listing = subprocess.run(
        [git, "-C", str(repo), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True,
        check=True,
    )
    return [name for name in listing.stdout.decode().split("\0") if name]


def copy_repository(dest: Path) -> Path:
    """Copy this repository's files into ``dest`` (which must not exist) and return it."""
    names = _listed_files(REPO)
    if names is None:
        shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(*_NOT_COPIED))
        return dest
    for name in names:
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the work tree is skipped
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment minus any virtual environment, PYTHONPATH and pytest's
    own variables: what a user's fresh shell would have. ``python3`` stays on PATH."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST_")
        and key not in {"VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PYTHONPATH", "PYTHONHOME"}
    }
    venv_bins = set()
    if sys.prefix != sys.base_prefix:  # the system's bin/ stays: it holds python3
        venv_bins.add(str(Path(sys.prefix) / "bin"))
    if "VIRTUAL_ENV" in os.environ:
        venv_bins.add(str(Path(os.environ["VIRTUAL_ENV"]) / "bin"))
    path = os.environ.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(entry for entry in path if entry not in venv_bins)
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in a clean environment with this repository on ``PYTHONPATH``."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=clean_env(PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_every_name_defined(path: Path) -> None:
    """pyflakes' checks (undefined names, unused imports) and syntax, through ruff."""
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"]
    proc = run([*ruff, "--select", "F,E9", str(path)], cwd=path.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
