"""InsufficientScopeError: checked before the request when the token's scopes are known,
and mapped from a 403 ``insufficient_scope`` answer when they are not."""

from __future__ import annotations

import pickle
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from tests.support.doubles import RecordingSleep
from tests.support.emulator import START
from tests.support.token_endpoint import REDIRECT
from truelayer_async import (
    DATA_SCOPES,
    DataApiError,
    InsufficientScopeError,
    ReauthorizationRequired,
    Secret,
    Session,
    Token,
    TokenRecord,
    TokenType,
)
from truelayer_async.services._scopes import required_scopes
from truelayer_async.testing import FakeClock, FakeTrueLayer
from truelayer_async.testing import FakeClock as EmulatorClock

DATA = "https://api.truelayer-sandbox.com/data/v1"

Call = Callable[[Session], Awaitable[Any]]

# (method call, the scopes it needs)
ENDPOINTS: list[tuple[str, Call, tuple[str, ...]]] = [
    ("info", lambda tl: tl.data.info(user="u"), ("info",)),
    ("accounts", lambda tl: tl.data.accounts(user="u"), ("accounts",)),
    ("account", lambda tl: tl.data.account("a1", user="u"), ("accounts",)),
    ("balance", lambda tl: tl.data.balance("a1", user="u"), ("accounts", "balance")),
    (
        "transactions",
        lambda tl: tl.data.transactions("a1", user="u"),
        ("accounts", "transactions"),
    ),
    (
        "pending_transactions",
        lambda tl: tl.data.pending_transactions("a1", user="u"),
        ("accounts", "transactions"),
    ),
    (
        "standing_orders",
        lambda tl: tl.data.standing_orders("a1", user="u"),
        ("accounts", "standing_orders"),
    ),
    (
        "direct_debits",
        lambda tl: tl.data.direct_debits("a1", user="u"),
        ("accounts", "direct_debits"),
    ),
    ("cards", lambda tl: tl.data.cards(user="u"), ("cards",)),
    ("card", lambda tl: tl.data.card("c1", user="u"), ("cards",)),
    ("card_balance", lambda tl: tl.data.card_balance("c1", user="u"), ("cards", "balance")),
    (
        "card_transactions",
        lambda tl: tl.data.card_transactions("c1", user="u"),
        ("cards", "transactions"),
    ),
    (
        "card_pending_transactions",
        lambda tl: tl.data.card_pending_transactions("c1", user="u"),
        ("cards", "transactions"),
    ),
    (
        "async standing_orders",
        lambda tl: tl.data.with_async_mode().standing_orders("a1", user="u"),
        ("accounts", "standing_orders"),
    ),
]


def test_data_scopes_hold_every_data_scope() -> None:
    assert {"standing_orders", "direct_debits"} <= set(DATA_SCOPES)
    needed = {scope for _, _, scopes in ENDPOINTS for scope in scopes}
    assert needed <= set(DATA_SCOPES)


def test_the_error_is_not_a_reauthorization() -> None:
    assert issubclass(InsufficientScopeError, DataApiError)
    assert not issubclass(InsufficientScopeError, ReauthorizationRequired)
    err = InsufficientScopeError(403, "insufficient_scope", missing_scopes=("info",))
    again = pickle.loads(pickle.dumps(err))
    assert again.missing_scopes == ("info",) and str(again) == str(err)


@pytest.mark.parametrize(
    ("path", "scopes"),
    [
        ("/me", ()),
        ("/results/task-1", ()),
        ("/info", ("info",)),
        ("/accounts/a%2Fb/transactions/pending", ("accounts", "transactions")),
        ("/cards/c1/balance", ("cards", "balance")),
    ],
)
def test_required_scopes(path: str, scopes: tuple[str, ...]) -> None:
    assert required_scopes(path) == scopes


async def _session_with(
    token_scopes: tuple[str, ...], clock: FakeClock, sleeps: RecordingSleep
) -> Session:
    tl = Session("client", "secret", redirect_uri=REDIRECT, clock=clock, sleep=sleeps)
    await tl.open()
    token = Token(
        access_token=Secret("at-1"),
        token_type=TokenType.DATA,
        expires_at=datetime.fromtimestamp(clock(), timezone.utc) + timedelta(hours=1),
        scopes=token_scopes,
    )
    await tl.token_store.set(tl._core.tokens.key(TokenType.DATA, "u"), TokenRecord(token=token))
    return tl


