"""iter_all: every user once, as they finish; back-pressure; clean exits on break/error/cancel.

Every scenario runs on asyncio and on trio. The bank is an ``httpx.MockTransport`` that
knows whose token each request carries, counts the requests in flight and checks that
every response it hands out is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest

from tests.support.backends import BACKENDS
from tests.support.token_endpoint import REDIRECT, form_of, token_response
from truelayer_async import (
    FetchAllResult,
    InvalidParameterError,
    ReauthorizationRequired,
    Session,
    UserResults,
)
from truelayer_async.services._fan_out import Progress


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


def envelope(results: list[dict[str, Any]]) -> bytes:
    return json.dumps({"results": results, "status": "Succeeded"}).encode()


ACCOUNT = {
    "update_timestamp": "2024-05-01T10:05:12Z",
    "account_id": "a1",
    "account_type": "TRANSACTION",
    "display_name": "Current",
    "currency": "GBP",
    "account_number": {"number": "12345678", "sort_code": "12-34-56"},
    "provider": {"provider_id": "mock"},
}
BALANCE = {"currency": "GBP", "current": 10.5, "available": 11}
TXN = {
    "transaction_id": "t1",
    "timestamp": "2024-04-28T00:00:00+00:00",
    "description": "SHOP",
    "amount": -1.5,
    "currency": "GBP",
    "transaction_type": "DEBIT",
    "transaction_category": "PURCHASE",
    "transaction_classification": [],
}


class Body(httpx.AsyncByteStream):
    """A response body that tells the bank when it is closed."""

    def __init__(self, bank: Bank, content: bytes) -> None:
        self.bank, self.content = bank, content
        bank.opened += 1

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.content

    async def aclose(self) -> None:
        self.bank.closed += 1


class Bank:
    """Tokens ``at-<user>``; one account per user; ``refused`` users' consent has lapsed."""

    def __init__(self, *, delay: float = 0.0, refused: frozenset[str] = frozenset()) -> None:
        self.delay = delay
        self.refused = refused
        self.started: list[str] = []  # users, in the order their first data request came
        self.requests = 0
        self.in_flight = 0
        self.peak = 0
        self.opened = 0
        self.closed = 0

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            code = form_of(request)["code"]
            return token_response(access=f"at-{code}", refresh=f"rt-{code}")
        self.requests += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            user = request.headers["authorization"].removeprefix("Bearer at-")
            path = request.url.path.removeprefix("/data/v1")
            if path == "/accounts":
                self.started.append(user)
            await anyio.sleep(self.delay)
            if user in self.refused:
                return self.answer(403, {"error": "access_denied"})
            if path == "/accounts":
                return self.answer(200, envelope([ACCOUNT]))
            if path.endswith("/balance"):
                return self.answer(200, envelope([BALANCE]))
            return self.answer(200, envelope([TXN] * 3))
        finally:
            self.in_flight -= 1

    def answer(self, status: int, body: Any) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        return httpx.Response(status, headers=headers, stream=Body(self, content))

    def assert_quiet(self) -> None:
        """Nothing in flight, every response closed."""
        assert self.in_flight == 0
        assert self.opened == self.closed


USERS = [f"u{i:02d}" for i in range(24)]


@contextlib.asynccontextmanager
async def session_for(bank: Bank, users: list[str]) -> AsyncIterator[Session]:
    """An open Session whose ``users`` each hold a token ``at-<user>``."""
    async with Session("c", "s", redirect_uri=REDIRECT, http_client=bank.client()) as tl:
        for user in users:
            await tl.auth.exchange_code(user, user=user)
        yield tl


def _check_one(result: FetchAllResult) -> None:
    assert result.ok, result.error
    (account,) = result.accounts
    assert account.account.account_id == "a1"
    assert account.balance is not None and len(account.transactions) == 3


