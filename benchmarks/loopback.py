"""#4 and #6: batches against the emulator served by uvicorn over loopback.

The emulator runs in its own process (``benchmarks._emulator``) holding USERS connected
users; every client runs in a fresh process (``benchmarks._loopback_client`` for the SDK,
raw httpx and pytruelayer; ``benchmarks/js/driver.js`` for the npm ``truelayer-client``)
with the same URL, tokens, workload and concurrency. Throughput is requests / batch
seconds (start-up and token seeding excluded); peak memory is the client process's
``VmHWM`` (peak RSS of the whole process, interpreter or V8 included; see
``_common.peak_rss_kib``). The emulator's
CPU time during each batch is read from ``/proc`` to show whether it was the bottleneck.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._common import (
    BENCH_DIR,
    WORK_DIR,
    ChildResult,
    Figure,
    Settings,
    child_env,
    log,
    not_measured,
    process_cpu_seconds,
    run_child,
)

NODE_DIR = WORK_DIR / "node"
PY_DIR = WORK_DIR / "py"
JS_PACKAGE = "truelayer-client@1.3.2"
PY_PACKAGES = ("pytruelayer==0.3.0", "marshmallow>=3,<4")
_OFF = " (--smoke or --no-install)"


class Emulator:
    """The emulator server process: start it, read its URL and tokens, stop it."""

    def __init__(
        self,
        users: int,
        timeout: float = 120.0,
        *,
        options: Sequence[str] = (),
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._emulator", str(users), *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or child_env(),
            cwd=cwd,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while not line and time.monotonic() < deadline and self.process.poll() is None:
            line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the emulator process did not start")
        info = json.loads(line)
        self.url: str = info["url"]
        self.tokens: list[dict[str, Any]] = info["tokens"]
        self.package: str | None = info.get("package")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the emulator process so far (Linux /proc)."""
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        if self.process.poll() is None and self.process.stdin is not None:
            try:
                out, _ = self.process.communicate("stop\n", timeout=30)
                for line in out.splitlines():
                    if line.startswith("{"):
                        stats = json.loads(line).get("stats", stats)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return stats


# ------------------------------------------------------------------- third-party clients


