"""What the emulator records for tests to inspect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["RequestRecord", "WebhookAttempt", "WebhookOutcome", "WebhookRecord"]

#: ``recorded``: delivery is off; ``pending``: attempts remain; then ``delivered``/``failed``.
WebhookOutcome = Literal["recorded", "pending", "delivered", "failed"]


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
class WebhookAttempt:
    """One POST of a webhook: when (emulator clock), and the receiver's status or the
    network error (``error``, e.g. ``"ConnectError"``) when no status came back."""

    number: int
    timestamp: float
    status: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the receiver answered 2xx (TrueLayer's definition of success)."""
        return self.status is not None and 200 <= self.status < 300


@attrs.define
class WebhookRecord:
    """A webhook the emulator produced, and (when delivery is on) each attempt to POST it
    to ``uri``, oldest first. ``outcome`` is one of ``WebhookOutcome``. ``signing`` is
    ``None`` for unsigned webhooks (Data API v1), else a signing mode (``"valid"``, or a
    deliberately bad one: see ``_webhook_keys.SIGNING_MODES``)."""

    uri: str
    payload: Mapping[str, Any]
    attempts: list[WebhookAttempt] = attrs.field(factory=list)
    outcome: WebhookOutcome = "recorded"
    signing: str | None = None
