"""Tokens, token types, scopes, and the keys and records that token stores hold."""

from __future__ import annotations

import enum
import time
from datetime import datetime, timezone
from typing import Any, Literal

import attrs

from ._secret import Secret
from .errors import StoreCorruptedError

__all__ = [
    "DATA_SCOPES",
    "DEFAULT_LEEWAY",
    "PAYMENTS_SCOPES",
    "Token",
    "TokenKey",
    "TokenRecord",
    "TokenType",
    "TokenTypeLike",
]

#: Every Data API scope: what ``tl.data`` can read, plus ``offline_access`` (a refresh
#: token). The auth dialog only lists providers that offer every scope asked for, so ask
#: for fewer where a card-only provider must be offered.
DATA_SCOPES: tuple[str, ...] = (
    "accounts",
    "balance",
    "transactions",
    "cards",
    "info",
    "standing_orders",
    "direct_debits",
    "offline_access",
)
PAYMENTS_SCOPES: tuple[str, ...] = ("payments",)
DEFAULT_LEEWAY = 60.0


class TokenType(str, enum.Enum):
    """Which API a token may be used for. A DATA token never authorises a payment."""

    DATA = "data"
    PAYMENTS = "payments"


#: Where a ``TokenType`` is expected, its value (``"data"``, ``"payments"``) works too.
TokenTypeLike = TokenType | Literal["data", "payments"]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return value.astimezone(timezone.utc)


@attrs.frozen(kw_only=True)
class Token:
    """An access token (and maybe a refresh token) for one user and one token type.

    ``access_token`` and ``refresh_token`` are :class:`~truelayer_async.Secret` values:
    their repr is redacted; call ``get_secret_value()`` to use them.
    """

    access_token: Secret
    token_type: TokenType
    expires_at: datetime = attrs.field(converter=_utc)
    refresh_token: Secret | None = None
    scopes: tuple[str, ...] = ()
    expires_in: int = 3600

    def leeway(self, leeway: float = DEFAULT_LEEWAY) -> float:
        """The early-refresh margin: ``leeway``, or half the lifetime for short tokens."""
        return min(leeway, self.expires_in / 2)

    def is_expired(
        self, now: float | datetime | None = None, *, leeway: float = DEFAULT_LEEWAY
    ) -> bool:
        """Whether the token is expired, or will be within the leeway.

        ``now`` is unix seconds or an aware datetime (default: the system clock).
        """
        if now is None:
            now_ts = time.time()
        elif isinstance(now, datetime):
            now_ts = _utc(now).timestamp()
        else:
            now_ts = now
        return now_ts >= self.expires_at.timestamp() - self.leeway(leeway)

    def has_scopes(self, *scopes: str) -> bool:
        """Whether every one of ``scopes`` was granted."""
        return set(scopes) <= set(self.scopes)


@attrs.frozen
class TokenKey:
    """Where a token lives in a store: one per (environment, client, token type, user).

    Client-credentials tokens have no user and are told apart by their sorted scopes.
    ``str(key)`` is a stable string that stores may use as their primary key.
    """

    namespace: str
    token_type: TokenType
    user: str | None = None
    scopes: tuple[str, ...] = ()

    def __str__(self) -> str:
        user = "-" if self.user is None else f"u:{self.user}"
        scopes = "+".join(self.scopes) if self.scopes else "-"
        return f"{self.namespace}|{self.token_type.value}|{user}|{scopes}"


@attrs.frozen(kw_only=True)
class TokenRecord:
    """What a store holds for one key: the token, a version, and an invalid flag.

    ``version`` increases by one on every write; ``set`` is compare-and-set on it.
    ``invalid`` marks a credential the user must re-authorise (kept for audit, never
    deleted automatically). ``token.access_token`` may be empty when a refresh returned
    only a new refresh token; the next access then refreshes again.
    """

    token: Token
    version: int = 1
    invalid: bool = False
    invalid_reason: str | None = None
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict holding the raw secrets, for stores that serialise records."""
        token = self.token
        return {
            "access_token": token.access_token.get_secret_value(),
            "refresh_token": None
            if token.refresh_token is None
            else token.refresh_token.get_secret_value(),
            "token_type": token.token_type.value,
            "expires_at": token.expires_at.timestamp(),
            "expires_in": token.expires_in,
            "scopes": list(token.scopes),
            "version": self.version,
            "invalid": self.invalid,
            "invalid_reason": self.invalid_reason,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: Any) -> TokenRecord:
        """Rebuild a record from :meth:`to_dict` output; ``StoreCorruptedError`` if unusable."""
        try:
            refresh = data["refresh_token"]
            token = Token(
                access_token=Secret(data["access_token"]),
                refresh_token=None if refresh is None else Secret(refresh),
                token_type=TokenType(data["token_type"]),
                expires_at=datetime.fromtimestamp(float(data["expires_at"]), timezone.utc),
                expires_in=int(data["expires_in"]),
                scopes=tuple(str(s) for s in data["scopes"]),
            )
            return cls(
                token=token,
                version=int(data["version"]),
                invalid=bool(data["invalid"]),
                invalid_reason=data.get("invalid_reason"),
                updated_at=float(data.get("updated_at", 0.0)),
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            pass  # raise outside the except block: the cause may hold secrets
        del data  # and from a frame that no longer holds the raw record (SEC-03)
        raise StoreCorruptedError("stored token record is unreadable; it was left untouched")
