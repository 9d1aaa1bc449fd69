"""#3 1,000 coroutines calling ``valid_token`` on an expired token.

A Session on an ``httpx.MockTransport`` whose ``POST /connect/token`` answers after a
fixed simulated latency (``Settings.refresh_latency``, 50 ms: a token endpoint across the
internet) with a new token pair. The stored token is expired and has a refresh token.

Subject: 1,000 coroutines call ``await tl.auth.valid_token(user=...)`` at once (run with
``asyncio.gather``; the Session runs on anyio's asyncio backend); the figure is the wall
time until every one has its token, and the number of token requests sent. The same
with an anyio task group, and 1,000 no-op coroutines (the harness's own cost), are
reported alongside.
Baseline: one task calling ``valid_token`` on the same expired token: one refresh round
trip through the same SDK path. Subject and baseline alternate, each on a fresh Session.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import httpx

from ._common import Figure, Settings, log

API = "https://api.bench.invalid"
AUTH = "https://auth.bench.invalid"
USER = "alice"


async def _noop_gather(callers: int) -> float:
    """Wall time of ``callers`` no-op coroutines through ``asyncio.gather``."""

    async def caller() -> None:
        await anyio.lowlevel.checkpoint()

    gc.collect()
    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return time.perf_counter() - started


async def _sdk_refresh(
    callers: int, latency: float, spawn: str = "gather", token_store: Any = None
) -> tuple[float, int, int]:
    """Return (wall seconds, token requests sent, distinct tokens handed out).

    ``token_store``: where the expired token is seeded (default: a MemoryTokenStore).
    """
    from truelayer_async import Environment, Secret, Session, Token, TokenRecord, TokenType

    requests = 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        if latency:
            await anyio.sleep(latency)
        body = {
            "access_token": f"new-access-token-{requests:04d}-0123456789abcdef",
            "refresh_token": f"new-refresh-token-{requests:04d}-0123456789abcdef",
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": "accounts balance transactions offline_access",
        }
        return httpx.Response(
            200, headers={"content-type": "application/json"}, content=json.dumps(body).encode()
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle), follow_redirects=False)
    session = Session(
        "bench-client",
        "bench-secret",
        environment=Environment.custom(AUTH, API, name="bench"),
        http_client=client,
        token_store=token_store,
    )
    async with client, session as tl:
        expired = Token(
            access_token=Secret("old-access-token-0123456789abcdef"),
            refresh_token=Secret("old-refresh-token-0123456789abcdef"),
            token_type=TokenType.DATA,
            expires_at=datetime.now(timezone.utc) - timedelta(minutes=5),
        )
        key = tl._core.tokens.key(TokenType.DATA, USER)
        await tl.token_store.set(key, TokenRecord(token=expired))
        seen: set[str] = set()

        async def caller() -> None:
            token = await tl.auth.valid_token(user=USER)
            seen.add(token.access_token.get_secret_value())

        gc.collect()
        started = time.perf_counter()
        if spawn == "gather":
            await asyncio.gather(*(caller() for _ in range(callers)))
        else:
            async with anyio.create_task_group() as tg:
                for _ in range(callers):
                    tg.start_soon(caller)
        elapsed = time.perf_counter() - started
    return elapsed, requests, len(seen)


def run(settings: Settings) -> list[Figure]:
    callers, latency = settings.refresh_callers, settings.refresh_latency
    many: list[float] = []
    one: list[float] = []
    requests: list[int] = []
    distinct: list[int] = []
    zero_many: list[float] = []
    zero_one: list[float] = []
    task_group: list[float] = []
    noop: list[float] = []
    for index in range(settings.runs):
        log(f"#3 refresh run {index + 1}/{settings.runs} ({callers} callers)")
        wall, sent, tokens = anyio.run(_sdk_refresh, callers, latency)
        many.append(wall * 1000)
        requests.append(sent)
        distinct.append(tokens)
        wall, sent, _ = anyio.run(_sdk_refresh, 1, latency)
        one.append(wall * 1000)
        assert sent == 1, sent
        # The same without latency: what the fan-out itself costs.
        zero_many.append(anyio.run(_sdk_refresh, callers, 0.0)[0] * 1000)
        zero_one.append(anyio.run(_sdk_refresh, 1, 0.0)[0] * 1000)
        task_group.append(anyio.run(_sdk_refresh, callers, latency, "task group")[0] * 1000)
        noop.append(anyio.run(_noop_gather, callers) * 1000)
    single_flight = max(requests) == 1 and max(distinct) == 1
    return [
        Figure(
            key="refresh",
            number="3",
            workload=f"{callers} coroutines (`asyncio.gather`) call `valid_token` on an "
            "expired token",
            metric="wall time until all have a token",
            unit="ms",
            samples=many,
            baseline=f"one `valid_token` refresh round trip ({latency * 1000:.0f} ms token "
            "endpoint)",
            baseline_samples=one,
            target="1 token request; ≤ 2×",
            target_ratio=2.0,
            notes=[
                f"Token requests per run: {requests} (distinct tokens handed out: {distinct}) "
                f"→ single flight {'held' if single_flight else 'FAILED'}.",
                f"`httpx.MockTransport` token endpoint answering after {latency * 1000:.0f} ms "
                "of simulated latency; a fresh Session per run.",
                "With no simulated latency the fan-out's own cost shows: "
                f"{callers} callers {statistics.median(zero_many):.1f} ms vs one caller "
                f"{statistics.median(zero_one):.1f} ms; {callers} no-op coroutines through "
                f"the same `asyncio.gather` take {statistics.median(noop):.1f} ms (medians).",
                f"The same {callers} callers started from an anyio task group instead: "
                f"{statistics.median(task_group):.1f} ms (its task spawning costs ~20-30 µs "
                "per task on this machine).",
            ],
            extra={
                "token_requests": requests,
                "distinct_tokens": distinct,
                "single_flight": single_flight,
                "zero_latency_many_ms": zero_many,
                "zero_latency_one_ms": zero_one,
                "task_group_ms": task_group,
                "noop_gather_ms": noop,
            },
        )
    ]
