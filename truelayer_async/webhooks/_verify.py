"""Webhook checks that need no network: headers, ``jku`` allow-list, signature, timestamp.

Everything fails closed with a :class:`~truelayer_async.errors.WebhookVerificationError`
subclass naming the reason; nothing here logs or echoes a header value or the body.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import signing
from ..config import Environment
from ..errors import (
    SignatureVerificationError,
    WebhookAlgorithmError,
    WebhookKeySetUntrustedError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookUnknownKeyError,
)
from .events import Event, decode_body, parse_event

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "DEFAULT_MAX_CLOCK_SKEW",
    "DEFAULT_TOLERANCE",
    "PRODUCTION_KEY_SET_URL",
    "SANDBOX_KEY_SET_URL",
    "TIMESTAMP_HEADER",
    "verify_with_jwks",
]

#: The only two key-set URLs TrueLayer signs webhooks with (the ``jku`` values).
# One source for the key-set URLs: the environments in config.py.
PRODUCTION_KEY_SET_URL: str = Environment.PRODUCTION.webhook_jwks_url or ""
SANDBOX_KEY_SET_URL: str = Environment.SANDBOX.webhook_jwks_url or ""
TIMESTAMP_HEADER = "X-TL-Webhook-Timestamp"
#: How old a webhook's timestamp may be, and how far in the future, in seconds.
DEFAULT_TOLERANCE = 300.0
DEFAULT_MAX_CLOCK_SKEW = 60.0

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


def check_body(body: object) -> bytes:
    """``body`` as bytes; a ``str`` or a parsed object is refused with ``TypeError``."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(
        "webhooks are verified over the raw request body bytes; got "
        f"{type(body).__name__} (a str or parsed JSON is re-serialised and breaks the "
        "signature): pass `await request.body()` or equivalent"
    )


def header_lookup(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Received headers keyed by lower-case name (ASGI byte pairs are decoded as latin-1)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lookup: dict[str, str] = {}
    for name, value in items:
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        lookup[key.lower()] = text
    return lookup


def read_signature(lookup: Mapping[str, str], allowed_jku: Collection[str]) -> signing.JoseHeader:
    """Parse ``Tl-Signature`` and check its ``jku`` against the allow-list (exact match)."""
    value = lookup.get("tl-signature")
    if not value:
        raise WebhookSignatureError("the webhook has no Tl-Signature header", reason="missing")
    try:
        header = signing.parse_signature(value)
    except SignatureVerificationError as exc:
        error_cls = WebhookAlgorithmError if exc.reason == "algorithm" else WebhookSignatureError
        message, reason = str(exc), exc.reason
    else:
        if header.jku is None or header.jku not in allowed_jku:
            # Exact string match only: no normalisation, so no look-alike host, userinfo,
            # port, case, dot or percent-encoding trick can pass. Nothing is fetched.
            raise WebhookKeySetUntrustedError(
                "the webhook's jku is not an allowed key-set URL for this environment",
                reason="jku",
            )
        return header
    raise error_cls(message, reason=reason)


def check_signature(
    key: ec.EllipticCurvePublicKey, lookup: Mapping[str, str], path: str, body: bytes
) -> None:
    """Verify over POST ``path``, the signed headers and ``body``; the timestamp header
    must be among the signed ones."""
    try:
        signing.verify(
            lookup["tl-signature"],
            method="POST",
            path=path,
            body=body,
            headers=lookup,
            public_key=key,
            required_headers=(TIMESTAMP_HEADER,),
        )
    except SignatureVerificationError as exc:
        message, reason = str(exc), exc.reason
    else:
        return
    raise WebhookSignatureError(message, reason=reason)


def check_timestamp(
    lookup: Mapping[str, str], now: float, tolerance: float, max_clock_skew: float
) -> datetime:
    """The (signed) timestamp header, if within ``tolerance`` seconds old and at most
    ``max_clock_skew`` seconds ahead of ``now``."""
    text = lookup.get(TIMESTAMP_HEADER.lower(), "")
    if not _TIMESTAMP.fullmatch(text):
        raise WebhookTimestampError(
            f"{TIMESTAMP_HEADER} is missing or not an RFC 3339 time", reason="timestamp"
        )
    moment = datetime.fromisoformat(_python_iso(text))
    age = now - moment.timestamp()
    if age > tolerance:
        raise WebhookTimestampError(
            f"the webhook is {age:.0f} s old (tolerance {tolerance:.0f} s)", reason="stale"
        )
    if -age > max_clock_skew:
        raise WebhookTimestampError(
            f"the webhook is dated {-age:.0f} s in the future", reason="future"
        )
    return moment.astimezone(timezone.utc)


def _python_iso(text: str) -> str:
    # Python 3.10's fromisoformat takes neither "Z" nor more than 6 fraction digits.
    head, _, zone = text.partition("Z") if text.endswith("Z") else (text[:-6], "", text[-6:])
    if "." in head:
        seconds, fraction = head.split(".")
        head = f"{seconds}.{fraction[:6].ljust(6, '0')}"
    return head + (zone or "+00:00")


def verify_with_jwks(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    jwks: Mapping[str, Any],
    *,
    path: str,
    allowed_jku: Collection[str] = (SANDBOX_KEY_SET_URL, PRODUCTION_KEY_SET_URL),
    tolerance: float = DEFAULT_TOLERANCE,
    max_clock_skew: float = DEFAULT_MAX_CLOCK_SKEW,
    now: float | None = None,
) -> Event:
    """Verify a webhook against a key set you hold, then parse it. Pure: no network.

    Args:
        headers: the request headers as received (any case; ASGI byte pairs accepted).
        body: the raw request body bytes, exactly as received.
        jwks: the key set (``{"keys": [...]}``) from the ``jku`` URL.
        path: your webhook URI's path as TrueLayer called it, e.g. ``"/hooks/truelayer"``.
        allowed_jku: key-set URLs accepted in the signature (exact match).
        tolerance: how old (seconds) the timestamp header may be.
        max_clock_skew: how far in the future (seconds) it may be.
        now: the current unix time (defaults to ``time.time()``).

    Raises:
        TypeError: ``body`` is not bytes.
        WebhookVerificationError: a subclass naming the failed check; the webhook must not
            be processed.
    """
    raw = check_body(body)
    lookup = header_lookup(headers)
    header = read_signature(lookup, allowed_jku)
    try:
        key = signing.key_from_jwks(jwks, header.kid)
    except SignatureVerificationError as exc:
        message = str(exc)
    else:
        if key is None:
            raise WebhookUnknownKeyError("the signing key is not in the key set", reason="kid")
        return finish(
            key, lookup, path, raw, time.time() if now is None else now, tolerance, max_clock_skew
        )
    raise WebhookSignatureError(message, reason="key")


def finish(
    key: ec.EllipticCurvePublicKey,
    lookup: Mapping[str, str],
    path: str,
    body: bytes,
    now: float,
    tolerance: float,
    max_clock_skew: float,
) -> Event:
    """Signature, then timestamp, then parse: the steps after the key is known."""
    check_signature(key, lookup, path, body)
    moment = check_timestamp(lookup, now, tolerance, max_clock_skew)
    return parse_event(decode_body(body), timestamp=moment)
