"""Opaque page cursors: URL-safe base64 of a small JSON object (the offset and what the
cursor is bound to). Clients must not read them; the emulator refuses any it did not make
for the same listing."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["decode", "encode"]


def encode(fields: dict[str, Any]) -> str:
    """A cursor holding ``fields``."""
    raw = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Any] | None:
    """The fields in ``cursor``, or ``None`` when it is not one of ours."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def offset(cursor: str, **bound: Any) -> int:
    """The offset in ``cursor`` when it is bound to ``bound``, else -1."""
    value = decode(cursor)
    if value is None or any(value.get(k) != v for k, v in bound.items()):
        return -1
    found = value.get("o")
    return found if isinstance(found, int) and not isinstance(found, bool) and found >= 0 else -1
