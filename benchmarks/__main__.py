"""``python -m benchmarks`` (``nox -s bench``): run the benchmark suite, write the report.

    python -m benchmarks                 # full run (~5 min): benchmarks/RESULTS.md + results.png
    python -m benchmarks --smoke         # tiny sizes, seconds; writes to a new temp dir
    python -m benchmarks --only overhead,decode --out /tmp/b

Writes RESULTS.md (machine, medians, same-run ratios, targets), results.png (the same
ratios as a chart; needs matplotlib) and results.json (every sample) into the output
directory, and prints that directory. Targets are reported, never asserted: the exit
status is non-zero only when a benchmark itself failed to run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import _report
from ._common import BENCH_DIR, Figure, Settings, log, machine

SUITES = (
    "overhead",
    "decode",
    "refresh",
    "loopback",
    "memory",
    "fast_batch",
    "store_read",
    "stream_memory",
    "emulator",
)

WHAT_DIFFERS = """
The baselines do less than the SDK, by design; that difference is what the ratios price.
Per Data API call the SDK also looks up (and if needed refreshes) the user's token,
keeps the retry/deadline bookkeeping, decodes every amount to an exact `Decimal`, every
timestamp to an aware `datetime` and known vocabularies to enums, and builds frozen attrs
models. These figures are taken with the `speedups` extra installed (it is part of
`[dev]`): msgspec decodes Data API lists straight into the models and the SDK checks
money and duplicate money keys itself; without it the strict pure-Python decoder
(`_json.loads` with an `object_pairs_hook` and `parse_float=Decimal`, then the cattrs
converter) does the same work about three times slower, as the notes of #2 show. For
small bodies (#1) the fixed per-call part shows; on this 2-core machine, shared with the
emulator, client CPU is what bounds #4's throughput. `benchmarks/PROFILE.md` has the
profiles, the changes made and the options that were measured and not taken.
"""

OTHER_CLIENTS = """
- **npm `truelayer-client` 1.3.2** (the deprecated official Data API v1 client for
  Node.js): installed at run time into `benchmarks/_work/node` (git-ignored). It builds
  every URL from `Constants.API_URL` when a call is made, so `benchmarks/js/driver.js`
  sets `Constants.API_URL` (and `AUTH_URL`) on the exported object to the emulator's URL;
  nothing of the package is copied or patched on disk. Requests go through its
  `request-promise` dependency with Node's default agent (keep-alive on Node ≥ 19).
  It validates the JWT expiry locally before each call, as it does in production.
- **PyPI `pytruelayer` 0.3.0** (OpenAPI-generated, synchronous, urllib3 + marshmallow):
  installed at run time into `benchmarks/_work/py` with `marshmallow>=3,<4`, because its
  generated schemas fail under marshmallow 4 (`validates_*() got an unexpected keyword
  argument 'data_key'`). `Configuration(host=...)` takes the Data API base URL, so it
  points at the emulator without patching. Being synchronous, it runs the batch on a
  thread pool as wide as the concurrency, one `ApiClient` (one keep-alive pool) per
  thread. It decodes amounts to `float`.
- Both see the same emulator process, tokens, requests and concurrency as #4; a failure
  to install or run is reported as "not measured: <reason>", never replaced by a number.
"""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, output to a temp dir")
    parser.add_argument("--out", type=Path, help="output directory (default: benchmarks/)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(SUITES)}")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5; smoke 2)")
    parser.add_argument(
        "--no-install", action="store_true", help="use third-party clients only if present"
    )
    parser.add_argument(
        "--no-others", action="store_true", help="skip the third-party clients (#6)"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="run nothing: redraw RESULTS.md and results.png from a results.json",
    )
    return parser.parse_args(argv)


def _suites(only: str | None) -> list[str]:
    if not only:
        return list(SUITES)
    chosen = [name.strip() for name in only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        raise SystemExit(f"unknown suite(s): {', '.join(unknown)}; choose from {SUITES}")
    return [name for name in SUITES if name in chosen]


def _runner(name: str) -> Callable[[Settings], list[Figure]]:
    from . import (
        decode,
        emulator_throughput,
        fast_batch,
        loopback,
        memory,
        overhead,
        refresh,
        store_read,
        stream_memory,
    )

    return {
        "overhead": overhead.run,
        "decode": decode.run,
        "refresh": refresh.run,
        "loopback": loopback.run,
        "memory": memory.run,
        "fast_batch": fast_batch.run,
        "store_read": store_read.run,
        "stream_memory": stream_memory.run,
        "emulator": emulator_throughput.run,
    }[name]


def _write(
    out: Path,
    figures: list[Figure],
    description: dict[str, str],
    meta: dict[str, Any],
) -> None:
    chart_path = out / "results.png"
    title = "truelayer_async benchmarks: ratio to same-run baseline" + (
        " (SMOKE MODE)" if meta.get("smoke") else ""
    )
    drawn = _report.chart(figures, chart_path, title=title)
    (out / "RESULTS.md").write_text(
        _report.markdown(figures, description, meta, chart_name=chart_path.name if drawn else None)
    )
    (out / "results.json").write_text(_report.results_json(figures, description, meta))
    log(f"wrote {out / 'RESULTS.md'}" + (f" and {chart_path.name}" if drawn else ""))


def _render(path: Path, out: Path) -> None:
    data = json.loads(path.read_text())
    names = {field.name for field in dataclasses.fields(Figure)}
    figures = [Figure(**{k: v for k, v in item.items() if k in names}) for item in data["figures"]]
    meta = dict(data["meta"])
    meta["sections"] = _sections(meta.get("failed", []))
    _write(out, figures, data["machine"], meta)


def _sections(failed: list[str]) -> list[tuple[str, str]]:
    sections = [
        ("What the SDK does that the baselines do not", WHAT_DIFFERS),
        ("How the other clients were pointed at the emulator (#6)", OTHER_CLIENTS),
    ]
    if failed:
        sections.insert(
            0, ("Benchmarks that failed to run", "\n".join(f"- {line}" for line in failed))
        )
    return sections


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.render is not None:
        out = args.out or args.render.parent
        out.mkdir(parents=True, exist_ok=True)
        _render(args.render, out)
        print(out)
        return 0
    settings = Settings.smoke_settings() if args.smoke else Settings()
    if args.runs:
        settings.runs = args.runs
        settings.batch_runs = settings.memory_runs = settings.pytruelayer_runs = args.runs
    if args.no_install:
        settings.install = False
    settings.others = not args.no_others
    out = args.out
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="truelayer-bench-")) if args.smoke else BENCH_DIR
    out.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    description = machine()
    figures: list[Figure] = []
    failed: list[str] = []
    for name in _suites(args.only):
        log(f"== {name}")
        try:
            figures += _runner(name)(settings)
        except Exception as exc:
            traceback.print_exc()
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    figures.sort(key=lambda f: f.number)
    command = "python -m benchmarks" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    meta = {
        "command": command.strip(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.monotonic() - started,
        "smoke": settings.smoke,
        "settings": vars(settings),
        "failed": failed,
        "sections": _sections(failed),
    }
    _write(out, figures, description, meta)
    print(out)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
