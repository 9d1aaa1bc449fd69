"""reliability.md §2.4 SEC: secret hygiene (one test per id).

The autouse ``guard`` also runs these scanners over every §4 bad-input test and the soak.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import httpx
import pytest
import respx

from tests.secret_scan import assert_no_secret_in_frame_locals
from tests.support.reliability import (
    ACCOUNTS_URL,
    Guard,
    Secrets,
    TokenServer,
    connect,
    data_key,
    stored,
)
from truelayer_async import Environment, RetryPolicy, Secret, Session, Timeouts
from truelayer_async import errors as e
from truelayer_async.models import ExtendResult
from truelayer_async.stores import FernetCodec, SqliteTokenStore
from truelayer_async.testing import FakeClock


@pytest.mark.asyncio
async def test_sec01_reprs_never_show_secrets(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, tmp_path: Path
) -> None:
    await connect(tl, secrets)
    record = await stored(tl)
    assert record is not None
    link = tl.auth.auth_link(scopes=["info"], state=secrets.state, pkce=True)
    long_secret = Secret(secrets.refresh(1))
    guard.obj(
        tl,
        tl.auth,
        tl.data,
        tl._core.requester(),
        tl.token_store,
        record,
        record.token,
        data_key(tl),
        long_secret,
        Environment.SANDBOX,
        Timeouts(),
        RetryPolicy(),
        ExtendResult(
            action_needed="no_action_needed",
            access_token=secrets.access(2),
            refresh_token=secrets.refresh(2),
        ),
        SqliteTokenStore(tmp_path / "t.db", codec=FernetCodec(FernetCodec.generate_key())),
    )
    # str(link) is link.url, which must carry the state to the browser; the repr hides it.
    assert secrets.sentinel not in repr(link) and link.code_verifier is not None
    assert repr(long_secret).endswith(secrets.refresh(1)[-4:] + "')")  # at most the last 4
    assert "***" in str(Secret("short")) and "short" not in repr(Secret("short"))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fault",
    [
        httpx.Response(400, json={"error": "invalid_grant", "echo": "REFRESH"}),
        httpx.Response(400, text="<html>REFRESH</html>"),
        httpx.Response(
            200,
            content=b'{"access_token": "REFRESH"',
            headers={"content-type": "application/json"},
        ),
        httpx.Response(307, headers={"location": "https://evil.example/?t=REFRESH"}),
        "commit-then-drop",
    ],
)
async def test_sec02_exceptions_hold_no_secret(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    fault: object,
) -> None:
    await connect(tl, secrets)
    clock.advance(4000)
    if isinstance(fault, httpx.Response):
        fault = httpx.Response(
            fault.status_code,
            content=fault.content.replace(b"REFRESH", secrets.refresh(1).encode()),
            headers={
                k: v.replace("REFRESH", secrets.refresh(1)) for k, v in fault.headers.items()
            },
        )
    server.script = [fault]
    with guard.raises(e.TrueLayerError) as info:
        await tl.auth.valid_token(user="u")
    assert not any(isinstance(a, httpx.Request) for a in info.value.args)


@pytest.mark.asyncio
async def test_sec03_no_raw_secret_in_sdk_traceback_locals(
    tl: Session, server: TokenServer, secrets: Secrets, respx_mock: respx.MockRouter
) -> None:
    """Regressions: exchange_code kept the raw code and verifier as locals; a too-large
    token body stayed in _send_once's locals; parse_callback kept the callback URL."""
    server.script = [httpx.ReadTimeout("lost")]
    with pytest.raises(e.CodeExchangeOutcomeUnknown) as lost:
        await tl.auth.exchange_code(secrets.code, user="u", code_verifier=secrets.verifier)
    assert_no_secret_in_frame_locals(lost.value, secrets.sentinel)

    big = json.dumps({"access_token": secrets.access(1), "pad": "x" * (1 << 20)}).encode()
    server.script = [
        httpx.Response(200, content=big, headers={"content-type": "application/json"})
    ]
    with pytest.raises(e.ResponseTooLargeError) as large:
        await tl.auth.exchange_code(secrets.code, user="u")
    assert_no_secret_in_frame_locals(large.value, secrets.sentinel)

    with pytest.raises(e.StateMismatchError) as callback:
        tl.auth.parse_callback(f"code={secrets.code}&state=x", expected_state=secrets.state)
    assert_no_secret_in_frame_locals(callback.value, secrets.sentinel)


