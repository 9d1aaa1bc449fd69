"""One timed batch against the canned-response server, in a fresh process (#7).

``python -m benchmarks._fast_client KIND CONFIG.json`` with KIND one of ``httpx``,
``aiohttp``, ``sdk`` or ``sdk-aiohttp``. Same workload and JSON result line as
``benchmarks._loopback_client`` (whose SDK and raw httpx runners it reuses); the config
adds ``cpu`` (the core to pin this process to, or null). Before anything else the process
pins itself, so every thread it starts later inherits the pinning. ``sdk-aiohttp`` passes
``http_backend="aiohttp"`` to ``Session``; where that keyword does not exist yet it prints
``{"not_measured": reason}`` instead of a result.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def pin(cpu: int | None) -> str:
    """Pin this process to ``cpu``; return what was done, for the report."""
    if cpu is None:
        return "not pinned"
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError) as exc:
        return f"not pinned ({type(exc).__name__}: {exc})"
    return f"pinned to CPU {cpu}"


async def _run_aiohttp(config: dict[str, Any]) -> None:
    """Raw ``aiohttp.ClientSession`` + ``json.loads``: the same requests as raw httpx."""
    import aiohttp
    import anyio

    from benchmarks._loopback_client import _result

    base = f"{config['url']}/data/v1"
    grants: list[dict[str, Any]] = config["tokens"]
    stats = {"requests": 0, "transactions": 0, "errors": 0}
    # aiohttp's default connector (100 connections, keep-alive), as httpx's defaults.
    async with aiohttp.ClientSession() as client:
        queue = iter(grants)

        async def get(url: str, headers: dict[str, str]) -> Any:
            async with client.get(url, headers=headers) as response:
                response.raise_for_status()
                return json.loads(await response.read())

        async def worker() -> None:
            for grant in queue:
                headers = {"Authorization": f"Bearer {grant['access_token']}"}
                try:
                    accounts = await get(f"{base}/accounts", headers)
                    account_id = accounts["results"][0]["account_id"]
                    await get(f"{base}/accounts/{account_id}/balance", headers)
                    transactions = await get(f"{base}/accounts/{account_id}/transactions", headers)
                    stats["transactions"] += len(transactions["results"])
                    stats["requests"] += 3
                except Exception:
                    stats["errors"] += 1

        started, cpu = time.perf_counter(), time.process_time()
        async with anyio.create_task_group() as tg:
            for _ in range(config["concurrency"]):
                tg.start_soon(worker)
        finished, cpu = time.perf_counter(), time.process_time() - cpu
    _result("aiohttp", started, finished, cpu, stats)


def _missing_keyword(exc: TypeError) -> bool:
    return "http_backend" in str(exc)


def main() -> None:
    kind, config_path = sys.argv[1], sys.argv[2]
    config = json.loads(Path(config_path).read_text())
    pinning = pin(config.get("cpu"))
    print(json.dumps({"pinning": pinning}), file=sys.stderr, flush=True)
    import anyio

    from benchmarks._loopback_client import _run_raw, _run_sdk

    config["client"] = kind
    if kind == "sdk-aiohttp":
        config["session_options"] = {"http_backend": "aiohttp"}
    runner = {"httpx": _run_raw, "aiohttp": _run_aiohttp, "sdk": _run_sdk, "sdk-aiohttp": _run_sdk}
    try:
        anyio.run(runner[kind], config)
    except TypeError as exc:
        if kind != "sdk-aiohttp" or not _missing_keyword(exc):
            raise
        reason = f"Session(..., http_backend='aiohttp') is not available here ({exc})"
        print(json.dumps({"not_measured": reason}), flush=True)


if __name__ == "__main__":
    main()
