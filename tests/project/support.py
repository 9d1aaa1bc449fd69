"""Helpers for the tests of the project as a newcomer meets it: the README's code blocks,
a copy of the repository with nothing beside it, and a clean environment for subprocesses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

# A fenced block right after `<!-- readme-test: NAME -->` is the block the tests run.
_BLOCK = re.compile(
    r"^<!-- readme-test: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)

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


def readme_block(name: str) -> str:
    """The code of the README block marked ``<!-- readme-test: NAME -->``."""
    found = [m["body"] for m in _BLOCK.finditer(README.read_text("utf-8")) if m["name"] == name]
    assert len(found) == 1, f"README.md must mark exactly one block 'readme-test: {name}'"
    return found[0]


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
