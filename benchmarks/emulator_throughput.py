"""#9 (issue #21): the served emulator's own throughput, before and after #21.

Servers, each its own process (``benchmarks._emulator``, the same script and users):

* **after**: this checkout (uvicorn with httptools when it is installed);
* **before**: the package as of ``BASELINE_REVISION`` (main just before #21's emulator
  work), taken out of this repository's history with ``git archive`` into a temporary
  directory and served by the same script; "not measured" without git or that commit;
* **h11**: this checkout with ``--http h11``, to show what the HTTP parser is worth.

Load: ``benchmarks._emulator_load``, a lean client on plain asyncio streams in its own
process (32 keep-alive connections, ``Accept-Encoding: gzip, deflate`` as httpx sends),
so that the emulator, not the client, sets the pace. Per run every server is a fresh
process and gets, in turn: a **cold** batch (each user's first requests: nothing cached
yet), a **warm** batch (the same requests again, as the loopback benchmark #4 repeats
them) and a burst of ``client_credentials`` token grants. The order of the servers
alternates between runs. The emulator's CPU time per request is read from ``/proc``.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._common import ROOT, Figure, Settings, child_env, log, not_measured, run_child
from .loopback import Emulator

#: main just before #21's emulator work (the "before" of every ratio here).
BASELINE_REVISION = "61724c31c5acaa0dcc2bcce65f99902d149559c2"
CLIENT = ("sandbox-truelayer-async", "sandbox-secret-not-for-production")
SERVERS = ("after", "before", "h11")


class _Sample:
    """One workload against one server: requests per second and server CPU per request."""

    def __init__(self, result: dict[str, Any], server_cpu: float | None) -> None:
        self.requests = int(result["requests"])
        self.seconds = float(result["seconds"])
        self.throughput = self.requests / self.seconds if self.seconds else 0.0
        self.cpu_ms = None if server_cpu is None else server_cpu / self.requests * 1000


def _baseline_tree(tmp: Path) -> Path | str:
    """Extract the baseline package into ``tmp``; return it, or why that failed."""
    git = shutil.which("git")
    if git is None:
        return "git is not installed"
    try:
        done = subprocess.run(
            [
                git,
                "-C",
                str(ROOT),
                "archive",
                "--format=tar",
                BASELINE_REVISION,
                "truelayer_async",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "git archive timed out"
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        return f"commit {BASELINE_REVISION[:7]} is not in this checkout's history: {reason}"
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp, filter="data")
        else:  # pragma: no cover - Pythons without extraction filters
            archive.extractall(tmp)
    return tmp


@contextmanager
def _server(name: str, users: int, before: Path | None) -> Iterator[Emulator]:
    """A fresh emulator process; ``before`` serves the baseline package from there."""
    if name == "before":
        assert before is not None
        env = child_env()
        env["PYTHONPATH"] = f"{before}:{env['PYTHONPATH']}"
        # ``-m`` puts the working directory first on sys.path: the old package wins.
        emulator = Emulator(users, env=env, cwd=before)
    else:
        emulator = Emulator(users, options=("--http", "h11") if name == "h11" else ())
    try:
        yield emulator
    finally:
        emulator.stop()


def _drive(emulator: Emulator, config: dict[str, Any], tmp: Path, timeout: float) -> _Sample:
    path = tmp / "load.json"
    path.write_text(json.dumps({"url": emulator.url, "tokens": emulator.tokens, **config}))
    before = emulator.cpu_seconds()
    child = run_child(
        [sys.executable, "-m", "benchmarks._emulator_load", str(path)],
        timeout=timeout,
        env=child_env(),
    )
    after = emulator.cpu_seconds()
    if child.timed_out or child.returncode != 0:
        raise RuntimeError(f"load driver failed: {child.stderr.strip()[-500:]}")
    result = child.json()
    if result["errors"]:
        raise RuntimeError(f"load driver: {result['errors']} failed request(s)")
    server_cpu = None if before is None or after is None else after - before
    return _Sample(result, server_cpu)


def run(settings: Settings) -> list[Figure]:
    users, concurrency = settings.batch_users, settings.batch_concurrency
    timeout = 60 + users * 3 * 0.05
    batch = {"workload": "batch", "concurrency": concurrency}
    grants = {
        "workload": "token",
        "concurrency": concurrency,
        "requests": users * 3,
        "client_id": CLIENT[0],
        "client_secret": CLIENT[1],
    }
    samples: dict[str, dict[str, list[_Sample]]] = {
        name: {"cold": [], "warm": [], "token": []} for name in SERVERS
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        tree = _baseline_tree(tmp / "before")
        reason = tree if isinstance(tree, str) else None
        servers = [name for name in SERVERS if name != "before" or reason is None]
        if reason is not None:
            log(f"#9 before: not measured: {reason}")
        for index in range(settings.batch_runs):
            order = servers if index % 2 == 0 else servers[::-1]
            for name in order:
                log(f"#9 run {index + 1}/{settings.batch_runs}: {name} ({users} users)")
                with _server(name, users, None if reason else tmp / "before") as emulator:
                    if name == "before":
                        _check_serves_baseline(emulator, tmp / "before")
                    kinds = ("warm",) if name == "h11" else ("cold", "warm", "token")
                    if name == "h11":  # warm only: fill its caches untimed first
                        _drive(emulator, batch, tmp, timeout)
                    for kind in kinds:
                        config = grants if kind == "token" else batch
                        samples[name][kind].append(_drive(emulator, config, tmp, timeout))
    return _figures(settings, samples, reason)


def _check_serves_baseline(emulator: Emulator, tree: Path) -> None:
    """Refuse to report a "before" that is really this checkout."""
    package = emulator.package
    if package is None or not Path(package).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"the baseline server imported {package!r}, not {tree}")


def _figures(
    settings: Settings, samples: dict[str, dict[str, list[_Sample]]], reason: str | None
) -> list[Figure]:
    users, concurrency = settings.batch_users, settings.batch_concurrency
    batch = (
        f"emulator served by uvicorn: {users} users × (accounts + balance + transactions), "
        f"concurrency {concurrency}, lean asyncio client"
    )
    before = f"the emulator before #21 (commit {BASELINE_REVISION[:7]}), same load"
    after, old = samples["after"], samples["before"]

    def rates(items: list[_Sample]) -> list[float]:
        return [s.throughput for s in items]

    def cpu(items: list[_Sample]) -> list[float]:
        return [s.cpu_ms for s in items if s.cpu_ms is not None]

    runs = f"{settings.batch_runs} runs, each server a fresh process, order alternating."

    def versus_before(key: str, workload: str, label: str, kind: str, **fields: Any) -> Figure:
        per = fields.pop("per", rates)
        target = fields.pop("target_ratio", None)
        return Figure(
            key=key,
            number="9",
            workload=workload,
            metric=fields.pop("metric", "emulator throughput"),
            unit=fields.pop("unit", "req/s"),
            samples=per(after[kind]),
            baseline=before,
            baseline_samples=per(old[kind]),
            target=f"≥ {target:g}× (#21)" if target else "reported",
            target_ratio=target,
            higher_is_better=fields.pop("higher_is_better", True),
            label=label,
            notes=fields.pop("notes", []),
        )

    grants = (
        f"emulator: {users * 3} `client_credentials` grants on `POST /connect/token`, "
        f"concurrency {concurrency}"
    )
    figures = [
        versus_before(
            "emulator_throughput",
            f"{batch}; warm (repeated, as #4 runs it)",
            "emulator req/s (warm)",
            "warm",
            target_ratio=2.0,
            notes=[
                runs,
                "Warm: the second pass over the same users in the same server process; "
                "the first pass is the cold figure below.",
                f"Emulator CPU per request: after {_median(cpu(after['warm']))} ms, before "
                f"{_median(cpu(old['warm']))} ms.",
            ],
        ),
        versus_before(
            "emulator_cold_throughput",
            f"{batch}; cold (each user's first requests)",
            "emulator req/s (cold)",
            "cold",
            notes=[runs, "Cold: nothing cached yet: what a test suite's fresh users see."],
        ),
        versus_before(
            "emulator_cpu",
            f"{batch}; warm",
            "emulator CPU/request",
            "warm",
            per=cpu,
            metric="emulator CPU per request",
            unit="ms",
            higher_is_better=False,
            notes=["User + system CPU of the emulator process during the batch (/proc)."],
        ),
        versus_before(
            "emulator_token_throughput",
            grants,
            "emulator token grants/s",
            "token",
            metric="token grants per second",
        ),
    ]
    if reason is not None:
        figures = [not_measured(figure, reason) for figure in figures]
    figures.append(
        Figure(
            key="emulator_parser",
            number="9",
            workload=f"{batch}; warm; this checkout with httptools vs with h11",
            metric="emulator throughput",
            unit="req/s",
            samples=rates(after["warm"]),
            baseline="this checkout served with uvicorn's pure-Python h11 parser",
            baseline_samples=rates(samples["h11"]["warm"]),
            target="reported",
            target_ratio=None,
            higher_is_better=True,
            paired=True,
            label="httptools vs h11",
            notes=[
                f"Emulator CPU per request: httptools {_median(cpu(after['warm']))} ms, "
                f"h11 {_median(cpu(samples['h11']['warm']))} ms."
            ],
        )
    )
    return figures


def _median(values: list[float]) -> str:
    from statistics import median

    return f"{median(values):.3f}" if values else "?"
