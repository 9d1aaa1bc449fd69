"""reliability.md §2.2 TK: token lifecycle and refresh (one test per id)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

from tests.support.doubles import FailingStore
from tests.support.reliability import (
    ACCOUNTS_URL,
    REDIRECT,
    TOKEN_URL,
    Guard,
    Secrets,
    TokenServer,
    accounts_body,
    connect,
    data_key,
    form_of,
    refresh_of,
    stored,
    token_json,
)
from truelayer_async import MemoryTokenStore, Session
from truelayer_async import errors as e
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import FakeClock

pytestmark = pytest.mark.asyncio


def slow(server: TokenServer, delay: float = 0.05) -> Any:
    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(delay)
        return server(request)

    return handler


def newest_only(server: TokenServer) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {server.latest_access}":
            return httpx.Response(401, json={"error": "unauthorized"})
        return httpx.Response(200, json=accounts_body())

    return handler


async def test_tk01_proactive_refresh_with_clamped_leeway(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock
) -> None:
    await connect(tl, secrets)
    clock.advance(3600 - 61)
    await tl.auth.valid_token(user="u")
    assert server.count("refresh_token") == 0
    clock.advance(2)  # expiry - 59 s
    await tl.auth.valid_token(user="u")
    assert server.count("refresh_token") == 1
    # expires_in <= 2 x leeway: the margin is half the lifetime (see §4 #33 for the storm test)
    record = await stored(tl)
    assert record is not None and record.token.leeway(60) == 60
    short = record.token.__class__(
        access_token=record.token.access_token,
        token_type=record.token.token_type,
        expires_at=record.token.expires_at,
        expires_in=30,
    )
    assert short.leeway(60) == 15


async def test_tk02_single_flight(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    await connect(tl, secrets)
    respx_mock.post(TOKEN_URL).mock(side_effect=slow(server))
    api = respx_mock.get(ACCOUNTS_URL).mock(side_effect=newest_only(server))
    clock.advance(4000)
    failures: list[BaseException] = []

    async def call() -> None:
        try:
            await tl.data.accounts(user="u")
        except e.TrueLayerError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert failures == []
    assert server.count("refresh_token") == 1
    assert {c.request.headers["authorization"] for c in api.calls} == {
        f"Bearer {server.latest_access}"
    }


async def test_tk03_double_checked_locking(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    await connect(tl, secrets)
    respx_mock.post(TOKEN_URL).mock(side_effect=slow(server, 0.1))
    clock.advance(4000)
    seen: list[str] = []

    async def waiter() -> None:
        seen.append((await tl.auth.valid_token(user="u")).access_token.get_secret_value())

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        tg.start_soon(waiter)
    assert server.count("refresh_token") == 1
    assert seen == [server.latest_access] * 2


async def test_tk04_lock_per_key_and_shared_across_sessions(
    server: TokenServer, secrets: Secrets, clock: FakeClock, respx_mock: respx.MockRouter
) -> None:
    """Regression: two Sessions over one store used to refresh twice (one lock per Session)."""
    store = MemoryTokenStore()
    respx_mock.post(TOKEN_URL).mock(side_effect=slow(server))
    kwargs: dict[str, Any] = {"redirect_uri": REDIRECT, "clock": clock, "token_store": store}
    async with (
        Session("c", secrets.client_secret, **kwargs) as a,
        Session("c", secrets.client_secret, **kwargs) as b,
    ):
        await connect(a, secrets, user="u")
        clock.advance(4000)
        order: list[str] = []

        async def get(session: Session) -> None:
            await session.auth.valid_token(user="u")
            order.append("u")

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(get, a)
                tg.start_soon(get, b)
        assert server.count("refresh_token") == 1  # two Sessions, one store: one refresh
        assert refresh_of(await store.get(data_key(a))) == server.latest_refresh


async def test_tk04_unrelated_users_do_not_wait(
    tl: Session, clock: FakeClock, respx_mock: respx.MockRouter
) -> None:
    stalled = anyio.Event()
    release = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        if form["grant_type"] == "authorization_code":
            user, generation = form["code"], 0
        else:
            user, _, n = form["refresh_token"].rpartition("-rt-")
            generation = int(n)
            if user == "alice":
                stalled.set()
                await release.wait()
        new = generation + 1
        return httpx.Response(200, json=token_json(f"{user}-at-{new}", f"{user}-rt-{new}"))

    respx_mock.post(TOKEN_URL).mock(side_effect=handler)
    for user in ("alice", "bob"):
        await tl.auth.exchange_code(user, user=user)
    clock.advance(4000)
    finished: list[str] = []

    async def refresh(user: str) -> None:
        await tl.auth.valid_token(user=user)
        finished.append(user)

    async with anyio.create_task_group() as tg:
        tg.start_soon(refresh, "alice")
        await stalled.wait()
        await refresh("bob")
        assert finished == ["bob"]  # bob finished while alice's refresh was stalled
        release.set()
    assert finished == ["bob", "alice"]


async def test_tk05_failed_refresh_releases_every_waiter(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    await connect(tl, secrets)
    clock.advance(4000)

    async def boom(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.02)
        raise httpx.ReadError("reset")  # after sending: refresh outcome unknown, twice

    respx_mock.post(TOKEN_URL).mock(side_effect=boom)
    outcomes: list[BaseException] = []

    async def call() -> None:
        try:
            await tl.auth.valid_token(user="u")
        except e.TrueLayerError as exc:
            outcomes.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(call)
    assert len(outcomes) == 10 and all(isinstance(o, e.TransportError) for o in outcomes)
    respx_mock.post(TOKEN_URL).mock(side_effect=server)
    assert await tl.auth.valid_token(user="u")  # the next call refreshes again


async def test_tk06_cancelled_leader_still_persists(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    """See also §4 #34 (test_bad_inputs.py), which also checks a waiter."""
    await connect(tl, secrets)
    clock.advance(4000)
    started = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        started.set()
        await anyio.sleep(0.05)
        return server(request)

    respx_mock.post(TOKEN_URL).mock(side_effect=handler)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: tl.auth.valid_token(user="u"))
        await started.wait()
        tg.cancel_scope.cancel()
    with anyio.fail_after(2):
        while refresh_of(await stored(tl)) != secrets.refresh(2):
            await anyio.sleep(0.01)


