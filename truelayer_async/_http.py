"""The only module that calls httpx: build requests, send them with retries, read bodies.

Rules it keeps:

* Retries follow the request's :class:`RetryMode`; back-off is exponential with jitter
  and honours ``Retry-After`` up to the policy's limit.
* Redirects are never followed (a 307/308 would resend a body holding secrets).
* The Session's own client is sent to through its transport, skipping
  ``AsyncClient.send`` (its auth, redirects, cookies and event hooks are unused there);
  a user's client always goes through ``send`` (design.md, "The request path's
  overhead").
* Every response is read under a size cap and closed, including discarded ones; gzip
  and deflate bodies are inflated a slice at a time, so the cap bounds the decompressed
  size (``_inflate.py``). The token endpoint asks for ``Accept-Encoding: identity``.
* Header values are checked before a request is built, and a request that cannot be
  built raises a typed error from a frame that holds no raw secret.
* Calls waiting to (re)try when the Session closes end with ``SessionClosedError``.
* Secrets arrive as :class:`Secret` and are unwrapped only while the request is built, so
  no SDK frame on an error path holds a raw token, and no exception chains to an httpx
  exception (whose ``request`` carries headers and body).
* The ``truelayer_async`` logger records method, path, status, attempt, correlation id
  and duration: never query strings, headers or bodies.
"""

from __future__ import annotations

import http.cookiejar
import logging
import random
import time
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio
import attrs
import httpx

from . import errors as e
from ._error_mapping import Api, error_code_of, error_for
from ._flight import Flight
from ._http_backend import DEFAULT_MAX_CONNECTIONS
from ._inflate import InflateError, inflater_for
from ._json import loads
from ._observe import operation_of
from ._pool_repair import reclaim_orphans, release_interrupted
from ._received import ReceivedBody
from ._request import (
    AttemptHook,
    BuildRequest,
    Call,
    DirectRequests,
    FormValue,
    LeanRequest,
    build_attempt,
    build_lean,
    check_header_values,
    is_header_value,
    prepare_body,
)
from ._retry import RetryMode, keyed_status_retryable, parse_retry_after, status_is_retryable
from ._secret import Secret
from .config import RetryPolicy, Timeouts
from .correlation import CLIENT_CORRELATION_HEADER
from .correlation import current as client_correlation_id

if TYPE_CHECKING:
    from ._observe import Observer

__all__ = ["FormValue", "RateGate", "Requester", "Response", "create_client"]

log = logging.getLogger("truelayer_async")

KEEPALIVE_CONNECTIONS = 20
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
TOKEN_MAX_BYTES = 1024 * 1024
USER_AGENT = "truelayer-async"

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
#: A response's X-Tl-Correlation-Id and Tl-Trace-Id headers (None: absent).
HeaderIds = tuple[str | None, str | None]


