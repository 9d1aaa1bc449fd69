"""The SDK's one cattrs converter: decoded JSON values in, frozen models out.

Policy (the same for every model in :mod:`truelayer_async.models`):

* **Strict scalars.** ``str`` fields take only strings, ``int`` only integers (not
  ``bool``), ``bool`` only booleans. cattrs' default would turn ``5`` into ``"5"`` and
  ``null`` into ``"None"``.
* **Money** (every ``Decimal`` field) accepts a ``Decimal`` (what :func:`._json.loads`
  makes of a JSON number with a fraction), an ``int`` (a JSON integer such as
  ``"overdraft": 500``) or a numeric string (some fields are typed as strings in the
  OpenAPI documents). It rejects ``float``, ``bool``, NaN, Infinity and anything else,
  and never goes through ``float``, so the value equals the JSON literal exactly.
* **Timestamps** accept ISO-8601 with ``Z``, a ``±HH:MM`` offset, or no offset (read as
  UTC), a fraction of any length (rounded half up to microseconds), and a bare date (midnight
  UTC). A small parser handles the forms that Python 3.10's ``fromisoformat`` rejects.
  The result is always timezone-aware. **Dates** accept ``YYYY-MM-DD`` or a timestamp,
  whose calendar date is taken as written (no time-zone conversion).
* **Enums** are ``SomeEnum | str`` fields: known values become members, unknown values
  stay plain strings.
* **Arrays** must be JSON arrays (a string is not silently split into characters) and
  become tuples; **objects** must be JSON objects; ``dict[str, Any]`` fields (``meta``)
  are passed through as they are. Unknown keys are ignored.

Errors: every failure raises :class:`~truelayer_async.errors.MalformedResponseError`
whose ``path`` is the JSON path of the first problem (``$.results[3].amount``) and whose
message names the problem and the expected type but never the offending value (SEC-07).
It is raised outside any ``except`` block, so neither ``__cause__`` nor ``__context__``
holds the cattrs exception group (which would hold the values).

Speed: this converter is the reference decoder; the one optimisation is the msgspec
fast path in :mod:`._fast_decode` (the ``speedups`` extra), whose contract is the
differential test against this module. All structuring goes through ``_CONVERTER``
(``detailed_validation=False``, cattrs' own generated class code, timestamps cached).
Only when that fails is the input structured a second time with ``_DETAILED_CONVERTER``
(same hooks, detailed validation) to find the JSON path. Both converters are built
once, at import, and hold no I/O or event-loop state.
"""

from __future__ import annotations

import contextlib
import re
import types
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._secret import Secret
from .errors import MalformedResponseError
from .models._tagged import TAGGED_UNIONS
from .models.common import WIRE_NAME, Envelope
from .models.enums import AsyncStatus

__all__ = [
    "make_converter",
    "structure",
    "structure_envelope",
    "structure_list",
    "structure_results",
    "unstructure",
]

T = TypeVar("T")

_UTC = timezone.utc
_MAX_TIMESTAMP_CHARS = 64
_MAX_MONEY_CHARS = 100

StructureHook = Callable[[Any, Any], Any]


