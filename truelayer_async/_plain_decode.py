"""The pure-Python shortcut for Data API result lists (a default install, no extras).

The reference decoder (:func:`._json.loads` with an ``object_pairs_hook``, then the cattrs
converter) spends half its time on generality: a Python call per JSON object to reject
duplicate keys, and per field a hook call, a dict of keyword arguments and a keyword
``__init__``. This module does the same work for one model at a time, the way a person
would write it by hand: the body is parsed by the C scanner alone (``json`` without
hooks, ``parse_float=Decimal``), and a function generated per model class checks each
field inline and sets it on a bare instance.

Like the msgspec fast path (:mod:`._fast_decode`), it is only a shortcut: on any doubt
:func:`plain_results` returns ``None`` and the reference decoder runs, which produces the
same models or the precise :class:`~truelayer_async.errors.MalformedResponseError`.
``tests/core/test_plain_decode.py`` holds it to the reference differentially.

The checks are the converter's own, field by field: strings are ``str`` and integers
``int`` by exact type; money goes through the converter's money rule (exact ``Decimal``,
numeric strings, never ``float``); timestamps through its parser and cache (aware, naive
read as UTC); ``Enum | str`` fields through the member table; anything else through the
converter's hook for that type. Duplicate keys follow the fast path's rule: the parser
keeps the last of duplicated keys, so the body is only vouched for when every money key
(each ``Decimal`` field's name, and ``currency`` beside them) occurs in the raw bytes
exactly as often as the models hold a value for it, ``"results"`` occurs once, and no
key could be spelled with a ``\\u`` escape of a letter. Duplicates of other keys resolve
last-wins here, as on the fast path.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, Union, cast, get_args, get_origin

import attrs

from ._converter import _CONVERTER, _enum_or_str, _structure_money, _timestamp
from ._json import _reject_constant
from .models.common import WIRE_NAME

__all__ = ["LETTER_ESCAPE", "money_counts_match", "plain_results"]

T = TypeVar("T")

_Structure = Callable[[Any, list[int]], Any]
#: A \u escape that could spell a letter or "_" in a key (\u0040-\u007F): a body holding
#: one is never vouched for by a shortcut (this one or :mod:`._fast_decode`).
LETTER_ESCAPE = re.compile(rb"\\u00[4-7][0-9a-fA-F]")
_MISSING = object()


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


class _Unsupported(Exception):
    """A model this shortcut does not build (always the reference decoder)."""


@attrs.frozen
class _Plan:
    structure: _Structure  # one item (a dict) to one model, raising on any doubt
    counters: int
    money_keys: tuple[tuple[bytes, int], ...]  # (b'"amount"', its counter), ...


_PLANS: dict[type[Any], _Plan | None] = {}
_UNPLANNED = object()


def plain_results(body: bytes, item_cls: type[T]) -> list[T] | None:
    """The ``results`` of a Data API envelope body, or ``None`` to use the reference."""
    plan = _PLANS.get(item_cls, _UNPLANNED)
    if plan is _UNPLANNED:
        plan = _PLANS[item_cls] = _make_plan(item_cls)
    if plan is None:
        return None
    assert isinstance(plan, _Plan)
    if body.count(b'"results"') != 1:
        return None  # the parser would keep the last of two results arrays
    if b"\\" in body and LETTER_ESCAPE.search(body) is not None:
        return None  # a key spelled with escapes could shadow another
    counts = [0] * plan.counters
    try:
        envelope = _DECODER.decode(body.decode("utf-8-sig"))
        if envelope.__class__ is not dict:
            return None
        items = envelope["results"]
        status = envelope.get("status")
        if items.__class__ is not list or not (status is None or status.__class__ is str):
            return None
        structure = plan.structure
        results = [structure(item, counts) for item in items]
    except Exception:  # bad JSON, a value the converter rejects, any doubt: the reference
        return None
    if not money_counts_match(body, plan.money_keys, counts):
        return None
    return cast(list[T], results)


def money_counts_match(
    body: bytes, money_keys: tuple[tuple[bytes, int], ...], counts: list[int]
) -> bool:
    """Whether each money key occurs in ``body`` exactly as often as the decoded models
    hold a value for it (``counts[counter]``): else a duplicated key was dropped, and the
    shortcut does not vouch for the body (both shortcuts' rule)."""
    return all(body.count(key) == counts[counter] for key, counter in money_keys)


# ------------------------------------------------------------------------ planning


def _make_plan(item_cls: type[Any]) -> _Plan | None:
    money: dict[str, int] = {}
    try:
        structure = _generate(item_cls, {}, money)
    except _Unsupported:
        return None
    keys = tuple((f'"{name}"'.encode(), index) for name, index in money.items())
    if "currency" in money and len(money) == 1:
        keys = ()  # currency alone, with no amount beside it, is not money
    return _Plan(structure=structure, counters=len(money), money_keys=keys)


def _generate(cl: type[Any], done: dict[type[Any], _Structure], money: dict[str, int]) -> Any:
    """The generated ``structure(o, counts)`` of attrs class ``cl``."""
    if cl in done:
        return done[cl]
    if not (attrs.has(cl) and isinstance(cl, type)):
        raise _Unsupported
    if hasattr(cl, "__attrs_post_init__") or hasattr(cl, "__attrs_pre_init__"):
        raise _Unsupported
    attrs.resolve_types(cl)
    ns: dict[str, Any] = {
        "_cl": cl,
        "_new": object.__new__,
        "_dict": dict,
        "_list": list,
        "_Doubt": ValueError,
        "_MISSING": _MISSING,
    }
    lines = [
        "def structure(o, counts):",
        "  if o.__class__ is not _dict:",
        "    raise _Doubt",
        "  x = _new(_cl)",
    ]
    for index, field in enumerate(attrs.fields(cl)):
        if not field.init or field.converter is not None or field.validator is not None:
            raise _Unsupported
        key = field.metadata.get(WIRE_NAME, field.name)
        check = _check(field.name, field.type, index, done, money, ns)
        if field.default is attrs.NOTHING:
            lines.append(f"  v = o[{key!r}]")
            lines += check
        elif field.default is None and check[:1] == ["  if v is not None:"]:
            lines.append(f"  v = o.get({key!r})")  # optional: absent reads as null
            lines += check
        elif isinstance(field.default, (tuple, str, int, bool, type(None))):
            ns[f"_d{index}"] = field.default
            lines += [f"  v = o.get({key!r}, _MISSING)", "  if v is _MISSING:"]
            lines += [
                f"    v = _d{index}",
                "  else:",
                *("  " + line for line in check or ["  pass"]),
            ]
        else:
            raise _Unsupported  # a factory default
        lines.append(f"  {_setter(cl, field.name, index, ns)}(x, v)")
    lines.append("  return x")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<truelayer_async plain structure {cl.__qualname__}>", "exec"), ns)  # noqa: S102
    done[cl] = ns["structure"]
    return done[cl]


def _setter(cl: type[Any], name: str, index: int, ns: dict[str, Any]) -> str:
    """The name, in ``ns``, of a function setting field ``name`` on a bare instance: the
    slot's own ``__set__`` (frozen classes refuse ``setattr``), else ``object.__setattr__``."""
    slot = getattr(cl, name, None)
    if isinstance(slot, types.MemberDescriptorType):
        ns[f"_a{index}"] = slot.__set__
    else:
        ns[f"_a{index}"] = lambda obj, value: object.__setattr__(obj, name, value)
    return f"_a{index}"


def _check(
    name: str,
    tp: Any,
    index: int,
    done: dict[type[Any], _Structure],
    money: dict[str, int],
    ns: dict[str, Any],
) -> list[str]:
    """Lines that check ``v`` (and may replace it) as the converter would for ``tp``."""
    if tp is str or tp is int or tp is bool:
        ns[tp.__name__] = tp
        lines = [f"  if v.__class__ is not {tp.__name__}:", "    raise _Doubt"]
        if name == "currency" and tp is str:
            counter = money.setdefault(name, len(money))
            lines.append(f"  counts[{counter}] += 1")
        return lines
    if tp is Decimal:
        counter = money.setdefault(name, len(money))
        ns["_Decimal"], ns["_money"] = Decimal, _structure_money
        return [
            "  if v.__class__ is not _Decimal or not v.is_finite():",
            "    v = _money(v, None)",
            f"  counts[{counter}] += 1",
        ]
    if tp is datetime:
        ns["_timestamp"] = _timestamp
        return ["  v = _timestamp(v)"]
    found = _enum_or_str(tp)
    if found is not None:
        enum_cls, nullable = found
        ns[f"_m{index}"] = {str(member.value): member for member in enum_cls}
        lines = ["  if v.__class__ is not str:", "    raise _Doubt", f"  v = _m{index}.get(v, v)"]
        return ["  if v is not None:", *("  " + line for line in lines)] if nullable else lines
    inner = _optional_inner(tp)
    if inner is not None:
        inner_lines = _check(name, inner, index, done, money, ns)
        return ["  if v is not None:", *("  " + line for line in inner_lines)]
    if attrs.has(tp):
        ns[f"_s{index}"] = _generate(tp, done, money)
        return [f"  v = _s{index}(v, counts)"]
    args = get_args(tp)
    if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis and attrs.has(args[0]):
        ns[f"_s{index}"] = _generate(args[0], done, money)
        return [
            "  if v.__class__ is not _list:",
            "    raise _Doubt",
            f"  v = tuple([_s{index}(i, counts) for i in v])",
        ]
    if tp == dict[str, Any]:
        return ["  if v.__class__ is not _dict:", "    raise _Doubt"]
    if tp == tuple[str, ...]:
        return [
            "  if v.__class__ is not _list:",
            "    raise _Doubt",
            "  for i in v:",
            "    if i.__class__ is not str:",
            "      raise _Doubt",
            "  v = tuple(v)",
        ]
    # Anything else (dates, tagged unions...): the converter's own hook for the type.
    ns[f"_h{index}"], ns[f"_t{index}"] = _CONVERTER.get_structure_hook(tp), tp
    return [f"  v = _h{index}(v, _t{index})"]


def _optional_inner(tp: Any) -> Any:
    """``X`` for ``X | None`` (exactly one other member), else ``None``."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    args = get_args(tp)
    rest = [arg for arg in args if arg is not type(None)]
    return rest[0] if len(rest) == 1 and len(args) == 2 else None
