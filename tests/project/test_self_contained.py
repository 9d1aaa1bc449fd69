"""A clone passes with nothing beside it: the OpenAPI-dependent tests run from a copy of
the repository in an empty temporary folder, and the vendored documents are the ones the
README in ``tests/openapi/`` describes."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.openapi import DOCUMENTS, OPENAPI_DIR
from tests.support.clean_checkout import clean_env, copy_repository
from tests.support.processes import REPO

# A test module depends on the documents when it imports them.
_USES_OPENAPI = re.compile(
    r"^from (tests\.openapi|tests\.support\.openapi) import "
    r"|^from \S+ import .*\bopenapi_document\b",
    re.M,
)
_KNOWN_USERS = {
    "tests/emulator/test_fidelity.py",
    "tests/models/test_models_schema.py",
    "tests/models/test_models_converter.py",
}

# Run pytest with every read of the original checkout, or of a `shared/` folder beside it,
# refused: the copy must need neither.
_GUARDED_PYTEST = """
import os, sys
original, shared = sys.argv[1], sys.argv[2]
prefixes = (sys.prefix, sys.base_prefix, sys.exec_prefix)
allowed = tuple({os.path.realpath(p) + os.sep for p in prefixes})

def guard(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        inside = path + os.sep
        if inside.startswith((original, shared)) and not inside.startswith(allowed):
            raise PermissionError(f"the copy read {path}, outside itself")

sys.addaudithook(guard)
import pytest
raise SystemExit(pytest.main(sys.argv[3:]))
"""


def openapi_test_modules(root: Path) -> list[str]:
    """The test modules under ``root/tests`` that use the OpenAPI documents (but not these
    project tests, which would run themselves again)."""
    here = Path(__file__).parent.name
    return sorted(
        path.relative_to(root).as_posix()
        for path in (root / "tests").rglob("test_*.py")
        if path.parent.name != here and _USES_OPENAPI.search(path.read_text("utf-8"))
    )


def guarded_pytest(
    copy: Path, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """pytest in ``copy``, with reads of the original checkout and of ``../shared`` refused."""
    original = str(REPO.resolve()) + os.sep
    shared = str(REPO.resolve().parent / "shared") + os.sep
    pytest_args = ["-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'tmp'}", *args]
    return subprocess.run(
        [sys.executable, "-c", _GUARDED_PYTEST, original, shared, *pytest_args],
        cwd=copy,
        env=clean_env(PYTHONPATH=str(copy), **env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_openapi_tests_pass_from_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    copy = copy_repository(tmp_path / "clone")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clone"]  # no ../shared
    modules = openapi_test_modules(copy)
    assert set(modules) >= _KNOWN_USERS, modules
    report = tmp_path / "report.xml"

    proc = guarded_pytest(copy, tmp_path, f"--junitxml={report}", *modules, CI="true")

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    counts = {key: int(suite.get(key, "-1")) for key in ("tests", "failures", "errors", "skipped")}
    assert counts["tests"] >= 100, counts
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, counts
    assert "outside itself" not in proc.stdout + proc.stderr


def test_the_guard_refuses_a_read_of_the_original_checkout(tmp_path: Path) -> None:
    """The check above can fail: a test in the copy that reads the original is refused."""
    copy = tmp_path / "clone"
    (copy / "tests").mkdir(parents=True)
    readme = REPO / "tests" / "openapi" / "README.md"
    (copy / "tests" / "test_leak.py").write_text(
        f"def test_leak():\n    open({str(readme)!r}).read()\n", "utf-8"
    )
    # No plugins from entry points: this copy has no truelayer_async to load ours from.
    proc = guarded_pytest(copy, tmp_path, "tests/test_leak.py", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "outside itself" in proc.stdout


def test_the_vendored_documents_match_the_checksums_in_their_readme() -> None:
    readme = (OPENAPI_DIR / "README.md").read_text("utf-8")
    listed = dict(re.findall(r"^\| `([\w.-]+\.json)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    on_disk = {p.name for p in OPENAPI_DIR.glob("*.json")}
    assert set(listed) == on_disk == set(DOCUMENTS)
    for name, digest in listed.items():
        assert hashlib.sha256((OPENAPI_DIR / name).read_bytes()).hexdigest() == digest, name
