"""`users`, `logout`, and `fetch-all` taking every stored user."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import anyio
import httpx
import pytest

from tests.support.cli import assert_clean_error, connect, run_cli, url_args
from truelayer_async import Secret, Token, TokenKey, TokenRecord, TokenType
from truelayer_async.cli import _errors as codes
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import DEFAULT_CLIENT_ID, FakeTrueLayer

pytestmark = pytest.mark.usefixtures("cli_env")

SANDBOX = f"https://auth.truelayer-sandbox.com#{DEFAULT_CLIENT_ID}"


def put(store: Path, key: TokenKey, **record: object) -> None:
    """Write a record straight into the store (a user of another server, say)."""
    when = time.time() + float(record.pop("expires_in", 3600))  # type: ignore[arg-type]
    token = Token(
        access_token=Secret("at-never-shown-0123456789"),
        refresh_token=Secret("rt-never-shown-0123456789") if record.pop("refresh", True) else None,
        token_type=TokenType.DATA,
        expires_at=datetime.fromtimestamp(when, timezone.utc),
        scopes=("accounts",),
    )

    async def run() -> None:
        async with SqliteTokenStore(store) as db:
            await db.set(key, TokenRecord(token=token, updated_at=time.time(), **record))  # type: ignore[arg-type]

    anyio.run(run)


def stored_keys(store: Path) -> list[TokenKey]:
    async def run() -> list[TokenKey]:
        async with SqliteTokenStore(store) as db:
            return await db.keys()

    return anyio.run(run)


def access_token(store: Path, key: TokenKey) -> str:
    async def run() -> str:
        async with SqliteTokenStore(store) as db:
            record = await db.get(key)
            assert record is not None
            return record.token.access_token.get_secret_value()

    return anyio.run(run)


def fake_key(fake: FakeTrueLayer, user: str | None) -> TokenKey:
    return TokenKey(f"{fake.base_url}#{DEFAULT_CLIENT_ID}", TokenType.DATA, user)


# -- users -----------------------------------------------------------------------------------


def test_users_per_server(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    connect(fake, store, "bob", username="john2")
    put(store, TokenKey(SANDBOX, TokenType.DATA, "carol"), invalid=True, invalid_reason="revoked")
    put(store, TokenKey(SANDBOX, TokenType.DATA, "dave"), expires_in=-60, refresh=False)
    put(store, TokenKey(SANDBOX, TokenType.DATA, "erin"), expires_in=-60)
    result = run_cli(capsys, "users")
    assert result.code == 0, result.err
    out = result.out
    assert f"Users of {fake.base_url} (client {DEFAULT_CLIENT_ID})" in out
    assert f"Users of https://auth.truelayer-sandbox.com (client {DEFAULT_CLIENT_ID})" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert set(lines) == {"alice", "bob", "carol", "dave", "erin"}
    assert "│ ok " in lines["alice"] and "yes" in lines["alice"]
    assert "log in again: TrueLayer refused it (revoked)" in lines["carol"]
    assert "log in again: expired, and there is no refresh token" in lines["dave"]
    assert "ok, refreshed on next use" in lines["erin"]
    # The hint reaches the server the token belongs to.
    assert "truelayer-async login --environment sandbox --user carol" in out
    assert "never-shown" not in out + result.err


def test_users_json(fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    connect(fake, store, "alice")
    connect(fake, store, None)
    put(store, TokenKey(SANDBOX, TokenType.DATA, "carol"), invalid=True)
    put(store, TokenKey(SANDBOX, TokenType.PAYMENTS, None, ("payments",)))  # not a user
    result = run_cli(capsys, "users", "--format", "json")
    assert result.code == 0, result.err
    users = json.loads(result.out)
    assert [(u["server"], u["user"], u["needs_login"]) for u in users] == [
        (fake.base_url, None, False),
        (fake.base_url, "alice", False),
        ("https://auth.truelayer-sandbox.com", "carol", True),
    ]
    assert all(u["client_id"] == DEFAULT_CLIENT_ID for u in users)
    assert datetime.fromisoformat(users[0]["expires_at"]).tzinfo is not None
    assert "never-shown" not in result.out


def test_users_without_a_store(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "users")
    assert result.code == 0, result.err
    assert "No users are stored" in result.out
    assert "truelayer-async login --user NAME" in result.out
    assert not store.exists(), "listing must not create the store"


# -- logout ----------------------------------------------------------------------------------


def test_logout_deletes_at_truelayer_and_locally(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    connect(fake, store, "bob", username="john2")
    token = access_token(store, fake_key(fake, "alice"))
    result = run_cli(capsys, "logout", *url_args(fake), "--user", "alice")
    assert result.code == 0, result.err
    assert "Logged out user 'alice'" in result.out
    assert fake.count("/api/delete", method="DELETE", status=200) == 1
    assert stored_keys(store) == [fake_key(fake, "bob")]
    # TrueLayer no longer accepts the old access token.
    answer = httpx.get(
        f"{fake.base_url}/data/v1/accounts", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 401
    result = run_cli(capsys, "accounts", *url_args(fake), "--user", "bob")
    assert result.code == 0, result.err


def delete_elsewhere(fake: FakeTrueLayer, store: Path) -> None:
    """Another copy of the app logged alice out already."""
    token = access_token(store, fake_key(fake, "alice"))
    answer = httpx.delete(
        f"{fake.base_url}/api/delete", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200


def consent_expired(fake: FakeTrueLayer, store: Path) -> None:
    fake.clock.advance(91 * 86_400)


@pytest.mark.parametrize("gone", [delete_elsewhere, consent_expired])
def test_logout_of_a_dead_connection_forgets_it_locally(
    gone: object, fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    gone(fake, store)  # type: ignore[operator]
    result = run_cli(capsys, "logout", *url_args(fake), "--user", "alice")
    assert result.code == 0, result.err
    assert "TrueLayer no longer accepts the connection of user 'alice'" in result.out
    assert "the token was removed" in result.out
    assert stored_keys(store) == []


def test_logout_keeps_the_token_when_truelayer_cannot_be_reached(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    fake.fail_next("/api/delete", 503, "temporarily_unavailable", times=None)
    result = run_cli(capsys, "logout", *url_args(fake), "--user", "alice")
    assert_clean_error(result, codes.NETWORK, "could not be reached", "the token is kept")
    assert stored_keys(store) == [fake_key(fake, "alice")], "kept, to be deleted later"


@pytest.mark.parametrize("connected", [True, False])
def test_logout_of_an_unknown_user(
    connected: bool, fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if connected:
        connect(fake, store, "alice")
    result = run_cli(capsys, "logout", *url_args(fake), "--user", "bob")
    assert_clean_error(result, codes.NOT_FOUND, "no token is stored for user 'bob'", "users")
    assert fake.count("/api/delete") == 0
    assert store.exists() == connected


# -- fetch-all takes every stored user -----------------------------------------------------


def test_fetch_all_takes_every_user_of_this_server(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice", username="john1")
    connect(fake, store, "bob", username="john2")
    put(store, TokenKey(SANDBOX, TokenType.DATA, "carol"))  # another server: not fetched
    result = run_cli(capsys, "fetch-all", *url_args(fake), "--format", "json")
    assert result.code == 0, result.err
    assert [r["user"] for r in json.loads(result.out)] == ["alice", "bob"]


def test_fetch_all_with_no_user_for_this_server(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(store, TokenKey(SANDBOX, TokenType.DATA, "carol"))
    result = run_cli(capsys, "fetch-all", *url_args(fake))
    assert_clean_error(result, codes.AUTH, "no user has a token", "--auth-url")
