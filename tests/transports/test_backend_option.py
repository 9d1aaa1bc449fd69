"""``Session(http_backend=, max_connections=)``: one obvious way, and clear errors."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.support.processes import REPO
from truelayer_async import ConfigurationError, Session
from truelayer_async._http import create_client
from truelayer_async._http_backend import DEFAULT_MAX_CONNECTIONS
from truelayer_async.config import Timeouts


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="http_backend must be 'httpx' or 'aiohttp'"):
        Session("id", "secret", http_backend="requests")  # type: ignore[arg-type]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "options", [{"http_backend": "aiohttp"}, {"max_connections": 10}], ids=["backend", "pool"]
)
async def test_a_client_of_your_own_goes_alone(options: dict[str, object]) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ConfigurationError, match="not both"):
            Session("id", "secret", http_client=client, **options)  # type: ignore[arg-type]
        Session("id", "secret", http_client=client, http_backend="httpx")  # the default: fine


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_max_connections_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="max_connections"):
        Session("id", "secret", max_connections=bad)  # type: ignore[arg-type]


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # import aiohttp -> ImportError
    monkeypatch.delitem(sys.modules, "truelayer_async.transports", raising=False)
    with pytest.raises(ConfigurationError, match=r"pip install \"truelayer-async\[aiohttp\]\""):
        Session("id", "secret", http_backend="aiohttp")
    Session("id", "secret")  # the default backend needs nothing


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_the_aiohttp_backend_refuses_trio(anyio_backend: str) -> None:
    tl = Session("id", "secret", http_backend="aiohttp")
    with pytest.raises(ConfigurationError, match="asyncio only"):
        await tl.open()


@pytest.mark.asyncio
@pytest.mark.parametrize("pool", [None, 8])
async def test_the_default_client_pools_max_connections_and_keeps_at_most_20_idle(
    pool: int | None,
) -> None:
    expected = pool or DEFAULT_MAX_CONNECTIONS
    async with Session("id", "secret", max_connections=pool) as tl:
        client = tl._core.requester().client
        limits = client._transport._pool  # type: ignore[attr-defined]
        assert limits._max_connections == expected
        assert limits._max_keepalive_connections == min(expected, 20)
        assert not client.follow_redirects
    assert tl._core.max_connections == expected


def test_create_client_defaults_to_the_sessions_pool() -> None:
    client = create_client(Timeouts())
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert pool._max_connections == DEFAULT_MAX_CONNECTIONS
    assert pool._max_keepalive_connections == 20


def test_the_default_backend_never_imports_aiohttp() -> None:
    code = (
        "import sys, truelayer_async\n"
        "truelayer_async.Session('id', 'secret')\n"
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