@pytest.mark.anyio
async def test_every_user_once_with_per_user_errors_and_progress() -> None:
    bank = Bank(refused=frozenset({"u07", "u13"}))
    progress: list[Progress] = []
    got: list[FetchAllResult] = []
    async with (
        session_for(bank, USERS) as tl,
        tl.data.iter_all(USERS, concurrency=4, on_progress=progress.append) as results,
    ):
        async for result in results:
            got.append(result)
    assert sorted(r.user or "" for r in got) == USERS  # each user exactly once
    failed = sorted(r.user or "" for r in got if not r.ok)
    assert failed == ["u07", "u13"]
    assert all(isinstance(r.error, ReauthorizationRequired) for r in got if not r.ok)
    for result in got:
        if result.ok:
            _check_one(result)
    assert bank.peak <= 4
    assert [p.done for p in progress] == list(range(1, 25))
    assert {p.total for p in progress} == {24}
    assert sum(not p.ok for p in progress) == 2
    bank.assert_quiet()


@pytest.mark.anyio
async def test_results_come_as_users_finish_not_in_input_order() -> None:
    class SlowFirst(Bank):
        async def handle(self, request: httpx.Request) -> httpx.Response:
            if request.headers.get("authorization") == "Bearer at-u00":
                await anyio.sleep(0.2)  # u00 is slow: the others overtake it
            return await super().handle(request)

    bank = SlowFirst()
    users = USERS[:6]
    async with session_for(bank, users) as tl:
        async with tl.data.iter_all(users, concurrency=3) as results:
            order = [result.user async for result in results]
        # fetch_all, built on the same stream, still answers in the order of users.
        assert [r.user for r in await tl.data.fetch_all(users, concurrency=3)] == users
    assert sorted(order, key=str) == users
    assert order[0] != "u00" and order[-1] == "u00"


@pytest.mark.anyio
async def test_a_slow_consumer_holds_the_fetching_back() -> None:
    bank = Bank()
    users = USERS
    concurrency = 3
    taken = 0
    ahead: list[int] = []
    async with (
        session_for(bank, users) as tl,
        tl.data.iter_all(users, concurrency=concurrency) as results,
    ):
        async for _ in results:
            taken += 1
            # A slow loop body: let every fetching task run as far as it can (until no
            # user has started for a while).
            quiet, seen = 0, len(bank.started)
            while quiet < 10:
                await anyio.sleep(0.002)
                quiet, seen = (
                    (quiet + 1, seen) if len(bank.started) == seen else (0, len(bank.started))
                )
            ahead.append(len(bank.started) - taken)
    assert taken == len(users)
    # Users started but not yet handed over: at most concurrency fetching plus a buffer
    # of concurrency finished results; and the pipeline did fill up to that.
    assert max(ahead) <= 2 * concurrency
    assert max(ahead) >= concurrency
    bank.assert_quiet()


async def _break_after_one(tl: Session, users: list[str]) -> None:
    async with tl.data.iter_all(users, concurrency=4) as results:
        async for _ in results:
            break


async def _raise_in_body(tl: Session, users: list[str]) -> None:
    async def consume() -> None:
        async with tl.data.iter_all(users, concurrency=4) as results:
            async for _ in results:
                try:
                    {}["missing"]
                except KeyError as exc:
                    raise ValueError("consumer") from exc

    # Itself, not in an exception group, with its cause and context intact.
    with pytest.raises(ValueError, match="consumer") as caught:
        await consume()
    assert isinstance(caught.value.__cause__, KeyError)
    assert caught.value.__context__ is caught.value.__cause__


async def _cancel_by_scope(tl: Session, users: list[str]) -> None:
    with anyio.CancelScope() as scope:
        async with tl.data.iter_all(users, concurrency=4) as results:
            async for _ in results:
                scope.cancel()
                await anyio.sleep(1)  # a checkpoint: the cancellation lands here
    assert scope.cancelled_caught


