"""``examples/job_queue.py`` on a real redis-server with several SAQ worker processes.

40 users whose stored tokens have expired, three worker processes sharing one
``RedisTokenStore``, the emulator served on loopback. One worker is SIGKILLed while it has
jobs running (with refreshes in flight: the token endpoint is slowed down); a replacement
starts, as a process supervisor would. Then: every user's result is in the ledger once,
the dead worker's jobs ran again elsewhere, every user was refreshed once (a user whose
refresh answer died with the worker: twice, the second time with the previous refresh
token, which the emulator's ``grace`` mode accepts once), and every stored refresh token
still works.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from tests.support.binaries import require_module
from tests.support.examples import EXAMPLES, REPO, example_environment, run_python
from tests.support.processes import child_env
from tests.support.stores import killing, make_record
from truelayer_async import Environment, Session, TokenType
from truelayer_async.stores import RedisTokenStore
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorControl,
    FakeTrueLayer,
)

SCRIPT = str(EXAMPLES / "job_queue.py")
USERS = [f"user-{i:02d}" for i in range(1, 41)]
QUEUE = "sync-test"
RUN = "run-1"
LEASE = "5"  # a dead worker's token lock is taken over after 5 s
JOB_TIMEOUT = "8"  # a dead worker's jobs are retried 8 s after they started
HANG_GUARD = 90.0  # never a timing assertion: only how long to wait before giving up


@pytest.fixture
def emulator() -> Iterator[tuple[FakeTrueLayer, str]]:
    """The emulator on loopback; a rotated refresh token works once more while its
    successor is unused (``grace``), so a refresh whose answer died is recoverable."""
    fake = FakeTrueLayer(refresh_token_reuse="grace")
    with fake.serve_in_thread() as base_url:
        yield fake, base_url


@pytest_asyncio.fixture
async def redis_db(redis_url: str) -> AsyncIterator[str]:
    """An empty database of its own on the session's redis-server."""
    url = redis_url.rsplit("/", 1)[0] + "/7"
    async with aioredis.from_url(url) as db:
        await db.flushdb()
    yield url


@contextlib.asynccontextmanager
async def session_for(base_url: str, redis: str) -> AsyncIterator[Session]:
    """What the workers open (the example's ``open_session``)."""
    env = Environment.custom(base_url)
    async with (
        RedisTokenStore(redis, lease=float(LEASE)) as store,
        Session(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, environment=env, token_store=store
        ) as tl,
    ):
        yield tl


async def seed_expired_tokens(fake: FakeTrueLayer, base_url: str, redis: str) -> dict[str, str]:
    """Connect each user at the emulator and store the pair as expired an hour ago;
    returns each user's credentials id."""
    credentials = {}
    async with session_for(base_url, redis) as tl:
        store = tl._core.token_store
        for n, user in enumerate(USERS, start=1):
            grant: dict[str, Any] = fake.create_connection(username=f"john{n}")
            credentials[user] = fake.credentials_id(grant["access_token"])
            key = tl._core.tokens.key(TokenType.DATA, user)
            record = make_record(
                1,
                access=grant["access_token"],
                refresh=grant["refresh_token"],
                expires_at=time.time() - 3600,
                scopes=tuple(grant["scope"].split()),
            )
            await store.set(key, record)
    return credentials


class Workers:
    """``job_queue.py worker`` processes, each writing to its own log file."""

    def __init__(self, tmp_path: Path, env: dict[str, str], args: list[str]) -> None:
        self.tmp_path, self.env, self.args = tmp_path, env, args
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self) -> int:
        index = len(self.procs)
        log = self.tmp_path / f"worker-{index}.log"
        with log.open("wb") as out:
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, SCRIPT, "worker", *self.args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=REPO,
                )
            )
        self.logs.append(log)
        return index

    def log(self, index: int) -> str:
        return self.logs[index].read_text(errors="replace")

    def lines(self, pattern: str) -> list[tuple[int, re.Match[str]]]:
        """Every line of every log matching ``pattern``, with the worker's index."""
        return [
            (index, found)
            for index in range(len(self.logs))
            for found in re.finditer(pattern, self.log(index), re.M)
        ]


