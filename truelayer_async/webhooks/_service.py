"""``tl.webhooks``: verify and parse webhooks with key sets fetched through the Session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._core import Core
from .._error_mapping import Api
from ..config import Environment
from ..errors import ConfigurationError
from ._keys import KeySetCache
from ._verify import (
    DEFAULT_MAX_CLOCK_SKEW,
    DEFAULT_TOLERANCE,
    check_body,
    finish,
    header_lookup,
    read_signature,
)
from .events import Event

if TYPE_CHECKING:
    from ..session import Session
    from .asgi import WebhookEndpoint
    from .dedup import Deduplicator

__all__ = ["EMULATOR_KEY_SET_PATH", "WebhookService", "default_key_set_urls"]

#: Where the emulator (``truelayer_async.testing``) serves its webhook key set; its
#: environment (``FakeTrueLayer.environment``, ``testing.emulator_environment``) carries
#: the full URL as ``webhook_jwks_url``.
EMULATOR_KEY_SET_PATH = "/.well-known/jwks"
MAX_KEY_SET_BYTES = 64 * 1024


def default_key_set_urls(environment: Environment) -> tuple[str, ...]:
    """The ``jku`` allow-list for an environment: its ``webhook_jwks_url``, if it has one.

    Sandbox and production allow their own TrueLayer key set only (never each other's);
    the emulator's environment (``FakeTrueLayer.environment``, or
    ``truelayer_async.testing.emulator_environment(url)`` for a served one) carries the
    emulator's key set; a custom environment without ``webhook_jwks_url`` allows nothing
    until ``key_set_urls=`` is given. The environment's name plays no part.
    """
    if environment.webhook_jwks_url is not None:
        return (environment.webhook_jwks_url,)
    return ()


async def fetch_key_set(core: Core, url: str) -> Any:
    """GET a key set through the Session's requester (the one place that does)."""
    operation = "truelayer.webhooks.key_set"
    work = core.requester().request(
        "GET", url, api=Api.AUTH, max_bytes=MAX_KEY_SET_BYTES, operation=operation
    )
    response = await core.observed(work, operation, "GET", Api.AUTH, None)
    return response.json()


class WebhookService:
    """Webhook verification for one Session. Reached as ``tl.webhooks``.

    Build your own to change the defaults: ``WebhookService(tl, path="/hooks/tl")``.

    Args:
        session: the Session whose environment picks the allow-list and whose HTTP
            client fetches the key set.
        path: your webhook URI's path, used when ``verify`` is not given ``path=``.
        key_set_urls: the ``jku`` allow-list (default: :func:`default_key_set_urls`).
        tolerance: how old (seconds) a webhook's timestamp may be (default 300).
        max_clock_skew: how far in the future it may be (default 60).
        ttl, refetch_floor, fetch_timeout: see :class:`KeySetCache`.
    """

    def __init__(
        self,
        session: Session | Core,
        *,
        path: str | None = None,
        key_set_urls: Iterable[str] | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        max_clock_skew: float = DEFAULT_MAX_CLOCK_SKEW,
        ttl: float = 1800.0,
        refetch_floor: float = 60.0,
        fetch_timeout: float = 5.0,
        fetch: Callable[[str], Awaitable[Any]] | None = None,
    ) -> None:
        # A Session (what users pass) or its core (what the Session itself passes).
        core: Core = session if isinstance(session, Core) else session._core
        self._core = core
        self.path = path
        self._key_set_urls = None if key_set_urls is None else tuple(key_set_urls)
        self.tolerance = tolerance
        self.max_clock_skew = max_clock_skew
        self.key_sets = KeySetCache(
            fetch or self._fetch,
            ttl=ttl,
            refetch_floor=refetch_floor,
            fetch_timeout=fetch_timeout,
            clock=core.clock,
        )

    @property
    def key_set_urls(self) -> tuple[str, ...]:
        """The ``jku`` values accepted (exact match)."""
        if self._key_set_urls is not None:
            return self._key_set_urls
        return default_key_set_urls(self._core.environment)

    async def _fetch(self, url: str) -> Any:
        return await fetch_key_set(self._core, url)

    async def verify(
        self,
        headers: Mapping[str, str] | Iterable[tuple[Any, Any]],
        body: bytes,
        *,
        path: str | None = None,
    ) -> Event:
        """Verify a webhook and return its typed event.

        Checks, in order, failing closed: ``body`` is bytes; ``Tl-Signature`` is an ES512
        JWS with detached payload; its ``jku`` is on the allow-list (nothing is fetched
        otherwise); the key set (cached, single flight) holds its ``kid``; the signature
        verifies over ``POST path``, the signed headers (which must include
        ``X-TL-Webhook-Timestamp``) and the exact body; the timestamp is within the
        tolerance. Only then is the body parsed.

        Args:
            headers: the request headers as received (a mapping, or ASGI byte pairs).
            body: the raw request body bytes (a ``str`` or dict raises ``TypeError``).
            path: your webhook URI's path as TrueLayer called it (default: ``self.path``).

        Raises:
            TypeError: ``body`` is not bytes.
            ConfigurationError: no ``path`` is known.
            WebhookVerificationError: a subclass naming the failed check.
        """
        observer = self._core.observer
        if observer is None:
            return await self._verify(headers, body, path)
        return await observer.webhook(self._verify(headers, body, path))

    async def _verify(
        self, headers: Mapping[str, str] | Iterable[tuple[Any, Any]], body: bytes, path: str | None
    ) -> Event:
        raw = check_body(body)
        path = path or self.path
        if not path:
            raise ConfigurationError(
                "pass path= (your webhook URI's path, e.g. '/webhooks/truelayer'): it is "
                "part of what TrueLayer signs"
            )
        lookup = header_lookup(headers)
        header = read_signature(lookup, self.key_set_urls)
        assert header.jku is not None  # read_signature checked it against the allow-list
        key = await self.key_sets.key(header.jku, header.kid)
        now = self._core.clock()
        event = finish(key, lookup, path, raw, now, self.tolerance, self.max_clock_skew)
        self._core.wakeups.wake(event)  # a wait_for on this resource polls now
        return event

    async def parse(
        self,
        headers: Mapping[str, str] | Iterable[tuple[Any, Any]],
        body: bytes,
        *,
        path: str | None = None,
    ) -> Event:
        """The same as :meth:`verify`: a webhook is never parsed without being verified."""
        return await self.verify(headers, body, path=path)

    def asgi_app(
        self,
        handler: Callable[[Event], Awaitable[object]],
        *,
        path: str | None = None,
        dedup: Deduplicator | None = None,
    ) -> WebhookEndpoint:
        """An ASGI app to mount in FastAPI/Starlette that verifies, parses and calls
        ``handler`` (see :class:`~truelayer_async.webhooks.WebhookEndpoint`); with
        ``dedup``, at most once per event id."""
        from .asgi import WebhookEndpoint

        return WebhookEndpoint(self, handler, path=path, dedup=dedup)