class _InvalidValue(ValueError):
    """A wire value of the wrong type or shape. ``reason`` never contains the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- scalars
# Hooks return ``Any``: the checks above each ``return`` are exact-type tests, which mypy
# cannot use to narrow, and ``typing.cast`` would cost a call per field.


def _structure_str(value: Any, _: Any) -> Any:
    if value.__class__ is str:
        return value
    raise _InvalidValue("expected a string")


def _structure_int(value: Any, _: Any) -> Any:
    if value.__class__ is int:
        return value
    raise _InvalidValue("expected an integer")


def _structure_bool(value: Any, _: Any) -> Any:
    if value.__class__ is bool:
        return value
    raise _InvalidValue("expected a boolean")


def _structure_secret(value: Any, _: Any) -> Any:
    if value.__class__ is str:
        return Secret(value)
    raise _InvalidValue("expected a string")


def _unstructure_secret(value: Secret) -> str:
    # Only an explicit unstructure() call reaches this: the value is what the caller asked for.
    return value.get_secret_value()


def _structure_object(value: Any, _: Any) -> Any:
    if value.__class__ is dict:
        return value
    raise _InvalidValue("expected a JSON object")


_MONEY_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _structure_money(value: Any, _: Any) -> Any:
    kind = value.__class__
    if kind is Decimal:
        if value.is_finite():
            return value
    elif kind is int or (kind is str and _is_decimal_text(value)):
        return Decimal(value)
    raise _InvalidValue("expected a finite decimal number (a JSON number or numeric string)")


def _is_decimal_text(text: str) -> bool:
    # Decimal() alone would also take "NaN", "Infinity", "1_000" and surrounding spaces.
    return len(text) <= _MAX_MONEY_CHARS and _MONEY_RE.fullmatch(text) is not None


# ------------------------------------------------------------------------ timestamps

# Beyond the common shapes (see _parse_timestamp) we accept: any fraction length, a ','
# decimal mark, a 't' or ' ' separator, missing seconds, '+HHMM' / '+HH' offsets and a
# bare date.
_TS_FULL = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:[Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?"
)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ONE_MICROSECOND = timedelta(microseconds=1)


def _parse_timestamp_slow(text: str) -> datetime:
    match = _TS_FULL.fullmatch(text)
    if match is None:
        raise ValueError("not an ISO-8601 timestamp")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    if hour is None:
        return datetime(int(year), int(month), int(day), tzinfo=_UTC)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    tz = _UTC
    if sign is not None:
        minutes = int(off_m or 0)
        if minutes > 59:
            raise ValueError("bad offset")
        offset = timedelta(hours=int(off_h), minutes=minutes)
        if offset:
            tz = timezone(-offset if sign == "-" else offset)
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
    )
    if fraction and len(fraction) > 6 and fraction[6] >= "5":  # round half up
        try:
            return moment + _ONE_MICROSECOND
        except OverflowError:
            raise ValueError("timestamp out of range") from None
    return moment


def _parse_timestamp(text: str) -> datetime:
    """Parse an accepted timestamp form into an aware datetime.

    The common shapes (``YYYY-MM-DDTHH:MM:SS``, no fraction or 3 or 6 digits, then ``Z``,
    ``±HH:MM`` or nothing) are rewritten with an explicit offset and handed to
    ``datetime.fromisoformat``, which reads exactly these shapes the same way on 3.10 and
    later. Everything else goes through the regex parser.
    """
    if text[4:17:3] == "--T::":  # the separators at 4, 7, 10, 13 and 16
        tail = text[19:]
        if tail[-1:] == "Z":
            fraction, zone = tail[:-1], "+00:00"
        elif len(tail) >= 6 and tail[-6] in "+-" and tail[-3] == ":" and tail[-2] in "012345":
            fraction, zone = tail[:-6], tail[-6:]  # fromisoformat allows minutes >= 60
        else:
            fraction, zone = tail, "+00:00"
        if not fraction or (
            len(fraction) in (4, 7) and fraction[0] == "." and fraction[1:].isdigit()
        ):
            return datetime.fromisoformat(text[:19] + fraction + zone)
    return _parse_timestamp_slow(text)


_TIMESTAMPS: dict[str, datetime] = {}
_TIMESTAMPS_MAX = 4096


def _timestamp(value: Any) -> datetime:
    """The timestamp hook's work. Results are cached (statement data repeats timestamps a
    lot); the cache is emptied when full. An unhashable value raises ``TypeError`` from the
    lookup, which is a rejection too."""
    cached = _TIMESTAMPS.get(value)
    if cached is not None:
        return cached
    if value.__class__ is str and len(value) <= _MAX_TIMESTAMP_CHARS:
        try:
            parsed = _parse_timestamp(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            if len(_TIMESTAMPS) >= _TIMESTAMPS_MAX:
                _TIMESTAMPS.clear()
            _TIMESTAMPS[value] = parsed
            return parsed
    raise _InvalidValue("expected an ISO-8601 timestamp string")


def _structure_datetime(value: Any, _: Any) -> Any:
    return _timestamp(value)


def _structure_date(value: Any, _: Any) -> Any:
    reason = "expected an ISO-8601 date string"
    if value.__class__ is str and len(value) >= 10 and _DATE_RE.match(value) is not None:
        try:
            if len(value) > 10:
                _timestamp(value)  # the time part must be valid too
            return date(int(value[:4]), int(value[5:7]), int(value[8:10]))
        except ValueError:
            reason = "expected an ISO-8601 date"
    raise _InvalidValue(reason)


# ------------------------------------------------------------------ hook factories


def _enum_or_str(tp: Any) -> tuple[type[Enum], bool] | None:
    """For ``E | str`` or ``E | str | None`` (E an Enum): ``(E, nullable)``."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    args = get_args(tp)
    rest = [arg for arg in args if arg is not type(None)]
    if len(rest) != 2 or str not in rest:
        return None
    other = rest[0] if rest[1] is str else rest[1]
    if isinstance(other, type) and issubclass(other, Enum):
        return other, len(rest) != len(args)
    return None


