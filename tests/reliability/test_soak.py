"""The fault-injection soak: many users against the emulator running as a real server.

Two emulators are served over loopback HTTP (uvicorn threads): one rotates refresh
tokens strictly (``refresh_token_reuse="revoke"``), the other accepts the previous
refresh token once (``"grace"``, the FAPI 2.0 behaviour); users are split between them.
Each round injects faults at random (fixed seed): 5xx bursts on the Data API and the
token endpoint, latency, connection resets (responses dropped after the server acted,
on GETs), lost refresh responses, clock jumps past expiry, and revoked consent. Then
every user makes 1-3 calls at once; a fifth of the calls are cancelled by their caller
at a random point, by each of asyncio's and anyio's mechanisms (``wait_for``,
``asyncio.timeout``, ``Task.cancel``, a ``TaskGroup``, ``move_on_after``, a task-group
cancel).

At the end every user makes one more call after a final clock jump, and the soak checks:

* every user has a working refresh lineage (the call works and the stored refresh token
  is the emulator's newest) or a clear ``ReauthorizationRequired`` with the record marked
  invalid: never a silently lost token;
* no exception outside ``TrueLayerError`` was raised, and none held a secret;
* no log record (DEBUG and up, every logger) held the client secret or a token;
* no pooled connection is left busy, and both clients are closed at the end;
* memory allocated by the SDK, httpx and httpcore stays flat (tracemalloc, a late window
  against an early one).

The figures go to ``artifacts/soak-<variant>.json``. The default run is short (40 users);
``nox -s soak`` runs the long one (``pytest tests/reliability -m slow --soak-long``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from tests.secret_scan import assert_no_secret_anywhere, assert_no_secret_in_frame_locals
from tests.support.processes import REPO
from truelayer_async import Session, TokenType
from truelayer_async import errors as e
from truelayer_async._token_response import parse_token_response
from truelayer_async.testing import DEFAULT_REDIRECT_URI, FakeTrueLayer

ARTIFACTS = REPO / "artifacts"
PACKAGE = Path(e.__file__).resolve().parent
CLIENT_ID = "soak-client"
TOKEN_LIKE = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}|\b[0-9A-F]{64}\b")


@attrs.frozen
class Variant:
    name: str
    users: int
    rounds: int
    seed: int = 20_260_601
    concurrency: int = 64


SHORT = Variant("short", users=40, rounds=14)
LONG = Variant("long", users=200, rounds=12)
TRACED = 2  # rounds traced by tracemalloc at the end of the run


@attrs.define
class User:
    name: str
    fake: FakeTrueLayer
    tl: Session
    credentials_id: str
    account_id: str
    revoked: bool = False
    outcomes: Counter[str] = attrs.field(factory=Counter)


class LogScanner(logging.Handler):
    """Scans every record as it is emitted (nothing is kept, so memory stays flat)."""

    def __init__(self, sentinel: str) -> None:
        super().__init__(logging.DEBUG)
        self.sentinel = sentinel
        self.records = 0
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        text = f"{record.getMessage()} {record.args!r}"
        if self.sentinel in text or TOKEN_LIKE.search(text):
            self.leaks.append(f"{record.name}: {text[:200]}")
        if record.name.startswith("truelayer_async") and record.exc_info is not None:
            self.leaks.append(f"{record.name}: exc_info attached")


def sdk_filters() -> list[tracemalloc.Filter]:
    import httpcore
    import httpx

    roots = [PACKAGE, Path(httpx.__file__).parent, Path(httpcore.__file__).parent]
    return [
        *(tracemalloc.Filter(True, f"{root}/*") for root in roots),
        tracemalloc.Filter(False, f"{PACKAGE}/testing/*"),
    ]


def sdk_snapshot() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces(sdk_filters())


def total(snapshot: tracemalloc.Snapshot) -> int:
    return sum(stat.size for stat in snapshot.statistics("filename"))


def busy(tl: Session) -> list[str]:
    """The pool's connections that are not idle, described (empty when all are idle)."""
    pool = tl._core.requester().client._transport._pool  # type: ignore[attr-defined]
    waiting = [f"{r.request.method!r} {r.request.url.target!r}" for r in pool._requests]
    return [f"{conn!r} requests={waiting}" for conn in pool.connections if not conn.is_idle()]


async def fast_sleep(seconds: float) -> None:
    await anyio.sleep(min(seconds, 0.005))  # back-off is exercised, not waited out


