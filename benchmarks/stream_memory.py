"""#5b Peak memory growth of a fan-out over 5,000 users: ``iter_all`` vs ``fetch_all``.

Each measurement is a fresh process (``python -m benchmarks.stream_memory MODE USERS``).
The process opens a Session on an ``httpx.MockTransport`` serving realistic Data API
bodies (two accounts, a balance, 100 transactions per account: the benchmark's own
payloads), stores a token for every user, collects garbage, resets its peak RSS where
Linux allows (``/proc/self/clear_refs``) and notes its resident size. Then it runs the
fan-out (concurrency 16, the default) and reports its peak RSS (``VmHWM``). The figure is
peak minus the resident size before the fan-out:

* ``iter_all``: each user's result is consumed as it arrives (its transactions counted,
  then dropped), as a batch job that saves results one by one would;
* ``fetch_all``: every result is held until the end, as ``fetch_all`` returns them.

The goal (issue #21) is ≤ 60 MiB when results are consumed as they arrive, against the
866 MiB ``fetch_all`` needed for 5,000 users.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from ._common import Figure, Settings, child_env, log, peak_rss_kib, rss_bytes, run_child
from ._payloads import accounts_body, transactions_body

MIB = 1024 * 1024
GOAL_MIB = 60.0
TRANSACTIONS_PER_ACCOUNT = 100


def _reset_peak() -> bool:
    """Start ``VmHWM`` afresh from the current RSS (Linux 4.0+), so the setup's peak does
    not hide the fan-out's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _bank() -> Any:
    import httpx

    balance = json.dumps(
        {
            "results": [
                {
                    "currency": "GBP",
                    "available": 1234.56,
                    "current": 1200.01,
                    "overdraft": 500,
                    "update_timestamp": "2026-01-05T10:11:12.123456Z",
                }
            ],
            "status": "Succeeded",
        }
    ).encode()
    bodies = {
        "accounts": accounts_body(),
        "balance": balance,
        "transactions": transactions_body(TRANSACTIONS_PER_ACCOUNT),
    }
    token = json.dumps(
        {
            "access_token": "bench-access-token",
            "refresh_token": "bench-refresh-token",
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": "info accounts balance transactions offline_access",
        }
    ).encode()
    json_type = {"content-type": "application/json"}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/connect/token":
            return httpx.Response(200, content=token, headers=json_type)
        kind = path.rsplit("/", 1)[-1]
        return httpx.Response(200, content=bodies[kind], headers=json_type)

    return httpx.MockTransport(handle)


async def _run(mode: str, users: int) -> dict[str, Any]:
    import httpx

    from truelayer_async import Session

    names = [f"user-{i}" for i in range(users)]
    client = httpx.AsyncClient(transport=_bank())
    async with (
        client,
        Session(
            "bench-client", "bench-secret", redirect_uri="http://127.0.0.1/cb", http_client=client
        ) as tl,
    ):
        for name in names:
            await tl.auth.exchange_code(f"code-{name}", user=name)
        gc.collect()
        reset = _reset_peak()
        before = rss_bytes()
        peak_before = peak_rss_kib() * 1024
        transactions = 0
        failed = 0
        if mode == "fetch_all":
            results = await tl.data.fetch_all(names)
            for result in results:
                failed += not result.ok
                transactions += sum(len(a.transactions) for a in result.accounts)
        elif mode == "iter_all":
            async with tl.data.iter_all(names) as stream:
                async for result in stream:
                    failed += not result.ok
                    transactions += sum(len(a.transactions) for a in result.accounts)
        else:
            raise SystemExit(f"unknown mode {mode!r}")
        peak = peak_rss_kib() * 1024
    return {
        "mode": mode,
        "users": users,
        "failed": failed,
        "transactions": transactions,
        "rss_before": before,
        "peak_before": peak_before,
        "peak_reset": reset,
        "peak": peak,
    }


def child(mode: str, users: int) -> None:
    """Run one measurement in this (fresh) process and print the JSON result."""
    print(json.dumps(asyncio.run(_run(mode, users))), flush=True)


def _measure(mode: str, users: int, timeout: float) -> dict[str, Any]:
    done = run_child(
        [sys.executable, "-m", "benchmarks.stream_memory", mode, str(users)],
        timeout=timeout,
        env=child_env(),
    )
    if done.returncode != 0 or done.timed_out:
        raise RuntimeError(f"stream memory child {mode} failed: {done.stderr.strip()[-500:]}")
    result = done.json()
    expected = users * 2 * TRANSACTIONS_PER_ACCOUNT
    if result["failed"] or result["transactions"] != expected:
        raise RuntimeError(f"stream memory child {mode}: wrong results {result}")
    return result


def run(settings: Settings) -> list[Figure]:
    users = 60 if settings.smoke else 5000
    runs = 1 if settings.smoke else 2
    timeout = 120 + users / 10
    streamed: list[float] = []
    held: list[float] = []
    for index in range(runs):
        log(f"#5b stream memory run {index + 1}/{runs} ({users:,} users)")
        for mode, samples in (("iter_all", streamed), ("fetch_all", held)):
            result = _measure(mode, users, timeout)
            samples.append(max(0, result["peak"] - result["rss_before"]) / MIB)
    per_user_kib = statistics.median(held) * 1024 / users
    return [
        Figure(
            key="stream_memory",
            number="5b",
            workload=f"fan-out over {users:,} users (2 accounts, balance, "
            f"{TRANSACTIONS_PER_ACCOUNT} transactions each), results consumed as they arrive "
            "(`iter_all`)",
            metric="peak RSS growth",
            unit="MiB",
            samples=streamed,
            baseline=f"the issue's goal ({GOAL_MIB:.0f} MiB)",
            baseline_samples=[GOAL_MIB] * len(streamed),
            target=f"≤ {GOAL_MIB:.0f} MiB",
            target_ratio=1.0,
            label="iter_all memory",
            notes=[
                "Fresh process per measurement, `httpx.MockTransport` serving the "
                "benchmark's bodies, concurrency 16; figure = peak RSS (`VmHWM`, reset "
                "after setup) minus the resident size before the fan-out.",
                f"`fetch_all` holding every result, measured the same way: "
                f"{statistics.median(held):.0f} MiB ({per_user_kib:.0f} KiB per user); "
                f"`iter_all` needs {statistics.median(streamed):.0f} MiB whatever the "
                "number of users (about 2 × concurrency results are alive at once).",
            ],
            extra={"fetch_all_mib": held, "users": users},
        )
    ]


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
