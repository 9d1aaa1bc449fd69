"""The end-to-end tests' emulator and Session: a fresh ``FakeTrueLayer`` on a ``FakeClock``
reached in-process or served on loopback, and a Session wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

from tests.support.emulator import START
from truelayer_async import Session
from truelayer_async.testing import FakeClock, FakeTrueLayer

__all__ = ["fresh_emulator", "session_on"]


@contextmanager
def fresh_emulator(*, served: bool) -> Iterator[FakeTrueLayer]:
    """A fresh emulator at ``START``; ``served``: also on a real loopback socket."""
    emulator = FakeTrueLayer(clock=FakeClock(START))
    if not served:
        yield emulator
        return
    with emulator.serve_in_thread() as url:
        assert url.startswith("http://127.0.0.1:")
        yield emulator


@asynccontextmanager
async def session_on(fake: FakeTrueLayer, **options: Any) -> AsyncIterator[Session]:
    """A Session wired to ``fake`` (``fake.session(**options)``, signing with
    ``fake.client_signing_key``). On exit the emulator is closed, and every request must
    have reached its auth or API address: a served leg really crossed its socket."""
    async with fake, fake.session(**options) as session:
        yield session
    environment = fake.environment
    hosts = {r.headers["host"] for r in fake.requests}
    assert hosts <= {urlsplit(environment.auth_url).netloc, urlsplit(environment.api_url).netloc}
