"""``RawResponse``: a parsed result together with the HTTP response it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    import httpx

__all__ = ["RawResponse"]

T = TypeVar("T")


@attrs.frozen
class RawResponse(Generic[T]):
    """What ``tl.data.with_raw_response.<method>()`` returns.

    Attributes:
        parsed: the model(s) the plain method would have returned.
        http_response: the (already read and closed) ``httpx.Response``.
        status_code: the HTTP status.
        headers: the response headers.
        correlation_id: ``X-TL-Correlation-Id`` (quote it to TrueLayer support).
        retries_taken: how many times the request was retried.
    """

    parsed: T
    http_response: httpx.Response = attrs.field(repr=False)
    status_code: int
    headers: httpx.Headers = attrs.field(repr=False)
    correlation_id: str | None
    retries_taken: int
