"""``tl.data_v3`` against the emulator, in-process and served on loopback: the hosted
journey, connected accounts, and transaction pages over thousands of transactions with at
most one page held in memory."""

from __future__ import annotations

import gc
import weakref
from datetime import date

import httpx
import pytest

from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models.data_v3 import (
    ConnectedAccount,
    DataTransaction,
    HostedPage,
    PrecapturedConsent,
    PreselectedProvider,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeTrueLayer

from .helpers import BACK, walk_journey

pytestmark = pytest.mark.anyio

FROM, TO = date(2000, 1, 1), date(2100, 1, 1)


async def _first_account(tl: Session, connection: str) -> ConnectedAccount:
    accounts = [account async for account in tl.data_v3.connected_accounts(connection)]
    return accounts[0]


async def test_connect_through_the_journey_then_read_accounts_and_transactions(
    fake: FakeTrueLayer,
) -> None:
    async with fake.session() as tl:
        created = await tl.data_v3.create_connection(
            scopes=["accounts", "transactions"],
            provider=UserSelectedProvider(),
            journey=HostedPage(return_uri=BACK),
        )
        assert created.link is not None
        async with fake.http_client() as browser:
            back = await walk_journey(browser, created.link)
        assert back.headers["location"] == f"{BACK}?connection_id={created.id}"
        assert (await tl.data_v3.get_connection(created.id)).status == "authorized"
        accounts = [a async for a in tl.data_v3.connected_accounts(created.id)]
        assert [a.account_type for a in accounts] == ["current", "savings"]
        found = [
            t
            async for t in tl.data_v3.transactions(
                accounts[0].id, FROM, TO, connection_id=created.id, page_size=50
            )
        ]
    assert len(found) > 100
    keys = [(t.timestamp, t.transaction_id) for t in found]
    assert keys == sorted(keys, reverse=True)
    assert len({t.transaction_id for t in found}) == len(found)


async def test_every_ux_configuration_is_accepted(fake: FakeTrueLayer) -> None:
    from .test_data_v3_service import FIVE

    async with fake.session() as tl:
        for provider, journey, consent in FIVE:
            if isinstance(provider, PreselectedProvider):
                provider = PreselectedProvider(provider_id="mock")
            if isinstance(consent, PrecapturedConsent):
                consent = PrecapturedConsent(captured_at=fake.clock.utcnow())
            created = await tl.data_v3.create_connection(
                scopes=["info"], provider=provider, journey=journey, consent=consent
            )
            assert created.status == "authorization_required"
            assert created.link is not None and "/data-v3/connect/" in created.link


async def test_thousands_of_transactions_with_one_page_in_memory(fake: FakeTrueLayer) -> None:
    connection = fake.connect_data_v3(bulk_transactions=3000)
    alive: weakref.WeakSet[DataTransaction] = weakref.WeakSet()
    most = count = 0
    async with fake.session() as tl:
        account = await _first_account(tl, connection)
        async for transaction in tl.data_v3.transactions(
            account.id, FROM, TO, connection_id=connection, page_size=250
        ):
            if count % 250 == 0:  # the first item of a page: the previous one is gone
                gc.collect()
                most = max(most, len(alive))
            alive.add(transaction)
            count += 1
    assert count > 3000
    assert most <= 250


async def test_a_failed_persona_raises_the_typed_error(fake: FakeTrueLayer) -> None:
    connection = fake.connect_data_v3(username="error.provider_error")
    async with fake.session() as tl:
        account = await _first_account(tl, connection)
        pages = tl.data_v3.transactions(account.id, FROM, TO, connection_id=connection)
        with pytest.raises(e.DataTransactionsFailedError) as raised:
            await pages.pages().__anext__()
    assert raised.value.failure_reason == "provider_error"


async def test_a_connection_without_the_scope_is_a_403(fake: FakeTrueLayer) -> None:
    connection = fake.connect_data_v3(["accounts"])
    async with fake.session() as tl:
        account = await _first_account(tl, connection)
        pages = tl.data_v3.transactions(account.id, FROM, TO, connection_id=connection)
        with pytest.raises(e.DataApiError) as raised:
            await pages.pages().__anext__()
    assert raised.value.status_code == 403


async def test_served_on_loopback(fake: FakeTrueLayer) -> None:
    fake.data_v3_timing.pending_seconds = 3600  # complete on the second poll
    with fake.serve_in_thread():
        async with fake.session(http_client=None) as tl:
            created = await tl.data_v3.create_connection(
                scopes=["accounts", "transactions"],
                provider=PreselectedProvider(provider_id="mock"),
                journey=HostedPage(return_uri=BACK),
            )
            assert created.link is not None and created.link.startswith("http://127.0.0.1:")
            async with httpx.AsyncClient(trust_env=False) as browser:
                assert (await walk_journey(browser, created.link)).status_code == 303
            accounts = [a async for a in tl.data_v3.connected_accounts(created.id)]
            found = [
                t
                async for t in tl.data_v3.transactions(
                    accounts[0].id, FROM, TO, connection_id=created.id, page_size=10, limit=25
                )
            ]
    assert len(found) == 25


async def test_the_control_client_makes_a_connection(fake: FakeTrueLayer) -> None:
    control = fake.control()
    connection = await control.connect_data_v3(["accounts"], username="john4")
    await control.aclose()
    async with fake.session() as tl:
        account = await _first_account(tl, connection)
        pages = tl.data_v3.transactions(account.id, FROM, TO, connection_id=connection)
        with pytest.raises(e.DataApiError) as raised:
            await pages.pages().__anext__()
    assert raised.value.status_code == 403  # no transactions scope
