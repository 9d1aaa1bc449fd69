"""The pure-Python shortcut for Data API result lists (a default install, no extras).

The reference decoder (:func:`._json.loads` with an ``object_pairs_hook``, then the cattrs
converter) spends half its time on generality: a Python call per JSON object to reject
duplicate keys, and per field a hook call, a dict of keyword arguments and a keyword
``__init__``. This module does the same work for one model at a time, the way a person
would write it by hand: the C scanner parses the body (``json``, ``parse_float=Decimal``)
with one ``object_hook`` generated per item class (:mod:`._plain_structure`), which
checks each field of an item inline and stores it on a bare instance as the item is
parsed.

Like the msgspec fast path (:mod:`._fast_decode`), it is only a shortcut: on any doubt
:func:`plain_results` returns ``None`` and the reference decoder runs, which produces the
same models or the precise :class:`~truelayer_async.errors.MalformedResponseError`.
``tests/core/test_plain_decode.py`` holds it to the reference differentially.

The checks are the converter's own, field by field: strings are ``str`` and integers
``int`` by exact type; money goes through the converter's money rule (exact ``Decimal``,
numeric strings, never ``float``); timestamps as its parser reads them (aware, naive
read as UTC); ``Enum | str`` fields through the member table; anything else through the
converter's hook for that type. Duplicate keys follow the fast path's rule: the parser
keeps the last of duplicated keys, so the body is only vouched for when every money key
(each ``Decimal`` field's name, and ``currency`` beside them) occurs in the raw bytes
exactly as often as the models hold a value for it, ``"results"`` is the envelope's
only such key, and no key could be spelled with a ``\\u`` escape of a letter. The
envelope as TrueLayer writes it (``{"results": [...], "status": "..."}``, in that order)
is read in two steps, the list then a pattern for the rest, which proves ``"results"``
unique without counting it in the body; any other envelope is decoded whole and the key
counted. Duplicates of other keys resolve last-wins here, as on the fast path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

import attrs

from ._json import _reject_constant
from ._plain_structure import HookMaker, Tally, Unsupported, hook_maker

__all__ = ["LETTER_ESCAPE", "money_counts_match", "plain_results"]

T = TypeVar("T")

#: A \u escape that could spell a letter or "_" in a key (\u0040-\u007F): a body holding
#: one is never vouched for by a shortcut (this one or :mod:`._fast_decode`).
LETTER_ESCAPE = re.compile(rb"\\u00[4-7][0-9a-fA-F]")

# The envelope as TrueLayer writes it: "results" first, then at most a plain status.
_HEAD = re.compile(r'~\{~"results"~:~'.replace("~", r"[ \t\n\r]*"))
_TAIL = re.compile(r'~(?:,~"status"~:~(?:"[A-Za-z_]*"|null)~)?\}~'.replace("~", r"[ \t\n\r]*"))


@attrs.frozen
class _Plan:
    make: HookMaker  # a JSON object hook building the models, and its tally
    money_keys: tuple[tuple[bytes, int], ...]  # (b'"amount"', its counter), ...
    # Decoders not in use, with their tallies: one per decode running at once, at most.
    idle: list[tuple[json.JSONDecoder, Tally]] = attrs.field(factory=list)


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
    if b"\\" in body and LETTER_ESCAPE.search(body) is not None:
        return None  # a key spelled with escapes could shadow another
    try:
        text = body.decode("utf-8-sig")
        items, counts, built = _decode(text, plan, _listed_results)
        if items is _OTHER_ENVELOPE:
            items, counts, built = _decode(text, plan, _whole_envelope)
    except Exception:  # bad JSON, a value the converter rejects, any doubt: the reference
        return None
    if items.__class__ is not list or built != len(items):
        return None  # not a list, or a model built somewhere else than in it
    if items and set(map(type, items)) != {item_cls}:
        return None  # an item the hook did not build
    if not money_counts_match(body, plan.money_keys, counts):
        return None
    return cast(list[T], items)


_Read = Callable[[str, json.JSONDecoder], Any]
_OTHER_ENVELOPE = object()


def _decode(text: str, plan: _Plan, read: _Read) -> tuple[Any, list[int], int]:
    """``read``'s answer, the money counts and how many models the hook built, with a
    decoder no other decode is using (``list.pop`` and ``append`` are atomic)."""
    try:
        decoder, finish = plan.idle.pop()
    except IndexError:
        hook, finish = plan.make()
        decoder = json.JSONDecoder(
            parse_float=Decimal, parse_constant=_reject_constant, object_hook=hook
        )
    try:
        items = read(text, decoder)
    finally:
        built, counts = finish()  # and the tally starts again for the next decode
        plan.idle.append((decoder, finish))
    return items, counts, built


def _listed_results(text: str, decoder: json.JSONDecoder) -> Any:
    """The ``results`` of TrueLayer's envelope shape, read as the list then a pattern for
    the rest (so ``"results"`` is unique); ``_OTHER_ENVELOPE`` for any other shape."""
    head = _HEAD.match(text)
    if head is not None:
        items, end = decoder.raw_decode(text, head.end())
        if _TAIL.fullmatch(text, end) is not None:
            return items
    return _OTHER_ENVELOPE


def _whole_envelope(text: str, decoder: json.JSONDecoder) -> Any:
    """The ``results`` of any other envelope (decoded whole) when the key is unique and
    the status plain, else ``None``."""
    if text.count('"results"') != 1:
        return None  # the parser would keep the last of two results arrays
    envelope = decoder.decode(text)
    if envelope.__class__ is not dict:
        return None
    status = envelope.get("status")
    if not (status is None or status.__class__ is str):
        return None
    return envelope["results"]


def money_counts_match(
    body: bytes, money_keys: tuple[tuple[bytes, int], ...], counts: list[int]
) -> bool:
    """Whether each money key occurs in ``body`` exactly as often as the decoded models
    hold a value for it (``counts[counter]``): else a duplicated key was dropped, and the
    shortcut does not vouch for the body (both shortcuts' rule)."""
    return all(body.count(key) == counts[counter] for key, counter in money_keys)


def _make_plan(item_cls: type[Any]) -> _Plan | None:
    money: dict[str, int] = {}
    try:
        make = hook_maker(item_cls, money)
    except Unsupported:
        return None
    keys = tuple((f'"{name}"'.encode(), index) for name, index in money.items())
    if "currency" in money and len(money) == 1:
        keys = ()  # currency alone, with no amount beside it, is not money
    return _Plan(make=make, money_keys=keys)