def _install_node(settings: Settings) -> str | None:
    """Install the npm client into benchmarks/_work/node; return a reason on failure."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if (NODE_DIR / "node_modules" / "truelayer-client" / "package.json").exists():
        return None
    if not settings.install:
        return "truelayer-client is not in benchmarks/_work/node and installing is off" + _OFF
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    package_json = NODE_DIR / "package.json"
    if not package_json.exists():
        package_json.write_text('{"name": "bench-work", "private": true}\n')
    log(f"npm install {JS_PACKAGE} into {NODE_DIR}")
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), JS_PACKAGE],
            capture_output=True,
            text=True,
            timeout=settings.external_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"npm install timed out after {settings.external_timeout:.0f} s"
    if done.returncode != 0:
        return f"npm install failed: {done.stderr.strip().splitlines()[-1:]}"
    return None


def _install_python(settings: Settings) -> str | None:
    """Install pytruelayer into benchmarks/_work/py; return a reason on failure."""
    if (PY_DIR / "truelayer" / "api" / "data_api.py").exists():
        return None
    if not settings.install:
        return "pytruelayer is not in benchmarks/_work/py and installing is off" + _OFF
    log(f"pip install --target {PY_DIR} {' '.join(PY_PACKAGES)}")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(PY_DIR),
                *PY_PACKAGES,
            ],
            capture_output=True,
            text=True,
            timeout=settings.external_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"pip install timed out after {settings.external_timeout:.0f} s"
    if done.returncode != 0:
        return f"pip install failed: {done.stderr.strip().splitlines()[-1:]}"
    return None


# ------------------------------------------------------------------------------ runs


class _Sample:
    def __init__(self, child: ChildResult, result: dict[str, Any], server_cpu: float | None):
        self.requests = int(result["requests"])
        self.seconds = float(result["seconds"])
        self.errors = int(result["errors"])
        self.transactions = int(result["transactions"])
        self.throughput = self.requests / self.seconds if self.seconds else 0.0
        self.rss_mib = int(result.get("peak_rss_kib") or child.max_rss_kib) / 1024
        self.client_cpu = float(result.get("cpu_seconds", child.cpu_seconds))
        self.server_busy = server_cpu / self.seconds if server_cpu is not None else None


def _python_client(kind: str) -> Callable[[Path], list[str]]:
    def argv(config: Path) -> list[str]:
        return [sys.executable, "-m", "benchmarks._loopback_client", kind, str(config)]

    return argv


def _node_client(config: Path) -> list[str]:
    node = shutil.which("node") or "node"
    return [node, str(BENCH_DIR / "js" / "driver.js"), str(NODE_DIR / "node_modules"), str(config)]


def _run_once(
    emulator: Emulator,
    name: str,
    argv: list[str],
    env: dict[str, str],
    timeout: float,
) -> _Sample:
    before = emulator.cpu_seconds()
    child = run_child(argv, timeout=timeout, env=env)
    after = emulator.cpu_seconds()
    if child.timed_out:
        raise RuntimeError(f"{name}: timed out after {timeout:.0f} s")
    if child.returncode != 0:
        raise RuntimeError(f"{name}: exit {child.returncode}: {child.stderr.strip()[-500:]}")
    server_cpu = None if before is None or after is None else after - before
    sample = _Sample(child, child.json(), server_cpu)
    if sample.errors:
        raise RuntimeError(f"{name}: {sample.errors} user(s) failed")
    return sample


def _parser() -> str:
    """The HTTP parser the emulator process serves with (see ``testing._server``)."""
    from truelayer_async.testing._server import http_parser

    return http_parser()


def _busy(samples: list[_Sample]) -> str:
    values = [s.server_busy for s in samples if s.server_busy is not None]
    return f"{statistics.median(values) * 100:.0f} %" if values else "unknown"


def _cpu_per_request(samples: list[_Sample]) -> float:
    return statistics.median(s.client_cpu / s.requests * 1000 for s in samples if s.requests)


def run(settings: Settings) -> list[Figure]:
    users, concurrency = settings.batch_users, settings.batch_concurrency
    requests = users * 3
    log(f"#4 starting the emulator with {users} users")
    emulator = Emulator(users)
    figures: list[Figure] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "config.json"
            config.write_text(
                json.dumps(
                    {"url": emulator.url, "tokens": emulator.tokens, "concurrency": concurrency}
                )
            )
            env = child_env()
            timeout = 60 + requests * 0.2
            # Warm-up (untimed, 100 users): the emulator's code paths, files in the page cache.
            warm = Path(tmp) / "warm.json"
            warm.write_text(
                json.dumps(
                    {"url": emulator.url, "tokens": emulator.tokens[:100], "concurrency": 32}
                )
            )
            _run_once(emulator, "warm-up", _python_client("raw")(warm), env, timeout)
            sdk: list[_Sample] = []
            raw: list[_Sample] = []
            for index in range(settings.batch_runs):
                log(f"#4 batch run {index + 1}/{settings.batch_runs} ({requests} requests each)")
                order = ("sdk", "raw") if index % 2 == 0 else ("raw", "sdk")
                for kind in order:
                    sample = _run_once(emulator, kind, _python_client(kind)(config), env, timeout)
                    (sdk if kind == "sdk" else raw).append(sample)
            figures += _batch_figures(settings, sdk, raw)
            if settings.others:
                figures += _other_clients(settings, emulator, config, timeout, sdk)
    finally:
        stats = emulator.stop()
        log(f"emulator served {stats.get('data', '?')} Data API requests")
    return figures


def _batch_figures(settings: Settings, sdk: list[_Sample], raw: list[_Sample]) -> list[Figure]:
    users, concurrency = settings.batch_users, settings.batch_concurrency
    workload = (
        f"{users} users × (accounts + balance + transactions), concurrency {concurrency}, "
        "emulator over loopback"
    )
    txns = {s.transactions for s in sdk + raw}
    common = [
        f"{len(sdk)} runs per client, alternating; each run a fresh process. Every run of "
        f"every client saw the same {sorted(txns)} transactions in total.",
        f"Emulator (uvicorn + {_parser()}, one process, its own core) CPU busy during the batch: "
        f"SDK runs {_busy(sdk)}, raw runs {_busy(raw)} of one core. Near 100 % means the "
        "emulator, not the client, sets the pace; both sides are limited the same way.",
    ]
    return [
        Figure(
            key="batch_throughput",
            number="4",
            workload=workload,
            metric="throughput",
            unit="req/s",
            samples=[s.throughput for s in sdk],
            baseline="raw `httpx.AsyncClient` + `json.loads`, same requests and concurrency",
            baseline_samples=[s.throughput for s in raw],
            target="≥ 0.9×",
            target_ratio=0.9,
            higher_is_better=True,
            notes=common,
        ),
        Figure(
            key="batch_cpu",
            number="4",
            workload=workload,
            metric="client CPU per request",
            unit="ms",
            samples=[s.client_cpu / s.requests * 1000 for s in sdk],
            baseline="raw `httpx` client process, same batch",
            baseline_samples=[s.client_cpu / s.requests * 1000 for s in raw],
            target="reported",
            target_ratio=None,
            notes=[
                "CPU time (user + system, all threads) of the client process during the "
                "batch, divided by its requests: what the client costs the machine it "
                "shares with the emulator. Less disturbed by other load than throughput, "
                "but not immune: CPU time per request rises when other work shares the "
                "cores."
            ],
        ),
        Figure(
            key="batch_memory",
            number="4",
            workload=workload,
            metric="client peak RSS",
            unit="MiB",
            samples=[s.rss_mib for s in sdk],
            baseline="raw `httpx` client process, same batch",
            baseline_samples=[s.rss_mib for s in raw],
            target="reported",
            target_ratio=None,
            notes=[
                "Peak RSS (`VmHWM`) of the whole client process, read by the client at the "
                "end of the batch; not `ru_maxrss`, which on Linux includes the forked "
                "runner's size."
            ],
        ),
    ]


def _other_clients(
    settings: Settings, emulator: Emulator, config: Path, timeout: float, sdk: list[_Sample]
) -> list[Figure]:
    figures: list[Figure] = []
    clients: list[
        tuple[str, str, str, Callable[[Settings], str | None], list[str], dict[str, str]]
    ]
    clients = [
        (
            "node",
            "JS truelayer-client",
            "official JS client (npm `truelayer-client` 1.3.2, Node.js)",
            _install_node,
            _node_client(config),
            dict(os.environ),
        ),
        (
            "pytruelayer",
            "pytruelayer",
            f"`pytruelayer` 0.3.0 (sync, urllib3; {settings.batch_concurrency} threads)",
            _install_python,
            _python_client("pytruelayer")(config),
            child_env(PY_DIR),
        ),
    ]
    for key, name, label, install, argv, env in clients:
        runs = settings.pytruelayer_runs if key == "pytruelayer" else settings.batch_runs
        throughput = Figure(
            key=f"{key}_throughput",
            number="6",
            workload=f"{label}: the #4 batch",
            metric="throughput",
            unit="req/s",
            samples=[],
            baseline="our SDK (#4, same server and run)",
            baseline_samples=[s.throughput for s in sdk],
            target="reported",
            target_ratio=None,
            higher_is_better=True,
            paired=False,
            label=f"{name} throughput",
        )
        memory = Figure(
            key=f"{key}_memory",
            number="6",
            workload=f"{label}: the #4 batch",
            metric="client peak RSS",
            unit="MiB",
            samples=[],
            baseline="our SDK (#4, same server and run)",
            baseline_samples=[s.rss_mib for s in sdk],
            target="reported",
            target_ratio=None,
            paired=False,
            label=f"{name} peak RSS",
        )
        reason = install(settings)
        if reason is not None:
            log(f"#6 {key}: not measured: {reason}")
            figures += [not_measured(throughput, reason), not_measured(memory, reason)]
            continue
        samples: list[_Sample] = []
        try:
            for index in range(runs):
                log(f"#6 {key} run {index + 1}/{runs}")
                samples.append(_run_once(emulator, key, argv, env, timeout))
        except (RuntimeError, ValueError) as exc:
            reason = str(exc).splitlines()[0][:300]
            log(f"#6 {key}: not measured: {reason}")
            figures += [not_measured(throughput, reason), not_measured(memory, reason)]
            continue
        throughput.samples = [s.throughput for s in samples]
        memory.samples = [s.rss_mib for s in samples]
        memory.notes = ["Peak RSS (`VmHWM`) of the whole client process, as for #4."]
        throughput.notes = [
            f"{len(samples)} runs; emulator CPU busy {_busy(samples)}; client CPU per request "
            f"{_cpu_per_request(samples):.2f} ms (SDK {_cpu_per_request(sdk):.2f} ms).",
        ]
        figures += [throughput, memory]
    return figures
