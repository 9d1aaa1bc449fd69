"""Building requests: what is settled once per logical call, and each attempt's request.

A logical call is prepared once (:func:`prepare_body`, :class:`Call`): its body is encoded
to bytes a single time, so every attempt sends, and every per-attempt hook (a request
signer) sees, exactly the same bytes. :func:`build_attempt` then makes one attempt's
``httpx.Request`` from the prepared call and lets the hooks add headers.

Secrets arrive as :class:`Secret`. The body bytes (which may hold some) live only in
fields hidden from ``repr``; the bearer token is unwrapped only in :func:`_assemble`,
whose frame is dropped if building fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import attrs
import httpx

from . import errors as e
from ._error_mapping import Api
from ._retry import RetryMode
from ._secret import Secret

__all__ = [
    "Attempt",
    "AttemptHook",
    "BuildRequest",
    "Call",
    "DirectRequests",
    "FormValue",
    "LeanRequest",
    "build_attempt",
    "build_lean",
    "check_header_values",
    "encode_json",
    "is_header_value",
    "prepare_body",
    "wire_path",
]

FormValue = str | Secret

#: Header names a hook may not set: the SDK owns them.
_RESERVED = frozenset({"authorization", "content-type", "content-length", "host"})


def encode_json(value: Any) -> bytes:
    """The one JSON encoder for request bodies (compact, UTF-8)."""
    return json.dumps(value, separators=(",", ":")).encode()


@attrs.frozen
class Attempt:
    """What a per-attempt hook sees of the request about to be sent.

    Attributes:
        method: the HTTP method.
        path: the URL path as it goes on the wire (percent-encoded, no query string).
        headers: every header except ``Authorization`` (a case-insensitive copy).
        body: the exact body bytes (``b""`` for none); the same on every attempt.
        number: 0 for the first attempt, 1 for the first retry, ...
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=False)
    number: int


#: Called before each attempt; returns headers to add (or ``None``).
AttemptHook = Callable[[Attempt], "Mapping[str, str] | None"]


@attrs.define
class Call:
    """One logical request, prepared once and shared by its attempts.

    Not frozen: a frozen attrs class costs twice as much to build (~0.5 µs a request),
    and nothing outside the SDK's request layer ever sees a ``Call``.
    """

    method: str
    url: str | httpx.URL  # the first attempt's string; then its parsed URL
    api: Api
    mode: RetryMode
    retries: int
    max_bytes: int
    gate: Any  # a RateGate or None (typed loosely: _http imports this module)
    timeout: dict[str, float | None]
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes | None = attrs.field(default=None, repr=False)
    bearer: Secret | None = attrs.field(default=None, repr=False)
    hooks: Sequence[AttemptHook] = ()
    secrets: tuple[Secret, ...] = attrs.field(default=(), repr=False)  # scrubbed from errors
    operation: str = ""  # the logical call's name, for logs, spans and hooks
    lean: bool = False  # attempts are LeanRequests (nothing needs an httpx.Request)

    @property
    def path(self) -> str:
        """The URL path, for log lines and error messages (never the query string)."""
        if isinstance(self.url, httpx.URL):
            return self.url.path
        return _path_of(self.url)


def prepare_body(
    method: str,
    url: str,
    form: Mapping[str, FormValue] | None,
    json_body: Mapping[str, Any] | None,
) -> tuple[bytes, str]:
    """The body bytes and content type of a call (a form or a JSON body), encoded once.

    A body that cannot be encoded raises ``InvalidParameterError`` from this frame, which
    holds no raw secret: the failing frame (which did) is dropped.
    """
    failure: str | None = None
    try:
        return _encode(form, json_body)
    except Exception as exc:  # any failure: its traceback holds the secrets
        failure = type(exc).__name__
    raise e.InvalidParameterError(f"{method} {_path_of(url)}: body not encoded ({failure})")


def _encode(
    form: Mapping[str, FormValue] | None, json_body: Mapping[str, Any] | None
) -> tuple[bytes, str]:
    if form is not None:
        plain = {
            key: value.get_secret_value() if isinstance(value, Secret) else value
            for key, value in form.items()
        }
        return urlencode(plain, doseq=True).encode("ascii"), "application/x-www-form-urlencoded"
    return encode_json(_reveal(json_body)), "application/json"


_B = TypeVar("_B")  # what an attempt is built with
_R = TypeVar("_R")  # what is built


#: What builds an attempt's ``httpx.Request``: ``AsyncClient.build_request`` (a user's
#: client), or :class:`DirectRequests` (the SDK's own), called with the same keywords.
BuildRequest = Callable[..., httpx.Request]


class DirectRequests:
    """Builds requests for the SDK's own client as its ``build_request`` would, cheaper.

    The SDK's client has no base URL, no cookies, no default params and no auth, and
    every URL the SDK sends is absolute: what is left of ``build_request`` is merging the
    client's default headers under the call's (case-insensitively, the call's winning, in
    the same order). That is done here on plain tuples instead of two ``httpx.Headers``.
    """

    __slots__ = ("_defaults",)

    def __init__(self, defaults: httpx.Headers) -> None:
        # (lower-case name, (name as sent, value)) of each default header, in order.
        self._defaults = tuple(
            (name.decode("ascii").lower(), (name.decode("ascii"), value.decode("ascii")))
            for name, value in defaults.raw
        )

    def __call__(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        content: bytes | None,
        extensions: dict[str, Any],
    ) -> httpx.Request:
        """The request ``AsyncClient.build_request`` would build (see the class)."""
        return httpx.Request(
            method,
            url,
            params=params,
            headers=self.merged(headers),
            content=content,
            extensions=extensions,
        )

    def merged(self, headers: Mapping[str, str]) -> list[tuple[str, str]]:
        """The client's default headers, then ``headers`` (which win, whatever the case)."""
        given = {name.lower() for name in headers}
        merged = [pair for lower, pair in self._defaults if lower not in given]
        merged.extend(headers.items())
        return merged


