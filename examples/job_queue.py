"""Scale the sync job out over processes and machines with SAQ, a Redis job queue.

One job per user; any number of worker processes, on any number of machines, take them:

* every worker opens the same ``Session`` over one shared ``RedisTokenStore``, so a
  user's expired token is refreshed once, by whichever worker gets there first (the
  store's lock is shared by every process);
* each job fetches the user's accounts, balances and transactions and records one result
  per user: a Lua script does ``HSETNX`` on a results hash and appends to a ledger list
  only when that succeeded. A job can run twice (SAQ delivers at least once: a worker
  killed after the write leaves its job to be retried), but its result is recorded once;
* a worker killed mid-job (``kill -9``, OOM, a lost machine) leaves its jobs "active";
  SAQ's sweeper, in the surviving workers, retries them once they pass ``--job-timeout``;
  a token lock the dead worker held is taken over after the store's ``--lease``.

Commands (``--redis`` or ``$REDIS_URL``, default ``redis://127.0.0.1:6379/0``)::

    python examples/job_queue.py connect --count 12   # the emulator: connect demo users
    python examples/job_queue.py worker               # one worker: start as many as you like
    python examples/job_queue.py enqueue              # one job per user
    python examples/job_queue.py results              # what the jobs recorded

Where it runs is chosen by ``TRUELAYER_ENVIRONMENT``:

* ``emulator`` (the default): a served emulator, ``truelayer-async fake-server``
  (``--emulator-url``, default ``http://127.0.0.1:8765``). ``connect`` clicks demo
  users through its consent pages and stores their tokens in Redis; ``enqueue`` then
  queues every user ``connect`` added.
* ``sandbox`` or ``production``: TrueLayer, with ``TRUELAYER_CLIENT_ID`` and
  ``TRUELAYER_CLIENT_SECRET``, for users whose tokens your app (for example
  ``fastapi_app.py`` with a ``RedisTokenStore``) saved in the same Redis:
  ``enqueue --users alice,bob``.

Needs ``pip install "truelayer-async[examples]"`` and a Redis server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import redis.asyncio as aioredis
import redis.exceptions
from saq import Queue, Worker

import truelayer_async as tla
from truelayer_async.stores import RedisTokenStore
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    complete_consent,
)

TARGETS = ("emulator", "sandbox", "production")

# KEYS: results hash, ledger list; ARGV: user, result. The result is recorded only if
# none is there yet, and the ledger (what the rest of the app reads) gets it once.
RECORD_ONCE = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[2])
    return 1
end
return 0
"""


def keys(queue: str, run: str) -> tuple[str, str]:
    """Where one run's results live: a hash (user -> result) and a ledger list."""
    return f"{queue}:results:{run}", f"{queue}:ledger:{run}"


def open_session(args: argparse.Namespace, store: RedisTokenStore) -> tla.Session:
    """The same Session config in every process: the target, one shared Redis store."""
    if args.target == "emulator":
        return tla.Session(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            environment=tla.Environment.custom(args.emulator_url),
            token_store=store,
            redirect_uri=DEFAULT_REDIRECT_URIS[0],
        )
    return tla.Session(
        os.environ["TRUELAYER_CLIENT_ID"],
        os.environ["TRUELAYER_CLIENT_SECRET"],
        environment=getattr(tla.Environment, args.target.upper()),
        token_store=store,
    )


# -- the job ---------------------------------------------------------------------------


async def fetch_user(tl: tla.Session, user: str, days: int) -> dict[str, Any]:
    """The user's accounts, balances and transactions, summed up."""
    today = date.today()
    accounts = await tl.data.accounts(user=user)
    balance, transactions = Decimal(0), 0
    for account in accounts:
        balance += (await tl.data.balance(account.account_id, user=user)).current
        txns = await tl.data.transactions(
            account.account_id, from_=today - timedelta(days=days), to=today, user=user
        )
        transactions += len(txns)
    return {"accounts": len(accounts), "balance": str(balance), "transactions": transactions}


async def sync_user(ctx: dict[str, Any], *, user: str, run: str, days: int) -> str:
    """SAQ job: fetch one user and record the result once. Transient errors raise, so
    SAQ retries the job; a user who must reconnect is recorded as such, not retried."""
    job = ctx["job"]
    print(f"start {user} attempt {job.attempts}", flush=True)
    try:
        outcome: dict[str, Any] = {"status": "ok", **await fetch_user(ctx["tl"], user, days)}
    except (tla.ReauthorizationRequired, tla.NoTokenError) as exc:
        outcome = {"status": "reconnect", "reason": type(exc).__name__}
    result = json.dumps({"user": user, **outcome, "worker": os.getpid()})
    recorded = await ctx["record_once"](keys=list(keys(job.queue.name, run)), args=[user, result])
    said = "recorded" if recorded else "already recorded"  # this job ran before
    print(f"{said} {user}", flush=True)
    return said


async def worker_startup(ctx: dict[str, Any]) -> None:
    args = ctx["args"]
    stack = contextlib.AsyncExitStack()
    ctx["stack"] = stack
    store = await stack.enter_async_context(RedisTokenStore(args.redis, lease=args.lease))
    ctx["tl"] = await stack.enter_async_context(open_session(args, store))
    results = aioredis.from_url(args.redis)
    stack.push_async_callback(results.aclose)
    ctx["record_once"] = results.register_script(RECORD_ONCE)
    print(f"worker {os.getpid()} ready", flush=True)


async def worker_shutdown(ctx: dict[str, Any]) -> None:
    await ctx["stack"].aclose()