def _is_enum_or_str(tp: Any) -> bool:
    return _enum_or_str(tp) is not None


def _make_enum_or_str_hook(tp: Any) -> StructureHook:
    found = _enum_or_str(tp)
    assert found is not None
    enum_cls, nullable = found
    members: dict[str, Enum] = {str(member.value): member for member in enum_cls}

    def structure_enum_or_str(value: Any, _: Any) -> Any:
        if value.__class__ is str:
            return members.get(value, value)
        if value is None and nullable:
            return None
        raise _InvalidValue("expected a string")

    return structure_enum_or_str


def _make_enum_or_str_unstructure_hook(tp: Any) -> Callable[[Any], Any]:
    def unstructure_enum_or_str(value: Any) -> Any:
        return value.value if isinstance(value, Enum) else value

    return unstructure_enum_or_str


def _optional_inner(tp: Any) -> Any:
    """For ``X | None`` (X not an enum-or-str union): ``X``, else ``None``."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    args = get_args(tp)
    rest = [arg for arg in args if arg is not type(None)]
    if len(rest) != 1 or len(args) != 2:
        return None
    return rest[0]


def _is_optional(tp: Any) -> bool:
    return _optional_inner(tp) is not None


def _structure_optional_str(value: Any, _: Any) -> Any:
    if value is None or value.__class__ is str:
        return value
    raise _InvalidValue("expected a string or null")


def _make_optional_hook(tp: Any, converter: cattrs.Converter) -> StructureHook:
    # cattrs' own Optional handling dispatches on the inner type at every call.
    inner_type = _optional_inner(tp)
    if inner_type is str:
        return _structure_optional_str
    inner = converter.get_structure_hook(inner_type)

    def structure_optional(value: Any, _: Any) -> Any:
        if value is None:
            return None
        return inner(value, inner_type)

    return structure_optional


def _is_open_object(tp: Any) -> bool:
    return bool(tp == dict[str, Any])


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _make_tuple_hook(tp: Any, converter: cattrs.Converter) -> StructureHook:
    if get_args(tp)[0] is str and not converter.detailed_validation:

        def structure_str_tuple(value: Any, _: Any) -> Any:
            if value.__class__ is list:
                for item in value:
                    if item.__class__ is not str:
                        raise _InvalidValue("expected a string")
                return tuple(value)
            raise _InvalidValue("expected a JSON array")

        return structure_str_tuple

    inner = homogenous_tuple_structure_factory(tp, converter)

    def structure_tuple(value: Any, _: Any) -> Any:
        if type(value) is list:
            return inner(value, tp)
        raise _InvalidValue("expected a JSON array")

    return structure_tuple


def _wire_overrides(cl: Any) -> dict[str, Any]:
    origin = get_origin(cl) or cl
    return {
        field.name: override(rename=field.metadata[WIRE_NAME])
        for field in attrs.fields(origin)
        if WIRE_NAME in field.metadata
    }


def _make_class_hook(cl: Any, converter: cattrs.Converter) -> StructureHook:
    generated = make_dict_structure_fn(cl, converter, **_wire_overrides(cl))

    def structure_object(value: Any, _: Any) -> Any:
        if value.__class__ is dict:
            return generated(value, cl)
        raise _InvalidValue("expected a JSON object")

    return structure_object


def _tagged_union(tp: Any) -> Any:
    """The declared tagged union ``tp`` is (``None`` allowed as a member), else ``None``."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    return TAGGED_UNIONS.get(frozenset(arg for arg in get_args(tp) if arg is not type(None)))