async def wait_for(condition: Callable[[], Any], what: str) -> None:
    """Poll ``condition`` (a function returning a bool, or an awaitable of one)."""
    deadline = time.monotonic() + HANG_GUARD
    while not await _result(condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await anyio.sleep(0.01)


def in_flight(log: str) -> set[str]:
    """Users whose job this worker started and had not finished."""
    started = set(re.findall(r"^start (\S+) attempt", log, re.M))
    return started - set(re.findall(r"^(?:already )?recorded (\S+)$", log, re.M))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_workers_share_tokens_survive_a_kill_and_record_once(
    emulator: tuple[FakeTrueLayer, str], redis_db: str, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        await check_job_queue(stack, emulator, redis_db, tmp_path)


async def check_job_queue(
    stack: contextlib.AsyncExitStack,
    emulator: tuple[FakeTrueLayer, str],
    redis_db: str,
    tmp_path: Path,
) -> None:
    saq = require_module("saq")
    fake, base_url = emulator
    db = await stack.enter_async_context(aioredis.from_url(redis_db))
    queue = saq.Queue.from_url(redis_db, name=QUEUE)
    stack.push_async_callback(queue.disconnect)
    credentials = await seed_expired_tokens(fake, base_url, redis_db)
    fake.add_latency("/connect/token", 0.3)  # refreshes stay in flight for a while
    fake.add_latency("/data/v1/*", 0.02)

    env = child_env(example_environment(tmp_path))
    common = ["--redis", redis_db, "--queue", QUEUE, "--run", RUN]
    # SAQ's sweeper waits 5 s for each dead job, one after another: 2 jobs per worker.
    options = ["--lease", LEASE, "--sweep-interval", "1", "--concurrency", "2", "--grace", "1"]
    workers = Workers(tmp_path, env, [*common, "--emulator-url", base_url, *options])
    results, ledger = f"{QUEUE}:results:{RUN}", f"{QUEUE}:ledger:{RUN}"

    async def incomplete() -> int:
        count: int = await queue.count("incomplete")
        return count

    with killing(workers.procs):
        for _ in range(3):
            workers.start()
        for index in range(3):
            await wait_for(lambda i=index: " ready" in workers.log(i), "3 workers")

        enqueue = [SCRIPT, "enqueue", *common, "--job-timeout", JOB_TIMEOUT, "--users"]
        run = run_python([*enqueue, ",".join(USERS)], env)
        assert (run.code, run.err) == (0, ""), run.out
        assert f"{len(USERS)} jobs queued" in run.out

        # Kill worker 0 while it has jobs running, and start a replacement.
        async def victim_busy() -> bool:
            return bool(in_flight(workers.log(0))) and await db.hlen(results) < len(USERS)

        await wait_for(victim_busy, "worker 0 to run a job")
        workers.procs[0].send_signal(signal.SIGKILL)
        workers.procs[0].wait(10)
        interrupted = in_flight(workers.log(0))
        workers.start()

        async def all_done() -> bool:
            return await db.hlen(results) == len(USERS) and await incomplete() == 0

        await wait_for(all_done, "every job to complete")

        # At-least-once delivery, on purpose: run two users' jobs again. Not the dead
        # worker's: SAQ's sweep leaves an abort key on them for 5 s, and while it lasts
        # enqueueing that job key adds nothing.
        again = [user for user in USERS if user not in interrupted][:2]
        before = len(workers.lines(r"^already recorded (\S+)$"))
        run = run_python([*enqueue, ",".join(again)], env)
        assert (run.code, run.err) == (0, ""), run.out
        assert f"{len(again)} jobs queued" in run.out, run.out

        async def ran_again() -> bool:
            after = len(workers.lines(r"^already recorded (\S+)$"))
            return after >= before + len(again) and await incomplete() == 0

        await wait_for(ran_again, "the jobs run again")

        for proc in workers.procs[1:]:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc in workers.procs]
    assert codes == [-signal.SIGKILL, 0, 0, 0], [workers.log(i) for i in range(4)]

    # Results: once per user, however often a job ran.
    recorded = [json.loads(item) for item in await db.lrange(ledger, 0, -1)]
    assert sorted(r["user"] for r in recorded) == USERS
    assert {r["status"] for r in recorded} == {"ok"}
    assert all(r["accounts"] > 0 and r["transactions"] > 0 for r in recorded)
    assert await db.hlen(results) == len(USERS)

    # The dead worker's jobs ran again on the others.
    assert interrupted, "worker 0 was killed with no job running"
    attempts = workers.lines(r"^start (\S+) attempt (\d+)$")
    for user in interrupted:
        assert any(i > 0 and m[1] == user and int(m[2]) >= 2 for i, m in attempts), user
    runs = Counter(m[1] for _, m in attempts)
    assert all(runs[user] >= 2 for user in again)

    # Each user refreshed once per expiry; a refresh the dead worker never heard back
    # from was redone once, with the previous refresh token.
    async with EmulatorControl(base_url) as control:
        grants = {user: await control.refresh_count(credentials[user]) for user in USERS}
    assert {u: n for u, n in grants.items() if n != 1 and u not in interrupted} == {}
    assert all(grants[u] in (1, 2) for u in interrupted), grants
    assert fake.count("/connect/token", status=400) == 0

    # No token lost: every stored refresh token still works.
    fake.clear_faults()
    async with session_for(base_url, redis_db) as tl:
        for user in USERS:
            token = await tl.auth.refresh_token(user=user)
            latest = fake.latest_access_token(credentials[user])
            assert token.access_token.get_secret_value() == latest

    # No secret in any worker's output.
    logs = "".join(workers.log(i) for i in range(len(workers.logs)))
    for user in USERS:
        connection = fake.connection(credentials[user])
        assert connection.refresh_token not in logs
        assert connection.access_token not in logs


async def _result(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


# -- what a user sees when something is missing (no redis-server needed) ---------------


def one_error_line(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """The exit code and the one line printed (after argparse's usage, if any)."""
    run = run_python([SCRIPT, *args], env)
    assert run.out == "" and "Traceback" not in run.err, run.out + run.err
    _, _, error = run.err.strip().rpartition("\n")
    assert error in run.err.strip().splitlines()[:1] or run.err.startswith("usage:"), run.err
    return run.code, error


@pytest.mark.parametrize("command", ["worker", "enqueue", "results"])
def test_unreachable_redis_is_one_line_without_the_url(command: str, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"redis://:hunter2@127.0.0.1:{sock.getsockname()[1]}/0"
        code, line = one_error_line(
            [command, "--redis", url, "--users", "a"], example_environment(tmp_path)
        )
    assert (code, line) == (1, "job_queue.py: error: cannot reach Redis (--redis or $REDIS_URL)")


def test_connect_is_for_the_emulator(tmp_path: Path) -> None:
    env = example_environment(tmp_path) | {
        "TRUELAYER_ENVIRONMENT": "sandbox",
        "TRUELAYER_CLIENT_ID": "id",
        "TRUELAYER_CLIENT_SECRET": "secret",
    }
    code, line = one_error_line(["connect"], env)
    assert code == 2
    assert line.endswith(
        "error: connect is for the emulator: on TrueLayer users connect through your app"
    )
