"""truelayer_async: an asyncio-native client for TrueLayer's open-banking APIs.

Start with :class:`Session`::

    async with truelayer_async.Session(client_id, client_secret, redirect_uri=...) as tl:
        link = tl.auth.auth_link(scopes=truelayer_async.DATA_SCOPES, pkce=True)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ._auth_link import AuthLink
from ._converter import unstructure
from ._raw import RawResponse
from ._secret import Secret
from .config import Environment, RetryPolicy, Timeouts
from .errors import *  # noqa: F403 - the error tree is part of the public API
from .errors import __all__ as _errors_all
from .pagination import AsyncPaginator, Page
from .services._fan_out import AccountData, CardData, FetchAllResult, Progress, UserResults
from .services._pending import PendingResult
from .services.auth import AuthService, RawAuthService
from .services.data import AsyncDataService, DataService, RawDataService
from .services.hosted_page import HostedPageService
from .services.mandates import MandatesService, RawMandatesService
from .services.merchant_accounts import MerchantAccountsService, RawMerchantAccountsService
from .services.payment_links import PaymentLinksService, RawPaymentLinksService
from .services.payment_providers import PaymentsProvidersService, RawPaymentsProvidersService
from .services.payments import PaymentsService, RawPaymentsService
from .services.payouts import PayoutsService, RawPayoutsService
from .services.verification import RawVerificationService, VerificationService
from .session import Session
from .stores import LockingTokenStore, MemoryTokenStore, TokenStore
from .tokens import (
    DATA_SCOPES,
    PAYMENTS_SCOPES,
    Token,
    TokenKey,
    TokenRecord,
    TokenType,
    TokenTypeLike,
)

if TYPE_CHECKING:
    from .stores import FernetCodec, RedisTokenStore, SqliteTokenStore

try:
    __version__ = version("truelayer-async")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_LAZY_STORES = ("SqliteTokenStore", "RedisTokenStore", "FernetCodec")


def __getattr__(name: str) -> object:
    # The persistent stores load on first use, so importing the SDK stays lean.
    if name in _LAZY_STORES:
        from . import stores

        return getattr(stores, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DATA_SCOPES",
    "FernetCodec",
    "RedisTokenStore",
    "SqliteTokenStore",
    "PAYMENTS_SCOPES",
    "AccountData",
    "AsyncDataService",
    "AsyncPaginator",
    "AuthLink",
    "AuthService",
    "CardData",
    "DataService",
    "Environment",
    "FetchAllResult",
    "HostedPageService",
    "LockingTokenStore",
    "MandatesService",
    "MemoryTokenStore",
    "MerchantAccountsService",
    "Page",
    "PaymentsService",
    "PaymentsProvidersService",
    "PaymentLinksService",
    "PayoutsService",
    "PendingResult",
    "Progress",
    "RawAuthService",
    "RawPaymentsService",
    "RawPaymentsProvidersService",
    "RawPaymentLinksService",
    "RawDataService",
    "RawMandatesService",
    "RawMerchantAccountsService",
    "RawPayoutsService",
    "RawResponse",
    "RawVerificationService",
    "RetryPolicy",
    "Secret",
    "Session",
    "Timeouts",
    "Token",
    "TokenKey",
    "TokenRecord",
    "TokenStore",
    "TokenType",
    "TokenTypeLike",
    "UserResults",
    "VerificationService",
    "__version__",
    "unstructure",
    *_errors_all,
]