def _is_tagged_union(tp: Any) -> bool:
    return _tagged_union(tp) is not None


def _make_tagged_union_hook(tp: Any, converter: cattrs.Converter) -> StructureHook:
    # One hook for every union declared with models._tagged.tagged_union: the value of
    # the tag field picks the class; an unknown (or missing) value picks the fallback,
    # which also keeps the whole object in ``raw``.
    union = _tagged_union(tp)
    assert union is not None
    nullable = type(None) in get_args(tp)
    field, fallback = union.field, union.fallback
    hooks = {tag: converter.get_structure_hook(cls) for tag, cls in union.variants.items()}
    classes = dict(union.variants)
    fallback_hook = converter.get_structure_hook(fallback)

    def structure_tagged(value: Any, _: Any) -> Any:
        if value.__class__ is dict:
            tag = value.get(field)
            hook = hooks.get(tag) if tag.__class__ is str else None
            if hook is not None:
                return hook(value, classes[tag])
            if tag.__class__ is not str:
                raise _InvalidValue(f"expected a string {field!r}")
            return attrs.evolve(fallback_hook(value, fallback), raw=dict(value))
        if value is None and nullable:
            return None
        raise _InvalidValue("expected a JSON object")

    return structure_tagged


def _is_fallback(cl: Any) -> bool:
    return any(union.fallback is cl for union in TAGGED_UNIONS.values())


def _unstructure_fallback(obj: Any) -> Any:
    return dict(obj.raw)  # an unknown variant goes back out exactly as it came in


def _make_class_unstructure_hook(cl: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    generated = make_dict_unstructure_fn(cl, converter, **_wire_overrides(cl))

    def unstructure_object(obj: Any) -> dict[str, Any]:
        # Optional fields that are None are left out, as TrueLayer leaves them out.
        return {key: value for key, value in generated(obj).items() if value is not None}

    return unstructure_object


def make_converter(*, detailed_validation: bool = True) -> cattrs.Converter:
    """Build the converter for every :mod:`truelayer_async.models` class.

    ``detailed_validation=False`` gives the fast converter used for all structuring;
    ``True`` (the default) gives one whose errors carry the attribute/index path, used to
    explain a failure. Both have the same hooks, so they accept the same inputs.
    """
    converter = cattrs.Converter(
        forbid_extra_keys=False,
        detailed_validation=detailed_validation,
        unstruct_collection_overrides={tuple: list},
    )
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(Decimal, _structure_money)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_structure_hook(date, _structure_date)
    converter.register_structure_hook(Secret, _structure_secret)
    converter.register_structure_hook_func(_is_open_object, _structure_object)
    converter.register_structure_hook_factory(_is_optional, _make_optional_hook)
    converter.register_structure_hook_factory(_is_enum_or_str, _make_enum_or_str_hook)
    converter.register_structure_hook_factory(_is_homogeneous_tuple, _make_tuple_hook)
    converter.register_structure_hook_factory(attrs.has, _make_class_hook)
    converter.register_structure_hook_factory(_is_tagged_union, _make_tagged_union_hook)

    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_unstructure_hook(Secret, _unstructure_secret)
    converter.register_unstructure_hook(Decimal, lambda value: value)
    converter.register_unstructure_hook_factory(
        _is_enum_or_str, _make_enum_or_str_unstructure_hook
    )
    converter.register_unstructure_hook_factory(attrs.has, _make_class_unstructure_hook)
    converter.register_unstructure_hook_func(_is_fallback, _unstructure_fallback)
    return converter


_CONVERTER = make_converter(detailed_validation=False)
_DETAILED_CONVERTER = make_converter(detailed_validation=True)
_STATUS_TYPE: Any = AsyncStatus | str | None


# -------------------------------------------------------------------------- errors


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_name(tp: Any) -> str:
    if tp is None or tp is type(None):
        return "null"
    if get_origin(tp) in (Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in get_args(tp))
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp)