@pytest.fixture
def fakes(sentinel: str) -> Iterator[dict[str, FakeTrueLayer]]:
    made = {
        "revoke": FakeTrueLayer(refresh_token_reuse="revoke"),
        "grace": FakeTrueLayer(refresh_token_reuse="grace"),
    }
    with ExitStack() as stack:
        for fake in made.values():
            fake.register_client(CLIENT_ID, f"{sentinel}-client-secret", [DEFAULT_REDIRECT_URI])
            stack.enter_context(fake.serve_in_thread())
        yield made


async def run_soak(
    variant: Variant, fakes: dict[str, FakeTrueLayer], sentinel: str
) -> dict[str, Any]:
    rng = random.Random(variant.seed)
    scanner = LogScanner(sentinel)
    root = logging.getLogger()
    old_level, old_handlers = root.level, root.handlers[:]
    # Only the scanner sees the soak's records: pytest's capture handlers keep every
    # record (and the objects in its args), which would read as a leak.
    root.handlers = [scanner]
    root.setLevel(logging.DEBUG)
    faults: Counter[str] = Counter()
    outside: list[str] = []
    exception_leaks: list[str] = []
    users: list[User] = []
    memory: dict[str, Any] = {}
    # tracemalloc costs ~6x, so only the last TRACED rounds are traced: the live SDK
    # memory allocated in them is compared after the first and after the last of them.
    traced_from = variant.rounds - TRACED
    early: tracemalloc.Snapshot | None = None
    phases: dict[str, float] = {}
    started = time.perf_counter()
    try:
        async with (
            fakes["revoke"].session(
                client_id=CLIENT_ID,
                client_secret=f"{sentinel}-client-secret",
                http_client=None,
                sleep=fast_sleep,
            ) as strict,
            fakes["grace"].session(
                client_id=CLIENT_ID,
                client_secret=f"{sentinel}-client-secret",
                http_client=None,
                sleep=fast_sleep,
            ) as grace,
        ):
            sessions = {"revoke": strict, "grace": grace}
            seeded: dict[int, User] = {}

            async def seed(i: int) -> None:
                kind = "grace" if i % 4 == 0 else "revoke"  # a quarter on the grace server
                fake, tl = fakes[kind], sessions[kind]
                body = fake.create_connection(client_id=CLIENT_ID)
                name = f"user-{i:03d}"
                key = tl._core.tokens.key(TokenType.DATA, name)
                await tl._core.tokens.store_new(key, parse_token_response(body), TokenType.DATA)
                accounts = await tl.data.accounts(user=name)
                credentials_id = fake.credentials_id(body["access_token"])
                seeded[i] = User(name, fake, tl, credentials_id, accounts[0].account_id)

            async with anyio.create_task_group() as tg:
                for i in range(variant.users):
                    tg.start_soon(seed, i)
            users.extend(seeded[i] for i in range(variant.users))
            phases["setup"] = time.perf_counter() - started
            limiter = anyio.CapacityLimiter(variant.concurrency)

            async def call(user: User, what: str) -> None:
                async with limiter:
                    if rng.random() < CANCEL_SHARE:
                        # The caller is cancelled at a random point, by a random
                        # mechanism: asyncio's own or anyio's (issue #15).
                        kind = rng.choice(CANCEL_KINDS)
                        faults[f"cancel:{kind}"] += 1
                        await cancel_after(kind, rng.uniform(0, 0.02), lambda: work(user, what))
                    else:
                        await work(user, what)

            async def work(user: User, what: str) -> None:
                try:
                    if what == "accounts":
                        await user.tl.data.accounts(user=user.name)
                    elif what == "balance":
                        await user.tl.data.balance(user.account_id, user=user.name)
                    else:
                        await user.tl.data.me(user=user.name)
                    user.outcomes["ok"] += 1
                except e.TrueLayerError as exc:
                    user.outcomes[type(exc).__name__] += 1
                    scan(exc, user)
                except Exception as exc:  # the soak's main question
                    outside.append(f"{type(exc).__name__}: {str(exc)[:100]}")

            def scan(exc: BaseException, user: User) -> None:
                try:
                    assert_no_secret_anywhere(exc, sentinel)
                    text = f"{exc} {exc.args!r}"
                    assert not TOKEN_LIKE.search(text), text[:200]
                    held = user.fake.latest_refresh_token(user.credentials_id)
                    if held:
                        assert_no_secret_in_frame_locals(exc, held)
                except AssertionError as failure:
                    exception_leaks.append(str(failure)[:200])

            for round_no in range(variant.rounds):
                if round_no == traced_from:
                    phases["untraced_rounds"] = time.perf_counter() - started
                    tracemalloc.start()
                inject(rng, fakes, users, faults)
                async with anyio.create_task_group() as tg:
                    for user in users:
                        for _ in range(rng.randint(1, 3)):
                            what = rng.choice(["accounts", "balance", "me"])
                            tg.start_soon(call, user, what)
                if round_no == traced_from:
                    early = sdk_snapshot()
            late = sdk_snapshot()
            tracemalloc.stop()
            phases["traced_rounds"] = time.perf_counter() - started
            assert early is not None
            memory["early"], memory["late"] = total(early), total(late)
            memory["top_growth"] = [
                str(stat)[:160] for stat in late.compare_to(early, "lineno")[:5]
            ]

            # Final check: no faults, past expiry, one call each. Flights whose callers
            # were cancelled land first.
            for tl in sessions.values():
                await tl._core.tokens.drain(30)
            for fake in fakes.values():
                fake.clear_faults()
                fake.clock.advance(3700)
            final: dict[str, str] = {}

            async def last(user: User) -> None:
                async with limiter:
                    try:
                        await user.tl.data.accounts(user=user.name)
                        final[user.name] = "ok"
                    except e.ReauthorizationRequired as exc:
                        final[user.name] = f"reauthorize:{exc.reason}"
                    except Exception as exc:
                        final[user.name] = f"error:{type(exc).__name__}"

            async with anyio.create_task_group() as tg:
                for user in users:
                    tg.start_soon(last, user)
            lost: list[str] = []
            for user in users:
                record = await user.tl.token_store.get(
                    user.tl._core.tokens.key(TokenType.DATA, user.name)
                )
                latest = user.fake.latest_refresh_token(user.credentials_id)
                stored = None
                if record is not None and record.token.refresh_token is not None:
                    stored = record.token.refresh_token.get_secret_value()
                working = final[user.name] == "ok" and stored == latest and not record.invalid  # type: ignore[union-attr]
                clear = final[user.name].startswith("reauthorize") and record is not None
                clear = clear and record.invalid  # type: ignore[union-attr]
                if not (working or clear):
                    lost.append(f"{user.name}: {final[user.name]}")
            busy_after = {kind: busy(tl) for kind, tl in sessions.items()}
            clients = [tl._core.requester().client for tl in sessions.values()]
        closed = all(client.is_closed for client in clients)
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        root.handlers = old_handlers
        root.setLevel(old_level)
    stats = {kind: fake.stats for kind, fake in fakes.items()}
    outcomes: Counter[str] = Counter()
    for user in users:
        outcomes.update(user.outcomes)
    figures = {
        "variant": variant.name,
        "seed": variant.seed,
        "users": variant.users,
        "rounds": variant.rounds,
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_at": {name: round(value, 1) for name, value in phases.items()},
        "faults_injected": dict(sorted(faults.items())),
        "faults_injected_total": sum(faults.values()),
        "calls_made": sum(outcomes.values()) + len(users) * 2,
        "http_requests": sum(len(fake.requests) for fake in fakes.values()),
        "token_requests": sum(s["token"] for s in stats.values()),
        "refresh_requests": sum(s["refresh"] for s in stats.values()),
        "outcomes": dict(sorted(outcomes.items())),
        "final": dict(sorted(Counter(final.values()).items())),
        "users_working": sum(1 for v in final.values() if v == "ok"),
        "users_reauthorize": sum(1 for v in final.values() if v.startswith("reauthorize")),
        "tokens_lost": len(lost),
        "lost_detail": lost[:20],
        "exceptions_outside_tree": len(outside),
        "outside_detail": outside[:20],
        "secret_leaks_in_exceptions": len(exception_leaks),
        "secret_leaks_in_logs": len(scanner.leaks),
        "leak_detail": (exception_leaks + scanner.leaks)[:20],
        "log_records_scanned": scanner.records,
        "busy_connections_at_end": {kind: len(found) for kind, found in busy_after.items()},
        "busy_connections_detail": busy_after,
        "clients_closed": closed,
        "sdk_memory_bytes": memory,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"soak-{variant.name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def inject(
    rng: random.Random,
    fakes: dict[str, FakeTrueLayer],
    users: list[User],
    faults: Counter[str],
) -> None:
    """One round's faults, on each emulator independently."""
    for fake in fakes.values():
        if rng.random() < 0.6:
            times = rng.randint(1, 5)
            fake.fail_next("/data/v1/*", rng.choice([500, 502, 503, 504]), times=times)
            faults["data_5xx"] += times
        if rng.random() < 0.3:
            times = rng.randint(1, 2)
            fake.fail_next("/connect/token", rng.choice([500, 503]), times=times)
            faults["token_5xx"] += times
        if rng.random() < 0.4:
            times = rng.randint(1, 10)
            fake.add_latency("/data/v1/*", rng.uniform(0.005, 0.03), times=times)
            faults["latency"] += times
        if rng.random() < 0.4:
            times = rng.randint(1, 3)
            fake.drop_response_after_commit("/data/v1/*", times=times, method="GET")
            faults["connection_reset"] += times
        if rng.random() < 0.35:
            fake.drop_response_after_commit("/connect/token", times=1, method="POST")
            faults["lost_refresh_response"] += 1
    if rng.random() < 0.35:
        jump = rng.choice([3700, 7300])
        for fake in fakes.values():
            fake.clock.advance(jump)
        faults["clock_jump_past_expiry"] += 1
    if rng.random() < 0.25:
        candidates = [u for u in users if not u.revoked]
        if candidates and sum(u.revoked for u in users) < len(users) // 10:
            victim = rng.choice(candidates)
            victim.fake.revoke(victim.credentials_id)
            victim.revoked = True
            faults["consent_revoked"] += 1


