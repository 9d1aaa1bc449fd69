"""#2 Decoding a 10,000-transaction response into ``list[Transaction]``.

Subject: what ``tl.data.transactions()`` does with a response body once it has it,
``truelayer_async._fast_decode.decode_results``: with the ``speedups`` extra (msgspec)
installed, msgspec decodes straight into the frozen models and the SDK checks money and
duplicate money keys; without it (or for a body the fast path cannot vouch for), the
strict path: ``_json.loads`` (exact ``Decimal``, duplicate keys and NaN rejected) then
``structure_results``. Both give exact Decimals, aware datetimes and enums. Baseline:
``json.loads`` of the same bytes (floats, plain dicts). Alternating runs in one process,
``gc.collect()`` before each; the figure is CPU time (``time.process_time``), the
garbage collector left on as in real use.
"""

from __future__ import annotations

import contextlib
import gc
import json
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from ._common import Figure, Settings, log
from ._decode_floor import floor_steps
from ._payloads import transactions_body


def _cpu_ms(action: Callable[[], Any]) -> float:
    gc.collect()
    started = time.process_time()
    result = action()
    elapsed = (time.process_time() - started) * 1000
    del result
    return elapsed


@contextlib.contextmanager
def _default_install() -> Iterator[None]:
    """Decode as a default install does (no msgspec), even where msgspec is installed."""
    from truelayer_async import _fast_decode

    enabled = _fast_decode._ENABLED
    _fast_decode._ENABLED = False
    try:
        yield
    finally:
        _fast_decode._ENABLED = enabled


