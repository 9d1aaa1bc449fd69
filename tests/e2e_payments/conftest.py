"""The SDK's Payments services against the emulator, each test twice: ``in_process``
(``httpx.ASGITransport``) and ``served`` (the same fake on a real loopback uvicorn
server). Both run on a ``FakeClock``: the SDK's own waits (``wait_for``'s pauses, retry
back-off) move it, and tests move it with ``fake.advance()``, so nothing sleeps for real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest

from tests.support.emulator import START
from truelayer_async import Session
from truelayer_async.testing import FakeClock, FakeTrueLayer

MODES = ("in_process", "served")


@pytest.fixture(params=MODES)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeTrueLayer]:
    """A fresh emulator, reached in-process or over a real loopback socket."""
    emulator = FakeTrueLayer(clock=FakeClock(START))
    if request.param == "in_process":
        yield emulator
        return
    with emulator.serve_in_thread() as url:
        assert url.startswith("http://127.0.0.1:")
        yield emulator


@pytest.fixture
async def tl(fake: FakeTrueLayer) -> AsyncIterator[Session]:
    """A Session wired to ``fake``, signing with ``fake.client_signing_key``."""
    async with fake.session() as session:
        yield session
    await fake.aclose()
    # Every request reached the mode's address: the served leg really crossed a socket.
    environment = fake.environment
    hosts = {r.headers["host"] for r in fake.requests}
    assert hosts <= {urlsplit(environment.auth_url).netloc, urlsplit(environment.api_url).netloc}