CANCEL_SHARE = 0.2  # of calls cancelled by their caller
CANCEL_KINDS = ("wait_for", "Task.cancel", "move_on_after", "anyio-task-group") + (
    ("asyncio.timeout", "TaskGroup") if sys.version_info >= (3, 11) else ()
)


class _SiblingFailed(Exception):
    pass


async def cancel_after(kind: str, delay: float, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` and cancel it after ``delay`` seconds by the mechanism ``kind``."""
    if kind == "wait_for":
        with suppress(TimeoutError):
            await asyncio.wait_for(work(), delay)
    elif kind == "asyncio.timeout":
        with suppress(TimeoutError):
            async with asyncio.timeout(delay):  # type: ignore[attr-defined]
                await work()
    elif kind == "Task.cancel":
        task = asyncio.ensure_future(work())
        await asyncio.sleep(delay)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    elif kind == "TaskGroup":

        async def sibling_fails() -> None:
            await asyncio.sleep(delay)
            raise _SiblingFailed

        try:
            async with asyncio.TaskGroup() as tg:  # type: ignore[attr-defined]
                tg.create_task(work())
                tg.create_task(sibling_fails())
        except Exception as group:  # an ExceptionGroup holding only _SiblingFailed
            if type(group).__name__ != "ExceptionGroup":
                raise
    elif kind == "move_on_after":
        with anyio.move_on_after(delay):
            await work()
    else:
        async with anyio.create_task_group() as tg:
            tg.start_soon(work)
            await anyio.sleep(delay)
            tg.cancel_scope.cancel()


def check(figures: dict[str, Any]) -> None:
    assert figures["tokens_lost"] == 0, figures["lost_detail"]
    assert figures["exceptions_outside_tree"] == 0, figures["outside_detail"]
    assert figures["secret_leaks_in_exceptions"] == 0, figures["leak_detail"]
    assert figures["secret_leaks_in_logs"] == 0, figures["leak_detail"]
    assert set(figures["busy_connections_at_end"].values()) == {0}, figures[
        "busy_connections_detail"
    ]
    assert figures["clients_closed"]
    assert figures["users_working"] + figures["users_reauthorize"] == figures["users"]
    assert figures["faults_injected_total"] > 0
    memory = figures["sdk_memory_bytes"]
    # Flat: the late window may not exceed the early one by more than a generous bound.
    assert memory["late"] - memory["early"] < 1024 * 1024 + memory["early"], memory


@pytest.mark.asyncio
async def test_soak_short(fakes: dict[str, FakeTrueLayer], sentinel: str) -> None:
    check(await run_soak(SHORT, fakes, sentinel))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_soak_long(
    request: pytest.FixtureRequest, fakes: dict[str, FakeTrueLayer], sentinel: str
) -> None:
    if not request.config.getoption("--soak-long", default=False):
        pytest.skip("the long soak runs with --soak-long (nox -s soak)")
    check(await run_soak(LONG, fakes, sentinel))
