"""The optional fast decoder for Data API result lists (the ``speedups`` extra: msgspec).

msgspec parses the body straight into the models, without building the dict tree that
:func:`._json.loads` and the cattrs converter go through. It is only ever a shortcut: when
msgspec is not installed, when a model is outside what it can decode, or when a body is
anything but plainly well formed, :func:`fast_results` returns ``None`` and
:func:`decode_results` uses the strict pure-Python decoder instead, which produces the
same models or the precise :class:`~truelayer_async.errors.MalformedResponseError`. So
both decoders accept the same bodies and give equal results
(``tests/core/test_fast_decode.py`` checks this differentially).

How the fast path keeps the strict decoder's rules:

* Each model gets a *twin*: a slotted subclass with the same fields whose types msgspec
  understands (``SomeEnum | str`` becomes ``SomeEnum``, so an unknown value falls back;
  timestamps must carry an offset, so naive ones fall back; currency codes are a
  ``Literal`` of ISO 4217 codes, so each is one shared string and an unknown code falls
  back). msgspec builds twins, then a finisher generated per model turns each into the
  real model class in place (``__class__`` assignment: same slots, same layout), so no
  second object is built.
* Memory: ``transaction_classification`` and ``merchant_name`` values repeat, so the
  finisher keeps one object per distinct value, and a body over 256 KiB is decoded a
  chunk of items at a time so that the duplicates die chunk by chunk (see
  :func:`_in_chunks`); that keeps the peak of a 100,000-transaction list under three
  times the body.
* Money fields are decoded as plain JSON values and checked by the converter's own money
  rule (numbers exact, numeric strings only, never ``float``).
* Timestamps: msgspec reads the same forms the strict decoder reads with an offset and
  rounds a fraction beyond microseconds the same way (half up).
* Duplicate keys: msgspec keeps the last of duplicated keys. The strict decoder rejects
  them; the fast path only vouches for a body when every money key (each ``Decimal``
  field's name, and ``currency`` beside them) occurs in the raw bytes exactly as often as
  the decoded models hold a value for it. A duplicated or shadowed money key, a money key
  spelled with escapes, or one set to ``null`` therefore sends the body to the strict
  decoder. So does a second ``"results"`` key. Duplicates of other keys are resolved
  last-wins on this path.
* Bytes msgspec skips (unknown keys and their values) are still checked to be UTF-8. It
  does not check the digits of an integer it skips: one longer than Python's
  4,300-digit limit, which the strict decoder rejects, passes there unread.
"""

from __future__ import annotations

import codecs
import os
import re
import types
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar, Union, cast, get_args, get_origin

import attrs

from ._converter import _enum_or_str, _structure_money, structure_results
from ._gc_pause import paused_for
from ._json import loads
from ._plain_decode import LETTER_ESCAPE, money_counts_match, plain_results
from ._plain_structure import slots_beyond_fields
from .models.common import WIRE_NAME

try:
    import msgspec

    _INSTALLED = True
except ImportError:  # pragma: no cover - the speedups extra is not installed
    _INSTALLED = False

# TRUELAYER_ASYNC_SPEEDUPS=0 turns the fast path off (read once, at import).
_ENABLED = _INSTALLED and os.environ.get("TRUELAYER_ASYNC_SPEEDUPS", "1") != "0"

__all__ = ["available", "decode_results", "fast_results", "shortcut_results"]

T = TypeVar("T")

_Finisher = Callable[[Any, list[int], dict[Any, Any]], None]


