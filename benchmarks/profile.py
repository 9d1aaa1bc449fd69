"""Profile the SDK side of the benchmarks with pyinstrument (or cProfile without it).

    python -m benchmarks.profile overhead decode refresh loopback fast emulator [--out DIR]

``emulator`` profiles the other side: the served emulator itself (uvicorn in this
process's main thread) under #9's load driver.

Writes one text report per workload into DIR (default ``benchmarks/_work/profiles``):
``<name>.pyinstrument.txt`` (call tree, time-ordered) and ``<name>.cprofile.txt`` (top
functions by own time). ``benchmarks/PROFILE.md`` summarises these before and after
each change. Needs ``pyinstrument`` for the tree (``pip install pyinstrument``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from ._common import WORK_DIR, child_env

WORKLOADS = ("overhead", "decode", "refresh", "loopback", "fast", "emulator")


def _overhead() -> None:
    from ._payloads import accounts_body
    from .overhead import _sdk_calls

    anyio.run(_sdk_calls, 5000, accounts_body())


def _decode() -> None:
    from truelayer_async._converter import structure_results
    from truelayer_async._json import loads
    from truelayer_async.models import Transaction

    from ._payloads import transactions_body

    body = transactions_body(10_000)
    for _ in range(10):
        structure_results(loads(body), Transaction)


def _refresh() -> None:
    from .refresh import _sdk_refresh

    for _ in range(5):
        anyio.run(_sdk_refresh, 1000, 0.0)


def _loopback() -> None:
    """The SDK client of #4 against a real emulator process (200 users, concurrency 32)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._emulator", "200"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        info = json.loads(server.stdout.readline())
        config = {"url": info["url"], "tokens": info["tokens"], "concurrency": 32}
        from ._loopback_client import _run_sdk

        anyio.run(_run_sdk, config)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(30)


def _fast() -> None:
    """The SDK client of #7 (default transport; ``FAST_BACKEND=aiohttp`` for the aiohttp
    backend) against the canned Node.js server: 200 users, concurrency 32."""
    import os
    import shutil
    import tempfile

    from . import fast_batch
    from ._loopback_client import _run_sdk

    node = shutil.which("node")
    if node is None:
        raise SystemExit("the fast workload needs Node.js")
    with tempfile.TemporaryDirectory() as tmp:
        bodies = Path(tmp) / "bodies.json"
        fast_batch._bodies(bodies, fast_batch.TRANSACTIONS)
        server = fast_batch.CannedServer(node, bodies, cpu=None)
        try:
            config_path = fast_batch._config(Path(tmp) / "c.json", server.url, 200, 32, None)
            config = json.loads(config_path.read_text())
            backend = os.environ.get("FAST_BACKEND")
            if backend:
                config["session_options"] = {"http_backend": backend}
            anyio.run(_run_sdk, config)
        finally:
            server.stop()


_SERVED: dict[str, Any] = {}


def _emulator() -> None:
    """One batch (300 users, concurrency 32) against the emulator served in this thread.

    The users are made once; the first call (``profile``'s warm-up) fills the emulator's
    caches, so the profiled calls show the warm state #4 runs in.
    """
    import threading

    import uvicorn

    from truelayer_async.testing import FakeTrueLayer
    from truelayer_async.testing._server import bind_socket, uvicorn_config

    if not _SERVED:
        fake = FakeTrueLayer()
        _SERVED["fake"] = fake
        _SERVED["tokens"] = [
            fake.create_connection(username=f"john{i % 100 + 1}", password="doe")
            for i in range(300)
        ]
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    config = WORK_DIR / "emulator-load.json"
    config.write_text(
        json.dumps(
            {"url": f"http://127.0.0.1:{port}", "tokens": _SERVED["tokens"], "concurrency": 32}
        )
    )
    server = uvicorn.Server(uvicorn_config(_SERVED["fake"], "127.0.0.1", port))

    def drive() -> None:
        try:
            while not server.started:
                threading.Event().wait(0.01)
            command = [sys.executable, "-m", "benchmarks._emulator_load", str(config)]
            subprocess.run(command, env=child_env(), capture_output=True, timeout=600, check=False)
        finally:
            server.should_exit = True

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        driver.join()


_RUNNERS: dict[str, Callable[[], None]] = {
    "overhead": _overhead,
    "decode": _decode,
    "refresh": _refresh,
    "loopback": _loopback,
    "fast": _fast,
    "emulator": _emulator,
}


def profile(name: str, out: Path) -> None:
    runner = _RUNNERS[name]
    runner()  # warm-up: imports, generated code, caches
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler: Any = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        runner()
        profiler.stop()
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        (out / f"{name}.pyinstrument.txt").write_text(text)
    stats_profile = cProfile.Profile()
    stats_profile.enable()
    runner()
    stats_profile.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(stats_profile, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(40)
    (out / f"{name}.cprofile.txt").write_text(buffer.getvalue())
    print(f"wrote {out}/{name}.*.txt", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)}")
    parser.add_argument("--out", type=Path, default=WORK_DIR / "profiles")
    args = parser.parse_args(argv)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.workloads or WORKLOADS:
        profile(name, args.out)


if __name__ == "__main__":
    main()
