"""How a Session builds its own client: the HTTP backend (``http_backend=``) and the pool.

``"httpx"`` (the default) is httpx's own transport (httpcore); ``"aiohttp"`` is the SDK's
:class:`~truelayer_async.transports.AiohttpTransport` (the ``[aiohttp]`` extra), which
costs far less CPU per request when many are in flight. Either way the client is the
same ``httpx.AsyncClient`` with the same settings (see ``_http.create_client``).
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import TYPE_CHECKING, Literal, get_args

from .errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

    from .transports import AiohttpTransport

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "HttpBackend",
    "check_http_options",
    "proxy_in_environment",
    "transport_for",
]

HttpBackend = Literal["httpx", "aiohttp"]
_BACKENDS: tuple[str, ...] = get_args(HttpBackend)

#: The most connections a Session's own client opens at once (httpx keeps at most
#: ``_http.KEEPALIVE_CONNECTIONS`` of them idle). It opens them only as requests need
#: them; fetch_all's largest concurrency (64) fits.
DEFAULT_MAX_CONNECTIONS = 64


def check_http_options(
    backend: str, http_client: httpx.AsyncClient | None, max_connections: int | None
) -> int:
    """Validate ``Session(http_backend=, http_client=, max_connections=)``; the pool size."""
    if backend not in _BACKENDS:
        raise ConfigurationError(f"http_backend must be 'httpx' or 'aiohttp', got {backend!r}")
    if http_client is not None and (backend != "httpx" or max_connections is not None):
        raise ConfigurationError(
            "http_client is a client you configured yourself: give it, or http_backend / "
            "max_connections for the client the Session builds, not both"
        )
    if max_connections is not None and not _positive_int(max_connections):
        raise ConfigurationError(
            f"max_connections must be a positive int, got {max_connections!r}"
        )
    if backend == "aiohttp":
        _aiohttp_transport()  # a missing extra fails here, not at the first request
    return DEFAULT_MAX_CONNECTIONS if max_connections is None else max_connections


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def transport_for(backend: str, max_connections: int) -> httpx.AsyncBaseTransport | None:
    """The transport of a Session's own client (``None``: httpx's default)."""
    if backend == "httpx":
        return None
    if asyncio._get_running_loop() is None:  # trio (aiohttp runs on asyncio only)
        raise ConfigurationError('http_backend="aiohttp" runs on asyncio only')
    return _aiohttp_transport()(max_connections=max_connections)


def proxy_in_environment() -> bool:
    """Whether the environment names a proxy (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``), read as httpx reads it with ``trust_env`` on.

    httpx mounts those proxies only on a client that builds its own transport: on the
    default backend the Session then lets httpx build it, and sends through
    ``AsyncClient.send`` (which picks the mounted proxy transports).

    ``NO_PROXY`` is not read here: with any proxy variable set, every request goes
    through ``AsyncClient.send``, even to a host ``NO_PROXY`` covers. That is safe, not
    a bug: httpx's mounts send such a host straight to it, as the direct path would;
    only the direct path's lower CPU cost is given up."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def _aiohttp_transport() -> type[AiohttpTransport]:
    try:
        from .transports import AiohttpTransport
    except ImportError:
        raise ConfigurationError(
            'http_backend="aiohttp" needs aiohttp: pip install "truelayer-async[aiohttp]"'
        ) from None
    return AiohttpTransport