_ISO_4217 = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
BYR CYP EEK HRK LTL LVL MRO MTL SIT SKK STD VEF ZMK
""".split()  # noqa: SIM905 - a table is easier to read
_CURRENCY: Any = Literal[tuple(_ISO_4217)]


class _Unsupported(Exception):
    """A model the fast path does not decode (always the strict decoder)."""


def available() -> bool:
    """Whether the fast path is on: msgspec is installed (``pip install
    truelayer-async[speedups]``) and ``TRUELAYER_ASYNC_SPEEDUPS`` is not ``0``."""
    return _ENABLED


@attrs.frozen
class _Plan:
    decoder: Any  # a msgspec.json.Decoder of the envelope of twins (a body in one piece)
    items: Any  # ... of a JSON array of twins (one chunk of the results)
    finish: _Finisher
    counters: int
    money_keys: tuple[tuple[bytes, int], ...]  # (b'"amount"', its counter), ...


_PLANS: dict[type[Any], _Plan | None] = {}
_UNPLANNED = object()

# A longer body is decoded a chunk of items at a time, so that the duplicates the
# finisher replaces by shared values (below) die chunk by chunk instead of all being
# alive at the end: that lowers the peak memory of a long list by about a tenth.
_CHUNK_BYTES = 256 * 1024
# "~" stands for JSON's whitespace (a regex's \s would also take \f and \v).
_STATUS = rb'"status"~:~(?:"[A-Za-z_]*"|null)'
_HEAD = re.compile((rb"~\{~(" + _STATUS + rb'~,~)?"results"~:~\[').replace(b"~", rb"[ \t\n\r]*"))
_TAIL = re.compile((rb"\]~(,~" + _STATUS + rb"~)?\}~\Z").replace(b"~", rb"[ \t\n\r]*"))
_TAIL_MAX = 100  # bytes at the end of a body that _TAIL may span
# Fields whose values repeat from item to item: within one body, each distinct value is
# kept once, in a table emptied between chunks once it holds more than _SHARED_MAX values
# (a table per call: no user data outlives the call).
_SHARED_FIELDS = frozenset({"transaction_classification", "merchant_name"})
_SHARED_MAX = 4096


def decode_results(
    body: bytes,
    item_cls: type[T],
    *,
    status_code: int | None = None,
    content_type: str | None = None,
    correlation_id: str | None = None,
) -> list[T]:
    """The ``results`` of a Data API envelope body: the fast path, else the pure-Python
    shortcut (:mod:`._plain_decode`), else the strict reference decoder.

    What a ``tl.data`` list call does with a JSON body (``services/data.py`` gets there
    through its ``Response``); the benchmarks call it on bare bytes. A large body is
    decoded with the garbage collector paused (:mod:`._gc_pause`).

    Raises:
        MalformedResponseError: as :func:`._converter.structure_results`.
    """
    with paused_for(len(body)):
        fast = shortcut_results(body, item_cls)
        if fast is not None:
            return fast
        decoded = loads(
            body, status_code=status_code, content_type=content_type, correlation_id=correlation_id
        )
        return structure_results(
            decoded, item_cls, status_code=status_code, correlation_id=correlation_id
        )


def shortcut_results(body: bytes, item_cls: type[T]) -> list[T] | None:
    """A shortcut's results, where one vouches for ``body``: the speedups decoder's, else
    the pure-Python one's (:mod:`._plain_decode`, a default install's); ``None`` leaves
    the body to the reference decoder."""
    fast = fast_results(body, item_cls)
    return fast if fast is not None else plain_results(body, item_cls)


def fast_results(body: bytes, item_cls: type[T]) -> list[T] | None:
    """The ``results`` of a Data API envelope, or ``None`` to use the strict decoder."""
    if not _ENABLED:
        return None
    plan = _PLANS.get(item_cls, _UNPLANNED)
    if plan is _UNPLANNED:
        plan = _PLANS[item_cls] = _make_plan(item_cls)
    if plan is None:
        return None
    assert isinstance(plan, _Plan)
    if not (body.isascii() or _is_utf8(body)):
        return None  # msgspec checks only the strings it decodes, not the ones it skips
    decoded = _in_chunks(body, plan) if len(body) > _CHUNK_BYTES else None
    if decoded is None:
        decoded = _in_one_piece(body, plan)
    if decoded is None:
        return None
    results, counts = decoded
    if plan.money_keys:
        # memchr for a backslash first: a 2-byte search costs as much as a decode's tenth.
        if b"\\" in body and LETTER_ESCAPE.search(body) is not None:
            return None
        if not money_counts_match(body, plan.money_keys, counts):
            return None
    return cast(list[T], results)


_Decoded = tuple[list[Any], list[int]]  # the finished items, the money counters


def _in_one_piece(body: bytes, plan: _Plan) -> _Decoded | None:
    first = body.find(b'"results"')
    if first < 0 or body.rfind(b'"results"') != first:  # a third of count()'s cost
        return None  # msgspec would keep the last of two results arrays
    counts = [0] * plan.counters
    shared: dict[Any, Any] = {}
    try:
        results: list[Any] = plan.decoder.decode(body).results
        finish = plan.finish
        for item in results:
            finish(item, counts, shared)
    except Exception:  # any doubt at all: the strict decoder decides
        return None
    return results, counts


def _in_chunks(body: bytes, plan: _Plan) -> _Decoded | None:
    """Decode the results array a chunk of items at a time, or ``None`` (then the body is
    decoded in one piece).

    Only an envelope framed as ``{"results": [...]}``, with at most a plain ``status``
    before or after, is cut up. The array is cut after a ``}`` followed by ``,`` and
    ``{``: a cut anywhere but between two items leaves an unterminated string or an open
    bracket in a chunk, which msgspec rejects. So when every chunk decodes, the body was
    exactly that envelope around those items.
    """
    head = _HEAD.match(body)
    tail = _TAIL.search(body, max(0, len(body) - _TAIL_MAX))
    if head is None or tail is None or (head.group(1) and tail.group(1)):
        return None
    start, close = head.end(), tail.start()  # just inside the brackets
    counts = [0] * plan.counters
    shared: dict[Any, Any] = {}
    results: list[Any] = []
    decode, finish = plan.items.decode, plan.finish
    try:
        while start < close:
            if len(shared) > _SHARED_MAX:
                shared.clear()
            cut = _item_boundary(body, start + _CHUNK_BYTES, close)
            stop = close if cut < 0 else cut + 1
            chunk = decode(b"".join((b"[", memoryview(body)[start:stop], b"]")))
            for item in chunk:
                finish(item, counts, shared)
            results += chunk
            start = stop + 1  # past the comma
    except Exception:  # a cut inside an item after all, or any other doubt
        return None
    return results, counts


def _is_utf8(body: bytes) -> bool:
    """Whether ``body`` is valid UTF-8, checked a megabyte at a time (bounded memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    try:
        for start in range(0, len(body), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _item_boundary(body: bytes, start: int, end: int) -> int:
    """The first ``}`` at or after ``start`` directly followed by ``,`` and then, after
    any JSON whitespace, ``{``; or -1."""
    while start < end:
        cut = body.find(b"},", start, end)
        if cut < 0:
            return -1
        after = cut + 2
        while body[after] in b" \t\r\n":
            after += 1
        if body[after] == 0x7B:  # "{"
            return cut
        start = after
    return -1


# ------------------------------------------------------------------------ planning


def _make_plan(item_cls: type[Any]) -> _Plan | None:
    if not _INSTALLED:
        return None
    money: dict[str, int] = {}
    try:
        twin, finish = _twin(item_cls, {}, money)
        envelope = msgspec.defstruct(
            "_Envelope",
            [("results", list[twin]), ("status", Union[str, None], None)],  # type: ignore[valid-type]  # noqa: UP007
        )
        decoder = msgspec.json.Decoder(envelope, float_hook=Decimal)
        items = msgspec.json.Decoder(list[twin], float_hook=Decimal)  # type: ignore[valid-type]
    except Exception:  # a model outside the fast path, an old msgspec, anything else
        return None
    keys = tuple((f'"{name}"'.encode(), index) for name, index in money.items())
    if "currency" in money and len(money) == 1:
        keys = ()  # currency alone, with no amount beside it, is not money
    return _Plan(
        decoder=decoder,
        items=items,
        finish=finish,
        counters=len(money),
        money_keys=keys,
    )


_Twins = dict[type[Any], tuple[type[Any], _Finisher]]


def _twin(cl: type[Any], done: _Twins, money: dict[str, int]) -> tuple[type[Any], _Finisher]:
    """The msgspec-decodable twin of attrs class ``cl`` and the function that finishes it."""
    if cl in done:
        return done[cl]
    if not (attrs.has(cl) and isinstance(cl, type) and "__slots__" in cl.__dict__):
        raise _Unsupported
    if hasattr(cl, "__attrs_post_init__") or hasattr(cl, "__attrs_pre_init__"):
        raise _Unsupported
    if slots_beyond_fields(cl):
        raise _Unsupported  # attrs' cached hash: msgspec fills the fields only
    attrs.resolve_types(cl)
    fields = attrs.fields(cl)
    twin_fields: dict[str, Any] = {}
    lines = ["def finish(o, counts, shared):", "  _set(o, '__class__', _cl)"]
    ns: dict[str, Any] = {
        "_cl": cl,
        "_set": object.__setattr__,
        "_Decimal": Decimal,
    }
    for field in fields:
        if (
            not field.init
            or field.converter is not None
            or field.validator is not None
            or WIRE_NAME in field.metadata
            or field.alias != field.name
            or not _immutable_default(field.default)
        ):
            raise _Unsupported
        inner, nullable = _strip_optional(field.type)
        wire_type, check = _wire_type(field.name, inner, done, money, ns)
        if field.name in _SHARED_FIELDS and wire_type in (str, tuple[str, ...]):
            check = [
                *check,
                "  w = shared.setdefault(v, v)",
                "  if w is not v:",
                f"    _set(o, {field.name!r}, w)",
            ]
        if nullable:
            wire_type = Union[wire_type, None]  # noqa: UP007
        twin_fields[field.name] = attrs.field(type=wire_type, default=field.default)
        if check:
            read = f"  v = o.{field.name}"
            if nullable:
                lines += [read, "  if v is not None:", *("  " + line for line in check)]
            else:
                lines += [read, *check]
    twin = attrs.make_class(
        f"_Wire{cl.__name__}", twin_fields, bases=(cl,), frozen=True, slots=True, kw_only=True
    )
    _check_layout(twin, cl)
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<truelayer_async fast finish {cl.__qualname__}>", "exec"), ns)  # noqa: S102
    done[cl] = (twin, ns["finish"])
    return done[cl]


def _wire_type(
    name: str,
    tp: Any,
    done: _Twins,
    money: dict[str, int],
    ns: dict[str, Any],
) -> tuple[Any, list[str]]:
    """(the type msgspec decodes field ``name`` as, finisher lines checking ``v``)."""
    if tp is Decimal:
        index = money.setdefault(name, len(money))
        ns["_money"] = _structure_money  # raises on doubt, and the caller falls back
        return Any, [
            "  if v.__class__ is not _Decimal:",
            f"    _set(o, {name!r}, _money(v, None))",
            f"  counts[{index}] += 1",
        ]
    if tp is str:
        if name == "currency":
            index = money.setdefault(name, len(money))
            return _CURRENCY, [f"  counts[{index}] += 1"]
        return str, []
    if tp in (int, bool, date) or tp == dict[str, Any]:
        return tp, []
    if tp is datetime:
        return Annotated[datetime, msgspec.Meta(tz=True)], []
    enum_info = _enum_or_str(tp)  # SomeEnum | str (its None is stripped already)
    if enum_info is not None:
        return enum_info[0], []
    if get_origin(tp) is tuple:
        args = get_args(tp)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise _Unsupported
        if args[0] is str:
            return tuple[str, ...], []
        twin, finish = _twin(args[0], done, money)
        ns[f"_finish_{name}"] = finish
        return tuple[twin, ...], ["  for item in v:", f"    _finish_{name}(item, counts, shared)"]  # type: ignore[valid-type]
    if attrs.has(tp):
        twin, finish = _twin(tp, done, money)
        ns[f"_finish_{name}"] = finish
        return twin, [f"  _finish_{name}(v, counts, shared)"]
    raise _Unsupported


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (Union, types.UnionType):
        args = get_args(tp)
        rest = tuple(arg for arg in args if arg is not type(None))
        if len(rest) != len(args):
            return (rest[0] if len(rest) == 1 else Union[rest]), True  # noqa: UP007
    return tp, False


def _immutable_default(default: Any) -> bool:
    return default is attrs.NOTHING or default is None or default == ()


def _check_layout(twin: type[Any], cl: type[Any]) -> None:
    # The twin must be turnable into ``cl`` in place: no slots or __dict__ of its own.
    probe = object.__new__(twin)
    try:
        object.__setattr__(probe, "__class__", cl)
    except TypeError:
        raise _Unsupported from None
    if twin.__dict__.get("__slots__") != ():
        raise _Unsupported
