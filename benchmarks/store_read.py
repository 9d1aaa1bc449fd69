"""#8 Persistent token stores: what a data call costs with SQLite or Redis, and 1,000 waiters.

Per call: #1's workload (sequential ``tl.data.accounts()`` through an
``httpx.MockTransport``, CPU time per call) with the Session's token in a
``SqliteTokenStore`` (a file in a temporary directory) or a ``RedisTokenStore`` (a
``redis-server`` started on loopback for the run, no persistence). Baseline: the same
SDK call with a ``MemoryTokenStore``. Subject and baseline alternate run by run in one
process, one Session each. Goal (issue #21): ≤ 1.15×, i.e. no store read on the hot path.

Waiters: #3's workload (1,000 coroutines call ``valid_token`` on one expired token, the
token endpoint answering after 50 ms) with the token seeded in a ``SqliteTokenStore``;
baseline: the same with a ``MemoryTokenStore``. A fresh Session and store per run, the
token written straight into the store, so the Session starts with nothing cached.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio

from . import overhead, refresh
from ._common import Figure, Settings, log, not_measured
from ._payloads import accounts_body

PER_CALL_GOAL = 1.15
T = TypeVar("T")


@contextmanager
def _redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free loopback port (``None`` if none is installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [*args, "--dir", workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _per_call(settings: Settings, name: str, store: Any, body: bytes) -> Figure:
    calls = settings.overhead_calls
    runs = settings.runs * 3
    figure = Figure(
        key=f"store_read_{name.lower()}",
        number="8",
        workload=f"#1's sequential `tl.data.accounts()` with the token in a `{name}TokenStore`",
        metric="CPU time per call",
        unit="µs",
        samples=[],
        baseline="the same SDK call with a `MemoryTokenStore`",
        baseline_samples=[],
        target=f"≤ {PER_CALL_GOAL}×",
        target_ratio=PER_CALL_GOAL,
        label=f"{name} store",
    )
    if store is None:
        return not_measured(figure, "redis-server is not installed")
    subject = overhead._Sdk(body, token_store=store)
    memory = overhead._Sdk(body)
    on, off, on_wall, off_wall = anyio.run(
        _closing, store, overhead._alternate(runs, calls, subject, memory, f"#8 {name} store")
    )
    figure.samples, figure.baseline_samples = on, off
    figure.notes = [
        f"{runs} alternating runs of {calls} calls per side in one process; CPU time "
        f"(`time.process_time`) per call. Wall time per call, median: {name} "
        f"{overhead._median(on_wall):.0f} µs, memory {overhead._median(off_wall):.0f} µs.",
        "The Session serves the token from its read cache (`cache_max_age`, 10 s by "
        "default) and reads the store again only when the cached copy is older, expiring, "
        "or refused with a 401.",
    ]
    figure.extra = {"wall_us_store": on_wall, "wall_us_memory": off_wall}
    return figure


def _waiters(settings: Settings) -> Figure:
    from truelayer_async.stores import SqliteTokenStore

    callers, latency = settings.refresh_callers, settings.refresh_latency
    sqlite: list[float] = []
    memory: list[float] = []
    requests: list[int] = []
    with tempfile.TemporaryDirectory() as directory:
        for index in range(settings.runs):
            log(f"#8 waiters run {index + 1}/{settings.runs} ({callers} callers)")
            store = SqliteTokenStore(Path(directory) / f"tokens-{index}.db")
            wall, sent, _ = anyio.run(
                _closing, store, refresh._sdk_refresh(callers, latency, "gather", store)
            )
            sqlite.append(wall * 1000)
            requests.append(sent)
            memory.append(anyio.run(refresh._sdk_refresh, callers, latency)[0] * 1000)
    return Figure(
        key="store_read_waiters",
        number="8",
        workload=f"#3's {callers} `valid_token` callers on one expired token, stored in a "
        "`SqliteTokenStore`",
        metric="wall time until all have a token",
        unit="ms",
        samples=sqlite,
        baseline="the same with a `MemoryTokenStore`",
        baseline_samples=memory,
        target="reported (issue #21: 267 ms vs 71 ms before)",
        target_ratio=None,
        label="waiters, SQLite",
        notes=[
            f"Token requests per SQLite run: {requests}. Waiters join the refresh flight and "
            "take its token; concurrent cache misses share one store read.",
        ],
        extra={"token_requests": requests},
    )


def run(settings: Settings) -> list[Figure]:
    from truelayer_async.stores import RedisTokenStore, SqliteTokenStore

    body = accounts_body()
    figures = []
    with tempfile.TemporaryDirectory() as directory:
        sqlite = SqliteTokenStore(Path(directory) / "tokens.db")
        figures.append(_per_call(settings, "Sqlite", sqlite, body))
    with _redis_server() as url:
        redis = None if url is None else RedisTokenStore(url)
        figures.append(_per_call(settings, "Redis", redis, body))
    figures.append(_waiters(settings))
    return figures


async def _closing(store: Any, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``, then close ``store`` in the same event loop."""
    try:
        return await work
    finally:
        await store.aclose()
