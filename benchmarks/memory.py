"""#5 Peak RSS while decoding 100,000 transactions, against the JSON body's size.

Each measurement is a fresh process (``python -m benchmarks.memory MODE BODY``) so that
the peak belongs to that decode alone. The process imports everything, notes its
resident size (``/proc/self/statm``), reads the body from a file, decodes it and keeps
the result alive, then reports its peak RSS (``VmHWM``; ``ru_maxrss`` where there is no
``/proc``; see ``_common.peak_rss_kib`` for why not ``getrusage`` on Linux). The figure
is peak RSS minus the resident size before the body was read:
the body itself (as an HTTP response holds it) plus everything decoding allocated.
``stdlib`` mode (``json.loads``) and ``sdk-strict`` mode (the strict decoder, as without
the ``speedups`` extra) are measured the same way for reference, and one
``tracemalloc`` run gives the Python-heap peak of the SDK decode alone.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._common import Figure, Settings, child_env, log, peak_rss_kib, rss_bytes, run_child
from ._payloads import transactions_body

MIB = 1024 * 1024


def child(mode: str, body_path: str) -> None:
    """Run one measurement in this (fresh) process and print the JSON result."""
    from truelayer_async._converter import structure_results
    from truelayer_async._fast_decode import decode_results
    from truelayer_async._json import loads
    from truelayer_async.models import Transaction

    gc.collect()
    before = rss_bytes()
    peak_before = peak_rss_kib() * 1024
    body = Path(body_path).read_bytes()
    result: Any
    traced_peak = None
    if mode == "sdk":
        result = decode_results(body, Transaction)
    elif mode == "sdk-strict":  # the pure-Python decoder, as without the speedups extra
        result = structure_results(loads(body), Transaction)
    elif mode == "stdlib":
        result = json.loads(body)
    elif mode == "sdk-tracemalloc":
        import tracemalloc

        tracemalloc.start()
        result = decode_results(body, Transaction)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    peak = peak_rss_kib() * 1024
    print(
        json.dumps(
            {
                "mode": mode,
                "items": len(result) if isinstance(result, list) else len(result["results"]),
                "body_bytes": len(body),
                "rss_before": before,
                "peak_before": peak_before,
                "peak": peak,
                "rss_after": rss_bytes(),
                "traced_peak": traced_peak,
            }
        ),
        flush=True,
    )


def _measure(mode: str, body_path: Path, timeout: float) -> dict[str, Any]:
    done = run_child(
        [sys.executable, "-m", "benchmarks.memory", mode, str(body_path)],
        timeout=timeout,
        env=child_env(),
    )
    if done.returncode != 0 or done.timed_out:
        raise RuntimeError(f"memory child {mode} failed: {done.stderr.strip()[-500:]}")
    return done.json()


def run(settings: Settings) -> list[Figure]:
    count = settings.memory_transactions
    log(f"#5 generating a {count:,}-transaction body")
    body = transactions_body(count)
    size = len(body)
    sdk: list[float] = []
    stdlib: list[float] = []
    strict: list[float] = []
    body_mib: list[float] = []
    timeout = 60 + count / 1000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "transactions.json"
        path.write_bytes(body)
        del body
        for index in range(settings.memory_runs):
            log(f"#5 memory run {index + 1}/{settings.memory_runs}")
            result = _measure("sdk", path, timeout)
            assert result["items"] == count
            sdk.append((result["peak"] - result["rss_before"]) / MIB)
            stdlib_result = _measure("stdlib", path, timeout)
            stdlib.append((stdlib_result["peak"] - stdlib_result["rss_before"]) / MIB)
            strict_result = _measure("sdk-strict", path, timeout)
            strict.append((strict_result["peak"] - strict_result["rss_before"]) / MIB)
            body_mib.append(size / MIB)
        traced = None
        if not settings.smoke:
            log("#5 tracemalloc run")
            traced = _measure("sdk-tracemalloc", path, timeout * 3)["traced_peak"]
    stdlib_ratio = statistics.median(stdlib) / (size / MIB)
    notes = [
        "Fresh process per measurement; figure = peak RSS (`VmHWM`) minus the resident "
        "size before the body was read, so it counts the body bytes plus all decoding.",
        f"`json.loads` of the same body, measured the same way: "
        f"{statistics.median(stdlib):.0f} MiB ({stdlib_ratio:.1f}× the body)"
        + (": plain dicts, floats and strings alone exceed 3×." if stdlib_ratio > 3 else "."),
        f"Without the `speedups` extra (the strict decoder, measured the same way): "
        f"{statistics.median(strict):.0f} MiB "
        f"({statistics.median(strict) / (size / MIB):.1f}× the body).",
    ]
    if traced is not None:
        notes.append(
            f"tracemalloc peak of the SDK decode (Python heap only, body excluded): "
            f"{traced / MIB:.0f} MiB."
        )
    return [
        Figure(
            key="memory",
            number="5",
            workload=f"peak RSS decoding {count:,} transactions into `list[Transaction]`",
            metric="peak RSS growth",
            unit="MiB",
            samples=sdk,
            baseline=f"the JSON body's size ({size / MIB:.1f} MiB)",
            baseline_samples=body_mib,
            target="≤ 3×",
            target_ratio=3.0,
            notes=notes,
            extra={"stdlib_mib": stdlib, "strict_mib": strict, "tracemalloc_peak_bytes": traced},
        )
    ]


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2])