@pytest.mark.asyncio
async def test_sec04_logs_are_metadata_only(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    respx_mock: respx.MockRouter,
) -> None:
    caplog.set_level(logging.DEBUG)
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=[
            httpx.Response(503, text=f"<html>{secrets.access(1)}</html>"),
            httpx.Response(
                401, json={"error": "unauthorized", "error_description": secrets.access(1)}
            ),
            httpx.Response(200, json={"results": [], "status": "Succeeded"}),
        ]
    )
    await tl.data.accounts(user="u")
    sdk = [r for r in caplog.records if r.name.startswith("truelayer_async")]
    assert sdk, "the SDK logs each request at DEBUG"
    for record in sdk:
        assert record.exc_info is None
        message = record.getMessage()
        assert "?" not in message and "Bearer" not in message and "{" not in message
    # The autouse guard scans every record (every logger, DEBUG and up) for the sentinel.


@pytest.mark.asyncio
async def test_sec05_sdk_never_turns_on_httpx_logging(
    tl: Session, server: TokenServer, secrets: Secrets, caplog: pytest.LogCaptureFixture
) -> None:
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    handlers = {name: list(logging.getLogger(name).handlers) for name in ("httpx", "httpcore")}
    caplog.set_level(logging.DEBUG)
    await connect(tl, secrets)  # parse_callback on a URL holding the code and the state
    for name in ("httpx", "httpcore"):
        assert logging.getLogger(name).handlers == handlers[name]
    assert not any(secrets.code in r.getMessage() for r in caplog.records)
    assert levels == {name: logging.getLogger(name).level for name in levels}


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["error_description", "error_details"])
async def test_sec06_echoed_secrets_never_reach_error_text(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard, where: str
) -> None:
    """Regression: an ``error_description`` echoing the refresh token or code sent went into
    the exception message (and into the ``__context__`` of ReauthorizationRequired)."""
    await connect(tl, secrets)
    clock.advance(4000)
    echo = f"refresh token {secrets.refresh(1)} from client secret {secrets.client_secret}"
    body = (
        {"error": "invalid_grant", "error_description": echo}
        if where == "error_description"
        else {"error": "invalid_grant", "error_details": {"echo": [echo]}}
    )
    server.script = [httpx.Response(400, json=body)]
    with guard.raises(e.ReauthorizationRequired) as info:
        await tl.auth.valid_token(user="u")
    assert info.value.error == "invalid_grant"
    if where == "error_description":
        assert "[redacted]" in (info.value.description or "")
    server.script = [
        httpx.Response(
            400, json={"error": "invalid_grant", "error_description": f"bad {secrets.code}"}
        )
    ]
    with guard.raises(e.AuthApiError):
        await tl.auth.exchange_code(secrets.code, user="v")


@pytest.mark.asyncio
async def test_sec07_validation_errors_name_the_path_not_the_value(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
) -> None:
    await connect(tl, secrets)
    respx_mock.get(f"{ACCOUNTS_URL}/a/balance").mock(
        return_value=httpx.Response(
            200,
            json={"results": [{"currency": "GBP", "current": secrets.sentinel, "available": 1}]},
        )
    )
    with pytest.raises(e.MalformedResponseError) as data:
        await tl.data.balance("a", user="u")
    assert data.value.path == "$.results[0].current"
    assert secrets.sentinel not in str(data.value) and secrets.sentinel not in repr(
        data.value.args
    )
    clock.advance(4000)
    server.script = [
        httpx.Response(
            200,
            json={
                "access_token": secrets.access(2),
                "token_type": "Bearer",
                "expires_in": secrets.sentinel,
                "refresh_token": secrets.refresh(2),
            },
        )
    ]
    with guard.raises(e.MalformedTokenResponse) as info:
        await tl.auth.valid_token(user="u")
    assert "expires_in" in str(info.value)


@pytest.mark.asyncio
async def test_sec08_store_file_permissions(tmp_path: Path, guard: Guard) -> None:
    """The full matrix (WAL/SHM files, umask, every loose mode) is tests/stores/test_sqlite.py."""
    path = tmp_path / "private" / "tokens.db"
    store = SqliteTokenStore(path)
    await store.get(data_key(Session("c", "s")))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    os.chmod(path, 0o644)
    with guard.raises(e.InsecureStoreError):
        await SqliteTokenStore(path).get(data_key(Session("c", "s")))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # never changed behind our back
    link = tmp_path / "link.db"
    os.chmod(path, 0o600)
    link.symlink_to(path)
    with guard.raises(e.InsecureStoreError):
        await SqliteTokenStore(link).get(data_key(Session("c", "s")))
