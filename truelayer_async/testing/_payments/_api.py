"""The Payments v3 emulator object: state, keys and settings shared by routes and pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from .._state import FakeState
from ._guard import IdempotencyStore, SigningKeys
from ._mandates import MandateStore
from ._payouts import PayoutStore
from ._records import Payment
from ._store import PaymentsStore, Timing

__all__ = ["RESOURCE_TOKEN_SCOPE", "PaymentsApi"]

RESOURCE_TOKEN_SCOPE = "payment"


class PaymentsApi:
    """One emulator state's Payments: store, idempotency keys, and (shared across resets)
    the signing keys, timing and webhook URIs of ``FakeTrueLayer``."""

    def __init__(
        self,
        state: FakeState,
        keys: SigningKeys,
        timing: Timing,
        webhook_uris: dict[str, str],
        send: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.state = state
        self.keys = keys
        self.timing = timing
        self.webhook_uris = webhook_uris
        self.store = PaymentsStore(state.clock, timing, send)
        self.payouts = PayoutStore(
            state.clock, self.store.ledger, lambda: timing.payout_delay, send
        )
        self.store.tickers.append(self.payouts.tick)
        self.mandates = MandateStore(state.clock, send)
        self.idempotency = IdempotencyStore()
        #: Real seconds each idempotent request holds its key before being handled (tests
        #: use it to send a second request while the first is in progress).
        self.processing_delay = 0.0

    def resource_token(self, payment: Payment) -> str:
        """A token for ``payment`` only (``resource_token`` in the create response)."""
        return self.token_for("payment_id", payment.id, payment.client_id)

    def token_for(self, claim: str, resource_id: str, client_id: str) -> str:
        """A resource token bound to one resource: ``claim`` (``payment_id``,
        ``payout_id``, ``mandate_id``) = ``resource_id``."""
        now = int(self.state.clock())
        token, _ = self.state.signer.mint(
            {
                "iat": now,
                "nbf": now,
                "exp": now + self.timing.resource_token_ttl,
                "client_id": client_id,
                claim: resource_id,
                "scope": [RESOURCE_TOKEN_SCOPE],
            }
        )
        return token

    async def hold(self) -> None:
        """Wait ``processing_delay`` (real time) if set."""
        if self.processing_delay > 0:
            await anyio.sleep(self.processing_delay)
