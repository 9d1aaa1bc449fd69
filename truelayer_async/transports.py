"""An httpx transport over aiohttp: the SDK's ``http_backend="aiohttp"`` (``[aiohttp]`` extra).

``Session(..., http_backend="aiohttp")`` builds an ``httpx.AsyncClient`` over
:class:`AiohttpTransport` and sends to the transport directly: as an ``httpx.Request``
when a per-attempt hook needs one, else as its parts (:meth:`AiohttpTransport.send_parts`);
the rest of the SDK (retries, size caps, gzip caps, hooks) is unchanged. aiohttp's
connection pool costs far less CPU per request than httpcore's, which matters for batch
work (many users, many requests in flight).

The transport owns the mapping from aiohttp's errors to httpx's, because the SDK's
retry rule reads them: ``ConnectError``, ``ConnectTimeout`` and ``PoolTimeout`` mean
"the request never left this machine" (a POST may be retried), anything else means "it
may have been sent" (a POST is not retried). Only aiohttp's connect-phase errors (DNS
failure, refused connection, TLS handshake, the connect or pool-wait timeout, all raised
before a byte of the request is written) map to the first group.

Other choices: redirects are never followed, bodies are never decompressed here (the SDK
inflates gzip itself, under its size cap), the body is streamed in chunks, cookies are
not kept, proxies and ``.netrc`` from the environment are not read, and aiohttp's own
silent re-send of idempotent requests on a dropped keep-alive connection is off (the
SDK's retry policy is the only one).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from ._received import ReceivedBody

__all__ = ["AiohttpTransport"]

#: The largest piece of a response body read at once.
CHUNK_SIZE = 64 * 1024

# aiohttp errors raised before any byte of the request was written: the connect phase.
_NEVER_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,  # refused, unreachable, DNS, TLS handshake
    aiohttp.ConnectionTimeoutError,  # connect timeout, or waiting for a pool slot
)

# The server broke HTTP: hung up before answering, cut a body short, or sent an
# unparsable status line or header (ClientResponseError).
_PROTOCOL_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientPayloadError,
    aiohttp.ClientResponseError,
)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` sending requests through one ``aiohttp.ClientSession``.

    Usually built for you by ``Session(..., http_backend="aiohttp")``. To use it with
    your own client::

        client = httpx.AsyncClient(transport=AiohttpTransport(), follow_redirects=False)

    The aiohttp session and its ``TCPConnector`` are created on the first request, in
    the running event loop, and closed by :meth:`aclose`; a transport belongs to the
    loop that first used it. asyncio only (not trio).

    Args:
        max_connections: the most connections open at once (aiohttp's ``limit``).
        keepalive_expiry: seconds an idle connection is kept for reuse.
        ssl_context: the TLS settings; by default httpx's (``httpx.create_ssl_context()``),
            so both backends trust the same certificates.
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # httpx's timeout extension -> aiohttp's ClientTimeout, built once per distinct
        # set of values (the SDK sends the same two or three for every request).
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self._max_connections})"

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the transport was closed")
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
            ssl=self._ssl_context or httpx.create_ssl_context(),
        )
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
        )
        # aiohttp re-sends a GET/PUT/DELETE once, unasked, when a reused connection drops
        # it; the SDK's retry policy must be the only one (aiohttp's test client does the
        # same). The attribute is private: if it is gone, nothing changes here.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session
        return session

    def _client_timeout(self, timeout: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        found = self._timeouts.get(key)
        if found is None:
            connect, read, pool = key
            found = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None,
                # aiohttp's `connect` covers the wait for a pool slot and the connection.
                connect=None if connect is None or pool is None else connect + pool,
                sock_connect=connect,
                # Restarted on every read; it also bounds a stalled upload (aiohttp has no
                # write timeout), which then counts as possibly sent.
                sock_read=read,
            )
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``. The response body is streamed, or handed over already read
        when it arrived with the head; aiohttp's errors become httpx's (see the module)."""
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        return await self.send_parts(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            body,
            request.extensions.get("timeout", {}),
            request=request,
        )

    async def send_parts(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: dict[str, float | None],
        *,
        request: httpx.Request | None = None,
    ) -> httpx.Response:
        """Send a request given as its parts, without an ``httpx.Request`` (which costs
        more to build than aiohttp takes to send it): what a Session on
        ``http_backend="aiohttp"`` does when no hook or telemetry needs the request.

        ``url`` is already percent-encoded (``str(httpx.URL)``); aiohttp adds ``Host``
        and ``Content-Length``. The response is :meth:`handle_async_request`'s, with
        ``request`` (if given) as its request.
        """
        session = self._session or self._open()
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=CIMultiDict(headers),
                data=body or None,
                allow_redirects=False,
                timeout=self._client_timeout(timeout),
            )
        except Exception as exc:  # not a cancellation: that is a BaseException
            raise _httpx_error(exc, request) from None
        content = response.content
        if content.is_eof():
            # The whole body came with the head (most API answers): the connection goes
            # back now and the bytes are handed over as a one-chunk stream (a stream, not
            # content=, which httpx would decode right here, and which costs 6x as much to
            # build). Its size is bounded by aiohttp's read buffer.
            stream: httpx.AsyncByteStream = ReceivedBody(content.read_nowait())
            response.release()
        else:
            stream = _ResponseBody(response, request)
        return httpx.Response(
            response.status, headers=response.raw_headers, stream=stream, request=request
        )

    async def aclose(self) -> None:
        """Close the aiohttp session and every connection it holds."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def connection_counts(self) -> tuple[int, int]:
        """``(open, in_use)``: connections the pool holds, and those serving a request."""
        connector = None if self._session is None else self._session.connector
        if connector is None:
            return (0, 0)
        # aiohttp has no public count: read its pool (idle ones per host, and acquired).
        idle: dict[Any, list[Any]] = getattr(connector, "_conns", {})
        in_use = len(getattr(connector, "_acquired", ()))
        return (in_use + sum(len(conns) for conns in idle.values()), in_use)


class _ResponseBody(httpx.AsyncByteStream):
    """An aiohttp response's body, read a chunk at a time; closing it frees the connection."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request | None) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            try:
                chunk = await content.read(CHUNK_SIZE)
            except Exception as exc:
                raise _httpx_error(exc, self._request, reading=True) from None
            if not chunk:
                return
            yield chunk

    async def aclose(self) -> None:
        """Give the connection back (to reuse if the body was read to its end)."""
        # Synchronous on purpose: a cancellation cannot interrupt it half way.
        response = self._response
        if response.content.is_eof():
            response.release()
        else:
            response.close()


def _httpx_error(
    exc: Exception, request: httpx.Request | None, *, reading: bool = False
) -> Exception:
    """The httpx exception for an aiohttp/asyncio one; "never sent" only when proven."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if not reading and isinstance(exc, _NEVER_SENT):
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return httpx.ConnectTimeout(message, request=request)
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):  # sock_read, or anything else
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectionResetError):
        return httpx.WriteError(message, request=request)
    if isinstance(exc, _PROTOCOL_ERRORS):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return httpx.ReadError(message, request=request)
    return exc  # not a network error (a bug): let it through as it is
