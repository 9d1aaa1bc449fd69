"""A sentinel secret planted in every credential never shows up anywhere it should not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import date

import httpx
import pytest
import respx

from tests.secret_scan import assert_no_secret_anywhere, assert_no_secret_in_logs
from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import REDIRECT, TOKEN_URL, form_of
from truelayer_async import Session, TokenType, TrueLayerError
from truelayer_async.testing import FakeClock

DATA = "https://api.truelayer-sandbox.com/data/v1"


@pytest.fixture
async def tl(clock: FakeClock, sleeps: RecordingSleep, sentinel: str) -> AsyncIterator[Session]:
    async with Session(
        "client", f"{sentinel}-client-secret", redirect_uri=REDIRECT, clock=clock, sleep=sleeps
    ) as session:
        yield session


def token(sentinel: str, n: int) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": f"{sentinel}-at-{n}",
            "refresh_token": f"{sentinel}-rt-{n}",
            "expires_in": 3600,
            "token_type": "Bearer",
        },
    )


def echo_error(sentinel: str) -> httpx.Response:
    """An error body that echoes the secret back, as some servers do."""
    return httpx.Response(
        400,
        json={"error": "invalid_grant", "echo": f"refresh_token={sentinel}-rt-1"},
    )


Scenario = Callable[[str], list[object]]

FAILURES: dict[str, Scenario] = {
    "invalid_grant_echo": lambda s: [echo_error(s)],
    "lost_then_invalid": lambda s: [httpx.ReadTimeout("lost"), echo_error(s)],
    "server_down": lambda s: [httpx.Response(503, text=f"<html>{s}</html>")] * 3,
    "html_200": lambda s: [
        httpx.Response(200, text=f"<html>{s}-rt-9</html>", headers={"content-type": "text/html"})
    ],
    "truncated": lambda s: [
        httpx.Response(
            200,
            content=f'{{"access_token":"{s}'.encode(),
            headers={"content-type": "application/json"},
        )
    ],
    "bad_expires_in": lambda s: [
        httpx.Response(200, json={"access_token": s, "token_type": "Bearer", "expires_in": s})
    ],
    "connect_errors": lambda s: [httpx.ConnectError(f"refused {s}")] * 3,
    "redirect": lambda s: [
        httpx.Response(307, headers={"location": f"https://evil.example/?t={s}"})
    ],
}


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", list(FAILURES))
async def test_refresh_failures_leak_nothing(
    tl: Session,
    respx_mock: respx.MockRouter,
    sentinel: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    route = respx_mock.post(TOKEN_URL)
    route.side_effect = [token(sentinel, 1), *FAILURES[scenario](sentinel)]
    code = f"{sentinel}-code"
    link = tl.auth.auth_link(scopes=["info"], pkce=True, state=f"{sentinel}-state")
    assert link.code_verifier is not None
    assert sentinel not in repr(link)
    await tl.auth.exchange_code(code, user="u", code_verifier=link.code_verifier)
    assert form_of(route.calls[0].request)["code"] == code
    clock.advance(4000)
    with pytest.raises(TrueLayerError) as info:
        await tl.auth.valid_token(user="u")
    assert_no_secret_anywhere(info.value, sentinel)
    assert_no_secret_in_logs(caplog.records, sentinel)
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "u"))
    for obj in (
        tl,
        tl.auth,
        tl.token_store,
        record,
        record and record.token,
        tl._core.requester(),
    ):
        assert sentinel not in repr(obj)
        assert sentinel not in str(obj)


@pytest.mark.anyio
async def test_success_path_leaks_nothing(
    tl: Session, respx_mock: respx.MockRouter, sentinel: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    respx_mock.post(TOKEN_URL).mock(return_value=token(sentinel, 1))
    accounts = respx_mock.get(f"{DATA}/accounts").mock(
        side_effect=[
            httpx.Response(401, json={"error": "unauthorized"}),
            httpx.Response(200, json={"results": [], "status": "Succeeded"}),
        ]
    )
    callback = f"{REDIRECT}?code={sentinel}-code&state=st"
    code = tl.auth.parse_callback(callback, expected_state="st")
    await tl.auth.exchange_code(code)
    assert await tl.data.accounts() == []
    for call in [*respx_mock.calls]:
        assert sentinel not in str(call.request.url)  # never in a URL
    assert accounts.call_count == 2
    assert caplog.records, "the SDK logs its requests at DEBUG"
    assert_no_secret_in_logs(caplog.records, sentinel)
    token_obj = await tl.auth.valid_token()
    assert sentinel not in repr(token_obj) and sentinel not in str(token_obj)


@pytest.mark.anyio
async def test_logger_records_only_metadata(
    tl: Session, respx_mock: respx.MockRouter, sentinel: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="truelayer_async")
    respx_mock.post(TOKEN_URL).mock(return_value=token(sentinel, 1))
    respx_mock.get(f"{DATA}/accounts/acc-1/transactions").mock(
        return_value=httpx.Response(
            200,
            json={"results": [], "status": "Succeeded"},
            headers={"X-TL-Correlation-Id": "corr-9"},
        )
    )
    await tl.auth.exchange_code("c")
    await tl.data.transactions("acc-1", from_=date(2024, 1, 1))
    messages = [r.getMessage() for r in caplog.records if r.name == "truelayer_async"]
    line = next(m for m in messages if "/transactions" in m)
    assert "GET /data/v1/accounts/acc-1/transactions -> 200" in line
    assert "corr-9" in line and "attempt 1" in line and "ms" in line
    assert "from=" not in line and "?" not in line  # no query strings