@pytest.mark.asyncio
@pytest.mark.parametrize(("name", "call", "needed"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
async def test_a_missing_scope_fails_before_any_request(
    name: str,
    call: Call,
    needed: tuple[str, ...],
    clock: FakeClock,
    sleeps: RecordingSleep,
    respx_mock: respx.MockRouter,
) -> None:
    anything = respx_mock.route().mock(return_value=httpx.Response(500))
    # Every Data scope but the endpoint's last one (its own: balance, cards, ...).
    granted = tuple(s for s in DATA_SCOPES if s != needed[-1])
    tl = await _session_with(granted, clock, sleeps)
    try:
        with pytest.raises(InsufficientScopeError) as caught:
            await call(tl)
    finally:
        await tl.aclose()
    assert not anything.called  # nothing was sent: neither Data nor token requests
    err = caught.value
    assert err.missing_scopes == (needed[-1],) and err.status_code is None
    assert repr(needed[-1]) in str(err)


@pytest.mark.asyncio
async def test_every_missing_scope_is_named(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    tl = await _session_with(("info", "offline_access"), clock, sleeps)
    try:
        with pytest.raises(InsufficientScopeError) as caught:
            await tl.data.standing_orders("a1", user="u")
    finally:
        await tl.aclose()
    assert caught.value.missing_scopes == ("accounts", "standing_orders")


@pytest.mark.asyncio
async def test_me_and_granted_endpoints_are_sent(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    me = respx_mock.get(f"{DATA}/me").mock(return_value=httpx.Response(401))
    tl = await _session_with(("info",), clock, sleeps)
    try:
        assert await tl.data.validate_token(user="u") is False
    finally:
        await tl.aclose()
    assert me.called


@pytest.mark.asyncio
async def test_unknown_scopes_leave_it_to_the_server(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    body = {
        "error": "insufficient_scope",
        "error_description": "The access token does not grant the cards scope(s).",
        "error_details": {"missing_scopes": ["cards"]},
    }
    route = respx_mock.get(f"{DATA}/cards").mock(
        return_value=httpx.Response(403, json=body, headers={"X-TL-Correlation-Id": "c-1"})
    )
    tl = await _session_with((), clock, sleeps)  # the token response had no scope
    try:
        with pytest.raises(InsufficientScopeError) as caught:
            await tl.data.cards(user="u")
    finally:
        await tl.aclose()
    assert route.call_count == 1  # a 403 is not retried
    err = caught.value
    assert (err.status_code, err.missing_scopes, err.correlation_id) == (403, ("cards",), "c-1")


@pytest.mark.asyncio
async def test_access_denied_still_means_reauthorization(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    body = {"error": "access_denied", "error_description": "consent expired"}
    respx_mock.get(f"{DATA}/accounts").mock(return_value=httpx.Response(403, json=body))
    tl = await _session_with(DATA_SCOPES, clock, sleeps)
    try:
        with pytest.raises(ReauthorizationRequired):
            await tl.data.accounts(user="u")
    finally:
        await tl.aclose()


# -- against the emulator --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_emulator_s_403_maps_to_insufficient_scope() -> None:
    async with FakeTrueLayer(clock=EmulatorClock(START)) as fake, fake.session() as tl:
        await fake.connect(tl, user="u", scopes=["accounts", "offline_access"])
        # Forget the scopes, as after a token response without "scope": the server decides.
        key = tl._core.tokens.key(TokenType.DATA, "u")
        record = await tl.token_store.get(key)
        assert record is not None
        blind = TokenRecord(
            token=Token(
                access_token=record.token.access_token,
                token_type=TokenType.DATA,
                expires_at=record.token.expires_at,
                refresh_token=record.token.refresh_token,
            ),
            version=record.version + 1,
        )
        await tl.token_store.set(key, blind)
        accounts = await tl.data.accounts(user="u")
        with pytest.raises(InsufficientScopeError) as caught:
            await tl.data.direct_debits(accounts[0].account_id, user="u")
    assert caught.value.status_code == 403
    assert caught.value.missing_scopes == ("direct_debits",)
    assert fake.count("/data/v1/accounts/*", status=403) == 1


@pytest.mark.asyncio
async def test_the_emulator_accepts_every_data_scope() -> None:
    async with FakeTrueLayer(clock=EmulatorClock(START)) as fake, fake.session() as tl:
        token = await fake.connect(tl, user="u", scopes=DATA_SCOPES)
        [account, _] = await tl.data.accounts(user="u")
        orders = await tl.data.standing_orders(account.account_id, user="u")
        debits = await tl.data.direct_debits(account.account_id, user="u")
    assert set(token.scopes) == set(DATA_SCOPES)
    assert orders and debits


@pytest.mark.asyncio
async def test_fetch_all_skips_what_the_token_does_not_cover() -> None:
    async with FakeTrueLayer(clock=EmulatorClock(START)) as fake, fake.session() as tl:
        await fake.connect(tl, user="u", scopes=["accounts", "cards", "offline_access"])
        [result] = await tl.data.fetch_all(["u"])
    assert result.ok, result.error
    assert len(result.accounts) == 2 and len(result.cards) == 1
    assert all(a.balance is None and a.transactions == () for a in result.accounts)
    assert fake.count("/data/v1/*", status=403) == 0
