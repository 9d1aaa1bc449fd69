"""Payments API v3 in the emulator (truelayer-api-v3.md §4): signed, idempotent payments
with the authorization flow, refunds, providers, payment links, the hosted payment page
and the mock bank.

Modules: ``_problems`` (responses), ``_guard`` (tokens, signatures, idempotency),
``_endpoint`` (the route wrapper), ``_validate`` (request bodies), ``_records`` and
``_store`` (state and the clock-driven state machine), ``_flow`` (the authorization-flow
engine), ``_render`` (payment resources), ``_providers`` (the mock banks), ``_routes``
(the API) and ``_pages`` (HTML). Merchant accounts: ``_ledger`` and ``_account_routes``;
payouts: ``_payouts``, ``_payout_routes`` and ``_payout_pages`` (the payouts hosted page);
mandates: ``_mandates``, ``_periods``, ``_mandate_routes`` and ``_mandate_pages``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import (
    _account_routes,
    _mandate_pages,
    _mandate_routes,
    _pages,
    _payout_pages,
    _payout_routes,
    _routes,
)
from ._api import PaymentsApi
from ._guard import SigningKeys
from ._store import OUTCOMES, USERNAMES, Outcome, Timing

__all__ = ["OUTCOMES", "USERNAMES", "Outcome", "PaymentsApi", "SigningKeys", "Timing", "routes"]


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """The API routes (``/v3/…``) and the pages (``/hpp/…``, ``/mock-bank/…``, ``/links/…``)."""
    return [
        *_routes.routes(api),
        *_payout_routes.routes(api),
        *_account_routes.routes(api),
        *_mandate_routes.routes(api),
        *_pages.routes(api),
        *_payout_pages.routes(api),
        *_mandate_pages.routes(api),
    ]
