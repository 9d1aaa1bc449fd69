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

import gc
import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from ._common import Figure, Settings, log
from ._payloads import transactions_body


def _cpu_ms(action: Callable[[], Any]) -> float:
    gc.collect()
    started = time.process_time()
    result = action()
    elapsed = (time.process_time() - started) * 1000
    del result
    return elapsed


def run(settings: Settings) -> list[Figure]:
    from truelayer_async._converter import structure_results
    from truelayer_async._fast_decode import available, decode_results, fast_results
    from truelayer_async._json import loads
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

    models = sdk()  # warm-up, and check the promises the workload makes
    fast_path = fast_results(body, Transaction) is not None
    assert models == strict()
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
    decoded = loads(body)
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
    structure_only = [
        _cpu_ms(lambda: structure_results(decoded, Transaction)) for _ in range(max(3, runs // 3))
    ]
    return [
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
        )
    ]
