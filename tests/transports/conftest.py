"""Both HTTP backends against real loopback servers (``tests.support.wire_server``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.support.doubles import RecordingSleep
from tests.support.wire_server import WireServer
from truelayer_async import Environment, Session
from truelayer_async.transports import AiohttpTransport

BACKENDS = ("httpx", "aiohttp")


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable set, whatever the machine's: the loopback servers are reached
    directly, and a proxy in the environment moves the default backend onto
    ``AsyncClient.send``. Tests set the ones they need."""
    for name in ("http", "https", "all", "no"):
        monkeypatch.delenv(f"{name}_proxy", raising=False)
        monkeypatch.delenv(f"{name.upper()}_PROXY", raising=False)
    return monkeypatch


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The Session's ``http_backend``: every test here runs on both."""
    return str(request.param)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[WireServer]:
    async with WireServer() as wire:
        yield wire


def session(
    base: str, backend: str, sleeps: RecordingSleep, secret: str = "client-secret", **options: Any
) -> Session:
    """A Session on ``base`` (auth and API) over ``backend``; retries sleep no time."""
    options.setdefault("redirect_uri", "https://app.example/callback")
    return Session(
        "client-id",
        secret,
        environment=Environment.custom(base),
        http_backend=backend,  # type: ignore[arg-type]
        sleep=sleeps,
        **options,
    )


def in_use(tl: Session) -> int:
    """Connections checked out of the Session's pool (serving a request)."""
    client = tl._core.requester().client
    transport = client._transport
    if isinstance(transport, AiohttpTransport):
        return transport.connection_counts()[1]
    pool = transport._pool  # type: ignore[attr-defined]
    return sum(not conn.is_idle() for conn in pool.connections)
