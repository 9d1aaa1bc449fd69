"""scripts/venv.sh and scripts/test.sh, run by bash against stub commands: which
environment they use, when they install python3-venv, the order of the gates, and what
pytest's exit status becomes. (The real install runs in test_readme_install.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import REPO

# Each stub appends "name args" to $STUB_LOG.
_PYTHON3 = r"""#!/usr/bin/env bash
echo "python3 $*" >>"$STUB_LOG"
if [ "$1 $2" = "-m venv" ]; then
    if [ ! -f "$STUB_STATE/python3-venv" ]; then
        mkdir -p "$3"  # what Debian's venv leaves behind
        echo "ensurepip is not available" >&2
        exit 1
    fi
    mkdir -p "$3/bin"
    root=$(cd "$3" && pwd)
    printf 'VIRTUAL_ENV=%s\nexport VIRTUAL_ENV\nPATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\n' \
        "$root" >"$3/bin/activate"
    printf '#!/usr/bin/env bash\necho "venv-python $*" >>"$STUB_LOG"\n%s\n' \
        '[ "$1 $2" = "-m pytest" ] && exit "${PYTEST_STATUS:-0}"; exit 0' >"$3/bin/python"
    chmod +x "$3/bin/python"
    exit 0
fi
if [ "$1 $2" = "-m ensurepip" ]; then
    [ -f "$STUB_STATE/python3-venv" ]
    exit $?
