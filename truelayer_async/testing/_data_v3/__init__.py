"""Data API v3 in the emulator (truelayer-api-v3.md §6, §8 item 17): connections with a
hosted journey, ``Connection-Id`` and per-connection scopes, connected accounts with cursor
pagination, and asynchronous transaction requests over the v1 personas' bank data (plus
synthetic bulk transactions for paging tests).

Modules: ``_ledger`` (accounts and transactions, v3 shapes), ``_store`` (connections,
requests, cursors), ``_routes`` (the API) and ``_pages`` (the hosted journey).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from .._payments import PaymentsApi
from . import _pages, _routes
from ._store import Timing, V3Connection, V3Store

__all__ = ["Timing", "V3Connection", "V3Store", "routes"]


def routes(api: PaymentsApi, store: V3Store) -> list[BaseRoute]:
    """The API routes (``/v3/data-connections``, ``/v3/connected-accounts…``) and the
    journey page (``/data-v3/connect/{id}``)."""
    return [*_routes.routes(api, store), *_pages.routes(api.state, store)]
