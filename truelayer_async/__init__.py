"""truelayer_async: an asyncio-native client for TrueLayer's auth server and Data API.

Start with :class:`Session`::

    async with truelayer_async.Session(client_id, client_secret, redirect_uri=...) as tl:
        link = tl.auth.auth_link(scopes=truelayer_async.DATA_SCOPES, pkce=True)
"""

from __future__ import annotations

from ._auth_link import AuthLink
from ._secret import Secret
from .config import Environment, RetryPolicy, Timeouts
from .errors import *  # noqa: F403 - the error tree is part of the public API
from .errors import __all__ as _errors_all
from .session import Session
from .stores import LockingTokenStore, MemoryTokenStore, TokenStore
from .tokens import DATA_SCOPES, PAYMENTS_SCOPES, Token, TokenKey, TokenRecord, TokenType

__version__ = "0.1.0"

__all__ = [
    "DATA_SCOPES",
    "PAYMENTS_SCOPES",
    "AuthLink",
    "Environment",
    "LockingTokenStore",
    "MemoryTokenStore",
    "RetryPolicy",
    "Secret",
    "Session",
    "Timeouts",
    "Token",
    "TokenKey",
    "TokenRecord",
    "TokenStore",
    "TokenType",
    "__version__",
    *_errors_all,
]