@attrs.define
class LeanRequest:
    """One attempt as its parts, for the transport that takes them (the SDK's aiohttp
    transport, ``send_parts``): building an ``httpx.Request`` costs more than aiohttp
    takes to send it, so none is built unless asked for (:meth:`to_httpx`).

    Used only when nothing needs the ``httpx.Request``: no per-attempt hook and no event
    hook or telemetry. The headers hold the bearer token: kept out of the repr.
    """

    method: str
    url: httpx.URL
    headers: list[tuple[str, str]] = attrs.field(repr=False)
    body: bytes | None = attrs.field(repr=False)
    timeout: dict[str, float | None]

    def to_httpx(self) -> httpx.Request:
        """The ``httpx.Request`` the other paths would have sent (``with_raw_response``)."""
        return httpx.Request(
            self.method,
            self.url,
            headers=self.headers,
            content=self.body,
            extensions={"timeout": dict(self.timeout)},
        )


def build_lean(direct: DirectRequests, call: Call) -> LeanRequest:
    """One attempt's :class:`LeanRequest`: the URL, headers and body ``build_attempt``
    would send (``Host`` and ``Content-Length`` are left to the transport)."""
    lean = _built(_assemble_lean, direct, call)
    call.url, call.params = lean.url, None  # retries reuse the parsed URL
    return lean


def _assemble_lean(direct: DirectRequests, call: Call) -> LeanRequest:
    url = call.url if isinstance(call.url, httpx.URL) else httpx.URL(call.url)
    if call.params is not None:  # as httpx.Request merges them
        url = url.copy_merge_params(call.params)
    headers = direct.merged(_headers_of(call))
    return LeanRequest(call.method, url, headers, call.body, call.timeout)


def build_attempt(build: BuildRequest, call: Call, number: int) -> httpx.Request:
    """One attempt's request: the prepared parts, the bearer token, then the hooks' headers."""
    request = _built(_assemble, build, call)
    if isinstance(call.url, str):
        call.url, call.params = request.url, None  # retries reuse the parsed URL
    if call.hooks:
        _run_hooks(call, request, number)
    return request


def _built(assemble: Callable[[_B, Call], _R], builder: _B, call: Call) -> _R:
    """``assemble(builder, call)``; any failure becomes an ``InvalidParameterError`` that
    names only its type, raised outside the ``except`` (the failure's traceback holds the
    secrets: nothing may chain to it)."""
    failure: str | None = None
    try:
        return assemble(builder, call)
    except Exception as exc:
        failure = type(exc).__name__
    raise e.InvalidParameterError(f"{call.method} {call.path}: request not built ({failure})")


def _headers_of(call: Call) -> dict[str, str]:
    """The call's headers and its bearer token (a fresh dict for each attempt)."""
    headers = dict(call.headers)
    if call.bearer is not None:
        headers["Authorization"] = f"Bearer {call.bearer.get_secret_value()}"
    return headers


def _assemble(build: BuildRequest, call: Call) -> httpx.Request:
    return build(
        call.method,
        call.url,
        params=call.params,
        headers=_headers_of(call),
        content=call.body,
        # What `timeout=` would become, as fresh dicts (nothing shared between requests).
        extensions={"timeout": dict(call.timeout)},
    )


def _run_hooks(call: Call, request: httpx.Request, number: int) -> None:
    # A case-insensitive copy without the bearer token: hooks never see a raw secret.
    seen = httpx.Headers([(k, v) for k, v in request.headers.raw if k.lower() != b"authorization"])
    path = wire_path(request.url)
    for hook in call.hooks:
        view = Attempt(call.method, path, seen.copy(), call.body or b"", number)
        added = hook(view)
        if not added:
            continue
        check_header_values(added)
        reserved = sorted(name for name in added if name.lower() in _RESERVED)
        if reserved:
            raise e.InvalidParameterError(f"a request hook may not set {', '.join(reserved)}")
        request.headers.update(added)
        seen.update(added)


def wire_path(url: httpx.URL) -> str:
    """The path as it goes on the wire (percent-encoded), without the query string."""
    return url.raw_path.split(b"?", 1)[0].decode("ascii")


def _path_of(url: str) -> str:
    # For an error message: the path only, never a query string.
    try:
        return urlsplit(url).path
    except ValueError:
        return "?"


# RFC 9110 field values: visible ASCII, space and tab (no CR, LF, NUL, non-ASCII).
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def is_header_value(value: str) -> bool:
    """Whether ``value`` may go in an HTTP header as it is."""
    return _HEADER_VALUE.fullmatch(value) is not None


# RFC 9110 field names: a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_header_values(headers: Mapping[str, str]) -> None:
    """``InvalidParameterError`` (naming the header, not the value) for an unsafe value,
    or for a name that is not an HTTP token (the message does not echo it)."""
    for name, value in headers.items():
        if not isinstance(name, str) or _HEADER_NAME.fullmatch(name) is None:
            raise e.InvalidParameterError(
                "a header name must be an HTTP token (ASCII letters, digits and !#$%&'*+-.^_`|~)"
            )
        if not isinstance(value, str) or not is_header_value(value):
            raise e.InvalidParameterError(
                f"the {name} header value must be printable ASCII (no CR, LF or control "
                "characters)"
            )


def _reveal(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(v) for v in value]
    return value
