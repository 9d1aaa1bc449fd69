"""TrueLayer webhooks: verify (``Tl-Signature`` with a ``jku`` allow-list and a cached key
set), parse into typed events, and receive them in any ASGI app.

::

    event = await tl.webhooks.verify(request.headers, await request.body(), path="/hooks")
    if isinstance(event, PaymentExecuted):
        ...

``verify_with_jwks`` does the same with a key set you hold, without any network.
"""

from __future__ import annotations

from ._keys import KeySetCache
from ._service import EMULATOR_KEY_SET_PATH, WebhookService, default_key_set_urls
from ._verify import (
    DEFAULT_MAX_CLOCK_SKEW,
    DEFAULT_TOLERANCE,
    PRODUCTION_KEY_SET_URL,
    SANDBOX_KEY_SET_URL,
    TIMESTAMP_HEADER,
    verify_with_jwks,
)
from .asgi import WebhookEndpoint, response_status
from .dedup import DEFAULT_DEDUP_TTL, DedupBackend, Deduplicator, MemoryDedupBackend
from .events import *  # noqa: F403 - the event classes are part of this package's API
from .events import __all__ as _events_all

__all__ = [
    "DEFAULT_DEDUP_TTL",
    "DEFAULT_MAX_CLOCK_SKEW",
    "DEFAULT_TOLERANCE",
    "EMULATOR_KEY_SET_PATH",
    "PRODUCTION_KEY_SET_URL",
    "SANDBOX_KEY_SET_URL",
    "TIMESTAMP_HEADER",
    "DedupBackend",
    "Deduplicator",
    "KeySetCache",
    "MemoryDedupBackend",
    "WebhookEndpoint",
    "WebhookService",
    "default_key_set_urls",
    "response_status",
    "verify_with_jwks",
    *_events_all,
]
