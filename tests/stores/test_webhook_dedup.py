"""The webhook Deduplicator over each token store's backend (memory, a real SQLite file,
a real redis-server), alone and behind the ASGI endpoint."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.routing import Route

from truelayer_async.errors import InvalidParameterError, StoreError
from truelayer_async.stores import MemoryTokenStore, RedisTokenStore, SqliteTokenStore
from truelayer_async.testing import FakeTrueLayer
from truelayer_async.testing.webhook_samples import sample_event
from truelayer_async.webhooks import Deduplicator, Event, MemoryDedupBackend

pytestmark = pytest.mark.asyncio

BACKENDS = ["memory", "sqlite", "redis"]
URI = "https://merchant.example/hooks/truelayer"

#: Makes a Deduplicator over a fresh shared backend; each call is another "process".
Factory = Callable[..., Deduplicator]


@pytest_asyncio.fixture(params=BACKENDS)
async def dedups(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """``make(**options)``: a Deduplicator over the same data each time (memory: the same
    dict; SQLite: a new store object on the same file; Redis: a new client)."""
    opened: list[Any] = []
    prefix = f"test-{secrets.token_hex(4)}:"
    memory = MemoryDedupBackend()

    def make(**options: Any) -> Deduplicator:
        if request.param == "memory":
            return Deduplicator(memory, **options)
        if request.param == "sqlite":
            store: Any = SqliteTokenStore(tmp_path / "tokens.db")
        else:
            store = RedisTokenStore(request.getfixturevalue("redis_url"), prefix=prefix)
        opened.append(store)
        return Deduplicator.for_store(store, **options)

    yield make
    for store in opened:
        await store.aclose()


async def test_first_time_then_seen_then_forgotten(dedups: Factory) -> None:
    dedup, other = dedups(), dedups()
    assert await dedup.first_time("evt-1") is True
    assert await dedup.first_time("evt-1") is False
    assert await other.first_time("evt-1") is False  # seen by another instance too
    assert await other.first_time("evt-2") is True
    await dedup.forget("evt-1")
    assert await other.first_time("evt-1") is True


async def test_an_id_is_remembered_for_the_ttl_only(dedups: Factory) -> None:
    dedup = dedups(ttl=0.2)
    assert await dedup.first_time("evt-ttl")
    assert not await dedup.first_time("evt-ttl")
    await anyio.sleep(0.4)  # past the TTL (not a timing assertion: any longer sleep passes)
    assert await dedup.first_time("evt-ttl")


async def test_concurrent_duplicates_run_the_handler_exactly_once(dedups: Factory) -> None:
    calls: list[str] = []

    async def handler() -> None:
        calls.append("x")
        await anyio.sleep(0.05)  # still running while the duplicates arrive

    outcomes: list[str] = []

    async def deliver(dedup: Deduplicator) -> None:
        outcomes.append(await dedup.process("evt-many", handler))

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            dedup = dedups()  # several instances, as several processes would be
            for _ in range(10):
                tg.start_soon(deliver, dedup)
    assert calls == ["x"]
    assert sorted(outcomes) == ["duplicate"] * 29 + ["handled"]


async def test_a_failed_handler_leaves_the_event_for_the_retry(dedups: Factory) -> None:
    dedup = dedups()
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await dedup.process("evt-retry", flaky)
    assert await dedup.process("evt-retry", flaky) == "handled"  # TrueLayer's retry
    assert await dedup.process("evt-retry", flaky) == "duplicate"
    assert calls == 2


async def test_a_duplicate_gives_up_while_the_first_is_still_running(dedups: Factory) -> None:
    dedup, impatient = dedups(), dedups(wait=0.05)
    release = anyio.Event()
    outcomes: list[str] = []

    async def slow() -> None:
        await release.wait()

    async def first() -> None:
        outcomes.append(await dedup.process("evt-slow", slow))

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await anyio.sleep(0.02)
        assert await impatient.process("evt-slow", slow) == "in_progress"
        release.set()
    assert outcomes == ["handled"]


async def test_a_crashed_claim_is_taken_over_after_its_lease(dedups: Factory) -> None:
    dedup = dedups(lease=0.1, wait=5)
    # A process that claimed the event and died before finishing (no release, no done).
    assert await dedup.backend.claim("evt-crash", "dead-owner", 0.1) == "claimed"
    ran: list[bool] = []

    async def handler() -> None:
        ran.append(True)

    assert await dedup.process("evt-crash", handler) == "handled"
    assert ran == [True]


async def test_bad_event_ids_and_stores_are_refused() -> None:
    dedup = Deduplicator.for_store(MemoryTokenStore())
    for bad in ("", "x" * 257, None):
        with pytest.raises(InvalidParameterError):
            await dedup.first_time(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="no dedup backend"):
        Deduplicator.for_store(object())
    with pytest.raises(InvalidParameterError):
        Deduplicator(ttl=0)


async def test_the_sqlite_marks_live_in_the_token_file(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "tokens.db"
    async with SqliteTokenStore(path) as store:
        assert await Deduplicator.for_store(store).first_time("evt-file")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT event_id, done FROM truelayer_webhook_events").fetchall()
    assert rows == [("evt-file", 1)]


async def test_redis_failures_are_store_errors() -> None:
    store = RedisTokenStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with pytest.raises(StoreError):
            await Deduplicator.for_store(store).first_time("evt-down")
    finally:
        await store.aclose()


# -- behind the ASGI endpoint ----------------------------------------------------------------


class Receiver:
    """The endpoint with ``dedup``, in a Starlette app reached in-process."""

    def __init__(self, fake: FakeTrueLayer, tl: Any, dedup: Deduplicator) -> None:
        self.fake = fake
        self.events: list[Event] = []
        self.fail_next = 0

        async def on_event(event: Event) -> None:
            await anyio.sleep(0.02)  # long enough for duplicates to overlap
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("database down")
            self.events.append(event)

        endpoint = tl.webhooks.asgi_app(on_event, dedup=dedup)
        self.app = Starlette(routes=[Route("/hooks/truelayer", endpoint, methods=["POST"])])

    async def post(self, payload: dict[str, Any]) -> int:
        headers, body = self.fake.signed_webhook(URI, payload)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="https://merchant.example"
        ) as client:
            response = await client.post("/hooks/truelayer", headers=headers, content=body)
        return response.status_code


@pytest_asyncio.fixture
async def receiver_for(
    dedups: Factory,
) -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    async with FakeTrueLayer() as fake, fake.session() as tl:

        async def make(**options: Any) -> Receiver:
            return Receiver(fake, tl, dedups(**options))

        yield make


async def test_endpoint_skips_duplicates_with_2xx(
    receiver_for: Callable[..., Awaitable[Receiver]],
) -> None:
    receiver = await receiver_for()
    event = sample_event("payment_settled")
    statuses: list[int] = []

    async def deliver() -> None:
        statuses.append(await receiver.post(event))

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(deliver)
    statuses.append(await receiver.post(event))  # a later retry
    assert statuses == [200] * 9
    assert [e.event_id for e in receiver.events] == [event["event_id"]]


async def test_endpoint_handler_failure_is_retried(
    receiver_for: Callable[..., Awaitable[Receiver]],
) -> None:
    receiver = await receiver_for()
    receiver.fail_next = 1
    event = sample_event("refund_executed")
    assert await receiver.post(event) == 500
    assert receiver.events == []
    assert await receiver.post(event) == 200  # TrueLayer's retry is handled
    assert await receiver.post(event) == 200  # and a later duplicate skipped
    assert len(receiver.events) == 1


class BrokenBackend(MemoryDedupBackend):
    async def claim(self, event_id: str, owner: str, lease: float) -> Any:
        raise StoreError("the dedup store is down")


async def test_endpoint_answers_503_when_the_dedup_store_fails() -> None:
    async with FakeTrueLayer() as fake, fake.session() as tl:
        receiver = Receiver(fake, tl, Deduplicator(BrokenBackend()))
        assert await receiver.post(sample_event("payment_executed")) == 503
        assert receiver.events == []
