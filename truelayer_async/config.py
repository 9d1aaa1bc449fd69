"""Where TrueLayer lives and how patiently we talk to it: Environment, Timeouts, RetryPolicy."""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs

from .errors import ConfigurationError

__all__ = ["WEBHOOK_JWKS_URLS", "Environment", "RetryPolicy", "Timeouts"]


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(name: str, url: str, allow_insecure_http: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{name} must be an absolute http(s) URL, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(f"{name} must not carry a query, fragment or credentials")
    if parts.scheme == "http" and not (allow_insecure_http or _is_loopback(parts.hostname)):
        raise ConfigurationError(
            f"{name} uses plain http on a non-loopback host ({parts.hostname}); "
            "use https, or pass allow_insecure_http=True if you really mean it"
        )
    return url.rstrip("/")


@attrs.frozen
class Environment:
    """The base URLs of one TrueLayer environment.

    Use ``Environment.SANDBOX`` (the default) or ``Environment.PRODUCTION``, or
    ``Environment.custom(auth_url, api_url)`` to point the SDK somewhere else, such as the
    local emulator. Plain ``http`` is accepted only for loopback hosts unless
    ``allow_insecure_http=True``.
    """

    name: str
    auth_url: str
    api_url: str
    allow_insecure_http: bool = attrs.field(default=False, repr=False)
    #: The JWKS URL whose keys sign this environment's webhooks (the only ``jku`` a
    #: webhook signature may name); ``None`` for a custom environment not given one.
    webhook_jwks_url: str | None = attrs.field(default=None, repr=False, kw_only=True)
    #: The hosted payment page (payments and mandates): ``tl.hosted_page`` links start
    #: here. ``None`` for a custom environment not given one.
    hosted_page_url: str | None = attrs.field(default=None, repr=False, kw_only=True)
    #: The hosted page for verified (user-determined) payouts ("HP2").
    payouts_page_url: str | None = attrs.field(default=None, repr=False, kw_only=True)

    SANDBOX: ClassVar[Environment]
    PRODUCTION: ClassVar[Environment]

    def __attrs_post_init__(self) -> None:
        object.__setattr__(
            self, "auth_url", _check_base_url("auth_url", self.auth_url, self.allow_insecure_http)
        )
        object.__setattr__(
            self, "api_url", _check_base_url("api_url", self.api_url, self.allow_insecure_http)
        )
        for name in ("webhook_jwks_url", "hosted_page_url", "payouts_page_url"):
            url = getattr(self, name)
            if url is not None:
                object.__setattr__(
                    self, name, _check_base_url(name, url, self.allow_insecure_http)
                )

    @classmethod
    def custom(
        cls,
        auth_url: str,
        api_url: str | None = None,
        *,
        name: str = "custom",
        allow_insecure_http: bool = False,
        webhook_jwks_url: str | None = None,
        hosted_page_url: str | None = None,
        payouts_page_url: str | None = None,
    ) -> Environment:
        """An environment at any base URLs; ``api_url`` defaults to ``auth_url``."""
        return cls(
            name,
            auth_url,
            api_url or auth_url,
            allow_insecure_http,
            webhook_jwks_url=webhook_jwks_url,
            hosted_page_url=hosted_page_url,
            payouts_page_url=payouts_page_url,
        )

    @property
    def data_url(self) -> str:
        """Base URL of the Data API v1."""
        return f"{self.api_url}/data/v1"

    @property
    def payments_url(self) -> str:
        """Base URL of the Payments API v3 (paths such as ``/payments`` follow it)."""
        return f"{self.api_url}/v3"

    @property
    def issuer(self) -> str:
        """The auth server's issuer URL."""
        return self.auth_url


Environment.SANDBOX = Environment(
    "sandbox",
    "https://auth.truelayer-sandbox.com",
    "https://api.truelayer-sandbox.com",
    webhook_jwks_url="https://webhooks.truelayer-sandbox.com/.well-known/jwks",
    hosted_page_url="https://payment.truelayer-sandbox.com",
    payouts_page_url="https://app.truelayer-sandbox.com",
)
Environment.PRODUCTION = Environment(
    "production",
    "https://auth.truelayer.com",
    "https://api.truelayer.com",
    webhook_jwks_url="https://webhooks.truelayer.com/.well-known/jwks",
    hosted_page_url="https://payment.truelayer.com",
    payouts_page_url="https://app.truelayer.com",
)

#: Every ``jku`` TrueLayer signs webhooks with (sandbox and production): a webhook
#: signature naming any other key-set URL must be refused.
WEBHOOK_JWKS_URLS: tuple[str, ...] = (
    "https://webhooks.truelayer-sandbox.com/.well-known/jwks",
    "https://webhooks.truelayer.com/.well-known/jwks",
)


def _positive_or_none(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not value > 0:
        raise ConfigurationError(f"{attribute.name} must be positive or None, got {value!r}")


@attrs.frozen
class Timeouts:
    """Timeouts in seconds.

    ``connect`` and ``read`` apply to every attempt (TrueLayer's ingress gives up at 29 s,
    so ``read`` is capped at 30 s). ``total`` is an optional deadline for one logical call,
    covering all of its retries and back-off sleeps. ``token`` is the read timeout for
    the token endpoint.
    """

    connect: float = attrs.field(default=5.0, validator=_positive_or_none)
    read: float = attrs.field(default=30.0, validator=_positive_or_none)
    write: float = attrs.field(default=10.0, validator=_positive_or_none)
    pool: float = attrs.field(default=10.0, validator=_positive_or_none)
    total: float | None = attrs.field(default=None, validator=_positive_or_none)
    token: float = attrs.field(default=15.0, validator=_positive_or_none)

    def __attrs_post_init__(self) -> None:
        if self.read > 30.0:
            raise ConfigurationError(
                "read timeout must be at most 30 s (TrueLayer gives up at 29 s)"
            )

    @classmethod
    def coerce(cls, value: float | Timeouts | None) -> Timeouts:
        """Accept a ``Timeouts``, a number (the per-call total deadline) or ``None``."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        return cls(total=float(value))


@attrs.frozen
class RetryPolicy:
    """How often and how patiently failed requests are retried.

    Back-off is exponential from ``initial_delay`` (0.5 s), doubling to ``max_delay``
    (8 s), times a jitter factor in [0.75, 1]. A ``Retry-After`` of at most
    ``max_retry_after`` (60 s) is honoured instead; a longer one stops retrying.
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry_index: int, jitter: float) -> float:
        """Delay before retry number ``retry_index`` (0-based); ``jitter`` is in [0, 1)."""
        base = min(self.initial_delay * (2.0**retry_index), self.max_delay)
        return float(base * (1 - 0.25 * jitter))
