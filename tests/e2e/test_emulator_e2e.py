"""The SDK end to end against the emulator: in-process, and once over a real loopback server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import anyio
import pytest
import pytest_asyncio

from truelayer_async import (
    DATA_SCOPES,
    AccountNotFoundError,
    DataApiError,
    EndpointNotSupportedError,
    NoTokenError,
    ReauthorizationRequired,
    Session,
    TokenType,
)
from truelayer_async.models import Account, ActionNeeded, TransactionCategory
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeTrueLayer,
    complete_consent,
)

SCOPES = (*DATA_SCOPES, "direct_debits", "standing_orders", "verification")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTrueLayer]:
    async with FakeTrueLayer() as emulator:
        yield emulator


@pytest_asyncio.fixture
async def tl(fake: FakeTrueLayer) -> AsyncIterator[Session]:
    async with fake.session() as session:
        yield session


async def connect(
    tl: Session,
    fake: FakeTrueLayer,
    user: str | None = "alice",
    *,
    username: str = "john",
    password: str = "doe",
    response_mode: str | None = None,
) -> None:
    """The real journey: auth link with PKCE, the consent pages, the callback, the exchange."""
    link = tl.auth.auth_link(
        scopes=SCOPES, providers="uk-cs-mock", pkce=True, response_mode=response_mode
    )
    result = await complete_consent(
        fake.http_client(), link.url, username=username, password=password
    )
    source = result.form if response_mode == "form_post" else result.redirect_url
    assert source is not None
    code = tl.auth.parse_callback(source, expected_state=link.state)
    await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)


@pytest.mark.asyncio
async def test_whole_journey(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    me = await tl.data.me(user="alice")
    assert me.provider is not None and me.provider.provider_id == "mock"
    accounts = await tl.data.accounts(user="alice")
    assert len(accounts) >= 2
    for account in accounts:
        assert (
            await tl.data.account(account.account_id, user="alice")
        ).account_id == account.account_id
        balance = await tl.data.balance(account.account_id, user="alice")
        assert isinstance(balance.current, Decimal)
        txns = await tl.data.transactions(
            account.account_id,
            from_=(fake_now(fake) - timedelta(days=90)).date(),
            user="alice",
        )
        assert txns and all(t.timestamp.tzinfo is not None for t in txns)
        assert all(isinstance(t.amount, Decimal) for t in txns)
        assert {t.transaction_category for t in txns} & set(TransactionCategory)
        await tl.data.pending_transactions(account.account_id, user="alice")
        await tl.data.standing_orders(account.account_id, user="alice")
        await tl.data.direct_debits(account.account_id, user="alice")
    cards = await tl.data.cards(user="alice")
    for card in cards:
        await tl.data.card(card.account_id, user="alice")
        await tl.data.card_balance(card.account_id, user="alice")
        await tl.data.card_transactions(card.account_id, user="alice")
        await tl.data.card_pending_transactions(card.account_id, user="alice")
    assert await tl.data.info(user="alice")
    assert await tl.data.validate_token(user="alice")
    assert fake.stats["refresh"] == 0
    # Past expiry: the next call refreshes once, and the rotated pair is stored.
    before = await tl.auth.valid_token(user="alice")
    fake.clock.advance(3600)
    assert ids(await tl.data.accounts(user="alice")) == ids(accounts)
    after = await tl.auth.valid_token(user="alice")
    assert fake.stats["refresh"] == 1
    assert after.refresh_token != before.refresh_token
    assert fake.latest_refresh_token(after.access_token.get_secret_value()) == (
        after.refresh_token.get_secret_value() if after.refresh_token else None
    )


def ids(accounts: list[Account]) -> list[str]:
    return [a.account_id for a in accounts]


def fake_now(fake: FakeTrueLayer) -> datetime:
    return datetime.fromtimestamp(fake.clock(), timezone.utc)


@pytest.mark.asyncio
async def test_form_post_callback(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake, response_mode="form_post")
    assert await tl.data.accounts(user="alice")


@pytest.mark.asyncio
async def test_single_flight_against_the_emulator(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    fake.clock.advance(4000)
    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(lambda: tl.data.accounts(user="alice"))
    assert fake.stats["refresh"] == 1


@pytest.mark.asyncio
async def test_many_users_one_refresh_each(tl: Session, fake: FakeTrueLayer) -> None:
    users = [f"user{i}" for i in range(20)]
    for i, user in enumerate(users):
        await connect(tl, fake, user, username=f"john{i + 1}", password=f"doe{i + 1}")
    fake.clock.advance(4000)
    results = await tl.data.fetch_all(users, concurrency=8)
    assert all(r.ok for r in results)
    assert all(r.accounts for r in results)
    assert fake.stats["refresh"] == 20


@pytest.mark.asyncio
async def test_server_errors_are_retried(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    fake.fail_next("/data/v1/accounts", 503, "provider_error", times=2)
    assert await tl.data.accounts(user="alice")
    fake.fail_next("/data/v1/accounts", 503, "provider_error", times=3)
    with pytest.raises(DataApiError) as info:
        await tl.data.accounts(user="alice")
    assert info.value.status_code == 503 and info.value.correlation_id


@pytest.mark.asyncio
async def test_lost_refresh_response_with_rotation_means_reauthorisation(
    tl: Session, fake: FakeTrueLayer
) -> None:
    await connect(tl, fake)
    fake.clock.advance(4000)
    fake.drop_response_after_commit("/connect/token")
    with pytest.raises(ReauthorizationRequired) as info:
        await tl.data.accounts(user="alice")
    assert info.value.reason == "refresh_outcome_unknown"
    assert fake.stats["refresh"] == 2  # the lost one and exactly one retry
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "alice"))
    assert record is not None and record.invalid


@pytest.mark.asyncio
async def test_lost_refresh_response_recovers_on_a_grace_server() -> None:
    async with FakeTrueLayer(refresh_token_reuse="grace") as fake, fake.session() as tl:
        await connect(tl, fake)
        fake.clock.advance(4000)
        fake.drop_response_after_commit("/connect/token")
        assert await tl.data.accounts(user="alice")
        assert fake.stats["refresh"] == 2


@pytest.mark.asyncio
async def test_connection_refreshed_behind_our_back_needs_reauthorisation(
    tl: Session, fake: FakeTrueLayer
) -> None:
    await connect(tl, fake)
    # Another client refreshed this connection: our access token is no longer the newest.
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "alice"))
    assert record is not None
    assert record.token.refresh_token is not None
    async with fake.http_client(base_url=fake.environment.auth_url) as raw:
        response = await raw.post(
            "/connect/token",
            data={
                "grant_type": "refresh_token",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "refresh_token": record.token.refresh_token.get_secret_value(),
            },
        )
        assert response.status_code == 200
    # Our stored refresh token is now stale too, so the replay path ends in reauthorisation.
    with pytest.raises(ReauthorizationRequired):
        await tl.data.accounts(user="alice")


@pytest.mark.asyncio
async def test_revoked_consent(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    fake.revoke("john")
    with pytest.raises(ReauthorizationRequired) as info:
        await tl.data.accounts(user="alice")
    assert info.value.status_code == 403 and info.value.reason == "consent_expired"
    assert fake.stats["refresh"] == 0


@pytest.mark.asyncio
async def test_consent_expires_after_90_days(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    for _ in range(3):  # keep the refresh token alive (it idles out after 30 days)
        fake.clock.advance(29 * 86400)
        await tl.data.accounts(user="alice")
    fake.clock.advance(4 * 86400)
    with pytest.raises(ReauthorizationRequired):
        await tl.data.accounts(user="alice")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("error.account_temporarily_locked", 403),
        ("error.internal_error", 500),
        ("error.provider_error", 503),
        ("error.wrong_credentials", 401),
    ],
)
async def test_error_personas(
    tl: Session, fake: FakeTrueLayer, username: str, status: int
) -> None:
    await connect(tl, fake, username=username, password="error")
    with pytest.raises(DataApiError) as info:
        await tl.data.accounts(user="alice")
    assert info.value.status_code == status
    assert info.value.error == username.removeprefix("error.")


@pytest.mark.asyncio
async def test_not_found_and_not_supported(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    with pytest.raises(AccountNotFoundError):
        await tl.data.balance("nope", user="alice")
    with pytest.raises(AccountNotFoundError):
        await tl.data.card_balance("nope-card", user="alice")
    await connect(tl, fake, "bob", username="john2", password="doe2")  # a persona without cards
    with pytest.raises(EndpointNotSupportedError):
        await tl.data.cards(user="bob")


@pytest.mark.asyncio
async def test_async_mode(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    pending = await tl.data.with_async_mode(webhook_uri="https://hook.example/tl").accounts(
        user="alice"
    )
    accounts = await pending.result()
    assert ids(accounts) == ids(await tl.data.accounts(user="alice"))
    assert fake.webhooks


@pytest.mark.asyncio
async def test_verification(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    result = await tl.verification.verify("John Doe", user="alice")
    assert result.verified
    other = await tl.verification.verify("Someone Else Entirely", user="alice")
    assert not other.verified


@pytest.mark.asyncio
async def test_extend_connection(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake, "eternal", username="john", password="eternal")
    before = await tl.auth.valid_token(user="eternal")
    result = await tl.auth.extend_connection(
        user="eternal", user_info={"id": "1", "name": "John", "email": "john@example.com"}
    )
    assert result.action_needed == ActionNeeded.NO_ACTION_NEEDED
    assert result.access_token is None  # stored, not handed back
    after = await tl.auth.valid_token(user="eternal")
    assert after.access_token != before.access_token
    assert await tl.data.accounts(user="eternal")
    await connect(tl, fake, "doe")
    other = await tl.auth.extend_connection(
        user="doe", user_info={"id": "2", "name": "John", "email": "john@example.com"}
    )
    assert other.action_needed == ActionNeeded.AUTHENTICATION_NEEDED
    assert other.user_input_link


@pytest.mark.asyncio
async def test_delete_credential(tl: Session, fake: FakeTrueLayer) -> None:
    await connect(tl, fake)
    token = await tl.auth.valid_token(user="alice")
    await tl.auth.delete_credential(user="alice")
    with pytest.raises(NoTokenError):
        await tl.data.accounts(user="alice")
    assert fake.connection(token.access_token.get_secret_value()).terminated == "deleted"


@pytest.mark.asyncio
async def test_providers_and_client_credentials(tl: Session, fake: FakeTrueLayer) -> None:
    providers = await tl.auth.providers(scopes=["accounts"], countries=["GB"])
    assert any(p.provider_id == "mock" for p in providers)
    token = await tl.auth.client_credentials()
    assert token.token_type is TokenType.PAYMENTS
    assert await tl.auth.client_credentials() == token
    assert fake.stats["client_credentials"] == 1


# -- the same over a real server -------------------------------------------------------


@pytest.fixture
def served() -> Iterator[FakeTrueLayer]:
    fake = FakeTrueLayer()
    with fake.serve_in_thread():
        yield fake


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_over_a_real_loopback_server(served: FakeTrueLayer, backend: str) -> None:
    fake = served
    assert fake.base_url is not None and fake.base_url.startswith("http://127.0.0.1:")
    async with fake.session(http_client=None, http_backend=backend) as tl:
        link = tl.auth.auth_link(scopes=SCOPES, providers="uk-cs-mock", pkce=True)
        async with fake.http_client() as browser:
            result = await complete_consent(browser, link.url)
        code = tl.auth.parse_callback(result.redirect_url, expected_state=link.state)
        await tl.auth.exchange_code(code, user="alice", code_verifier=link.code_verifier)
        accounts = await tl.data.accounts(user="alice")
        assert accounts
        fake.clock.advance(4000)
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(lambda: tl.data.balance(accounts[0].account_id, user="alice"))
        assert fake.stats["refresh"] == 1
        fake.fail_next("/data/v1/accounts", 502, times=1)
        assert ids(await tl.data.accounts(user="alice")) == ids(accounts)
        fake.drop_response_after_commit("/data/v1/accounts")
        assert ids(await tl.data.accounts(user="alice")) == ids(accounts)  # a GET is retried
    await fake.aclose()
