"""What the emulator records for tests to inspect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["RequestRecord", "WebhookRecord"]


@attrs.frozen
class RequestRecord:
    """One request the emulator received.

    ``status`` is what the app answered (for a dropped response: what it would have
    answered); ``fault`` names the injected fault, if any (``"fail_next"``, ``"drop"``);
    ``grant_type`` is set for ``POST /connect/token``; ``headers`` are lower-cased.
    """

    method: str
    path: str
    query: str
    status: int | None
    timestamp: float
    headers: Mapping[str, str] = attrs.field(repr=False, factory=dict)
    grant_type: str | None = None
    fault: str | None = None


@attrs.frozen
class WebhookRecord:
    """A webhook the emulator would have POSTed (it never sends any)."""

    uri: str
    payload: Mapping[str, Any]
