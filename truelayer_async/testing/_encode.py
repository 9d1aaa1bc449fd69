"""Exact JSON encoding: a ``Decimal`` is written as a JSON number, digit for digit.

Floats are refused outright so that an amount can never pick up a binary artefact such as
``0.30000000000000004``; build every amount as a ``Decimal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

__all__ = ["dumps"]


def dumps(value: object) -> bytes:
    """Encode ``value`` (dicts, lists, tuples, str, int, bool, None, Decimal) as UTF-8 JSON."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _encode(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("JSON has no NaN or Infinity")
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        raise TypeError("floats are not encoded; use Decimal for amounts")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
