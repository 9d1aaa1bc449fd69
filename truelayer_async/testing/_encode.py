"""Exact JSON encoding: a ``Decimal`` is written as a JSON number, digit for digit.

Floats are refused outright so that an amount can never pick up a binary artefact such as
``0.30000000000000004``; build every amount as a ``Decimal``. A :class:`RawJSON` is
written as it is: the emulator encodes seeded data that never changes once (see
``_fragments``) and splices it into each response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from json.encoder import encode_basestring

__all__ = ["RawJSON", "decimal_text", "dumps", "encode_now", "quote"]

#: ``json.dumps(text, ensure_ascii=False)`` without building an encoder per string.
quote: Callable[[str], str] = encode_basestring


class RawJSON(str):
    """Text that is already valid JSON, written by :func:`dumps` unchanged."""

    __slots__ = ()


def dumps(value: object) -> bytes:
    """Encode ``value`` (dicts, lists, tuples, str, int, bool, None, Decimal, RawJSON) as
    compact UTF-8 JSON."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def encode_now(value: object) -> RawJSON:
    """Encode ``value`` as :func:`dumps` would, keeping the text to splice in later."""
    out: list[str] = []
    _encode(value, out)
    return RawJSON("".join(out))


def _encode(value: object, out: list[str]) -> None:
    # Exact types first (the common case, one dict lookup), then subclasses.
    kind = type(value)
    if kind is str:
        out.append(quote(value))  # type: ignore[arg-type]
    elif kind is dict:
        _encode_mapping(value, out)  # type: ignore[arg-type]
    elif kind is list or kind is tuple:
        _encode_sequence(value, out)  # type: ignore[arg-type]
    elif kind is Decimal:
        out.append(decimal_text(value))  # type: ignore[arg-type]
    elif kind is RawJSON:
        out.append(value)  # type: ignore[arg-type]
    elif kind is int:
        out.append(int.__repr__(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        out.append(decimal_text(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        raise TypeError("floats are not encoded; use Decimal for amounts")
    elif isinstance(value, str):
        out.append(quote(value))
    elif isinstance(value, Mapping):
        _encode_mapping(value, out)
    elif isinstance(value, (list, tuple)):
        _encode_sequence(value, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def decimal_text(value: Decimal) -> str:
    """A finite ``Decimal`` as a JSON number, digit for digit (``ValueError`` otherwise)."""
    if not value.is_finite():
        raise ValueError("JSON has no NaN or Infinity")
    return format(value, "f")


def _encode_mapping(value: Mapping[object, object], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError("JSON object keys must be strings")
        if first:
            first = False
        else:
            out.append(",")
        out.append(quote(key))
        out.append(":")
        _encode(item, out)
    out.append("}")


def _encode_sequence(value: list[object] | tuple[object, ...], out: list[str]) -> None:
    out.append("[")
    first = True
    for item in value:
        if first:
            first = False
        else:
            out.append(",")
        _encode(item, out)
    out.append("]")
