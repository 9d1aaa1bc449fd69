"""Session lifecycle, event-loop binding, and configuration."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest

from truelayer_async import (
    ConfigurationError,
    Environment,
    EventLoopMismatchError,
    Session,
    SessionClosedError,
    Timeouts,
    TokenType,
)


def ok_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[])))


@pytest.mark.anyio
async def test_session_owns_and_closes_its_client() -> None:
    session = Session("id", "secret")
    async with session as tl:
        assert tl is session and tl.is_open
        client = tl._core.requester().client
        assert not client.is_closed
        assert client.follow_redirects is False
    assert client.is_closed
    assert not session.is_open


@pytest.mark.anyio
async def test_caller_supplied_client_is_used_and_left_open() -> None:
    client = ok_client()
    async with Session("id", "secret", http_client=client) as tl:
        assert tl._core.requester().client is client
        await tl.auth.providers()
    assert not client.is_closed
    await client.aclose()


@pytest.mark.anyio
async def test_aclose_is_idempotent_and_use_after_close_raises() -> None:
    session = Session("id", "secret", http_client=ok_client())
    await session.open()
    await session.aclose()
    await session.aclose()
    with pytest.raises(SessionClosedError, match="closed"):
        await session.auth.providers()
    with pytest.raises(SessionClosedError, match="closed"):
        await session.auth.valid_token()
    with pytest.raises(SessionClosedError):
        async with session:
            pass


@pytest.mark.anyio
async def test_entering_twice_raises() -> None:
    async with Session("id", "secret") as tl:
        with pytest.raises(SessionClosedError, match="only once"):
            await tl.__aenter__()


@pytest.mark.anyio
async def test_unopened_session_raises_a_clear_error() -> None:
    session = Session("id", "secret")
    with pytest.raises(SessionClosedError, match="not open"):
        await session.auth.valid_token(TokenType.DATA)


def test_session_from_another_event_loop_raises_typed_error() -> None:
    holder: list[Session] = []

    async def first() -> None:
        session = Session("id", "secret", http_client=ok_client())
        await session.open()
        holder.append(session)

    async def second() -> None:
        with pytest.raises(EventLoopMismatchError, match="different event loop"):
            await holder[0].auth.valid_token()
        with pytest.raises(EventLoopMismatchError):
            await holder[0].auth.providers()

    asyncio.run(first())
    asyncio.run(second())


def test_session_works_under_trio() -> None:
    async def main() -> None:
        async with Session("id", "secret", http_client=ok_client()) as tl:
            assert await tl.auth.providers() == []

    anyio.run(main, backend="trio")


def test_sessions_repr_hides_the_secret(sentinel: str) -> None:
    session = Session("id", sentinel)
    assert sentinel not in repr(session)
    assert sentinel not in repr(vars(session))


@pytest.mark.parametrize(
    ("auth_url", "allow"),
    [
        ("http://auth.example.com", False),
        ("ftp://auth.example.com", True),
        ("https://", False),
        ("https://user:pw@auth.example.com", False),
    ],
)
def test_environment_rejects_bad_urls(auth_url: str, allow: bool) -> None:
    with pytest.raises(ConfigurationError):
        Environment.custom(auth_url, allow_insecure_http=allow)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost:1234", "http://[::1]:9", "https://x.example"],
)
def test_environment_accepts_https_and_loopback_http(url: str) -> None:
    env = Environment.custom(url + "/")
    assert env.auth_url == url and env.api_url == url
    assert env.data_url == url + "/data/v1"


def test_environment_http_opt_in() -> None:
    env = Environment.custom("http://fake.internal", allow_insecure_http=True)
    assert env.auth_url == "http://fake.internal"


def test_builtin_environments() -> None:
    assert Environment.SANDBOX.auth_url == "https://auth.truelayer-sandbox.com"
    assert Environment.SANDBOX.data_url == "https://api.truelayer-sandbox.com/data/v1"
    assert Environment.PRODUCTION.auth_url == "https://auth.truelayer.com"
    assert Environment.PRODUCTION.api_url == "https://api.truelayer.com"


def test_timeouts() -> None:
    assert Timeouts.coerce(None) == Timeouts()
    assert Timeouts.coerce(12).total == 12.0
    assert Timeouts().connect == 5.0 and Timeouts().read <= 30
    with pytest.raises(ConfigurationError):
        Timeouts(read=31)
    with pytest.raises(ConfigurationError):
        Timeouts(connect=0)


@pytest.mark.parametrize("kwargs", [{"client_id": ""}, {"client_secret": ""}, {"max_retries": -1}])
def test_session_validates_arguments(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"client_id": "id", "client_secret": "secret"}
    args.update(kwargs)
    with pytest.raises(ConfigurationError):
        Session(**args)  # type: ignore[arg-type]
