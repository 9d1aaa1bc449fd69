"""Issue #15: no rotated refresh token is ever lost, whatever cancels the caller.

The emulator rotates refresh tokens strictly (a rotated one presented again revokes the
connection), so a lost pair shows up as a failed refresh afterwards. Each test holds a
refresh at one of its await points (request sent, answer in flight after the server
rotated, store write), cancels the caller there by one mechanism, lets the refresh go on,
and checks that the store holds the emulator's newest refresh token and that the
emulator still accepts it.
"""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest

from tests.secret_scan import assert_no_secret_in_frame_locals
from tests.support.doubles import FailingStore
from tests.support.flights import (
    ASYNCIO_KINDS,
    TRIO_KINDS,
    USER,
    Cancel,
    Pause,
    PausingStore,
    PausingTransport,
    assert_newest_kept,
    cancel_by_task_cancel,
    cancellation_scenario,
    connect_user,
    is_refresh,
)
from truelayer_async import DATA_SCOPES, MemoryTokenStore, Secret, Timeouts, TokenType
from truelayer_async import errors as e
from truelayer_async._token_response import parse_token_response
from truelayer_async.testing import FakeTrueLayer, complete_consent

POINTS = ["sent", "answer", "store"]


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only, on purpose: these tests cancel by asyncio's own mechanisms
    (``wait_for``, ``Task.cancel``, ``asyncio.timeout``, ``TaskGroup``)."""
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
async def test_a_cancelled_caller_never_loses_the_rotated_pair(point: str, cancel: Cancel) -> None:
    await cancellation_scenario(point, cancel)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
def test_a_cancelled_caller_never_loses_the_rotated_pair_on_trio(
    point: str, cancel: Cancel
) -> None:
    anyio.run(cancellation_scenario, point, cancel, backend="trio")


def _is_client_grant(request: httpx.Request) -> bool:
    return b"grant_type=client_credentials" in request.content


async def renewal_scenario(point: str, cancel: Cancel) -> None:
    """Cancel the caller of a client-token renewal (the 401 path) at ``point``: the new
    token is still stored, and the next call uses it without another grant."""
    fake = FakeTrueLayer()
    pause = Pause(point)
    transport = PausingTransport(fake, pause, matches=_is_client_grant)
    client = httpx.AsyncClient(transport=transport, base_url="http://x")
    async with client, fake.session(http_client=client, token_store=PausingStore(pause)) as tl:
        core = tl._core
        refused = await core.client_credentials(["payments"])
        pause.armed = True
        with anyio.fail_after(60):  # a hang guard, not a timing assertion
            await cancel(
                lambda: core.client_credentials(["payments"], replacing=refused.access_token),
                pause,
            )
            assert pause.reached.is_set()  # the cancellation landed at the point under test
            pause.release.set()
            await core.tokens.drain(30)
        assert fake.stats["client_credentials"] == 2  # the first grant and the renewal
        renewed = await core.client_credentials(["payments"])
        assert renewed.access_token != refused.access_token
        assert fake.stats["client_credentials"] == 2  # the renewal's token was kept


@pytest.mark.anyio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
async def test_a_cancelled_client_token_renewal_keeps_its_new_token(
    point: str, cancel: Cancel
) -> None:
    await renewal_scenario(point, cancel)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
def test_a_cancelled_client_token_renewal_keeps_its_new_token_on_trio(
    point: str, cancel: Cancel
) -> None:
    anyio.run(renewal_scenario, point, cancel, backend="trio")


@pytest.mark.anyio
async def test_a_cancelled_data_call_keeps_the_pair() -> None:
    """The FastAPI shape: a request timeout wraps a data call whose token expired."""
    fake = FakeTrueLayer()
    pause = Pause("answer")
    client = httpx.AsyncClient(transport=PausingTransport(fake, pause), base_url="http://x")
    async with client, fake.session(http_client=client) as tl:
        key = await connect_user(fake, tl)
        fake.clock.advance(4000)
        pause.armed = True
        await cancel_by_task_cancel(lambda: tl.data.accounts(user=USER), pause)
        pause.release.set()
        await assert_newest_kept(fake, tl, key)


@pytest.mark.anyio
async def test_aclose_waits_for_a_flight_whose_caller_left() -> None:
    fake = FakeTrueLayer()
    pause = Pause("answer")
    store = MemoryTokenStore()
    client = httpx.AsyncClient(transport=PausingTransport(fake, pause), base_url="http://x")
    async with client:
        tl = fake.session(http_client=client, token_store=store)
        async with tl:
            key = await connect_user(fake, tl)
            fake.clock.advance(4000)
            pause.armed = True
            await cancel_by_task_cancel(lambda: tl.auth.valid_token(user=USER), pause)
            # Release the answer only once aclose() is already waiting.
            asyncio.get_running_loop().call_soon(pause.release.set)
        record = await store.get(key)
        assert record is not None
        assert record.token.refresh_token == Secret(fake.latest_refresh_token("john") or "")
        with pytest.raises(e.SessionClosedError):
            await tl.auth.valid_token(user=USER)


@pytest.mark.anyio
async def test_a_cancelled_code_exchange_still_stores_the_connection() -> None:
    fake = FakeTrueLayer()
    pause = Pause("answer")

    transport = PausingTransport(fake, pause, lambda r: r.url.path == "/connect/token")
    client = httpx.AsyncClient(transport=transport, base_url="http://x")
    async with client, fake.session(http_client=client) as tl:
        # A code from the real dialog is single-use: losing its answer loses the user.
        link = tl.auth.auth_link(scopes=DATA_SCOPES, providers="uk-cs-mock", pkce=True)
        consent = await complete_consent(fake.http_client(), link.url)
        code = tl.auth.parse_callback(consent.redirect_url, expected_state=link.state)
        pause.armed = True
        await cancel_by_task_cancel(
            lambda: tl.auth.exchange_code(code, user=USER, code_verifier=link.code_verifier),
            pause,
        )
        pause.release.set()
        token = await tl.auth.valid_token(user=USER)
        assert token.access_token == Secret(fake.latest_access_token("john") or "")


# -- item 2: extension spends the refresh token inside the same flight ------------------


@pytest.mark.anyio
async def test_a_cancelled_extension_keeps_the_new_pair() -> None:
    fake = FakeTrueLayer()
    pause = Pause("answer")

    transport = PausingTransport(fake, pause, lambda r: r.url.path == "/connections/extend")
    client = httpx.AsyncClient(transport=transport, base_url="http://x")
    async with client, fake.session(http_client=client) as tl:
        key = tl._core.tokens.key(TokenType.DATA, USER)
        grant = parse_token_response(fake.create_connection(password="eternal"))
        await tl._core.tokens.store_new(key, grant, TokenType.DATA)
        pause.armed = True
        info = {"id": "1", "name": "John", "email": "john@example.com"}
        await cancel_by_task_cancel(
            lambda: tl.auth.extend_connection(user=USER, user_info=info), pause
        )
        pause.release.set()
        await assert_newest_kept(fake, tl, key)


@pytest.mark.anyio
async def test_extension_and_refresh_never_spend_one_refresh_token_twice() -> None:
    fake = FakeTrueLayer()
    async with fake, fake.session() as tl:
        key = tl._core.tokens.key(TokenType.DATA, USER)
        grant = parse_token_response(fake.create_connection(password="eternal"))
        await tl._core.tokens.store_new(key, grant, TokenType.DATA)
        fake.add_latency("/connect/token", 0.05)
        info = {"id": "1", "name": "John", "email": "john@example.com"}
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: tl.auth.refresh_token(user=USER))
            tg.start_soon(lambda: tl.auth.extend_connection(user=USER, user_info=info))
        # Had both sent the same refresh token, the emulator would have revoked it.
        await assert_newest_kept(fake, tl, key)


@pytest.mark.anyio
async def test_a_failed_store_write_after_extension_leaves_no_token_in_frames() -> None:
    """Item 6: the new pair is in no frame's locals on the error's traceback."""
    fake = FakeTrueLayer()
    store = FailingStore()
    async with fake, fake.session(token_store=store) as tl:
        key = tl._core.tokens.key(TokenType.DATA, USER)
        grant = parse_token_response(fake.create_connection(password="eternal"))
        await tl._core.tokens.store_new(key, grant, TokenType.DATA)
        store.fail = 1
        info = {"id": "1", "name": "John", "email": "john@example.com"}
        with pytest.raises(e.TokenPersistenceError) as caught:
            await tl.auth.extend_connection(user=USER, user_info=info)
        new_access = fake.latest_access_token("john")
        new_refresh = fake.latest_refresh_token("john")
        assert new_access and new_refresh
        assert_no_secret_in_frame_locals(caught.value, new_access)
        assert_no_secret_in_frame_locals(caught.value, new_refresh)
        # Kept in memory and written on the next access: nothing lost.
        await assert_newest_kept(fake, tl, key)


# -- item 3: a failed write is seen by every Session on the store ------------------------


@pytest.mark.anyio
async def test_a_record_one_session_failed_to_save_is_used_by_another() -> None:
    fake = FakeTrueLayer()
    store = FailingStore()
    async with fake, fake.session(token_store=store) as a, fake.session(token_store=store) as b:
        key = await connect_user(fake, a)
        fake.clock.advance(4000)
        store.fail = 1
        with pytest.raises(e.TokenPersistenceError):
            await a.auth.valid_token(user=USER)
        assert fake.stats["refresh"] == 1
        # Session B finds the old record in the store, but must not spend its refresh
        # token (already rotated): it writes A's unsaved record and serves it.
        token = await b.auth.valid_token(user=USER)
        assert fake.stats["refresh"] == 1
        assert token.access_token == Secret(fake.latest_access_token("john") or "")
        await assert_newest_kept(fake, b, key)


# -- item 4: a malformed 200 still has its refresh token saved ---------------------------


class DuplicatingTransport(httpx.AsyncBaseTransport):
    """Repeats ``access_token`` in the next refresh answer (the server rotated the pair)."""

    def __init__(self, fake: FakeTrueLayer) -> None:
        self.inner = httpx.ASGITransport(app=fake)
        self.duplicate = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.duplicate and is_refresh(request):
            self.duplicate = False
            body = (await response.aread()).decode()
            body = body.replace('{"access_token":', '{"access_token":"x","access_token":', 1)
            assert body.count('"access_token"') == 2
            headers = {"content-type": "application/json"}
            return httpx.Response(200, content=body.encode(), headers=headers)
        return response


@pytest.mark.anyio
async def test_a_duplicated_key_in_a_refresh_answer_keeps_its_refresh_token() -> None:
    fake = FakeTrueLayer()
    transport = DuplicatingTransport(fake)
    client = httpx.AsyncClient(transport=transport, base_url="http://x")
    async with client, fake.session(http_client=client) as tl:
        key = await connect_user(fake, tl)
        fake.clock.advance(4000)
        transport.duplicate = True
        with pytest.raises(e.MalformedTokenResponse):
            await tl.auth.valid_token(user=USER)
        record = await tl.token_store.get(key)
        assert record is not None
        assert record.token.refresh_token == Secret(fake.latest_refresh_token("john") or "")
        # The next call refreshes with the salvaged token, and the emulator accepts it.
        assert await tl.data.accounts(user=USER)
        assert fake.stats["refresh"] == 2


# -- item 9: a stuck refresh has a deadline; a waiting caller leaves at its own ----------


@pytest.mark.anyio
async def test_a_stuck_token_endpoint_holds_neither_the_caller_nor_the_key() -> None:
    fake = FakeTrueLayer()
    stuck = anyio.Event()
    requests: list[str] = []

    class StuckOnce(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=fake)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if is_refresh(request):
                requests.append("refresh")
                if len(requests) == 1:
                    stuck.set()
                    await anyio.sleep(3600)  # a server that never finishes answering
            return await self.inner.handle_async_request(request)

    client = httpx.AsyncClient(transport=StuckOnce(), base_url="http://x")
    timeouts = Timeouts(total=0.2, token=0.6)
    async with client, fake.session(http_client=client, timeout=timeouts) as tl:
        key = await connect_user(fake, tl)
        fake.clock.advance(4000)
        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            with pytest.raises(e.TransportTimeout):
                await tl.auth.valid_token(user=USER)  # leaves at its own deadline
            assert stuck.is_set()
            # The flight gives up at the token deadline and frees the key: the next
            # refresh goes out and succeeds (the stuck one never reached the server).
            while len(requests) < 2:
                try:
                    await tl.auth.valid_token(user=USER)
                except e.TransportError:
                    await anyio.sleep(0.05)
        await assert_newest_kept(fake, tl, key)


# -- item 11: concurrent forced refreshes share one flight -------------------------------


@pytest.mark.anyio
async def test_concurrent_forced_refreshes_join_one_flight() -> None:
    fake = FakeTrueLayer()
    async with fake, fake.session() as tl:
        key = await connect_user(fake, tl)
        fake.add_latency("/connect/token", 0.05)
        tokens: list[Secret] = []

        async def force() -> None:
            tokens.append((await tl.auth.refresh_token(user=USER)).access_token)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(force)
        assert fake.stats["refresh"] == 1
        assert len(set(tokens)) == 1
        await assert_newest_kept(fake, tl, key)


@pytest.mark.asyncio
async def test_a_cancelled_aclose_still_closes_the_session() -> None:
    """aclose() cancelled (asyncio's own cancellation) while it drains a flight."""
    fake = FakeTrueLayer()
    pause = Pause("answer")
    client = httpx.AsyncClient(transport=PausingTransport(fake, pause), base_url="http://x")
    async with client:
        tl = fake.session(http_client=client)
        await tl.open()
        await connect_user(fake, tl)
        fake.clock.advance(4000)
        pause.armed = True
        await cancel_by_task_cancel(lambda: tl.auth.valid_token(user=USER), pause)
        closing = asyncio.ensure_future(tl.aclose())
        await asyncio.sleep(0)  # aclose() is now draining the held flight
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert "state=closed" in repr(tl)  # not left "closing" for good
        with pytest.raises(e.SessionClosedError):
            await tl.auth.valid_token(user=USER)
        pause.release.set()
