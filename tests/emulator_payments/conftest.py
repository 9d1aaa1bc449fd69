"""Fixtures for the Payments v3 emulator tests: a fake, a raw client, and a ``Payments``
helper that signs like a client would (``truelayer_async.signing.sign``) and validates
every response against payments-api-v3.json."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.support.emulator import START
from tests.support.raw_payments import Payments
from truelayer_async.testing import FakeClock, FakeTrueLayer


@pytest.fixture
def fake() -> FakeTrueLayer:
    return FakeTrueLayer(clock=FakeClock(START))


@pytest_asyncio.fixture
async def client(fake: FakeTrueLayer) -> AsyncIterator[httpx.AsyncClient]:
    async with fake.http_client() as http:
        yield http


@pytest_asyncio.fixture
async def api(fake: FakeTrueLayer, client: httpx.AsyncClient) -> Payments:
    payments = Payments(fake, client)
    await payments.login()
    return payments
