"""The SDK's payouts, merchant-account and mandate services against the emulator, each
test run twice: in-process (ASGI transport) and served on loopback (real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import pytest
import pytest_asyncio

from tests.support.emulator import START
from truelayer_async import Session
from truelayer_async.testing import FakeClock, FakeTrueLayer


@pytest.fixture(params=["in-process", "served"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeTrueLayer]:
    emulator = FakeTrueLayer(clock=FakeClock(START))
    with ExitStack() as stack:
        if request.param == "served":
            stack.enter_context(emulator.serve_in_thread())
        yield emulator


@pytest_asyncio.fixture
async def tl(fake: FakeTrueLayer) -> AsyncIterator[Session]:
    async with fake, fake.session() as session:
        yield session
