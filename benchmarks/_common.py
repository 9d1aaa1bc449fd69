"""Shared pieces: results, statistics, the machine description, and child processes.

Nothing here asserts a time. Every figure is a list of per-run samples; the report shows
their median and the ratio to a baseline measured in the same invocation.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "_work"


@dataclass
class Settings:
    """Sizes and repetitions; ``smoke()`` shrinks everything so CI stays fast."""

    smoke: bool = False
    runs: int = 5
    overhead_calls: int = 1000
    decode_transactions: int = 10_000
    refresh_callers: int = 1000
    refresh_latency: float = 0.05
    batch_users: int = 500
    batch_concurrency: int = 32
    batch_runs: int = 5
    pytruelayer_runs: int = 2  # ~35 s a run on this machine
    memory_transactions: int = 100_000
    memory_runs: int = 3
    install: bool = True
    others: bool = True
    external_timeout: float = 120.0

    @classmethod
    def smoke_settings(cls) -> Settings:
        return cls(
            smoke=True,
            runs=2,
            overhead_calls=50,
            decode_transactions=300,
            refresh_callers=50,
            refresh_latency=0.01,
            batch_users=12,
            batch_concurrency=4,
            batch_runs=1,
            pytruelayer_runs=1,
            memory_transactions=2000,
            memory_runs=1,
            install=False,
            external_timeout=30.0,
        )


@dataclass
class Figure:
    """One measured quantity: samples of the subject and of its same-run baseline.

    ``ratio`` is subject / baseline for times and memory, and subject / baseline
    throughput for throughputs (so ``higher_is_better`` says which way the target points).
    """

    key: str
    number: str
    workload: str
    metric: str
    unit: str
    samples: list[float]
    baseline: str
    baseline_samples: list[float]
    target: str
    target_ratio: float | None
    higher_is_better: bool = False
    paired: bool = True  # samples[i] and baseline_samples[i] were measured side by side
    label: str = ""  # short name for the chart; defaults to the metric
    notes: list[str] = field(default_factory=list)
    status: str = "measured"  # or "not measured: <reason>"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return self.status == "measured" and bool(self.samples) and bool(self.baseline_samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline_samples) if self.baseline_samples else None

    @property
    def ratio(self) -> float | None:
        """Median of the per-run ratios when runs are paired, else ratio of the medians."""
        if not self.measured:
            return None
        if self.paired and len(self.samples) == len(self.baseline_samples):
            pairs = [s / b for s, b in zip(self.samples, self.baseline_samples, strict=True) if b]
            if pairs:
                return statistics.median(pairs)
        base = self.baseline_median
        return None if not base else (self.median or 0.0) / base

    @property
    def ratio_range(self) -> tuple[float, float] | None:
        """Lowest and highest per-run ratio, for paired figures with several runs."""
        if not self.measured or not self.paired or len(self.samples) < 2:
            return None
        if len(self.samples) != len(self.baseline_samples):
            return None
        pairs = [s / b for s, b in zip(self.samples, self.baseline_samples, strict=True) if b]
        return (min(pairs), max(pairs)) if pairs else None

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if ratio is None or self.target_ratio is None:
            return None
        if self.higher_is_better:
            return ratio >= self.target_ratio
        return ratio <= self.target_ratio

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            median=self.median,
            baseline_median=self.baseline_median,
            ratio=self.ratio,
            ratio_range=self.ratio_range,
            met=self.met,
        )
        return data


def not_measured(template: Figure, reason: str) -> Figure:
    """A copy of ``template`` with no samples and a ``not measured`` status."""
    template.samples = []
    template.baseline_samples = []
    template.status = f"not measured: {reason}"
    return template


def spread(samples: Sequence[float]) -> str:
    """``min–max`` of the samples, for the report."""
    if not samples:
        return "-"
    return f"{fmt(min(samples))}–{fmt(max(samples))}"


def fmt(value: float | None) -> str:
    """A number with about three significant digits."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def log(message: str) -> None:
    """Progress on stderr (the report goes to files)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------ machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def _node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "not installed"
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "CPU": _cpu_model(),
        "logical cores": str(os.cpu_count()),
        "memory": _memory_gib(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Node.js": _node_version(),
        "httpx / anyio / attrs / cattrs": " / ".join(
            _version(name) for name in ("httpx", "anyio", "attrs", "cattrs")
        ),
        "uvicorn / starlette / h11 / httptools": " / ".join(
            _version(name) for name in ("uvicorn", "starlette", "h11", "httptools")
        ),
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in load),
    }


# ------------------------------------------------------------------ child processes


def peak_rss_kib() -> int:
    """This process's peak resident set size, in KiB.

    ``VmHWM`` from ``/proc/self/status`` where there is one (Linux), else ``ru_maxrss``.
    On Linux ``ru_maxrss`` (from ``getrusage`` or ``wait4``) also counts the high-water
    mark the process had *before* ``exec``: a child forked from a big benchmark runner
    reports at least the runner's size (every child here reported the same 84.8 MiB).
    ``VmHWM`` belongs to the current address space, so it starts afresh at ``exec``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def rss_bytes() -> int:
    """This process's current resident set size in bytes (``/proc/self/statm``), else its
    peak (``ru_maxrss``)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return pages * os.sysconf("SC_PAGE_SIZE")


@dataclass
class ChildResult:
    """A finished child process: its exit status, output and peak RSS (from ``wait4``)."""

    returncode: int
    stdout: str
    stderr: str
    max_rss_kib: int
    cpu_seconds: float
    timed_out: bool

    def json(self) -> dict[str, Any]:
        """The last stdout line that parses as a JSON object."""
        for line in reversed(self.stdout.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    return value
        raise ValueError(f"child printed no JSON result; stderr: {self.stderr[-800:]!r}")


def run_child(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildResult:
    """Run ``argv`` to completion; CPU time (and a fallback peak RSS) come from ``wait4``.

    Each child is reaped here with ``os.wait4`` to get its own rusage (RUSAGE_CHILDREN
    would mix every child ever reaped). Children report their own peak RSS with
    :func:`peak_rss_kib`, which the callers prefer: see there why ``ru_maxrss`` is not used.
    """
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
    ):
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        deadline = time.monotonic() + timeout
        timed_out = False
        status, rusage = 0, None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                proc.kill()
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        out.seek(0)
        err.seek(0)
        return ChildResult(
            returncode=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
            max_rss_kib=int(rusage.ru_maxrss) if rusage is not None else 0,
            cpu_seconds=(rusage.ru_utime + rusage.ru_stime) if rusage is not None else 0.0,
            timed_out=timed_out,
        )


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_env(extra_path: Path | None = None) -> dict[str, str]:
    """The environment for a Python child: the repo importable, optionally more paths."""
    env = dict(os.environ)
    paths = [str(ROOT)]
    if extra_path is not None:
        paths.append(str(extra_path))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("PYTHONHASHSEED", "0")
    return env
