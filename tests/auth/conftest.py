"""Fixtures for auth tests: a Session on a fake clock, respx routes for /connect/token.

Both backends: every ``anyio``-marked test here runs on asyncio and on trio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

from tests.support.backends import BACKENDS
from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT,
    TOKEN_URL,
)
from truelayer_async import Session
from truelayer_async.testing import FakeClock


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The event loop of the anyio plugin: asyncio, then trio."""
    backend: str = request.param
    return backend


@pytest.fixture
async def tl(clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Session]:
    async with Session(
        CLIENT_ID, CLIENT_SECRET, redirect_uri=REDIRECT, clock=clock, sleep=sleeps
    ) as session:
        yield session


@pytest.fixture
def token_route(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(TOKEN_URL)