def _floor(body: bytes) -> list[tuple[str, Callable[[], Any]]]:
    """The steps of the pure-Python floor (``_decode_floor``), with the GC paused as the
    SDK pauses it for a large body."""
    from truelayer_async._gc_pause import paused_for

    def paused(action: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with paused_for(len(body)):
                return action()

        return run

    return [(label, paused(action)) for label, action in floor_steps(body)]


def run(settings: Settings) -> list[Figure]:
    from truelayer_async._converter import structure_results
    from truelayer_async._fast_decode import available, decode_results, fast_results
    from truelayer_async._json import loads
    from truelayer_async._plain_decode import plain_results
    from truelayer_async.models import Transaction

    count = settings.decode_transactions
    body = transactions_body(count)
    first = json.loads(body)["results"][0]

    def sdk() -> list[Any]:
        return decode_results(body, Transaction)

    def strict() -> list[Any]:
        return structure_results(loads(body), Transaction)

    def stdlib() -> Any:
        return json.loads(body)

    def default_install() -> list[Any]:
        with _default_install():
            return decode_results(body, Transaction)

    models = sdk()  # warm-up, and check the promises the workload makes
    fast_path = fast_results(body, Transaction) is not None
    assert plain_results(body, Transaction) is not None  # the shortcut vouches for it
    assert models == strict() == default_install()
    assert len(models) == count
    assert isinstance(models[0].amount, Decimal)
    assert models[0].amount == Decimal(repr(first["amount"]))
    assert isinstance(models[0].timestamp, datetime) and models[0].timestamp.tzinfo is not None
    del models
    stdlib()

    runs = settings.runs * 3
    subject: list[float] = []
    baseline: list[float] = []
    decode_only: list[float] = []
    strict_runs: list[float] = []
    default_runs: list[float] = []
    default_baseline: list[float] = []
    decoded = loads(body)
    steps = _floor(body)
    floor: dict[str, list[float]] = {label: [] for label, _ in steps}
    for index in range(runs):
        if index % max(1, runs // 3) == 0:
            log(f"#2 decode run {index + 1}/{runs} ({count} transactions)")
        if index % 2 == 0:
            subject.append(_cpu_ms(sdk))
            baseline.append(_cpu_ms(stdlib))
        else:
            baseline.append(_cpu_ms(stdlib))
            subject.append(_cpu_ms(sdk))
        decode_only.append(_cpu_ms(lambda: loads(body)))
        strict_runs.append(_cpu_ms(strict))
        if index % 2 == 0:
            default_runs.append(_cpu_ms(default_install))
            default_baseline.append(_cpu_ms(stdlib))
        else:
            default_baseline.append(_cpu_ms(stdlib))
            default_runs.append(_cpu_ms(default_install))
        for label, step in steps:  # beside #2b, run by run
            floor[label].append(_cpu_ms(step))
    structure_only = [
        _cpu_ms(lambda: structure_results(decoded, Transaction)) for _ in range(max(3, runs // 3))
    ]
    strict_ratio = statistics.median(strict_runs) / statistics.median(baseline)
    base_ms = statistics.median(default_baseline)

    def share(*labels: str) -> str:
        ms = sum(statistics.median(floor[label]) for label in labels)
        return f"{ms:.1f} ms = {ms / base_ms:.2f}×"

    default_figure = Figure(
        key="decode_default",
        number="2b",
        workload=f"decode {count:,} transactions into `list[Transaction]`, default install "
        "(no extras: msgspec off)",
        metric="CPU time",
        unit="ms",
        samples=default_runs,
        baseline="stdlib `json.loads` of the same bytes",
        baseline_samples=default_baseline,
        target="≤ 1.3×",
        target_ratio=1.3,
        label="decode, default install",
        notes=[
            f"{runs} alternating runs in one process; CPU time, GC on (the SDK pauses it "
            "for a large body, see docs/design.md).",
            "Decoder: the pure-Python shortcut (`_plain_decode`: the C JSON scanner, "
            "`parse_float=Decimal`, with an `object_hook` generated per model that checks "
            "and builds each item as it is parsed), falling back to the reference decoder "
            "on any doubt.",
            "The reference decoder alone (`_json.loads` with an `object_pairs_hook`, then "
            f"cattrs), what a default install ran before: {statistics.median(strict_runs):.1f}"
            f" ms = {strict_ratio:.2f}× `json.loads`.",
            "The floor, same run (GC paused as the SDK pauses it, medians against this "
            f"figure's baseline): the JSON scan with exact Decimals alone "
            f"{share('Decimal scan')}; with 10,000 bare frozen models built in the same "
            f"object hook and no checks at all {share('+ bare models, no checks')} (the "
            "floor of a pure-Python decoder); the shortcut's checks without the money-key "
            f"counts {share('shortcut without the key counts')}; the two key counts alone "
            f"{share('money-key counts alone')}.",
            "Not met in pure Python: the bare models plus the money-key counts (the "
            "cheapest duplicate-key rule found) come to "
            f"{share('+ bare models, no checks', 'money-key counts alone')} before a single "
            "field is checked (`benchmarks/PROFILE.md` #2b); the `speedups` extra (#2) is "
            "the way to the goal.",
        ],
        extra={"reference_ms": strict_runs, "floor_ms": floor},
    )
    return [
        default_figure,
        Figure(
            key="decode",
            number="2",
            workload=f"decode {count:,} transactions ({len(body) / 1e6:.1f} MB) into "
            "`list[Transaction]`",
            metric="CPU time",
            unit="ms",
            samples=subject,
            baseline="stdlib `json.loads` of the same bytes",
            baseline_samples=baseline,
            target="≤ 1.5×",
            target_ratio=1.5,
            notes=[
                f"{runs} alternating runs in one process; CPU time, GC on.",
                "Decoder: "
                + (
                    "the `speedups` extra's msgspec fast path (msgspec installed, body vouched "
                    "for)."
                    if fast_path
                    else "the strict pure-Python path"
                    + ("" if available() else " (msgspec not installed).")
                ),
                "Without the `speedups` extra (strict path, same body): "
                f"{statistics.median(strict_runs):.1f} ms = "
                f"{statistics.median(strict_runs) / statistics.median(baseline):.2f}× "
                "`json.loads`; of that, JSON decoding alone (`_json.loads`: Decimal, "
                f"duplicate-key check) {statistics.median(decode_only):.1f} ms and structuring "
                f"the decoded body alone {statistics.median(structure_only):.1f} ms.",
                "Checked: amounts are `Decimal` equal to the JSON literal; timestamps are "
                "timezone-aware; every timestamp is distinct (no cache hits).",
            ],
            extra={
                "fast_path": fast_path,
                "strict_ms": strict_runs,
                "decode_only_ms": decode_only,
                "structure_only_ms": structure_only,
            },
        ),
    ]
