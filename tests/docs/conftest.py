"""The documentation site, built once per test session with ``mkdocs build --strict``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.binaries import require_module
from tests.support.clean_checkout import clean_env
from tests.support.processes import REPO


@dataclass(frozen=True)
class BuiltSite:
    """Where the site was built, and what ``mkdocs build`` printed."""

    root: Path
    output: str

    def page(self, path: str) -> str:
        """The HTML of a page, by its path under the site (``guides/errors/``)."""
        return (self.root / path / "index.html").read_text("utf-8")


def mkdocs_build(config: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    """``python -m mkdocs build --strict`` of ``config`` into ``site_dir``; no network."""
    require_module("mkdocs", "pip install -e '.[docs]'")
    build = ["build", "--strict", "-f", str(config), "-d", str(site_dir)]
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *build],
        cwd=config.parent,
        env=clean_env(PYTHONPATH=str(config.parent), NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    site_dir = tmp_path_factory.mktemp("site") / "site"
    proc = mkdocs_build(REPO / "mkdocs.yml", site_dir)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return BuiltSite(site_dir, output)


def copy_docs_project(dest: Path) -> Path:
    """mkdocs.yml, docs/, the README (the quickstart's source) and the package, in ``dest``."""
    dest.mkdir(parents=True)
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "docs", dest / "docs", ignore=ignore)
    shutil.copytree(REPO / "truelayer_async", dest / "truelayer_async", ignore=ignore)
    return dest
