"""TRUELAYER_AUTH_URL / TRUELAYER_API_URL, and hints that keep the user's flags: a pasted
hint reaches the same server, client and store."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_clean_error, connect, run_cli, url_args
from tests.support.processes import REPO, child_env, free_port
from truelayer_async.cli import _errors as codes
from truelayer_async.cli._config import environment, store_path
from truelayer_async.cli._parser import build_parser
from truelayer_async.testing import DEFAULT_CLIENT_SECRET, FakeTrueLayer

pytestmark = pytest.mark.usefixtures("cli_env")

HINT = re.compile(r"`(truelayer-async [^`]+)`")


def hints(text: str) -> list[str]:
    return HINT.findall(text)


def assert_same_place(hint: str, argv: list[str], *, user: str | None) -> None:
    """The hint, parsed as the CLI would, names the server, store and user of ``argv``."""
    parser = build_parser()
    given = parser.parse_args(argv)
    pasted = parser.parse_args(shlex.split(hint)[1:])
    assert environment(pasted) == environment(given), hint
    assert store_path(pasted) == store_path(given), hint
    assert pasted.user == user, hint
    assert DEFAULT_CLIENT_SECRET not in hint


# -- the variables ---------------------------------------------------------------------------


def test_auth_url_from_the_environment(
    fake: FakeTrueLayer,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect(fake, store, "alice")
    assert fake.base_url is not None
    monkeypatch.setenv("TRUELAYER_AUTH_URL", fake.base_url)
    result = run_cli(capsys, "accounts", "--user", "alice")
    assert result.code == 0, result.err
    assert "Everyday Current" in result.out


def test_api_url_from_the_environment(
    fake: FakeTrueLayer,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """TRUELAYER_API_URL is used for Data calls: pointed at a dead port, they fail."""
    connect(fake, store, "alice")
    assert fake.base_url is not None
    monkeypatch.setenv("TRUELAYER_AUTH_URL", fake.base_url)
    monkeypatch.setenv("TRUELAYER_API_URL", f"http://127.0.0.1:{free_port()}")
    result = run_cli(capsys, "accounts", "--user", "alice")
    assert_clean_error(result, codes.NETWORK, "network error")
    result = run_cli(capsys, "accounts", "--user", "alice", "--api-url", fake.base_url)
    assert result.code == 0, result.err  # the flag beats the variable


def test_api_url_alone_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUELAYER_API_URL", "http://127.0.0.1:1")
    result = run_cli(capsys, "accounts")
    assert_clean_error(result, codes.USAGE, "TRUELAYER_API_URL needs TRUELAYER_AUTH_URL")


def test_environment_flag_beats_the_auth_url_variable(
    fake: FakeTrueLayer,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With --environment the variable is ignored: the sandbox has no token for alice
    (no request is made, the store is keyed by server)."""
    connect(fake, store, "alice")
    assert fake.base_url is not None
    monkeypatch.setenv("TRUELAYER_AUTH_URL", fake.base_url)
    result = run_cli(capsys, "accounts", "--environment", "sandbox", "--user", "alice")
    assert_clean_error(result, codes.AUTH, "run login first")
    (hint,) = hints(result.err)
    assert hint == "truelayer-async login --environment sandbox --user alice"


# -- hints keep the flags ----------------------------------------------------------------------


def test_no_token_hint_keeps_the_flags(
    fake: FakeTrueLayer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other store" / "tokens.db"
    connect(fake, other, "alice")
    argv = ["accounts", *url_args(fake), "--store", str(other), "--user", "bob"]
    result = run_cli(capsys, *argv, "--client-secret", DEFAULT_CLIENT_SECRET)
    assert_clean_error(result, codes.AUTH, "run login first")
    (hint,) = hints(result.err)
    assert hint.startswith("truelayer-async login --auth-url http://127.0.0.1:")
    assert "'" in hint  # the store path has a space: quoted, to be pasted as it is
    assert_same_place(hint, argv, user="bob")


def test_revoked_hint_keeps_the_flags(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    fake.revoke("john")
    argv = ["accounts", *url_args(fake), "--user", "alice"]
    result = run_cli(capsys, *argv)
    assert_clean_error(result, codes.AUTH, "run login again")
    (hint,) = hints(result.err)
    assert_same_place(hint, argv, user="alice")


def test_unknown_account_hint_keeps_the_flags(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    argv = ["transactions", *url_args(fake), "--user", "alice", "--account", "nope"]
    result = run_cli(capsys, *argv)
    assert_clean_error(result, codes.NOT_FOUND, "was not found")
    (hint,) = hints(result.err)
    assert hint.startswith("truelayer-async accounts ")
    assert_same_place(hint, argv, user="alice")


def test_fetch_all_hints_keep_the_flags(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    argv = ["fetch-all", *url_args(fake), "--users", "alice,zed"]
    result = run_cli(capsys, *argv)
    assert result.code == codes.PARTIAL
    found = hints(result.err)
    assert found == [f"truelayer-async login {' '.join(url_args(fake))} --user zed"]
    assert_same_place(found[0], ["accounts", *argv[1:-2]], user="zed")


def test_login_timeout_hint_keeps_the_flags(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    argv = ["login", *url_args(fake), "--user", "alice", "--no-browser"]
    result = run_cli(capsys, *argv, "--redirect-uri", redirect, "--timeout", "0.2")
    assert_clean_error(result, codes.AUTH, "no redirect arrived")
    (hint,) = hints(result.err)
    assert_same_place(hint, argv, user="alice")


def test_short_account_ids_are_accepted(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tables show `45e5ac65…`; pasted (with or without the ellipsis) it works."""
    connect(fake, store, "alice")
    listed = run_cli(capsys, "accounts", *url_args(fake), "--user", "alice")
    short = re.findall(r"[0-9a-f]{8}…", listed.out)
    assert len(short) == 2, listed.out
    for text in (short[0], short[0].rstrip("…")):
        result = run_cli(
            capsys, "transactions", *url_args(fake), "--user", "alice", "--account", text
        )
        assert result.code == 0, result.err
        assert f"Transactions of {short[0][:-1]}" in result.out


#: Runs ``truelayer-async --help`` and prints which of the emulator's server packages it
#: imported.
_HELP_IMPORTS = """
import runpy, sys
sys.argv = ["truelayer-async", "--help"]
try:
    runpy.run_module("truelayer_async", run_name="__main__")
except SystemExit:
    pass
heavy = {"starlette", "uvicorn", "jwt", "multipart"}
print("IMPORTED", sorted({name.split(".")[0] for name in sys.modules} & heavy))
"""


def test_the_cli_starts_without_the_emulators_server_packages() -> None:
    """``--help`` loads the config module, which builds an emulator's environment
    (``testing._environment``) at import: that must not pull in Starlette and company."""
    run = subprocess.run(
        [sys.executable, "-c", _HELP_IMPORTS],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=child_env(),
        timeout=60,
        check=True,
    )
    assert "usage:" in run.stdout
    assert run.stdout.splitlines()[-1] == "IMPORTED []"
