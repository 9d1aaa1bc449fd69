"""The README's code runs as pasted: the Quickstart against the built-in emulator, the
two HTTP handlers of the real-world shape, and the complete pytest file. Each block is
read from README.md (``<!-- readme-test: NAME -->``), so the README cannot drift."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
)
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from truelayer_async.testing import FakeTrueLayer, complete_consent

from .support import REPO, clean_env, readme_block


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
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


# -- the Quickstart -------------------------------------------------------------------------


def test_the_quickstart_runs_as_pasted(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(readme_block("quickstart"), "utf-8")
    assert_every_name_defined(script)

    proc = run([sys.executable, "-W", "error", str(script)], cwd=tmp_path)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, "the Quickstart printed no accounts"
    for line in lines:  # "<account name> <balance> <currency>", the balance exact
        assert re.fullmatch(r".+ -?\d+\.\d{2} [A-Z]{3}", line), line


# -- the two HTTP handlers ------------------------------------------------------------------


class _AppUser(BaseUser):
    def __init__(self, identity: str) -> None:
        self._identity = identity

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def identity(self) -> str:
        return self._identity


class _HeaderLogin(AuthenticationBackend):
    """Stands in for the app's own login: the user id comes in a test header."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        return AuthCredentials(["authenticated"]), _AppUser(conn.headers["x-test-user"])


def test_the_handlers_snippet_defines_every_name(tmp_path: Path) -> None:
    module = tmp_path / "app.py"
    module.write_text(readme_block("handlers"), "utf-8")
    assert_every_name_defined(module)


@pytest.mark.asyncio
async def test_the_handlers_log_a_user_in_through_the_emulator(tmp_path: Path) -> None:
    """/login redirects to the auth dialog; the dialog's redirect to /callback exchanges the
    code for the app's user; a callback without a login in progress is a 400."""
    module = tmp_path / "app.py"
    module.write_text(readme_block("handlers"), "utf-8")
    namespace: dict[str, Any] = runpy.run_path(str(module))
    app = namespace["app"]
    async with FakeTrueLayer() as fake, fake.session() as tl:
        app.state.tl = tl  # what the snippet's lifespan does with a real Session
        browser = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=AuthenticationMiddleware(app, _HeaderLogin())),
            base_url="http://127.0.0.1:8080",
            headers={"x-test-user": "alice"},
        )
        async with browser:
            login = await browser.get("/login")
            assert login.status_code == 307
            bank = await complete_consent(
                fake.http_client(),
                login.headers["location"],
                provider_id="ob-lloyds-business",  # the default providers hide the mock
            )
            done = await browser.get(bank.redirect_url)
            assert done.status_code == 200, done.text
            accounts = await tl.data.accounts(user="alice")
            assert done.json() == [account.display_name for account in accounts]

            again = await browser.get(bank.redirect_url)  # the login was used up
            assert again.status_code == 400
            assert again.json() == {"error": "no login in progress"}


# -- the pytest file ------------------------------------------------------------------------


def _write_test_file(directory: Path, marker: str) -> Path:
    source = readme_block("pytest")
    name = re.match(r"# (test_\w+\.py)\n", source)
    assert name is not None, "the README's test file starts with a '# test_NAME.py' comment"
    assert "@pytest.mark.asyncio\n" in source
    path = directory / name[1]
    path.write_text(source.replace("@pytest.mark.asyncio\n", f"@pytest.mark.{marker}\n"), "utf-8")
    return path


@pytest.mark.parametrize(
    ("marker", "plugins", "passes"),
    [
        pytest.param("asyncio", [], True, id="as-pasted-with-pytest-asyncio"),
        pytest.param(
            "anyio", ["-p", "no:asyncio"], True, id="anyio-marker-without-pytest-asyncio"
        ),
        pytest.param("asyncio", ["-p", "no:asyncio", "-p", "no:anyio"], False, id="no-plugin"),
    ],
)
def test_the_readme_test_file_runs_under_pytest(
    tmp_path: Path, marker: str, plugins: list[str], passes: bool
) -> None:
    project = tmp_path / "project"  # no configuration: what a user's fresh project has
    project.mkdir()
    test_file = _write_test_file(project, marker)
    assert_every_name_defined(test_file)

    basetemp = f"--basetemp={tmp_path / 'tmp'}"
    pytest_args = ["-p", "no:cacheprovider", *plugins, basetemp, test_file.name]
    proc = run([sys.executable, "-m", "pytest", *pytest_args], cwd=project)

    output = proc.stdout + proc.stderr
    if passes:
        assert proc.returncode == 0, output
        assert re.search(r"\b[12] passed\b", output), output
        assert "skipped" not in output
    else:  # what the README says plain pytest does
        assert proc.returncode == 1, output
        assert "async def functions are not natively supported" in output


def test_the_readme_gives_the_two_commands_ci_runs() -> None:
    commands = [
        line
        for line in readme_block("commands").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(commands) == 2, commands
    assert commands[1] == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text("utf-8")
