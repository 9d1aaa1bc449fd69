"""Helpers for the tests of the project as a newcomer meets it: the README's code blocks,
a copy of the repository with nothing beside it, and a clean environment for subprocesses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

DOCS = REPO / "docs"

# A fenced block right after `<!-- KIND: NAME -->` is a marked block. KIND is
# `readme-test` (a README block a dedicated test runs), `docs-test` (a docs block the test
# suite runs) or `docs-fragment` (deliberately not runnable; NAME says what it is).
_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- (?P<kind>readme-test|docs-test|docs-fragment): "
    r"(?P<name>[\w-]+) -->\n"
    r"(?P=indent)```(?P<lang>\w+)\n(?P<body>.*?)^(?P=indent)```$",
    re.MULTILINE | re.DOTALL,
)
# Every fenced Python block, marked or not (its opening fence).
_PYTHON_FENCE = re.compile(r"^[ \t]*```(?:python|py|pycon)\b", re.MULTILINE)


@dataclass(frozen=True)
class MarkedBlock:
    """One marked code block of a Markdown file."""

    path: Path
    kind: str
    name: str
    lang: str
    body: str


def marked_blocks(path: Path) -> list[MarkedBlock]:
    """Every marked block of ``path``, in order (indented blocks lose their indent)."""
    return [
        MarkedBlock(path, m["kind"], m["name"], m["lang"], _dedent(m["body"], m["indent"]))
        for m in _BLOCK.finditer(path.read_text("utf-8"))
    ]


def unmarked_python_blocks(path: Path) -> list[int]:
    """Line numbers of the Python fences in ``path`` that carry no marker."""
    text = path.read_text("utf-8")
    marked = {m.start("indent") for m in _BLOCK.finditer(text)}
    lines = []
    for fence in _PYTHON_FENCE.finditer(text):
        marker_line = text.rfind("\n", 0, max(fence.start() - 1, 0)) + 1
        if marker_line not in marked or fence.start() == 0:
            lines.append(text.count("\n", 0, fence.start()) + 1)
    return lines


def doc_block(path: Path, name: str) -> str:
    """The code of the block of ``path`` marked ``<!-- readme-test|docs-test: NAME -->``."""
    found = [b.body for b in marked_blocks(path) if b.name == name and b.kind != "docs-fragment"]
    assert len(found) == 1, f"{path.name} must mark exactly one block 'test: {name}'"
    return found[0]


def readme_block(name: str) -> str:
    """The code of the README block marked ``<!-- readme-test: NAME -->``."""
    return doc_block(README, name)


def _dedent(body: str, indent: str) -> str:
    prefix = len(indent)
    return "".join(line[prefix:] for line in body.splitlines(keepends=True))


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