def _wire_key(cl: Any, name: str) -> str:
    field = attrs.fields_dict(get_origin(cl) or cl).get(name)
    if field is not None and WIRE_NAME in field.metadata:
        return str(field.metadata[WIRE_NAME])
    return name


def _collect(exc: BaseException, path: str, tp: Any, out: list[tuple[str, str]]) -> None:
    """Flatten a detailed cattrs error into ``(json path, reason)`` pairs, values left out."""
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, attr_note in with_notes:
            key = _wire_key(exc.cl, attr_note.name)
            _collect(sub, f"{path}.{key}", attr_note.type, out)
        for sub in without:
            _collect(sub, path, exc.cl, out)
    elif isinstance(exc, IterableValidationError):
        with_index, without = exc.group_exceptions()
        for sub, index_note in with_index:
            _collect(sub, f"{path}[{index_note.index!r}]", index_note.type, out)
        for sub in without:
            _collect(sub, path, exc.cl, out)
    elif isinstance(exc, _InvalidValue):
        out.append((path, exc.reason))
    elif isinstance(exc, KeyError):
        out.append((path, "required field missing"))
    else:
        out.append((path, f"invalid value, expected {_type_name(tp)}"))


def _diagnose(value: Any, cls: Any, path: str) -> list[tuple[str, str]]:
    """Structure again with detailed validation; return the problems found (maybe none)."""
    problems: list[tuple[str, str]] = []
    try:
        _DETAILED_CONVERTER.get_structure_hook(cls)(value, cls)
    except Exception as exc:  # every failure is described, none is re-raised
        _collect(exc, path, cls, problems)
    return problems


def _error(
    message: str,
    path: str,
    status_code: int | None,
    correlation_id: str | None,
) -> MalformedResponseError:
    return MalformedResponseError(
        message, status_code=status_code, path=path, correlation_id=correlation_id
    )


def _mismatch(
    cls: Any,
    problems: list[tuple[str, str]],
    fallback_path: str,
    status_code: int | None,
    correlation_id: str | None,
) -> MalformedResponseError:
    if not problems:  # the fast converter failed but the detailed one did not: be generic
        problems = [(fallback_path, "value rejected")]
    path, reason = problems[0]
    message = f"response does not match {_type_name(cls)}: {reason}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem(s))"
    return _error(message, path, status_code, correlation_id)


# ------------------------------------------------------------------------- public


def structure(
    data: Any,
    cls: type[T],
    *,
    status_code: int | None = None,
    correlation_id: str | None = None,
    path: str = "$",
) -> T:
    """Structure one decoded JSON value into ``cls``.

    Raises:
        MalformedResponseError: the value does not fit ``cls``; ``path`` names the first
            offending JSON path (rooted at ``path``), the message never holds the value.
    """
    hook = _CONVERTER.get_structure_hook(cls)
    with contextlib.suppress(Exception):
        return cast(T, hook(data, cls))
    problems = _diagnose(data, cls, path)
    raise _mismatch(cls, problems, path, status_code, correlation_id) from None


def structure_list(
    data: Any,
    item_cls: type[T],
    *,
    status_code: int | None = None,
    correlation_id: str | None = None,
    path: str = "$",
) -> list[T]:
    """Structure a decoded JSON array whose items are ``item_cls`` (paths read
    ``{path}[i].field``).

    Raises:
        MalformedResponseError: ``data`` is not an array, or an item does not fit.
    """
    if type(data) is not list:
        raise _error(
            f"expected a JSON array of {_type_name(item_cls)}, got {_json_type(data)}",
            path,
            status_code,
            correlation_id,
        ) from None
    hook = _CONVERTER.get_structure_hook(item_cls)
    with contextlib.suppress(Exception):
        return [hook(item, item_cls) for item in data]
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(data):
        problems = _diagnose(item, item_cls, f"{path}[{index}]")
        if problems:
            break
    raise _mismatch(item_cls, problems, path, status_code, correlation_id) from None


