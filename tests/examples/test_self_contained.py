"""Each example is one file a user can copy: no helper module from the examples folder, no
private module of the SDK."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.examples import EXAMPLES, REPO

SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, as written (``a.b`` for ``from a.b import c``)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            assert node.module is not None
            modules.add(node.module)
    return modules


def test_no_hidden_helper_module() -> None:
    assert [p.name for p in SCRIPTS if p.name.startswith("_")] == []


def private_imports(path: Path) -> list[str]:
    """The modules ``path`` imports from the examples folder (a sibling, or the old hidden
    ``_common``) or that are private (any ``_name`` part), sorted."""
    siblings = {p.stem for p in EXAMPLES.glob("*.py")} | {"_common"}
    return sorted(
        module
        for module in imported_modules(path) - {"__future__"}
        if module.split(".")[0] in siblings or any(p.startswith("_") for p in module.split("."))
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_imports_nothing_private(script: Path) -> None:
    assert private_imports(script) == []


def test_the_check_catches_the_old_layout(tmp_path: Path) -> None:
    old = tmp_path / "old.py"
    old.write_text(
        "from _common import open_backend\nimport truelayer_async._http\nimport worker\n"
        "from truelayer_async.testing import FakeTrueLayer\n",
        encoding="utf-8",
    )
    assert private_imports(old) == ["_common", "truelayer_async._http", "worker"]


def test_examples_extra_installs_what_they_import() -> None:
    """Every third-party import of the examples is in the [examples] extra (or what it
    pulls in), and [dev] includes [examples]."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert "examples" in self_extras(extras["dev"])
    examples = " ".join(extras["examples"])
    assert {"testing", "cli"} <= self_extras(extras["examples"])
    provided = {
        "fastapi": "fastapi",
        "uvicorn": "testing",  # the emulator's server; fastapi_app serves with it too
        "trio": "trio",
        "sniffio": "trio",  # a dependency of trio and anyio
        "saq": "saq",  # job_queue.py
        "redis": "redis",  # job_queue.py: the [redis] extra
        "anyio": None,  # the SDK's own dependencies
        "attrs": None,
        "httpx": None,
    }
    for script in SCRIPTS:
        for module in imported_modules(script):
            top = module.split(".")[0]
            if top in ("__future__", "truelayer_async") or top in _stdlib():
                continue
            assert top in provided, f"{script.name} imports {top}, not in [examples]"
            needs = provided[top]
            assert needs is None or needs in examples, f"[examples] lacks {needs}"


def self_extras(requirements: list[str]) -> set[str]:
    """The extras named by ``truelayer-async[a,b]`` entries of a requirement list."""
    found = re.findall(r"^truelayer-async\[([^\]]*)\]", "\n".join(requirements), re.M)
    return {extra.strip() for group in found for extra in group.split(",")}


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)
