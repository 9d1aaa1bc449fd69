"""#1 Per-call overhead: sequential ``tl.data.accounts()`` through an ``httpx.MockTransport``.

Subject: a Session given ``http_client=httpx.AsyncClient(transport=MockTransport(...))``
with a valid token seeded in its store, calling ``await tl.data.accounts(user=...)`` N
times in a row (token lookup, request building, retry bookkeeping, JSON decoding into
``list[Account]``). Baseline: the same transport and body through a plain
``httpx.AsyncClient``: ``client.get`` with the same headers, then ``json.loads``.

Both run in this process, alternating subject and baseline run by run. The figure is
CPU time per call (``time.process_time``), which a shared machine disturbs less than
wall time; wall time per call is kept in the JSON for reference.
"""

from __future__ import annotations

import gc
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import httpx

from ._common import Figure, Settings, log
from ._payloads import accounts_body

API = "https://api.bench.invalid"
AUTH = "https://auth.bench.invalid"
USER = "alice"
ACCESS_TOKEN = "bench-access-token-0123456789abcdef"


def _handler(body: bytes) -> httpx.MockTransport:
    headers = {"content-type": "application/json", "x-tl-correlation-id": "bench"}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=body)

    return httpx.MockTransport(handle)


class _Sdk:
    """A Session on the mock transport with a valid token seeded for ``USER``."""

    def __init__(self, body: bytes) -> None:
        from truelayer_async import Environment, Session

        self.client = httpx.AsyncClient(transport=_handler(body), follow_redirects=False)
        self.session = Session(
            "bench-client",
            "bench-secret",
            environment=Environment.custom(AUTH, API, name="bench"),
            http_client=self.client,
        )

    async def open(self) -> None:
        from truelayer_async import Secret, Token, TokenRecord, TokenType

        await self.session.open()
        token = Token(
            access_token=Secret(ACCESS_TOKEN),
            refresh_token=Secret("bench-refresh-token"),
            token_type=TokenType.DATA,
            expires_at=datetime.now(timezone.utc) + timedelta(hours=1),
        )
        key = self.session._core.tokens.key(TokenType.DATA, USER)
        await self.session.token_store.set(key, TokenRecord(token=token))

    async def close(self) -> None:
        await self.session.aclose()
        await self.client.aclose()

    async def calls(self, n: int) -> tuple[float, float, int]:
        data = self.session.data
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            accounts = await data.accounts(user=USER)
        return time.process_time() - cpu, time.perf_counter() - wall, len(accounts)


class _Raw:
    """The baseline: a plain AsyncClient on the same transport, ``get`` + ``json.loads``."""

    def __init__(self, body: bytes) -> None:
        self.client = httpx.AsyncClient(transport=_handler(body), follow_redirects=False)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        await self.client.aclose()

    async def calls(self, n: int) -> tuple[float, float, int]:
        client = self.client
        url = f"{API}/data/v1/accounts"
        headers = {"Accept": "application/json", "Authorization": f"Bearer {ACCESS_TOKEN}"}
        data: Any = None
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            response = await client.get(url, headers=headers)
            response.raise_for_status()
            data = json.loads(response.content)
        return time.process_time() - cpu, time.perf_counter() - wall, len(data["results"])


async def _sdk_calls(calls: int, body: bytes) -> tuple[float, float, int]:
    """``calls`` SDK calls on a fresh Session (used by the profiler)."""
    sdk = _Sdk(body)
    await sdk.open()
    try:
        await sdk.calls(10)
        return await sdk.calls(calls)
    finally:
        await sdk.close()


async def _alternate(
    runs: int, calls: int, body: bytes
) -> tuple[list[float], list[float], list[float], list[float]]:
    sdk, raw = _Sdk(body), _Raw(body)
    await sdk.open()
    await raw.open()
    sdk_cpu: list[float] = []
    raw_cpu: list[float] = []
    sdk_wall: list[float] = []
    raw_wall: list[float] = []
    try:
        await sdk.calls(max(10, calls // 10))  # warm-up
        await raw.calls(max(10, calls // 10))
        for index in range(runs):
            if index % max(1, runs // 3) == 0:
                log(f"#1 overhead run {index + 1}/{runs} ({calls} calls each side)")
            order = (sdk, raw) if index % 2 == 0 else (raw, sdk)
            for side in order:
                gc.collect()
                cpu, wall, count = await side.calls(calls)
                assert count == 2, count
                (sdk_cpu if side is sdk else raw_cpu).append(cpu / calls * 1e6)
                (sdk_wall if side is sdk else raw_wall).append(wall / calls * 1e6)
    finally:
        await sdk.close()
        await raw.close()
    return sdk_cpu, raw_cpu, sdk_wall, raw_wall


def run(settings: Settings) -> list[Figure]:
    body = accounts_body()
    calls = settings.overhead_calls
    runs = settings.runs * 3
    sdk_cpu, raw_cpu, sdk_wall, raw_wall = anyio.run(_alternate, runs, calls, body)
    return [
        Figure(
            key="overhead",
            number="1",
            workload="N sequential `tl.data.accounts()` via `httpx.MockTransport`",
            metric="CPU time per call",
            unit="µs",
            samples=sdk_cpu,
            baseline="raw `httpx` `client.get` + `json.loads`, same transport",
            baseline_samples=raw_cpu,
            target="≤ 1.25×",
            target_ratio=1.25,
            notes=[
                f"{runs} alternating runs of {calls} calls per side in one process, "
                "one Session and one client reused; CPU time (`time.process_time`) per call. "
                f"Wall time per call, median: SDK {_median(sdk_wall):.0f} µs, "
                f"raw {_median(raw_wall):.0f} µs.",
                "The body is a 2-account `/accounts` response (947 bytes); the SDK also "
                "builds two frozen `Account` models per call (Decimal/datetime parsing).",
            ],
            extra={"wall_us_sdk": sdk_wall, "wall_us_raw": raw_wall},
        )
    ]


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)