def create_client(
    timeouts: Timeouts,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The AsyncClient a Session owns: no redirects, no cookies, pooled, with the SDK's
    timeouts, over ``transport``.

    Without one, httpx builds its own (as :func:`default_transport` does) and mounts the
    proxies the environment names; given one, httpx reads no proxy from the environment.
    """
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=_httpx_timeout(timeouts, timeouts.read),
        limits=_limits(max_connections),  # for the transports httpx builds itself
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        cookies=NoCookies(),
        transport=transport,
    )


def default_transport(max_connections: int = DEFAULT_MAX_CONNECTIONS) -> httpx.AsyncHTTPTransport:
    """The transport ``httpx.AsyncClient`` would build itself (httpcore), with the SDK's pool.

    Built here rather than by httpx so that the Requester can send to it directly.
    At most ``KEEPALIVE_CONNECTIONS`` idle connections are kept (httpx's own default):
    httpcore's pool walks every pooled connection for each idle one whenever a request
    starts or ends, so a pool that keeps all 64 alive costs a batch ~1.5x the CPU per
    request (design.md, "Pool sizing")."""
    return httpx.AsyncHTTPTransport(limits=_limits(max_connections))


def _limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(max_connections, KEEPALIVE_CONNECTIONS),
    )


class NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: an API client has no session cookies to carry."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        """Drop ``cookie``."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        """Keep none of ``response``'s cookies (and spare parsing its headers)."""


def _httpx_timeout(timeouts: Timeouts, read: float) -> httpx.Timeout:
    return httpx.Timeout(
        connect=timeouts.connect, read=read, write=timeouts.write, pool=timeouts.pool
    )


async def aclose_client(client: httpx.AsyncClient) -> None:
    """Close an AsyncClient the SDK created."""
    await client.aclose()


class RateGate:
    """A back-off shared by many requests: one 429 holds back every request behind the gate."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Sleep = anyio.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` from now."""
        self._until = max(self._until, self._clock() + seconds)

    async def wait(self) -> float:
        """Wait until the gate is open (a hold added meanwhile is seen by the next wait).

        Returns the seconds waited (0 when the gate was open)."""
        delay = self._until - self._clock()
        if delay > 0:
            await self._sleep(delay)
            return delay
        return 0.0


@attrs.define
class Response:
    """A fully read, already closed response; read-only by convention.

    Not frozen: one is built per request and a frozen attrs class costs twice as much to
    build. It never leaves the SDK (users get a ``RawResponse`` or a model).
    """

    status_code: int
    headers: httpx.Headers = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)
    correlation_id: str | None
    retries_taken: int
    #: The response as httpx returned it; when ``streamed``, its body was read here.
    source: httpx.Response = attrs.field(repr=False)
    streamed: bool = False
    #: The request as sent, when it was sent as parts: ``source`` has no request yet.
    lean: LeanRequest | None = attrs.field(default=None, repr=False)
    #: The Content-Type header, read with the others the SDK needs in one pass when the
    #: response arrived (None: read from ``headers`` when asked).
    content_type: str | None = attrs.field(default=None, repr=False)
    #: X-Tl-Correlation-Id and Tl-Trace-Id as they came (``correlation_id`` is the first,
    #: else the second), read in the same pass: what the observer reports.
    header_ids: HeaderIds = attrs.field(default=(None, None), repr=False)

    def media_type(self) -> str:
        """The Content-Type header ("" for none)."""
        found = self.content_type
        return found if found is not None else self.headers.get("content-type", "")

    @property
    def http_response(self) -> httpx.Response:
        """The read, closed ``httpx.Response`` (``with_raw_response``).

        A streamed response's read twin is built on first use only: most responses are
        decoded and dropped, and building one costs as much as a small decode. So is the
        ``httpx.Request`` of one sent as parts."""
        if self.lean is not None:
            self.source.request, self.lean = self.lean.to_httpx(), None
        if self.streamed:
            self.source, self.streamed = _read_copy(self.source, self.content), False
        return self.source

    def json(self, *, error_cls: type[e.MalformedResponseError] = e.MalformedResponseError) -> Any:
        """Decode the body (Decimals for fractions); typed error on anything malformed."""
        content_type = self.media_type()
        if self.content and "json" not in content_type:
            raise error_cls(
                f"expected JSON, got {content_type or 'no content type'}",
                status_code=self.status_code,
                content_type=content_type or None,
                correlation_id=self.correlation_id,
            )
        return loads(
            self.content,
            status_code=self.status_code,
            content_type=content_type or None,
            correlation_id=self.correlation_id,
            error_cls=error_cls,
        )


class SendParts(Protocol):
    """``AiohttpTransport.send_parts``: a request sent as parts (see ``LeanRequest``)."""

    def __call__(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: dict[str, float | None],
    ) -> Awaitable[httpx.Response]: ...


_URL_CACHE_SIZE = 512  # parsed URLs a Requester keeps (a few hundred bytes each)
_CLOSED = "closed"  # what _send_once returns when the client was closed under it
_NO_IDS: HeaderIds = (None, None)  # a failed attempt's: no response headers


@attrs.define
class _Failure:
    """A network failure remembered outside the ``except`` block (so nothing chains)."""

    kind: str
    sent: bool
    timeout: bool


class Requester:
    """Sends requests for one Session through its AsyncClient."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts,
        retry_policy: RetryPolicy,
        clock: Clock = time.time,
        sleep: Sleep = anyio.sleep,
        jitter: Callable[[], float] = random.random,
        observer: Observer | None = None,
    ) -> None:
        self.client = client
        # ``transport``: the one under the SDK's own client, sent to directly (skipping
        # AsyncClient.send: auth, redirects, cookies, event hooks, none of which the SDK's
        # client uses); None sends through ``client`` with everything it does.
        self._transport = transport
        # Built only for the SDK's own client: a user's client builds its own requests.
        self._direct = None if transport is None else DirectRequests(client.headers)
        self._build: BuildRequest = client.build_request if self._direct is None else self._direct
        # The transport's send_parts (the SDK's AiohttpTransport), for LeanRequests.
        self._send_parts: SendParts | None = getattr(transport, "send_parts", None)
        self.observer = observer
        self._closing: set[Flight[None]] = set()  # connections closing in the background
        self.timeouts = timeouts
        self.retry_policy = retry_policy
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        # The request extension httpx derives from a Timeout, derived once: handing it to
        # build_request spares httpx a Timeout copy and as_dict() on every request.
        self._timeout = _httpx_timeout(timeouts, timeouts.read).as_dict()
        self._token_timeout = _httpx_timeout(
            timeouts, min(timeouts.token, timeouts.read)
        ).as_dict()
        self._closed = False
        # Parsed URLs by their string: most calls repeat a URL (an endpoint without an
        # id, or the same account's), and httpx parses a URL string on every request.
        self._urls: dict[str, httpx.URL] = {}

    def close(self) -> None:
        """Mark the Session closed: calls in flight or waiting to retry end with
        ``SessionClosedError`` instead of reaching a closed client."""
        self._closed = True

    def closed(self) -> bool:
        """Whether :meth:`close` was called (a method: its answer changes across awaits)."""
        return self._closed

    async def request(
        self,
        method: str,
        url: str,
        *,
        api: Api,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, FormValue] | None = None,
        json_body: Mapping[str, Any] | None = None,
        bearer: Secret | None = None,
        retry_mode: RetryMode | None = None,
        max_retries: int | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        token_endpoint: bool = False,
        rate_gate: RateGate | None = None,
        idempotency_key: str | None = None,
        on_attempt: Sequence[AttemptHook] = (),
        operation: str = "",
    ) -> Response:
        """Send one logical request; return its 2xx response or raise a typed error.

        ``retry_mode`` defaults to IDEMPOTENT for GET/DELETE and UNSENT_ONLY otherwise.
        With ``RetryMode.KEYED`` the request carries ``Idempotency-Key``
        (``idempotency_key``, or one generated for this call) on every attempt.
        ``rate_gate``, if given, is waited on before each attempt and held on a 429.
        ``on_attempt`` hooks see each attempt (method, wire path, headers, the body
        bytes, encoded once per call) and may add headers. ``operation`` names the call
        in logs, spans and event hooks. The context's client correlation id, if any, is
        sent as ``X-Client-Correlation-Id`` and set on any error raised.
        """
        mode = retry_mode or (
            RetryMode.IDEMPOTENT if method in ("GET", "DELETE", "HEAD") else RetryMode.UNSENT_ONLY
        )
        if mode is RetryMode.KEYED:
            headers = _with_idempotency_key(headers, idempotency_key)
        if headers:
            check_header_values(headers)
        if bearer is not None and not is_header_value(bearer.get_secret_value()):
            raise e.MalformedTokenResponse(
                "the access token holds characters an HTTP header cannot carry"
            )
        all_headers = {"Accept": "application/json"}
        correlation = client_correlation_id()
        if correlation is not None:
            all_headers[CLIENT_CORRELATION_HEADER] = correlation
        if headers:
            all_headers.update(headers)
        if token_endpoint:  # a token answer is small: no compressed body to inflate at all
            all_headers.update(_IDENTITY)
        if params is not None and not params and "?" not in url:
            params = None  # the same URL (no query either way), and one that is cached
        parsed = self._urls.get(url)
        call = Call(
            method=method,
            url=url if parsed is None else parsed,
            api=api,
            mode=mode,
            retries=self.retry_policy.max_retries if max_retries is None else max_retries,
            max_bytes=max_bytes,
            gate=rate_gate,
            timeout=self._token_timeout if token_endpoint else self._timeout,
            params=params,
            headers=all_headers,
            bearer=bearer,
            hooks=on_attempt,
            secrets=_secrets_of(form, json_body, bearer),
            operation=operation,
            # No per-attempt hook needs the httpx.Request: send its parts.
            lean=self._send_parts is not None and not on_attempt,
        )
        if form is not None or json_body is not None:
            # Encoded once: every attempt (and every hook, e.g. a signer) sees these bytes.
            call.body, all_headers["Content-Type"] = prepare_body(method, url, form, json_body)

        # The first attempt is built before the deadline starts, as it always was: a
        # request that cannot be built fails here, whatever the deadline.
        first = self._build_attempt(call, 0)
        if parsed is None and params is None:
            self._remember_url(url, first.url)
        deadline = self.timeouts.total
        try:
            if not deadline:
                return await self._attempts(call, first)
            with anyio.fail_after(deadline):
                return await self._attempts(call, first)
        except TimeoutError:
            pass  # leave the except block before raising: nothing to chain
        except e.TrueLayerError as exc:
            if correlation is not None:
                exc.client_correlation_id = correlation
            raise
        timeout = e.TransportTimeout(
            f"{method} {call.path}: no answer within the {deadline} s deadline",
            request_sent=True,
        )
        timeout.client_correlation_id = correlation
        raise timeout

    def _build_attempt(self, call: Call, number: int) -> httpx.Request | LeanRequest:
        if call.lean:
            assert self._direct is not None  # lean only over the SDK's own transport
            return build_lean(self._direct, call)
        return build_attempt(self._build, call, number)

    async def _attempts(self, call: Call, first: httpx.Request | LeanRequest | None) -> Response:
        method = call.method
        observer = self.observer
        attempt = 0
        while True:
            if call.gate is not None:
                waited = await call.gate.wait()
                if waited and observer is not None:
                    observer.rate_limit_wait(waited)
            if self.closed():
                raise _closed_error()
            request = first if first is not None else self._build_attempt(call, attempt)
            first = None  # every retry sends a freshly built request (same body bytes)
            # Asked once an attempt: with DEBUG off and no observer, no timing at all.
            debug = log.isEnabledFor(logging.DEBUG)
            if observer is not None:
                await observer.request(call, request, attempt)
            started = time.perf_counter_ns() if debug or observer is not None else 0
            outcome = await self._send_once(request, call.max_bytes)
            elapsed_ms = (time.perf_counter_ns() - started) / 1e6 if debug else 0.0
            if outcome is _CLOSED or (isinstance(outcome, _Failure) and self.closed()):
                raise _closed_error()
            if isinstance(outcome, _Failure):
                if debug:
                    log.debug(
                        "%s %s failed: %s (attempt %d, %.0f ms)",
                        method, call.path, outcome.kind, attempt + 1, elapsed_ms,
                        extra=log_fields(call, attempt, elapsed_ms, error=outcome.kind),
                    )  # fmt: skip
                if observer is not None:
                    await observer.response(call, request, attempt, started, None,
                                            _NO_IDS, outcome.kind)  # fmt: skip
                retryable = not outcome.sent or call.mode is not RetryMode.UNSENT_ONLY
                if retryable and attempt < call.retries:
                    delay = self._backoff(attempt)
                    if observer is not None:
                        await observer.retry(call, attempt, outcome.kind, delay)
                    await self.sleep(delay)
                    attempt += 1
                    continue
                cls = e.TransportTimeout if outcome.timeout else e.TransportError
                raise cls(
                    f"{method} {call.path}: {outcome.kind} after {attempt + 1} attempt(s)",
                    request_sent=outcome.sent,
                )
            assert not isinstance(outcome, str)  # _CLOSED was handled above
            # A Response holds the body out of its repr: no local here shows the bytes.
            response = outcome
            status = response.status_code
            correlation_id = response.correlation_id  # read by _send_once
            if debug:
                log.debug(
                    "%s %s -> %d (attempt %d, %.0f ms, correlation id %s)",
                    method, call.path, status, attempt + 1, elapsed_ms, correlation_id,
                    extra=log_fields(call, attempt, elapsed_ms, status, correlation_id),
                )  # fmt: skip
            if observer is not None:
                await observer.response(call, request, attempt, started, status,
                                        response.header_ids, None)  # fmt: skip
            if 200 <= status < 300:
                response.retries_taken = attempt
                return response
            if 300 <= status < 400:
                raise e.UnexpectedRedirectError(
                    "TrueLayer answered with a redirect, which is never followed",
                    status_code=status,
                    correlation_id=correlation_id,
                )
            retry_after = parse_retry_after(response.headers, self.clock())
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if status == 429 and call.gate is not None:
                call.gate.hold(delay)
            if (
                attempt < call.retries
                and _status_retryable(call.mode, status, response.headers, response.content)
                and (retry_after is None or retry_after <= self.retry_policy.max_retry_after)
            ):
                if observer is not None:
                    await observer.retry(call, attempt, str(status), delay)
                await self.sleep(delay)
                attempt += 1
                continue
            raise error_for(
                call.api,
                status,
                response.headers,
                response.content,
                retry_after=retry_after,
                redact=call.secrets,
            )

    def _remember_url(self, url: str, parsed: httpx.URL) -> None:
        urls = self._urls
        if len(urls) >= _URL_CACHE_SIZE:
            del urls[next(iter(urls))]  # the oldest: a batch's ids come and go
        urls[url] = parsed

    def _backoff(self, attempt: int) -> float:
        return self.retry_policy.backoff(attempt, self.jitter())

    async def _close(self, response: httpx.Response) -> None:
        """Close a response; if a cancellation interrupts that, still free its pool slot."""
        try:
            await response.aclose()
        except BaseException:
            self._release(response)
            raise

    def _release(self, response: httpx.Response) -> None:
        """Free the pool slot of a response whose close was interrupted (see _pool_repair);
        its connection is closed in a task no caller owns."""
        connection = release_interrupted(response)
        if connection is None:
            return
        closing = self._closing
        flight: Flight[None] = Flight("connection close")

        async def close() -> None:
            try:
                await connection.aclose()
            finally:
                closing.discard(flight)

        closing.add(flight)
        flight.start(close)

    async def _send_once(
        self, request: httpx.Request | LeanRequest, max_bytes: int
    ) -> Response | _Failure | str:
        """The response with its (decoded, capped) body read, or a failure, or ``_CLOSED``.

        Its retry count is the caller's to fill in."""
        failure: _Failure | None = None
        transport = self._transport
        started = time.perf_counter()
        lean = request if isinstance(request, LeanRequest) else None
        try:
            if transport is None:
                assert lean is None  # a LeanRequest goes to the SDK's own transport only
                response = await self.client.send(cast(httpx.Request, request), stream=True)
            elif self.client.is_closed:
                return _CLOSED
            elif lean is not None:
                assert self._send_parts is not None
                response = await self._send_parts(
                    lean.method, str(lean.url), lean.headers, lean.body, lean.timeout
                )
            else:
                request = cast(httpx.Request, request)
                response = await transport.handle_async_request(request)
                response.request = request  # what AsyncClient.send sets
        except anyio.get_cancelled_exc_class():
            reclaim_orphans(self.client)  # httpcore #1093: see _pool_repair
            raise
        except RuntimeError:
            if not self.client.is_closed:
                raise
            return _CLOSED  # httpx: "Cannot send a request, as the client has been closed."
        except httpx.TransportError as exc:
            failure = _failure_of(exc, reading=False)
        if failure is not None:
            return failure
        content_type, encoding, correlation_id, ids = _head_fields(response.headers)
        if response.is_stream_consumed:
            # The body is already in memory (a transport that built the response from
            # bytes, such as httpx.MockTransport, read it): skip streaming it again.
            # Same outcome: the stream is closed and the size cap applies.
            await self._close(response)
            if len(response.content) > max_bytes:
                raise _too_large(response.status_code, correlation_id, max_bytes)
            body, streamed = response.content, False
        elif isinstance(stream := response.stream, ReceivedBody) and not encoding:
            # The whole body came with the head and its connection is back in the pool:
            # nothing to stream or close (a fifth of the SDK's own cost of a request).
            if len(stream.body) > max_bytes:
                raise _too_large(response.status_code, correlation_id, max_bytes)
            body, streamed = stream.body, True
        else:
            too_large = corrupt = False
            # gzip and deflate are inflated here, a slice at a time, so the cap applies to
            # the decompressed size as it grows; other encodings are left to httpx.
            inflater = inflater_for(encoding, max_bytes)
            try:
                chunks: list[bytes] = []
                size = 0
                source = _body_source(response, decoded=inflater is None and bool(encoding))
                async for data in source:
                    for chunk in (data,) if inflater is None else inflater.feed(data):
                        size += len(chunk)
                        if size > max_bytes:
                            too_large = True
                            break
                        chunks.append(chunk)
                    if too_large:
                        break
            except (InflateError, httpx.DecodingError):
                corrupt = True
            except httpx.TransportError as exc:
                failure = _failure_of(exc, reading=True)
            except BaseException:
                # A cancellation while reading, or while httpx closed the stream at its
                # end (aiter_bytes does): make sure the pool slot was given back.
                self._release(response)
                raise
            finally:
                await self._close(response)
            if failure is not None:
                return failure
            if too_large or corrupt:
                # The body may hold tokens: keep it off the traceback (SEC-03).
                chunks.clear()
                data = chunk = b""
                if corrupt:
                    raise e.MalformedResponseError(
                        "the compressed response body is corrupt",
                        status_code=response.status_code,
                        correlation_id=correlation_id,
                    )
                raise _too_large(response.status_code, correlation_id, max_bytes)
            body, streamed = b"".join(chunks), True
        if transport is not None:
            # Sent straight to the transport: the response's elapsed, as AsyncClient.send
            # sets it when a response is closed (a ReceivedBody only comes this way).
            response.elapsed = timedelta(seconds=time.perf_counter() - started)
        return Response(
            response.status_code, response.headers, body, correlation_id, 0, response, streamed,
            lean=lean, content_type=content_type, header_ids=ids,
        )  # fmt: skip


# The response headers the SDK reads on every response: Content-Type, Content-Encoding
# and the correlation id (X-TL-Correlation-Id, else Tl-Trace-Id), by lower-case name.
_HEAD_FIELDS = {b"content-type": 0, b"content-encoding": 1, b"x-tl-correlation-id": 2,
                b"tl-trace-id": 3}  # fmt: skip


def _head_fields(headers: httpx.Headers) -> tuple[str, str | None, str | None, HeaderIds]:
    """Content-Type ("" for none), Content-Encoding, the correlation id and the two
    headers it is read from, in one pass: what ``headers.get`` gives for each (repeats
    joined with ", "), at a third of the cost of four lookups."""
    found: list[str | None] = [None, None, None, None]
    charset = headers.encoding
    for name, value in headers.raw:
        index = _HEAD_FIELDS.get(name.lower())
        if index is not None:
            text, before = value.decode(charset), found[index]
            found[index] = text if before is None else f"{before}, {text}"
    return found[0] or "", found[1], found[2] or found[3] or None, (found[2], found[3])


def _failure_of(exc: httpx.TransportError, *, reading: bool) -> _Failure:
    """A network failure: "never sent" only for a connect-phase error while sending
    (``reading``: a response had begun to arrive, so the request had left)."""
    sent = reading or not isinstance(exc, _NEVER_SENT)
    return _Failure(type(exc).__name__, sent=sent, timeout=isinstance(exc, httpx.TimeoutException))


def _body_source(response: httpx.Response, *, decoded: bool) -> AsyncIterable[bytes]:
    """Where to read a streamed body from: its raw stream, or httpx's decoding iterator
    when httpx must decode it (an encoding other than gzip and deflate).

    The raw stream is iterated as it is (what ``aiter_raw`` does, minus its bookkeeping
    of bytes counted and exceptions re-wrapped, none of which the SDK reads)."""
    stream = response.stream
    if decoded or not isinstance(stream, httpx.AsyncByteStream):
        return response.aiter_bytes() if decoded else response.aiter_raw()
    return stream


def _read_copy(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A read, closed twin of a streamed response, holding its decoded ``body``.

    Built through httpx's public constructor (never by setting its private ``_content``).
    The body is already decoded, so the twin is built without ``Content-Encoding`` (httpx
    would decode it again) and then given the original headers back.
    """
    headers = [
        (name, value)
        for name, value in streamed.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    twin = httpx.Response(
        streamed.status_code,
        headers=headers,
        content=body,
        request=streamed.request,
        extensions=streamed.extensions,
    )
    twin.headers = streamed.headers
    twin.elapsed = streamed.elapsed  # set when the streamed response was closed
    return twin


def log_fields(
    call: Call,
    attempt: int,
    elapsed_ms: float,
    status: int | None = None,
    correlation_id: str | None = None,
    *,
    error: str | None = None,
) -> dict[str, Any]:
    """The structured fields (``extra``) of a request's log record: never a secret."""
    fields: dict[str, Any] = {
        "truelayer_operation": operation_of(call),
        "truelayer_method": call.method,
        "truelayer_path": call.path,
        "truelayer_attempt": attempt + 1,
        "truelayer_duration_ms": round(elapsed_ms, 3),
        "truelayer_status": status,
        "truelayer_correlation_id": correlation_id,
        "truelayer_client_correlation_id": client_correlation_id(),
    }
    if error is not None:
        fields["truelayer_error"] = error
    return fields


def _too_large(
    status_code: int, correlation_id: str | None, max_bytes: int
) -> e.ResponseTooLargeError:
    return e.ResponseTooLargeError(
        f"response body over {max_bytes} bytes",
        status_code=status_code,
        correlation_id=correlation_id,
    )


_IDENTITY = {"Accept-Encoding": "identity"}


def _closed_error() -> e.SessionClosedError:
    return e.SessionClosedError("the Session was closed while this call was in progress")


def _with_idempotency_key(headers: Mapping[str, str] | None, key: str | None) -> dict[str, str]:
    # The caller's key (argument or header) or a new UUID4, fixed for the whole call.
    merged = dict(headers or {})
    given = key or next(
        (value for name, value in merged.items() if name.lower() == "idempotency-key"), None
    )
    merged = {k: v for k, v in merged.items() if k.lower() != "idempotency-key"}
    merged["Idempotency-Key"] = given or str(uuid.uuid4())
    return merged


def _status_retryable(mode: RetryMode, status: int, headers: httpx.Headers, body: bytes) -> bool:
    if mode is RetryMode.IDEMPOTENT:
        return status_is_retryable(status, error_code_of(body))
    if mode is RetryMode.KEYED:
        return keyed_status_retryable(status, headers)
    return False


def _secrets_of(
    form: Mapping[str, FormValue] | None,
    json_body: Mapping[str, Any] | None,
    bearer: Secret | None,
) -> tuple[Secret, ...]:
    if form is None and json_body is None:  # every GET: no lists to build
        return () if bearer is None else (bearer,)
    found = [v for v in (form or {}).values() if isinstance(v, Secret)]
    found.extend(v for v in (json_body or {}).values() if isinstance(v, Secret))
    if bearer is not None:
        found.append(bearer)
    return tuple(found)