def structure_envelope(
    body: Any,
    item_cls: type[T],
    *,
    status_code: int | None = None,
    correlation_id: str | None = None,
    path: str = "$",
) -> Envelope[T]:
    """Structure a Data API envelope ``{"results": [...], "status": "Succeeded"}``.

    ``status`` may be absent (``None``); an unknown status is kept as a string.

    Raises:
        MalformedResponseError: ``body`` is not an object, ``results`` is missing or not an
            array, ``status`` is not a string, or an item does not fit ``item_cls``. The
            message names JSON types only, never content.
    """
    if type(body) is not dict:
        raise _error(
            "expected a Data API envelope (a JSON object with a results array), "
            f"got {_json_type(body)}",
            path,
            status_code,
            correlation_id,
        ) from None
    if "results" not in body:
        raise _error(
            "Data API envelope has no results array",
            f"{path}.results",
            status_code,
            correlation_id,
        ) from None
    raw_status = body.get("status")
    status = structure(
        raw_status,
        _STATUS_TYPE,
        status_code=status_code,
        correlation_id=correlation_id,
        path=f"{path}.status",
    )
    results = structure_list(
        body["results"],
        item_cls,
        status_code=status_code,
        correlation_id=correlation_id,
        path=f"{path}.results",
    )
    return Envelope(results=results, status=status)


def structure_results(
    body: Any,
    item_cls: type[T],
    *,
    status_code: int | None = None,
    correlation_id: str | None = None,
    path: str = "$",
) -> list[T]:
    """Unwrap a Data API envelope and structure its ``results`` (paths read
    ``$.results[i].field``).

    Raises:
        MalformedResponseError: as :func:`structure_envelope`.
    """
    return structure_envelope(
        body, item_cls, status_code=status_code, correlation_id=correlation_id, path=path
    ).results


def structure_one_result(
    body: Any,
    item_cls: type[T],
    *,
    status_code: int | None = None,
    correlation_id: str | None = None,
) -> T:
    """Unwrap an envelope that must hold exactly one result (``/me``, ``/accounts/{id}``…).

    Raises:
        MalformedResponseError: as :func:`structure_envelope`, or ``results`` does not hold
            exactly one item (path ``$.results``).
    """
    items = structure_results(
        body, item_cls, status_code=status_code, correlation_id=correlation_id
    )
    if len(items) != 1:
        raise _error(
            f"expected exactly one result, got {len(items)}",
            "$.results",
            status_code,
            correlation_id,
        )
    return items[0]


def _decimal_text(value: Decimal) -> str:
    # Positional notation, never "1E+3": the literal a person (or a JS client) expects.
    return format(value, "f")


def _unstructuring(cls: type[Any], hook: Callable[[Any], Any]) -> cattrs.Converter:
    """The fast converter, but unstructuring ``cls`` with ``hook``."""
    converter = make_converter(detailed_validation=False)
    converter.register_unstructure_hook(cls, hook)
    return converter


_JSON_SAFE_CONVERTER = _unstructuring(Decimal, _decimal_text)
_REQUEST_CONVERTER = _unstructuring(Secret, lambda value: value)


def unstructure_request(obj: Any) -> Any:
    """``unstructure`` for a request body: :class:`Secret` values stay wrapped, so no SDK
    frame holds them raw; the request layer reveals them only while encoding the body."""
    return _REQUEST_CONVERTER.unstructure(obj)


def unstructure(obj: Any, *, json_safe: bool = False) -> Any:
    """Turn a model (or list of models) back into JSON-ready values.

    Field names are the wire names; ``None`` fields are left out; timestamps and dates
    become ISO-8601 strings; enum members become their values; tuples become lists.

    Money: by default ``Decimal`` values stay ``Decimal`` (which ``json.dumps`` rejects
    and FastAPI turns into a float, so ``500.00`` would come out as ``500.0``). With
    ``json_safe=True`` every ``Decimal`` (``meta`` values included) becomes its exact
    decimal string (``"500.00"``), so ``json.dumps`` and any web framework can send it
    unchanged, and structuring the result again gives an equal model.
    """
    converter = _JSON_SAFE_CONVERTER if json_safe else _CONVERTER
    return converter.unstructure(obj)
