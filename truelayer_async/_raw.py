"""``RawResponse`` and the generic ``with_raw_response`` mirror of service methods.

:func:`raw_method` wraps any service method (its parameters and docstring kept) so that
it returns a :class:`RawResponse`: while the method runs, the core records the response
of the request it makes (:func:`record`, via a context variable), and the wrapper pairs
it with the parsed result. Token-endpoint traffic is never recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Generic, ParamSpec, TypeVar

import attrs

if TYPE_CHECKING:
    import httpx

    from ._http import Response

__all__ = ["RawResponse", "raw_method", "record"]

T = TypeVar("T")
P = ParamSpec("P")


@attrs.frozen
class RawResponse(Generic[T]):
    """What ``tl.<service>.with_raw_response.<method>()`` returns.

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


_RECORDED: ContextVar[list[Response] | None] = ContextVar("truelayer_async_raw", default=None)


def record(response: Response) -> None:
    """Keep ``response`` for a :func:`raw_method` call in progress in this context."""
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.append(response)


def raw_method(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """``method`` returning a :class:`RawResponse` of its last API response."""

    @functools.wraps(method)
    async def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        recorded: list[Response] = []
        reset = _RECORDED.set(recorded)
        try:
            parsed = await method(*args, **kwargs)
        finally:
            _RECORDED.reset(reset)
        response = recorded[-1]
        return RawResponse(
            parsed=parsed,
            http_response=response.http_response,
            status_code=response.status_code,
            headers=response.headers,
            correlation_id=response.correlation_id,
            retries_taken=response.retries_taken,
        )

    return raw
