"""`login` checks the client credentials before sending anyone to the bank."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support.cli import Result, assert_clean_error, run_cli, url_args
from tests.support.processes import free_port
from truelayer_async import DATA_SCOPES
from truelayer_async.cli import _errors as codes
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

pytestmark = pytest.mark.usefixtures("cli_env")

WRONG = "wrong-secret-0123456789abcdef"


@pytest.fixture
def redirect(fake: FakeTrueLayer) -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


def login(
    capsys: pytest.CaptureFixture[str], fake: FakeTrueLayer, redirect: str, *extra: str
) -> Result:
    return run_cli(
        capsys, "login", *url_args(fake), "--user", "alice", "--no-browser",
        "--redirect-uri", redirect, *extra,
    )  # fmt: skip


def test_a_wrong_secret_fails_before_the_link(
    fake: FakeTrueLayer,
    redirect: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [redirect])
    monkeypatch.setenv("TRUELAYER_CLIENT_SECRET", WRONG)
    # Without the check this would wait for the redirect, then time out.
    result = login(capsys, fake, redirect, "--timeout", "2")
    assert_clean_error(result, codes.AUTH, "TrueLayer refused the client credentials")
    assert "invalid_client" in result.err
    assert "Open this link" not in result.out and result.out == ""
    assert fake.stats["client_credentials"] == 1
    assert fake.count("/dialog*") == 0
    assert WRONG not in result.err


def test_an_unreachable_server_fails_before_the_link(
    redirect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        capsys, "login", "--auth-url", dead, "--no-browser", "--redirect-uri", redirect,
        "--timeout", "2",
    )  # fmt: skip
    assert_clean_error(result, codes.NETWORK, "network error")
    assert result.out == ""


@pytest.mark.parametrize("scopes", [None, DATA_SCOPES], ids=["default-client", "data-only"])
def test_good_credentials_go_on_to_the_bank(
    scopes: tuple[str, ...] | None,
    fake: FakeTrueLayer,
    redirect: str,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The check's token is never stored; a client that may not use the checked scope
    (TrueLayer answers invalid_scope after authenticating it) still logs in."""
    if scopes is None:
        fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [redirect])
    else:
        fake.register_client("data-only", "data-only-secret", [redirect], scopes)
        monkeypatch.setenv("TRUELAYER_CLIENT_ID", "data-only")
        monkeypatch.setenv("TRUELAYER_CLIENT_SECRET", "data-only-secret")
    result = login(capsys, fake, redirect, "--timeout", "0.2")
    assert_clean_error(result, codes.AUTH, "no redirect arrived")  # it waited for the bank
    assert "Open this link" in result.out
    assert fake.stats["client_credentials"] == 1

    async def keys() -> list[object]:
        async with SqliteTokenStore(store) as db:
            return list(await db.keys())

    assert anyio.run(keys) == []
