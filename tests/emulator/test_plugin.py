"""The pytest plugin, the package's lazy imports, the clock and ``fake.session()``."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

import truelayer_async.testing as testing
from tests.support.binaries import missing
from tests.support.emulator import PLUGIN_INSTALLED
from tests.support.processes import child_env
from truelayer_async.testing import FakeClock, FakeTrueLayer


def test_truelayer_fake_fixture(truelayer_fake: FakeTrueLayer) -> None:
    assert isinstance(truelayer_fake, FakeTrueLayer)
    assert truelayer_fake.connections == [] and truelayer_fake.requests == []


@pytest.mark.asyncio
async def test_truelayer_fake_server_fixture(truelayer_fake_server: FakeTrueLayer) -> None:
    assert truelayer_fake_server.base_url is not None
    async with httpx.AsyncClient(base_url=truelayer_fake_server.base_url) as http:
        assert (await http.get("/api/providers")).status_code == 200


def test_plugin_is_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    if not PLUGIN_INSTALLED:
        missing("truelayer-async is not pip-installed, so its pytest11 entry point is absent")
    assert pytestconfig.pluginmanager.has_plugin("truelayer_async")


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, truelayer_async.testing.pytest_plugin\n"
        "heavy = {'starlette', 'uvicorn', 'jwt', 'multipart'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], env=child_env(), check=True, timeout=30)


def test_lazy_exports() -> None:
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    assert set(dir(testing)) == set(testing.__all__)
    with pytest.raises(AttributeError):
        testing.NoSuchThing  # noqa: B018


def test_fake_clock() -> None:
    clock = FakeClock(start=100.0)
    assert clock() == clock.now == 100.0
    assert clock.advance(5) == 105.0 and clock() == clock.now == 105.0
    with pytest.raises(AttributeError):
        clock.now = 0.0  # type: ignore[misc]  # read-only: time never goes backwards
    assert clock.utcnow().timestamp() == 105.0
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    assert abs(FakeClock()() - time.time()) < 5


@pytest.mark.asyncio
async def test_fake_session_is_wired_to_the_fake() -> None:
    from truelayer_async import Session

    async with FakeTrueLayer() as fake:
        async with fake.session() as session:
            assert isinstance(session, Session)
            assert session.environment == fake.environment
        assert len(fake._clients) == 1 and not fake._clients[0].is_closed
        async with httpx.AsyncClient() as own:
            other = fake.session(client_id="sandbox-other", client_secret="x", http_client=own)
            assert isinstance(other, Session) and len(fake._clients) == 1
        tracked = fake._clients[0]
    assert fake._clients == [] and tracked.is_closed
