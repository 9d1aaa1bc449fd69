"""#7 the batch against a fast canned-response server (Node.js), client CPU per request.

Issue #21 measured its batch figures against a fast canned-response server rather than
the emulator, so that the server is never the bottleneck and the client's own cost shows.
This suite does the same: ``benchmarks/js/canned_server.js`` (plain Node.js ``http``,
keep-alive) answers the batch's Data API paths with bodies built once from
``benchmarks/_payloads.py``, pinned to one core; every client runs in a fresh process
(``benchmarks._fast_client``) pinned to the other core. Per run, four clients take their
turn in a rotating order, with the same tokens, requests and concurrency as #4:

- raw ``httpx.AsyncClient`` + ``json.loads`` (httpx's default pool, as in #4);
- raw ``aiohttp.ClientSession`` + ``json.loads`` (aiohttp's default connector);
- the SDK on its default transport (``Session(...)``);
- the SDK on its aiohttp backend (``Session(..., http_backend="aiohttp")``), the
  recommended setup for batch work; "not measured" where that keyword does not exist.

Without Node.js every figure is "not measured: Node.js is not installed"; where the
machine has fewer than two usable cores, or pinning fails, the run says so in its notes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._common import (
    BENCH_DIR,
    Figure,
    Settings,
    child_env,
    log,
    not_measured,
    process_cpu_seconds,
    run_child,
)
from ._payloads import accounts_body, balance_body, token_body, transactions_body
from .loopback import _busy, _Sample

KINDS = ("httpx", "aiohttp", "sdk", "sdk-aiohttp")
LABELS = {
    "httpx": "raw `httpx.AsyncClient` + `json.loads`",
    "aiohttp": "raw `aiohttp.ClientSession` + `json.loads`",
    "sdk": "the SDK, default transport",
    "sdk-aiohttp": 'the SDK, `http_backend="aiohttp"`',
}
TRANSACTIONS = 144  # per response: what the emulator's mock-bank accounts hold (#4)
SMOKE_TRANSACTIONS = 20
SCOPE = "info accounts balance transactions offline_access"


def _cores() -> tuple[int | None, int | None, str]:
    """(server core, client core, what the notes say about pinning)."""
    try:
        available = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError) as exc:
        return None, None, f"not pinned: no CPU affinity here ({type(exc).__name__})"
    if len(available) < 2:
        return None, None, f"not pinned: only {len(available)} usable core(s)"
    return (
        available[0],
        available[1],
        f"server pinned to CPU {available[0]}, clients to {available[1]}",
    )


class CannedServer:
    """``canned_server.js`` in its own process, optionally pinned to one core."""

    def __init__(self, node: str, bodies: Path, cpu: int | None, timeout: float = 30.0) -> None:
        def pin() -> None:  # runs in the child before exec: every Node thread inherits it
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        self.process = subprocess.Popen(
            [node, str(BENCH_DIR / "js" / "canned_server.js"), str(bodies)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=pin,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while not line and time.monotonic() < deadline and self.process.poll() is None:
            line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the canned-response server did not start")
        self.url: str = json.loads(line)["url"]

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.communicate(timeout=10)  # closes stdin: the server exits
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _bodies(path: Path, transactions: int) -> dict[str, int]:
    """Write the canned bodies for the server; return their sizes in bytes."""
    bodies = {
        "accounts": accounts_body(),
        "balance": balance_body(),
        "transactions": transactions_body(transactions),
        "token": token_body(),
    }
    path.write_text(json.dumps({name: body.decode() for name, body in bodies.items()}))
    return {name: len(body) for name, body in bodies.items()}


def _config(path: Path, url: str, users: int, concurrency: int, cpu: int | None) -> Path:
    tokens = [
        {
            "access_token": f"canned-access-{i}",
            "refresh_token": f"canned-refresh-{i}",
            "expires_in": 3600,
            "scope": SCOPE,
        }
        for i in range(users)
    ]
    config = {"url": url, "tokens": tokens, "concurrency": concurrency, "cpu": cpu}
    path.write_text(json.dumps(config))
    return path


def _run_once(server: CannedServer, kind: str, config: Path, timeout: float) -> _Sample | str:
    """One batch by client ``kind``: a sample, or the reason it was not measured."""
    argv = [sys.executable, "-m", "benchmarks._fast_client"]
    before = server.cpu_seconds()
    child = run_child([*argv, kind, str(config)], timeout=timeout, env=child_env())
    after = server.cpu_seconds()
    if child.timed_out:
        raise RuntimeError(f"{kind}: timed out after {timeout:.0f} s")
    if child.returncode != 0:
        last = (child.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{kind}: exit {child.returncode}: {last[:300]}")
    result = child.json()
    if "not_measured" in result:
        return str(result["not_measured"])
    server_cpu = None if before is None or after is None else after - before
    sample = _Sample(child, result, server_cpu)
    if sample.errors:
        raise RuntimeError(f"{kind}: {sample.errors} user(s) failed")
    return sample


def run(settings: Settings) -> list[Figure]:
    users, concurrency = settings.batch_users, settings.batch_concurrency
    transactions = SMOKE_TRANSACTIONS if settings.smoke else TRANSACTIONS
    node = shutil.which("node")
    if node is None:
        return [not_measured(f, "Node.js is not installed") for f in _templates(settings, [])]
    server_cpu, client_cpu, pinning = _cores()
    log(f"#7 canned-response server ({pinning}), {users} users, concurrency {concurrency}")
    samples: dict[str, list[_Sample]] = {kind: [] for kind in KINDS}
    missing: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sizes = _bodies(Path(tmp) / "bodies.json", transactions)
        server = CannedServer(node, Path(tmp) / "bodies.json", server_cpu)
        try:
            config = _config(Path(tmp) / "config.json", server.url, users, concurrency, client_cpu)
            warm = _config(Path(tmp) / "warm.json", server.url, min(users, 100), 32, client_cpu)
            timeout = 60 + users * 3 * 0.2
            _run_once(server, "httpx", warm, timeout)  # untimed: page cache, server JIT
            for index in range(settings.batch_runs):
                log(f"#7 run {index + 1}/{settings.batch_runs} ({users * 3} requests per client)")
                shift = index % len(KINDS)
                for kind in KINDS[shift:] + KINDS[:shift]:
                    if kind in missing:
                        continue
                    try:
                        sample = _run_once(server, kind, config, timeout)
                    except (RuntimeError, ValueError) as exc:  # one client, not the suite
                        sample = str(exc).splitlines()[0][:300]
                    if isinstance(sample, str):
                        log(f"#7 {kind}: not measured: {sample}")
                        missing[kind] = sample
                    else:
                        samples[kind].append(sample)
        finally:
            server.stop()
    notes = _notes(samples, pinning, sizes, transactions)
    return _figures(settings, samples, missing, notes)


def _notes(
    samples: dict[str, list[_Sample]], pinning: str, sizes: dict[str, int], transactions: int
) -> list[str]:
    busy = ", ".join(f"{kind} {_busy(runs)}" for kind, runs in samples.items() if runs)
    return [
        f"Node.js `benchmarks/js/canned_server.js` ({pinning}); bodies precomputed once: "
        f"accounts {sizes['accounts']:,} B, balance {sizes['balance']:,} B, transactions "
        f"{sizes['transactions']:,} B ({transactions} transactions).",
        "Runs rotate the order of the four clients; each run of each client is a fresh "
        "process. Client CPU is user + system time of the client process during the batch "
        "(start-up and token seeding excluded), divided by its requests.",
        f"Server CPU busy during the batch (of its one core): {busy or 'unknown'}.",
    ]


def _cpu(runs: list[_Sample]) -> list[float]:
    return [s.client_cpu / s.requests * 1000 for s in runs]


def _templates(settings: Settings, notes: list[str]) -> list[Figure]:
    """Every figure of #7 without samples: (subject, baseline) in ``extra``."""
    workload = (
        f"{settings.batch_users} users × (accounts + balance + transactions), concurrency "
        f"{settings.batch_concurrency}, Node.js canned-response server"
    )
    specs: list[tuple[str, str, str, str, str, float | None, bool]] = [
        # key, subject, baseline, metric, target, target ratio, higher is better
        ("fast_sdk_aiohttp_cpu", "sdk-aiohttp", "httpx", "cpu", "≤ 0.40×", 0.40, False),
        ("fast_sdk_aiohttp_vs_aiohttp_cpu", "sdk-aiohttp", "aiohttp", "cpu", "≤ 1.5×", 1.5, False),
        ("fast_sdk_cpu", "sdk", "httpx", "cpu", "reported", None, False),
        ("fast_sdk_vs_aiohttp_cpu", "sdk", "aiohttp", "cpu", "reported", None, False),
        ("fast_aiohttp_cpu", "aiohttp", "httpx", "cpu", "reported", None, False),
        (
            "fast_sdk_aiohttp_throughput",
            "sdk-aiohttp",
            "httpx",
            "throughput",
            "reported",
            None,
            True,
        ),
        ("fast_sdk_throughput", "sdk", "httpx", "throughput", "reported", None, True),
    ]
    figures = []
    for key, subject, baseline, metric, target, ratio, higher in specs:
        cpu = metric == "cpu"
        figures.append(
            Figure(
                key=key,
                number="7",
                workload=f"{LABELS[subject]}: {workload}",
                metric="client CPU per request" if cpu else "throughput",
                unit="ms" if cpu else "req/s",
                samples=[],
                baseline=f"{LABELS[baseline]}, same server, batch and run",
                baseline_samples=[],
                target=target,
                target_ratio=ratio,
                higher_is_better=higher,
                label=f"{subject} vs {baseline} {'CPU/req' if cpu else 'req/s'} (fast server)",
                notes=list(notes),
                extra={"subject": subject, "baseline": baseline},
            )
        )
    return figures


def _figures(
    settings: Settings,
    samples: dict[str, list[_Sample]],
    missing: dict[str, str],
    notes: list[str],
) -> list[Figure]:
    figures = []
    for figure in _templates(settings, notes):
        subject, baseline = figure.extra["subject"], figure.extra["baseline"]
        reason = missing.get(subject) or missing.get(baseline)
        if reason is not None:
            figures.append(not_measured(figure, reason))
            continue
        if figure.unit == "ms":
            figure.samples, figure.baseline_samples = (
                _cpu(samples[subject]),
                _cpu(samples[baseline]),
            )
        else:
            figure.samples = [s.throughput for s in samples[subject]]
            figure.baseline_samples = [s.throughput for s in samples[baseline]]
        figures.append(figure)
    return figures
