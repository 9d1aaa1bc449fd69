"""Client correlation ids: tag every request of a unit of work with your own id.

While a client correlation id is set in the current context (a ``contextvars`` variable,
so each asyncio task or web request has its own), every request the SDK sends carries
it as ``X-Client-Correlation-Id``, and it shows in the SDK's log records, spans, event
hooks and on the errors it raises (``TrueLayerError.client_correlation_id``)::

    with client_correlation_id(request.headers["x-request-id"]):
        accounts = await tl.data.accounts(user=user_id)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from .errors import InvalidParameterError

__all__ = [
    "CLIENT_CORRELATION_HEADER",
    "client_correlation_id",
    "get_client_correlation_id",
    "reset_client_correlation_id",
    "set_client_correlation_id",
]

#: The request header that carries it.
CLIENT_CORRELATION_HEADER = "X-Client-Correlation-Id"

MAX_LENGTH = 128
_VALID = re.compile(rf"[\x21-\x7e]{{1,{MAX_LENGTH}}}")

_current: ContextVar[str | None] = ContextVar(
    "truelayer_async_client_correlation_id", default=None
)

#: The id of the current context, else ``None`` (the requester's fast read).
current = _current.get


def get_client_correlation_id() -> str | None:
    """The client correlation id of the current context, or ``None``."""
    return _current.get()


def set_client_correlation_id(value: str | None) -> Token[str | None]:
    """Set the id for the rest of the current context (e.g. in a middleware).

    Returns a token for :func:`reset_client_correlation_id`. The id must be 1 to 128
    visible ASCII characters (no spaces), else ``InvalidParameterError``.
    """
    if value is not None and (not isinstance(value, str) or not _VALID.fullmatch(value)):
        raise InvalidParameterError(
            f"a client correlation id is 1 to {MAX_LENGTH} visible ASCII characters "
            "(no spaces or control characters)"
        )
    return _current.set(value)


def reset_client_correlation_id(token: Token[str | None]) -> None:
    """Restore the id that was current before :func:`set_client_correlation_id`."""
    _current.reset(token)


@contextmanager
def client_correlation_id(value: str | None) -> Iterator[str | None]:
    """Use ``value`` as the client correlation id inside the ``with`` block."""
    token = set_client_correlation_id(value)
    try:
        yield value
    finally:
        _current.reset(token)
