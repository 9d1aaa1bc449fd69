"""What any pure-Python decoder into ``list[Transaction]`` must spend (#2b's floor).

Each step adds one piece of unavoidable work to the one before, on the same bytes:

1. ``json`` with ``parse_float=Decimal`` (exact money needs it; nothing else parses);
2. the same, building each item as a bare ``Transaction`` (and ``RunningBalance``) inside
   the JSON ``object_hook`` the way the shortcut does (a slot-assignable twin, one plain
   store per field, then the real class), with **no checks at all**: the timestamp left a
   string, enums and tuples not built, no duplicate-key rule;
3. the shortcut without the money-key counts (every check, no raw-bytes pass);
4. the two money-key counts alone (``bytes.count`` over the body).

Step 2 is the cheapest construction of the models we found in pure Python (see
``benchmarks/PROFILE.md``), so its ratio to ``json.loads`` is the floor for a default
install. Not part of the SDK; the benchmark measures it beside #2b in the same run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["floor_steps"]


def _bare_hook() -> Callable[[dict[str, Any]], Any]:
    """An ``object_hook`` building bare ``Transaction`` models with no checks."""
    import attrs

    from truelayer_async._plain_structure import _twin
    from truelayer_async.models import Transaction
    from truelayer_async.models.transactions import RunningBalance

    ns: dict[str, Any] = {
        "_new": object.__new__,
        "_T": Transaction,
        "_TW": _twin(Transaction),
        "_RB": RunningBalance,
        "_RBW": _twin(RunningBalance),
    }
    lines = ["def hook(o):", "  if 'transaction_id' not in o:", "    return o", "  x = _new(_TW)"]
    for field in attrs.fields(Transaction):
        if field.name == "running_balance":
            lines += [
                "  v = o.get('running_balance')",
                "  if v is not None:",
                "    r = _new(_RBW)",
                "    r.amount = v['amount']",
                "    r.currency = v.get('currency')",
                "    r.__class__ = _RB",
                "    v = r",
                "  x.running_balance = v",
            ]
        else:
            lines.append(f"  x.{field.name} = o.get({field.name!r})")
    lines += ["  x.__class__ = _T", "  return x"]
    exec("\n".join(lines) + "\n", ns)
    return ns["hook"]  # type: ignore[no-any-return]


def floor_steps(body: bytes) -> list[tuple[str, Callable[[], Any]]]:
    """The floor's steps as ``(label, action)`` pairs, for ``body`` (transactions)."""
    from truelayer_async import _plain_decode
    from truelayer_async.models import Transaction

    scan = json.JSONDecoder(parse_float=Decimal)
    bare = json.JSONDecoder(parse_float=Decimal, object_hook=_bare_hook())
    plan = _plain_decode._make_plan(Transaction)
    assert plan is not None

    def checked_without_counts() -> Any:
        items, _, built = _plain_decode._decode(
            body.decode("utf-8-sig"), plan, _plain_decode._listed_results
        )
        assert built == len(items)
        return items

    def counts() -> Any:
        return [body.count(key) for key, _ in plan.money_keys]

    return [
        ("Decimal scan", lambda: scan.decode(body.decode("utf-8-sig"))),
        ("+ bare models, no checks", lambda: bare.decode(body.decode("utf-8-sig"))),
        ("shortcut without the key counts", checked_without_counts),
        ("money-key counts alone", counts),
    ]
