"""The emulator's closable objects use the SDK's one async-resource base (issue #14 §5)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.emulator import START
from truelayer_async._resource import AsyncResource
from truelayer_async.testing import EmulatorControl, FakeClock, FakeTrueLayer


@pytest.mark.parametrize("cls", [FakeTrueLayer, EmulatorControl])
def test_open_close_enter_exit_come_from_the_base(cls: type[object]) -> None:
    assert issubclass(cls, AsyncResource)
    # No copy of the base's ``async with`` code in the class itself.
    for name in ("open", "__aenter__", "__aexit__"):
        assert name not in vars(cls), f"{cls.__name__} defines its own {name}"


@pytest.mark.asyncio
async def test_fake_async_with_yields_itself_and_closes_its_clients() -> None:
    async with FakeTrueLayer(clock=FakeClock(START)) as fake:
        assert isinstance(fake, FakeTrueLayer)
        http = fake.http_client()
        control = fake.control()
        assert (await http.get("/api/providers")).status_code == 200
        assert (await control.clock()).now == START
    assert http.is_closed
    assert control._client.is_closed
    await fake.aclose()  # closing twice is harmless


@pytest.mark.asyncio
async def test_fake_open_then_aclose_is_the_same_as_async_with() -> None:
    fake = FakeTrueLayer(clock=FakeClock(START))
    await fake.open()
    http = fake.http_client()
    await fake.aclose()
    assert http.is_closed
    # The fake still serves after closing: new clients can be made and are tracked again.
    async with fake:
        again = fake.http_client()
        assert (await again.get("/api/providers")).status_code == 200
    assert again.is_closed


@pytest.mark.asyncio
async def test_control_closes_only_the_client_it_made() -> None:
    fake = FakeTrueLayer(clock=FakeClock(START))
    given = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake))
    async with EmulatorControl(fake.environment.api_url, http_client=given) as control:
        assert (await control.clock()).now == START
    assert not given.is_closed
    await given.aclose()

    async with EmulatorControl("http://127.0.0.1:9") as owning:
        made = owning._client
    assert made.is_closed