@pytest.mark.parametrize("refresh", ["new", None, ""])
async def test_tk07_refresh_token_kept_when_absent(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, refresh: str | None
) -> None:
    await connect(tl, secrets)
    clock.advance(4000)
    new = secrets.refresh(7) if refresh == "new" else refresh
    server.script = [httpx.Response(200, json=token_json(secrets.access(7), new))]
    await tl.auth.valid_token(user="u")
    record = await stored(tl)
    assert record is not None
    assert record.token.access_token.get_secret_value() == secrets.access(7)
    assert refresh_of(record) == (secrets.refresh(7) if refresh == "new" else secrets.refresh(1))


async def test_tk08_persist_before_use_and_loud_failures(
    server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    store = FailingStore()
    async with Session(
        "c", secrets.client_secret, redirect_uri=REDIRECT, clock=clock, token_store=store
    ) as tl:
        await connect(tl, secrets)
        clock.advance(4000)
        token = await tl.auth.valid_token(user="u")
        assert store.writes[-1].token == token  # written before it was returned
        clock.advance(4000)
        store.fail = 1
        with guard.raises(e.TokenPersistenceError):
            await tl.auth.valid_token(user="u")
        calls = server.count("refresh_token")
        await tl.auth.valid_token(user="u")
        assert server.count("refresh_token") == calls  # no second refresh
        assert store.writes[-1].token.refresh_token == store.writes[-2].token.refresh_token
        assert refresh_of(await store.get(data_key(tl))) == server.latest_refresh


@pytest.mark.parametrize(("then", "ok"), [("200", True), ("invalid_grant", False)])
async def test_tk09_lost_refresh_response_retried_once(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    then: str,
    ok: bool,
) -> None:
    await connect(tl, secrets)
    clock.advance(4000)
    if ok:
        server.script = [httpx.ReadTimeout("lost")]  # nothing committed: the retry succeeds
        await tl.auth.valid_token(user="u")
        assert refresh_of(await stored(tl)) == server.latest_refresh
    else:
        server.script = ["commit-then-drop"]  # rotated, then lost: the retry is reuse
        with guard.raises(e.ReauthorizationRequired) as info:
            await tl.auth.valid_token(user="u")
        assert info.value.reason == "refresh_outcome_unknown"
        record = await stored(tl)
        assert record is not None and record.invalid and refresh_of(record) == secrets.refresh(1)
    assert server.count("refresh_token") == 2


async def test_tk10_invalid_grant_marks_invalid_and_fails_fast(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    await connect(tl, secrets)
    clock.advance(4000)
    server.revoked = True
    with guard.raises(e.ReauthorizationRequired):
        await tl.auth.valid_token(user="u")
    assert server.count("refresh_token") == 1  # never retried
    record = await stored(tl)
    assert record is not None and record.invalid and record.invalid_reason == "invalid_grant"
    with guard.raises(e.ReauthorizationRequired) as info:
        await tl.auth.refresh_token(user="u")
    assert info.value.reason == "marked_invalid"
    assert server.count("refresh_token") == 1


@pytest.mark.parametrize(("second", "ok"), [(200, True), (401, False)])
async def test_tk11_401_refreshes_once_and_replays_once(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    second: int,
    ok: bool,
) -> None:
    await connect(tl, secrets)
    unauthorized = httpx.Response(401, json={"error": "unauthorized"})
    route = respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=[unauthorized, httpx.Response(second, json=accounts_body())]
    )
    if ok:
        assert await tl.data.accounts(user="u")
    else:
        with guard.raises(e.UnauthenticatedError):
            await tl.data.accounts(user="u")
    assert route.call_count == 2 and server.count("refresh_token") == 1


async def test_tk12_403_never_refreshes(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=[
            httpx.Response(403, json={"error": "access_denied"}),
            httpx.Response(403, json={"error": "sca_exceeded"}),
        ]
    )
    with guard.raises(e.ReauthorizationRequired) as info:
        await tl.data.accounts(user="u")
    assert info.value.reason == "consent_expired"
    with guard.raises(e.ScaExceededError):
        await tl.data.accounts(user="u")
    assert server.count("refresh_token") == 0


async def test_tk13_transient_refresh_failure_serves_the_valid_token(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    await connect(tl, secrets)
    clock.advance(3600 - 50)  # inside the leeway, not expired
    down = httpx.Response(503, json={"error": "temporarily_unavailable"})
    server.script = [down] * 10
    for _ in range(5):  # 5 calls within the 5 s back-off: one token request
        assert (await tl.auth.valid_token(user="u")).access_token.get_secret_value() == (
            secrets.access(1)
        )
        clock.advance(0.5)
    assert server.count("refresh_token") == 1
    clock.advance(5)
    await tl.auth.valid_token(user="u")
    assert server.count("refresh_token") == 2
    clock.advance(60)  # expired: the failure surfaces
    with guard.raises(e.TokenEndpointUnavailable):
        await tl.auth.valid_token(user="u")


async def test_tk14_cross_process_lock(
    tmp_path: Path,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two Sessions over two SqliteTokenStore objects on one file (as two processes would
    open it) refresh once; a lock held elsewhere raises TokenStoreBusy without a request.
    tests/stores/test_cross_process.py runs the same with real processes and Redis."""
    respx_mock.post(TOKEN_URL).mock(side_effect=slow(server, 0.1))
    path = tmp_path / "t.db"

    def session() -> Session:
        return Session(
            "c",
            secrets.client_secret,
            redirect_uri=REDIRECT,
            clock=clock,
            token_store=SqliteTokenStore(path, lease=5.0),
        )

    async with session() as a, session() as b:
        await connect(a, secrets)
        clock.advance(4000)
        async with anyio.create_task_group() as tg:
            for s in (a, b) * 3:
                tg.start_soon(lambda s=s: s.auth.valid_token(user="u"))
        assert server.count("refresh_token") == 1
        monkeypatch.setattr("truelayer_async._token_manager.STORE_LOCK_TIMEOUT", 0.2)
        clock.advance(4000)
        holder = SqliteTokenStore(path, lease=5.0)
        async with holder.lock(data_key(a), timeout=1):
            with guard.raises(e.TokenStoreBusy):
                await b.auth.valid_token(user="u")
        assert server.count("refresh_token") == 1
