"""The SDK's Payments services against the emulator, each test three times:
``in_process`` (``httpx.ASGITransport``), ``served`` (the same fake on a real loopback
uvicorn server) and ``served_aiohttp`` (the same, through ``http_backend="aiohttp"``;
asyncio only, so not on the trio leg). All run on a ``FakeClock``: the SDK's own waits
(``wait_for``'s pauses, retry back-off) move it, and tests move it with
``fake.advance()``, so nothing sleeps for real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.e2e import fresh_emulator, session_on
from truelayer_async import Session
from truelayer_async.testing import FakeTrueLayer

MODES = ("in_process", "served", "served_aiohttp")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the aiohttp leg on trio: aiohttp runs on asyncio only."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        spec = getattr(item, "callspec", None)
        params = spec.params if spec is not None else {}
        aiohttp_leg = params.get("mode") == "served_aiohttp"
        (drop if aiohttp_leg and params.get("anyio_backend") == "trio" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """How the SDK reaches the emulator (``MODES``)."""
    return str(request.param)


@pytest.fixture
def fake(mode: str) -> Iterator[FakeTrueLayer]:
    """A fresh emulator, reached in-process or over a real loopback socket."""
    with fresh_emulator(served=mode != "in_process") as emulator:
        yield emulator


@pytest.fixture
async def tl(fake: FakeTrueLayer, mode: str) -> AsyncIterator[Session]:
    """A Session wired to ``fake``, signing with ``fake.client_signing_key``."""
    aiohttp_leg = {"http_client": None, "http_backend": "aiohttp"}
    async with session_on(fake, **(aiohttp_leg if mode == "served_aiohttp" else {})) as session:
        yield session
