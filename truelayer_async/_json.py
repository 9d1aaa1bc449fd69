"""Decoding JSON bodies: exact Decimals, no NaN, no duplicate keys, typed errors only."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .errors import MalformedResponseError

__all__ = ["loads", "scrubbed_snippet"]

_SNIPPET_CHARS = 120


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key in JSON object")
        result[key] = value
    return result


_DECODER = json.JSONDecoder(
    parse_float=Decimal,
    parse_constant=_reject_constant,
    object_pairs_hook=_no_duplicates,
)


def loads(
    body: bytes,
    *,
    status_code: int | None = None,
    content_type: str | None = None,
    correlation_id: str | None = None,
    error_cls: type[MalformedResponseError] = MalformedResponseError,
) -> Any:
    """Decode a JSON body; numbers with a fraction or exponent become ``Decimal``.

    Every failure (bad UTF-8, truncation, NaN/Infinity, duplicate keys, 5,000-digit
    integers, 100,000-deep nesting, an empty body) raises ``error_cls``, a
    ``MalformedResponseError``, carrying a short scrubbed snippet but never the body.
    A UTF-8 byte order mark is accepted.
    """
    reason: str
    try:
        text = body.decode("utf-8-sig")
        if not text.strip():
            reason = "empty body where JSON was expected"
        else:
            return _DECODER.decode(text)
    except UnicodeDecodeError:
        reason = "body is not valid UTF-8"
    except RecursionError:
        reason = "JSON nested too deeply"
    except ValueError as exc:  # JSONDecodeError, int digit limit, NaN, duplicate keys
        reason = f"invalid JSON: {_reason_of(exc)}"
    raise error_cls(
        reason,
        status_code=status_code,
        content_type=content_type,
        snippet=scrubbed_snippet(body),
        correlation_id=correlation_id,
    ) from None


def _reason_of(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at position {exc.pos}"
    text = str(exc)
    if "digits" in text:
        return "integer too long"
    return text if len(text) < 60 else "unparseable value"


def scrubbed_snippet(body: bytes) -> str:
    """A short, printable excerpt of a body that cannot hold a whole secret.

    Runs of 16 or more token-like characters (letters, digits, ``-_.~+/=``) are replaced by
    ``[redacted]``, so a body that echoes a token, code or secret shows none of it.
    """
    text = body[:512].decode("utf-8", errors="replace")
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 16:
            out.append("[redacted]")
        else:
            out.extend(run)
        run.clear()

    for ch in text:
        if ch.isalnum() or ch in "-_.~+/=":
            run.append(ch)
        else:
            flush()
            out.append(ch if ch.isprintable() else " ")
    flush()
    snippet = " ".join("".join(out).split())
    return snippet[:_SNIPPET_CHARS]
