"""The token grants on the wire, token storage, expiry and isolation (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx

from tests.support.token_endpoint import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT,
    form_of,
    token_body,
    token_response,
)
from truelayer_async import (
    CodeExchangeOutcomeUnknown,
    InvalidClientError,
    MalformedTokenResponse,
    NoTokenError,
    ReauthorizationRequired,
    Secret,
    Session,
    TokenEndpointUnavailable,
    TokenType,
    TransportError,
)
from truelayer_async.testing import FakeClock


async def connect(
    tl: Session, route: respx.Route, user: str | None = None, **body: object
) -> None:
    route.side_effect = None
    route.return_value = token_response(**body)  # type: ignore[arg-type]
    await tl.auth.exchange_code("code-1", user=user)


@pytest.mark.anyio
async def test_exchange_code_wire_format_and_storage(
    tl: Session, token_route: respx.Route
) -> None:
    token_route.return_value = token_response()
    token = await tl.auth.exchange_code("the-code", user="alice", code_verifier="v" * 43)
    assert token_route.call_count == 1
    assert form_of(token_route.calls[0].request) == {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": "the-code",
        "redirect_uri": REDIRECT,
        "code_verifier": "v" * 43,
    }
    assert token.access_token == Secret("at-1") and token.refresh_token == Secret("rt-1")
    assert token.token_type is TokenType.DATA
    assert token.scopes == ("info", "accounts", "balance", "transactions", "offline_access")
    assert token.expires_at.tzinfo is not None
    key = tl._core.tokens.key(TokenType.DATA, "alice")
    record = await tl.token_store.get(key)
    assert record is not None and record.token == token and record.version == 1
    assert await tl.auth.valid_token(user="alice") == token
    assert token_route.call_count == 1


@pytest.mark.anyio
async def test_exchange_code_is_never_retried_after_sending(
    tl: Session, token_route: respx.Route
) -> None:
    token_route.side_effect = httpx.ReadTimeout("lost")
    with pytest.raises(CodeExchangeOutcomeUnknown):
        await tl.auth.exchange_code("code", user="u")
    assert token_route.call_count == 1
    assert await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "u")) is None


@pytest.mark.anyio
async def test_exchange_code_retried_when_never_sent(
    tl: Session, token_route: respx.Route
) -> None:
    token_route.side_effect = [httpx.ConnectError("refused"), token_response()]
    await tl.auth.exchange_code("code")
    assert token_route.call_count == 2


@pytest.mark.anyio
async def test_exchange_code_5xx_is_not_retried(tl: Session, token_route: respx.Route) -> None:
    token_route.return_value = httpx.Response(503, json={"error": "temporarily_unavailable"})
    with pytest.raises(TokenEndpointUnavailable):
        await tl.auth.exchange_code("code")
    assert token_route.call_count == 1


@pytest.mark.anyio
async def test_invalid_client_is_typed_and_not_retried(
    tl: Session, token_route: respx.Route
) -> None:
    token_route.return_value = httpx.Response(400, json={"error": "invalid_client"})
    with pytest.raises(InvalidClientError) as info:
        await tl.auth.exchange_code("code")
    assert info.value.status_code == 400 and info.value.error == "invalid_client"
    assert token_route.call_count == 1


@pytest.mark.anyio
async def test_refresh_rotates_the_pair(tl: Session, token_route: respx.Route) -> None:
    await connect(tl, token_route)
    token_route.return_value = token_response(access="at-2", refresh="rt-2")
    token = await tl.auth.refresh_token()
    assert form_of(token_route.calls[-1].request) == {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": "rt-1",
    }
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None))
    assert record is not None and record.version == 2
    assert record.token.access_token == Secret("at-2") == token.access_token
    assert record.token.refresh_token == Secret("rt-2")


@pytest.mark.anyio
@pytest.mark.parametrize("refresh", [None, ""])
async def test_refresh_without_new_refresh_token_keeps_the_old(
    tl: Session, token_route: respx.Route, refresh: str | None
) -> None:
    await connect(tl, token_route)
    token_route.return_value = token_response(access="at-2", refresh=refresh)
    token = await tl.auth.refresh_token()
    assert token.refresh_token == Secret("rt-1")


@pytest.mark.anyio
async def test_invalid_grant_marks_invalid_and_fails_fast(
    tl: Session, token_route: respx.Route
) -> None:
    await connect(tl, token_route)
    token_route.return_value = httpx.Response(
        400, json={"error": "invalid_grant"}, headers={"X-TL-Correlation-Id": "corr-1"}
    )
    with pytest.raises(ReauthorizationRequired) as info:
        await tl.auth.refresh_token()
    assert info.value.reason == "invalid_grant" and info.value.status_code == 400
    assert info.value.correlation_id == "corr-1"
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None))
    assert record is not None and record.invalid and record.token.refresh_token == Secret("rt-1")
    calls = token_route.call_count
    for _ in range(3):
        with pytest.raises(ReauthorizationRequired) as again:
            await tl.auth.valid_token()
        assert again.value.reason == "marked_invalid"
    assert token_route.call_count == calls


@pytest.mark.anyio
async def test_valid_token_leeway(tl: Session, token_route: respx.Route, clock: FakeClock) -> None:
    await connect(tl, token_route)
    clock.advance(3600 - 61)
    await tl.auth.valid_token()
    assert token_route.call_count == 1
    token_route.return_value = token_response(access="at-2", refresh="rt-2")
    clock.advance(2)  # now 59 s before expiry
    token = await tl.auth.valid_token()
    assert token_route.call_count == 2 and token.access_token == Secret("at-2")


@pytest.mark.anyio
async def test_short_tokens_use_half_their_life(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    await connect(tl, token_route, expires_in=30)
    clock.advance(14)
    await tl.auth.valid_token()
    assert token_route.call_count == 1  # no refresh storm for a 30 s token
    token_route.return_value = token_response(access="at-2", expires_in=30)
    clock.advance(2)
    await tl.auth.valid_token()
    assert token_route.call_count == 2


@pytest.mark.anyio
async def test_nothing_stored_raises_no_token(tl: Session) -> None:
    with pytest.raises(NoTokenError):
        await tl.auth.valid_token(user="nobody")


@pytest.mark.anyio
async def test_expired_without_refresh_token(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    await connect(tl, token_route, refresh=None)
    clock.advance(4000)
    with pytest.raises(ReauthorizationRequired) as info:
        await tl.auth.valid_token()
    assert info.value.reason == "no_refresh_token"
    assert token_route.call_count == 1


@pytest.mark.anyio
async def test_client_credentials_cached_by_sorted_scopes(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    token_route.return_value = token_response(
        access="cc-1", refresh=None, scope="payments verification"
    )
    first = await tl.auth.client_credentials(["payments", "verification"])
    second = await tl.auth.client_credentials(["verification", "payments"])
    assert first == second and token_route.call_count == 1
    assert form_of(token_route.calls[0].request) == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "payments verification",
    }
    assert first.token_type is TokenType.PAYMENTS and first.refresh_token is None
    clock.advance(3600 - 59)
    token_route.return_value = token_response(access="cc-2", refresh=None, scope="payments")
    third = await tl.auth.client_credentials(["payments", "verification"])
    assert token_route.call_count == 2 and third.access_token == Secret("cc-2")


@pytest.mark.anyio
async def test_client_credentials_retries_transient_failures(
    tl: Session, token_route: respx.Route
) -> None:
    token_route.side_effect = [
        httpx.Response(503, json={"error": "temporarily_unavailable"}),
        httpx.ReadTimeout("slow"),
        token_response(access="cc", refresh=None, scope="payments"),
    ]
    token = await tl.auth.client_credentials()
    assert token.access_token == Secret("cc") and token_route.call_count == 3


@pytest.mark.anyio
async def test_data_token_never_serves_payments(tl: Session, token_route: respx.Route) -> None:
    await connect(tl, token_route)
    token_route.return_value = token_response(access="pay-1", refresh=None, scope="payments")
    payments = await tl.auth.valid_token(TokenType.PAYMENTS)
    assert payments.access_token == Secret("pay-1") and payments.token_type is TokenType.PAYMENTS
    assert form_of(token_route.calls[-1].request)["grant_type"] == "client_credentials"
    data = await tl.auth.valid_token(TokenType.DATA)
    assert data.access_token == Secret("at-1") and data.token_type is TokenType.DATA
    with pytest.raises(NoTokenError):
        await tl.auth.valid_token(TokenType.PAYMENTS, user="alice")


@pytest.mark.anyio
async def test_payments_named_as_a_string_gets_client_credentials_too(
    tl: Session, token_route: respx.Route
) -> None:
    token_route.return_value = token_response(access="pay-2", refresh=None, scope="payments")
    token = await tl.auth.valid_token("payments")
    assert token.access_token == Secret("pay-2") and token.token_type is TokenType.PAYMENTS
    assert form_of(token_route.calls[-1].request)["grant_type"] == "client_credentials"


@pytest.mark.anyio
async def test_users_are_isolated(tl: Session, token_route: respx.Route) -> None:
    token_route.return_value = token_response(access="a-at", refresh="a-rt")
    await tl.auth.exchange_code("c1", user="alice")
    token_route.return_value = token_response(access="b-at", refresh="b-rt")
    await tl.auth.exchange_code("c2", user="bob")
    bob_before = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "bob"))
    token_route.return_value = httpx.Response(400, json={"error": "invalid_grant"})
    with pytest.raises(ReauthorizationRequired):
        await tl.auth.refresh_token(user="alice")
    assert await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "bob")) == bob_before
    assert (await tl.auth.valid_token(user="bob")).access_token == Secret("b-at")


@pytest.mark.anyio
async def test_lost_refresh_response_is_retried_once(
    tl: Session, token_route: respx.Route
) -> None:
    await connect(tl, token_route)
    token_route.side_effect = [
        httpx.ReadTimeout("lost"),
        token_response(access="at-2", refresh="rt-2"),
    ]
    token = await tl.auth.refresh_token()
    assert token.access_token == Secret("at-2") and token_route.call_count == 3
    assert form_of(token_route.calls[1].request)["refresh_token"] == "rt-1"
    assert form_of(token_route.calls[2].request)["refresh_token"] == "rt-1"


@pytest.mark.anyio
async def test_lost_refresh_then_invalid_grant_is_outcome_unknown(
    tl: Session, token_route: respx.Route
) -> None:
    await connect(tl, token_route)
    token_route.side_effect = [
        httpx.RemoteProtocolError("reset"),
        httpx.Response(400, json={"error": "invalid_grant"}),
    ]
    with pytest.raises(ReauthorizationRequired) as info:
        await tl.auth.refresh_token()
    assert info.value.reason == "refresh_outcome_unknown"
    assert token_route.call_count == 3  # the exchange, then exactly two refresh attempts
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None))
    assert record is not None and record.invalid and record.token.refresh_token == Secret("rt-1")


@pytest.mark.anyio
async def test_lost_refresh_twice_keeps_the_old_token(
    tl: Session, token_route: respx.Route
) -> None:
    await connect(tl, token_route)
    token_route.side_effect = [httpx.ReadTimeout("lost"), httpx.ReadTimeout("lost again")]
    with pytest.raises(TransportError) as info:
        await tl.auth.refresh_token()
    assert info.value.request_sent
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None))
    assert record is not None and not record.invalid
    assert record.token.refresh_token == Secret("rt-1")


@pytest.mark.anyio
async def test_token_endpoint_down_serves_the_still_valid_token(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    await connect(tl, token_route)
    clock.advance(3600 - 30)  # inside the leeway, not yet expired
    token_route.return_value = httpx.Response(503, json={"error": "temporarily_unavailable"})
    token = await tl.auth.valid_token()
    assert token.access_token == Secret("at-1")
    calls = token_route.call_count
    await tl.auth.valid_token()
    assert token_route.call_count == calls  # backing off for a few seconds
    clock.advance(40)  # now really expired
    with pytest.raises(TokenEndpointUnavailable):
        await tl.auth.valid_token()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b'{"access_token":',
        b"[]",
        b'"str"',
        b"null",
        b"42",
        b"",
        b"<html>login</html>",
    ],
)
async def test_malformed_token_bodies(tl: Session, token_route: respx.Route, body: bytes) -> None:
    await connect(tl, token_route)
    before = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None))
    token_route.return_value = httpx.Response(
        200, content=body, headers={"content-type": "application/json"}
    )
    with pytest.raises(MalformedTokenResponse):
        await tl.auth.refresh_token()
    assert await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None)) == before


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fields",
    [
        {"access_token": None},
        {"token_type": "mac"},
        {"token_type": None},
        {"expires_in": 0},
        {"expires_in": -5},
        {"expires_in": "abc"},
        {"expires_in": None},
        {"expires_in": 10**12},
    ],
)
async def test_unusable_token_with_new_refresh_token_saves_it(
    tl: Session, token_route: respx.Route, fields: dict[str, object]
) -> None:
    await connect(tl, token_route)
    body = token_body(access="at-2", refresh="rt-2")
    for k, v in fields.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    token_route.return_value = httpx.Response(200, json=body)
    with pytest.raises(MalformedTokenResponse) as info:
        await tl.auth.refresh_token()
    assert "rt-2" not in str(info.value) and "at-2" not in str(info.value)
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, None))
    assert record is not None and record.token.refresh_token == Secret("rt-2")
    # The next access refreshes with the saved refresh token.
    token_route.return_value = token_response(access="at-3", refresh="rt-3")
    token = await tl.auth.valid_token()
    assert token.access_token == Secret("at-3")
    assert form_of(token_route.calls[-1].request)["refresh_token"] == "rt-2"


@pytest.mark.anyio
async def test_expires_in_as_numeric_string_is_accepted(
    tl: Session, token_route: respx.Route
) -> None:
    await connect(tl, token_route, expires_in="3600")
    token = await tl.auth.valid_token()
    assert token.expires_in == 3600


@pytest.mark.anyio
async def test_error_member_on_200_is_an_error(tl: Session, token_route: respx.Route) -> None:
    token_route.return_value = httpx.Response(200, json={"error": "invalid_grant"})
    with pytest.raises(ReauthorizationRequired):
        await connect_and_refresh(tl, token_route)


async def connect_and_refresh(tl: Session, route: respx.Route) -> None:
    route.side_effect = [token_response(), httpx.Response(200, json={"error": "invalid_grant"})]
    await tl.auth.exchange_code("c")
    await tl.auth.refresh_token()
