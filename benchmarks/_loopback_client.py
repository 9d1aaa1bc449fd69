"""One timed batch against the emulator server, in a fresh process (#4 and #6).

``python -m benchmarks._loopback_client {sdk,raw,pytruelayer} CONFIG.json`` reads the
server URL, the users' token responses and the concurrency, then for every user sends
``GET /accounts``, and for the first account ``GET …/balance`` and ``GET …/transactions``
(3 requests per user, one after another), with at most ``concurrency`` users in flight.
It prints one JSON line: requests, seconds and CPU seconds (the batch only, not start-up
or seeding),
transactions seen, errors and its own peak RSS (``VmHWM``, see ``_common.peak_rss_kib``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import peak_rss_kib


def _result(kind: str, started: float, finished: float, cpu: float, stats: dict[str, int]) -> None:
    print(
        json.dumps(
            {
                "client": kind,
                "seconds": finished - started,
                "cpu_seconds": cpu,
                "requests": stats["requests"],
                "transactions": stats["transactions"],
                "errors": stats["errors"],
                "peak_rss_kib": peak_rss_kib(),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------------------- the SDK


async def _run_sdk(config: dict[str, Any]) -> None:
    from datetime import datetime, timedelta, timezone

    import anyio

    from truelayer_async import Environment, Secret, Session, Token, TokenRecord, TokenType
    from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    url: str = config["url"]
    grants: list[dict[str, Any]] = config["tokens"]
    stats = {"requests": 0, "transactions": 0, "errors": 0}
    environment = Environment.custom(url, name="bench")
    options: dict[str, Any] = config.get("session_options", {})  # e.g. http_backend
    session = Session(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, environment=environment, **options)
    async with session as tl:
        now = datetime.now(timezone.utc)
        users = [f"user{i}" for i in range(len(grants))]
        for user, grant in zip(users, grants, strict=True):
            token = Token(
                access_token=Secret(grant["access_token"]),
                refresh_token=Secret(grant["refresh_token"]),
                token_type=TokenType.DATA,
                expires_at=now + timedelta(seconds=int(grant["expires_in"])),
                expires_in=int(grant["expires_in"]),
                scopes=tuple(grant.get("scope", "").split()),
            )
            key = tl._core.tokens.key(TokenType.DATA, user)
            await tl.token_store.set(key, TokenRecord(token=token))

        queue = iter(users)

        async def worker() -> None:
            for user in queue:
                try:
                    accounts = await tl.data.accounts(user=user)
                    account_id = accounts[0].account_id
                    await tl.data.balance(account_id, user=user)
                    transactions = await tl.data.transactions(account_id, user=user)
                    stats["transactions"] += len(transactions)
                    stats["requests"] += 3
                except Exception:
                    stats["errors"] += 1

        started, cpu = time.perf_counter(), time.process_time()
        async with anyio.create_task_group() as tg:
            for _ in range(config["concurrency"]):
                tg.start_soon(worker)
        finished, cpu = time.perf_counter(), time.process_time() - cpu
    _result(config.get("client", "sdk"), started, finished, cpu, stats)


# ------------------------------------------------------------------- raw httpx baseline


async def _run_raw(config: dict[str, Any]) -> None:
    import anyio
    import httpx

    url: str = config["url"]
    grants: list[dict[str, Any]] = config["tokens"]
    stats = {"requests": 0, "transactions": 0, "errors": 0}
    # httpx's defaults (100 connections, 20 kept alive) are the SDK's too.
    async with httpx.AsyncClient(base_url=f"{url}/data/v1") as client:
        queue = iter(grants)

        async def worker() -> None:
            for grant in queue:
                headers = {"Authorization": f"Bearer {grant['access_token']}"}
                try:
                    response = await client.get("/accounts", headers=headers)
                    response.raise_for_status()
                    account_id = json.loads(response.content)["results"][0]["account_id"]
                    response = await client.get(f"/accounts/{account_id}/balance", headers=headers)
                    response.raise_for_status()
                    json.loads(response.content)
                    response = await client.get(
                        f"/accounts/{account_id}/transactions", headers=headers
                    )
                    response.raise_for_status()
                    stats["transactions"] += len(json.loads(response.content)["results"])
                    stats["requests"] += 3
                except Exception:
                    stats["errors"] += 1

        started, cpu = time.perf_counter(), time.process_time()
        async with anyio.create_task_group() as tg:
            for _ in range(config["concurrency"]):
                tg.start_soon(worker)
        finished, cpu = time.perf_counter(), time.process_time() - cpu
    _result(config.get("client", "raw"), started, finished, cpu, stats)


# ------------------------------------------------------------------------- pytruelayer


def _run_pytruelayer(config: dict[str, Any]) -> None:
    """pytruelayer 0.3.0 (OpenAPI-generator, urllib3, synchronous): one thread per slot.

    Its ``Configuration(host=...)`` takes the Data API base URL, so it can be pointed at
    the emulator. Each worker thread keeps one ``ApiClient`` (and so one keep-alive
    urllib3 pool) and sets the user's token on its ``Configuration`` before each user:
    the token is read when each request is built.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from truelayer.api.data_api import DataApi
    from truelayer.api_client import ApiClient
    from truelayer.configuration import Configuration

    url: str = config["url"]
    grants: list[dict[str, Any]] = config["tokens"]
    stats = {"requests": 0, "transactions": 0, "errors": 0}
    lock = threading.Lock()
    local = threading.local()

    def one_user(grant: dict[str, Any]) -> None:
        api = getattr(local, "api", None)
        if api is None:
            local.cfg = Configuration(host=f"{url}/data/v1")
            local.api = api = DataApi(ApiClient(local.cfg))
        local.cfg.access_token = grant["access_token"]
        try:
            accounts = api.accounts_get()
            account_id = accounts.results[0].account_id
            api.accounts_by_account_id_balance_get(account_id)
            transactions = api.accounts_by_account_id_transactions_get(account_id)
            with lock:
                stats["transactions"] += len(transactions.results)
                stats["requests"] += 3
        except Exception:
            with lock:
                stats["errors"] += 1

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=config["concurrency"]) as pool:
        list(pool.map(one_user, grants))
    finished, cpu = time.perf_counter(), time.process_time() - cpu
    _result("pytruelayer", started, finished, cpu, stats)


def main() -> None:
    kind, config_path = sys.argv[1], sys.argv[2]
    config = json.loads(Path(config_path).read_text())
    if kind == "pytruelayer":
        _run_pytruelayer(config)
        return
    import anyio

    runner = {"sdk": _run_sdk, "raw": _run_raw}[kind]
    anyio.run(runner, config)


if __name__ == "__main__":
    main()