async def _cancel_by_move_on(tl: Session, users: list[str]) -> None:
    with anyio.move_on_after(0.05) as scope:
        async with tl.data.iter_all(users, concurrency=4) as results:
            async for _ in results:
                pass
    assert scope.cancelled_caught


async def _cancel_from_a_sibling(tl: Session, users: list[str]) -> None:
    async def consume() -> None:
        async with tl.data.iter_all(users, concurrency=4) as results:
            async for _ in results:
                pass

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await anyio.sleep(0.05)
        tg.cancel_scope.cancel()


EXITS: dict[str, Callable[[Session, list[str]], Any]] = {
    "break": _break_after_one,
    "exception": _raise_in_body,
    "cancel_scope": _cancel_by_scope,
    "move_on_after": _cancel_by_move_on,
    "task_group": _cancel_from_a_sibling,
}


@pytest.mark.anyio
@pytest.mark.parametrize("leave", EXITS)
async def test_leaving_early_cancels_the_work_in_flight(leave: str) -> None:
    bank = Bank(delay=0.02)
    async with session_for(bank, USERS) as tl:
        with anyio.fail_after(60):  # a hang guard, not a timing assertion
            await EXITS[leave](tl, USERS)
        bank.assert_quiet()  # cancelled requests were waited for, every response closed
        sent = bank.requests
        assert len(bank.started) < len(USERS)  # the rest was never started
        await anyio.sleep(0.1)
        assert bank.requests == sent  # nothing keeps fetching after the block
        # The Session is still fine.
        result = (await tl.data.fetch_all(["u00"]))[0]
        _check_one(result)


@pytest.mark.asyncio
async def test_asyncio_task_cancel_leaves_no_task_behind() -> None:
    bank = Bank(delay=0.02)
    entered = asyncio.Event()

    async with session_for(bank, USERS) as tl:
        before = asyncio.all_tasks()

        async def consume() -> None:
            async with tl.data.iter_all(USERS, concurrency=4) as results:
                async for _ in results:
                    entered.set()

        task = asyncio.create_task(consume())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        bank.assert_quiet()
        assert asyncio.all_tasks() == before
        # A broken-off loop leaves none either.
        await _break_after_one(tl, USERS)
        assert asyncio.all_tasks() == before
        bank.assert_quiet()


@pytest.mark.anyio
async def test_misuse_is_refused_before_anything_starts() -> None:
    bank = Bank()
    async with session_for(bank, ["u00"]) as tl:
        with pytest.raises(InvalidParameterError):
            tl.data.iter_all(["u00"], concurrency=0)
        with pytest.raises(ValueError, match="from_"):
            tl.data.iter_all(["u00"], from_="2024-05-02", to="2024-05-01")
        stream = tl.data.iter_all(["u00"])
        assert isinstance(stream, UserResults)
        with pytest.raises(RuntimeError, match="async with"):
            async for _ in stream:
                pass
        async with stream as results:
            assert [r.user async for r in results] == ["u00"]
            with pytest.raises(RuntimeError, match="once"):
                async with stream:
                    pass
        with pytest.raises(RuntimeError, match="once"):
            async with stream:
                pass
        async with tl.data.iter_all([]) as results:
            assert [r async for r in results] == []
    assert bank.requests == 1 + 1 + 1  # u00's accounts, balance, transactions only


@pytest.mark.anyio
async def test_streams_from_the_emulator() -> None:
    from truelayer_async.testing import FakeTrueLayer

    async with FakeTrueLayer() as fake, fake.session() as tl:
        await fake.connect(tl, user="amex", username="john", password="cards")
        await fake.connect(tl, user="john", username="john2")
        async with tl.data.iter_all(["amex", "john", "nobody"], concurrency=2) as results:
            by_user = {r.user: r async for r in results}
    assert set(by_user) == {"amex", "john", "nobody"}
    assert by_user["amex"].ok and len(by_user["amex"].cards) == 1
    assert by_user["john"].ok and len(by_user["john"].accounts) == 2
    assert not by_user["nobody"].ok  # no token stored for this user