fi
exit 0
"""
_APT_GET = r"""#!/usr/bin/env bash
echo "apt-get $*" >>"$STUB_LOG"
case " $* " in *" python3-venv "*) touch "$STUB_STATE/python3-venv" ;; esac
exit 0
"""
_ID = '#!/usr/bin/env bash\n[ "$1" = "-u" ] && echo "${STUB_UID:-0}"\n'
_ACTIVE_PYTHON = r"""#!/usr/bin/env bash
echo "active-python $*" >>"$STUB_LOG"
[ "$1 $2" = "-m pytest" ] && exit "${PYTEST_STATUS:-0}"
exit 0
"""
_TOOLS = ("bash", "dirname", "mkdir", "rm", "touch", "chmod", "cat", "env")


class Sandbox:
    """A copy of scripts/ in an empty project, and a PATH holding only the stubs and the
    few real tools the scripts need (so no real python3, apt-get or redis-server)."""

    def __init__(self, root: Path) -> None:
        self.project = root / "project"
        shutil.copytree(REPO / "scripts", self.project / "scripts")
        self.bin = root / "bin"
        self.bin.mkdir()
        self.state = root / "state"
        self.state.mkdir()
        self.log = root / "log"
        self.log.touch()
        for tool in _TOOLS:
            found = shutil.which(tool)
            assert found is not None, tool
            (self.bin / tool).symlink_to(found)
        self.stub("python3", _PYTHON3)
        self.stub("apt-get", _APT_GET)
        self.stub("id", _ID)

    def stub(self, name: str, script: str, directory: Path | None = None) -> None:
        path = (directory or self.bin) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(script, "utf-8")
        path.chmod(0o755)

    def bash(self, command: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {"PATH": str(self.bin), "STUB_LOG": str(self.log), "STUB_STATE": str(self.state)}
        base["HOME"] = os.environ.get("HOME", "/root")
        return subprocess.run(
            [str(self.bin / "bash"), "-c", command],
            cwd=self.project,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        return self.log.read_text("utf-8").splitlines()


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def test_venv_sh_creates_and_activates_dot_venv(sandbox: Sandbox) -> None:
    (sandbox.state / "python3-venv").touch()  # a Python whose venv works (pyenv, Fedora, …)
    proc = sandbox.bash('. scripts/venv.sh && echo "VIRTUAL_ENV=$VIRTUAL_ENV"')
    assert proc.returncode == 0, proc.stderr
    assert f"VIRTUAL_ENV={sandbox.project / '.venv'}" in proc.stdout
    assert sandbox.calls() == ["python3 -m venv .venv"]
    assert not any(call.startswith("apt-get") for call in sandbox.calls())


def test_venv_sh_installs_python3_venv_when_debian_lacks_it(sandbox: Sandbox) -> None:
    proc = sandbox.bash('. scripts/venv.sh && echo "VIRTUAL_ENV=$VIRTUAL_ENV"')
    assert proc.returncode == 0, proc.stderr
    assert f"VIRTUAL_ENV={sandbox.project / '.venv'}" in proc.stdout
    assert sandbox.calls() == [
        "python3 -m venv .venv",
        "python3 -m ensurepip --version",
        "apt-get update -qq",
        "apt-get install -y -qq python3-venv",
        "python3 -m venv .venv",
    ]


def test_venv_sh_says_what_to_install_when_not_root(sandbox: Sandbox) -> None:
    proc = sandbox.bash('. scripts/venv.sh && echo "activated"', STUB_UID="1000")
    assert proc.returncode != 0
    assert "activated" not in proc.stdout
    assert "sudo apt-get install python3-venv" in proc.stderr
    assert not any(call.startswith("apt-get") for call in sandbox.calls())


def test_venv_sh_keeps_an_active_virtual_environment(sandbox: Sandbox, tmp_path: Path) -> None:
    active = tmp_path / "mine"
    proc = sandbox.bash(
        '. scripts/venv.sh && echo "VIRTUAL_ENV=$VIRTUAL_ENV"', VIRTUAL_ENV=str(active)
    )
    assert proc.returncode == 0, proc.stderr
    assert f"VIRTUAL_ENV={active}" in proc.stdout
    assert sandbox.calls() == []  # no python3 -m venv
    assert not (sandbox.project / ".venv").exists()


def test_venv_sh_reuses_an_existing_dot_venv(sandbox: Sandbox) -> None:
    (sandbox.state / "python3-venv").touch()
    assert sandbox.bash(". scripts/venv.sh").returncode == 0
    proc = sandbox.bash('. scripts/venv.sh && echo "VIRTUAL_ENV=$VIRTUAL_ENV"')
    assert proc.returncode == 0, proc.stderr
    assert sandbox.calls() == ["python3 -m venv .venv"]  # created once


def _stub_system_packages(sandbox: Sandbox) -> None:
    for name in ("redis-server", "chromium", "chromedriver", "node"):
        sandbox.stub(name, "#!/usr/bin/env bash\nexit 0\n")


_GATES = [
    "venv-python -m pip install -q --disable-pip-version-check -e .[dev]",
    "venv-python scripts/gates.py",
]


def test_test_sh_installs_system_packages_then_runs_every_gate_in_dot_venv(
    sandbox: Sandbox,
) -> None:
    proc = sandbox.bash("bash scripts/test.sh -x tests/models", CI="true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sandbox.calls() == [
        "apt-get update -qq",
        "apt-get install -y -qq redis-server chromium chromium-driver nodejs",
        "python3 -m venv .venv",
        "python3 -m ensurepip --version",
        "apt-get update -qq",
        "apt-get install -y -qq python3-venv",
        "python3 -m venv .venv",
        *_GATES,
        "venv-python -m pytest -x tests/models",
    ]


def test_test_sh_uses_the_active_virtual_environment(sandbox: Sandbox, tmp_path: Path) -> None:
    _stub_system_packages(sandbox)
    active = tmp_path / "active"
    sandbox.stub("python", _ACTIVE_PYTHON, active / "bin")
    proc = sandbox.bash(
        "bash scripts/test.sh", VIRTUAL_ENV=str(active), PATH=f"{active / 'bin'}:{sandbox.bin}"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [call.split(" ", 1)[0] for call in sandbox.calls()] == ["active-python"] * 3
    assert not (sandbox.project / ".venv").exists()


@pytest.mark.parametrize(("status", "says_no_tests"), [(0, False), (1, False), (5, True)])
def test_test_sh_exits_with_pytests_status(
    sandbox: Sandbox, status: int, says_no_tests: bool
) -> None:
    """Exit 5 (no tests collected) is neither turned into success nor left unexplained."""
    _stub_system_packages(sandbox)
    (sandbox.state / "python3-venv").touch()
    proc = sandbox.bash("bash scripts/test.sh -k nothing", PYTEST_STATUS=str(status))
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert ("pytest ran no tests (exit 5)" in proc.stderr) is says_no_tests
    assert sandbox.calls()[-1] == "venv-python -m pytest -k nothing"


def test_nox_and_test_sh_share_one_list_of_gates() -> None:
    """scripts/gates.py is the one place the lint and typing commands are written."""
    noxfile = (REPO / "noxfile.py").read_text("utf-8")
    test_sh = (REPO / "scripts" / "test.sh").read_text("utf-8")
    assert "scripts/gates.py" in noxfile and "scripts/gates.py" in test_sh
    assert "-m ruff" not in test_sh and "-m mypy" not in test_sh
    assert '"ruff", "check"' not in noxfile and '"mypy", "--strict"' not in noxfile