async def run_worker(args: argparse.Namespace) -> int:
    queue = Queue.from_url(args.redis, name=args.queue)
    worker = Worker(
        queue,
        functions=[sync_user],
        concurrency=args.concurrency,
        startup=worker_startup,
        shutdown=worker_shutdown,
        # How often a worker looks for jobs whose worker died (one sweep per interval
        # across all workers), and how long SIGTERM waits for running jobs.
        timers={"sweep": args.sweep_interval},
        shutdown_grace_period_s=args.grace,
    )
    worker.context["args"] = args
    await queue.connect()
    try:
        await queue.redis.ping()  # fail now, not in a retry loop, if Redis is not there
        await worker.start()  # until SIGINT or SIGTERM
    finally:
        await queue.disconnect()
    return 0


# -- enqueue, results, connect ---------------------------------------------------------


def users_key(queue: str) -> str:
    return f"{queue}:users"


async def enqueue(args: argparse.Namespace) -> int:
    client = aioredis.from_url(args.redis)
    try:
        users = args.users or sorted(
            u.decode() for u in await client.smembers(users_key(args.queue))
        )
    finally:
        await client.aclose()
    if not users:
        sys.exit(f"{args.prog}: error: no users: pass --users (or run `connect` on the emulator)")
    queue = Queue.from_url(args.redis, name=args.queue)
    await queue.connect()
    added = 0
    try:
        for user in users:
            job = await queue.enqueue(
                "sync_user",
                # While this job is pending, enqueueing the run again adds nothing.
                key=f"sync:{args.run}:{user}",
                timeout=args.job_timeout,
                retries=args.retries,
                retry_delay=1.0,
                retry_backoff=30.0,
                user=user,
                run=args.run,
                days=args.days,
            )
            added += job is not None
    finally:
        await queue.disconnect()
    print(f"run {args.run}: {added} jobs queued ({len(users) - added} already queued)")
    return 0


async def show_results(args: argparse.Namespace) -> int:
    client = aioredis.from_url(args.redis)
    try:
        ledger = [json.loads(r) for r in await client.lrange(keys(args.queue, args.run)[1], 0, -1)]
    finally:
        await client.aclose()
    for result in ledger:
        details = {k: v for k, v in result.items() if k not in ("user", "status")}
        print(f"{result['user']}: {result['status']} {details}")
    ok = sum(r["status"] == "ok" for r in ledger)
    print(f"run {args.run}: {len(ledger)} results, {ok} ok")
    return 0 if ledger else 1


async def connect_demo_users(args: argparse.Namespace) -> int:
    """The emulator only: connect ``--count`` users through the mock bank's pages."""
    users = [f"user-{i:02d}" for i in range(1, args.count + 1)]
    async with (
        RedisTokenStore(args.redis, lease=args.lease) as store,
        open_session(args, store) as tl,
        httpx.AsyncClient(timeout=30) as browser,
    ):
        for i, user in enumerate(users, start=1):
            link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers="uk-cs-mock")
            page = await complete_consent(browser, link.url, username=f"john{i}")
            code = tl.auth.parse_callback(page.redirect_url, expected_state=link.state)
            await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)
    client = aioredis.from_url(args.redis)
    try:
        await client.sadd(users_key(args.queue), *users)
    finally:
        await client.aclose()
    print(f"connected {len(users)} users: their tokens are in the Redis token store")
    return 0


COMMANDS = {
    "worker": run_worker,
    "enqueue": enqueue,
    "results": show_results,
    "connect": connect_demo_users,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--emulator-url", default="http://127.0.0.1:8765")
    parser.add_argument("--queue", default="truelayer-sync", help="queue name and key prefix")
    today = datetime.now(timezone.utc).date().isoformat()
    parser.add_argument("--run", default=today, help="one result per user per run (today)")
    parser.add_argument("--users", help="comma-separated users (enqueue)")
    parser.add_argument("--count", type=int, default=12, help="connect: emulator users (12)")
    parser.add_argument("--days", type=int, default=90, help="transaction window (90)")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs per worker (4)")
    parser.add_argument("--lease", type=float, default=30.0, help="token lock lease, s (30)")
    parser.add_argument("--sweep-interval", type=int, default=10, help="seconds (10)")
    parser.add_argument("--job-timeout", type=int, default=120, help="seconds (120)")
    parser.add_argument("--grace", type=int, default=10, help="SIGTERM waits for jobs, s (10)")
    parser.add_argument("--retries", type=int, default=5, help="attempts per job (5)")
    args = parser.parse_args(argv)
    args.prog = parser.prog
    args.target = os.environ.get("TRUELAYER_ENVIRONMENT") or "emulator"
    if args.target not in TARGETS:
        parser.error(
            f"TRUELAYER_ENVIRONMENT must be one of {', '.join(TARGETS)}, not {args.target!r}"
        )
    if args.target != "emulator" and not (
        os.environ.get("TRUELAYER_CLIENT_ID") and os.environ.get("TRUELAYER_CLIENT_SECRET")
    ):
        parser.error(f"{args.target} needs TRUELAYER_CLIENT_ID and TRUELAYER_CLIENT_SECRET")
    if args.command == "connect" and args.target != "emulator":
        parser.error("connect is for the emulator: on TrueLayer users connect through your app")
    if not 1 <= args.count <= 98:
        parser.error("--count must be between 1 and 98 (the mock bank has john1 ... john100)")
    args.users = [u.strip() for u in (args.users or "").split(",") if u.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except redis.exceptions.ConnectionError:
        # Not the URL: it may hold Redis's password.
        sys.exit(f"{args.prog}: error: cannot reach Redis (--redis or $REDIS_URL)")
    except tla.TrueLayerError as exc:
        sys.exit(f"{args.prog}: error: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
