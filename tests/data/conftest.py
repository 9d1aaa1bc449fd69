"""Fixtures of the Data API tests at the wire (respx).

Helpers are in ``tests.support.data_api``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
import respx

from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import REDIRECT, TOKEN_URL, token_response
from truelayer_async import DATA_SCOPES, Session
from truelayer_async.testing import FakeClock


@pytest_asyncio.fixture
async def tl(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> AsyncIterator[Session]:
    """A Session holding alice's data connection (the token endpoint mocked)."""
    granted = " ".join(DATA_SCOPES)
    respx_mock.post(TOKEN_URL).mock(
        return_value=token_response(access="at-1", refresh="rt-1", scope=granted)
    )
    async with Session("client", "secret", redirect_uri=REDIRECT, clock=clock, sleep=sleeps) as s:
        await s.auth.exchange_code("code", user="alice")
        yield s
