"""Data v3 state: connections (created → authorised by a persona on the hosted journey)
and asynchronous transaction requests (``pending`` → ``completed`` | ``failed``).

A request completes once it has been read ``timing.pending_polls`` times or
``timing.pending_seconds`` have passed on the emulator clock, whichever comes first [E];
an ``error.<code>`` persona's requests fail with ``failure_reason`` ``<code>`` [E]. The page
is computed when the request completes and kept, so re-reading it returns the same page.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import attrs

from .. import _cursor
from .._clock import EmulatorClock
from .._data import BankData, generate
from .._personas import Persona
from .._timefmt import from_epoch
from ._ledger import transactions

__all__ = ["Timing", "V3Connection", "V3Request", "V3Store", "decode_cursor"]

#: TrueLayer's largest (and default) transactions page.
MAX_PAGE_SIZE = 500


@attrs.define
class Timing:
    """How long a transactions request stays ``pending``, and how many connected accounts
    a page holds (1, so that cursor paging is exercised with two accounts) [E]. Change
    freely."""

    pending_polls: int = 1
    pending_seconds: float = 2.0
    accounts_page_size: int = 1


@attrs.define
class V3Connection:
    """A Data v3 connection; usable as ``Connection-Id`` once ``persona`` is set."""

    id: str
    client_id: str
    scopes: tuple[str, ...]
    return_uri: str | None
    created_at: float
    provider_id: str | None = None
    persona: Persona | None = None
    bulk: int = 0
    _data: BankData | None = attrs.field(default=None, repr=False)

    @property
    def status(self) -> str:
        return "authorization_required" if self.persona is None else "authorized"

    def data(self) -> BankData:
        assert self.persona is not None
        if self._data is None:
            self._data = generate(self.persona, from_epoch(self.created_at))
        return self._data


@attrs.define
class V3Request:
    """An asynchronous transactions request."""

    id: str
    connection_id: str
    account_id: str
    first: date
    last: date
    offset: int
    page_size: int
    created_at: float
    polls: int = 0
    status: str = "pending"
    failure_reason: str | None = None
    items: list[dict[str, Any]] = attrs.Factory(list)
    next_cursor: str | None = None


class V3Store:
    """Every Data v3 connection and request of one emulator state."""

    def __init__(self, clock: EmulatorClock, timing: Timing) -> None:
        self.clock = clock
        self.timing = timing
        self.connections: dict[str, V3Connection] = {}
        self.requests: dict[str, V3Request] = {}

    def create(
        self, client_id: str, scopes: tuple[str, ...], return_uri: str | None
    ) -> V3Connection:
        connection = V3Connection(str(uuid.uuid4()), client_id, scopes, return_uri, self.clock())
        self.connections[connection.id] = connection
        return connection

    def authorise(self, connection: V3Connection, persona: Persona, *, bulk: int = 0) -> None:
        connection.persona = persona
        connection.provider_id = "mock"
        connection.bulk = bulk

    def new_request(
        self,
        connection: V3Connection,
        account_id: str,
        first: date,
        last: date,
        offset: int,
        page_size: int,
    ) -> V3Request:
        request = V3Request(
            str(uuid.uuid4()),
            connection.id,
            account_id,
            first,
            last,
            offset,
            page_size,
            self.clock(),
        )
        self.requests[request.id] = request
        return request

    def poll(self, request: V3Request) -> V3Request:
        """Count one read, completing (or failing) the request when it is due."""
        request.polls += 1
        due = request.polls > self.timing.pending_polls or (
            self.clock() - request.created_at >= self.timing.pending_seconds
        )
        if request.status == "pending" and due:
            self._finish(request)
        return request

    def _finish(self, request: V3Request) -> None:
        connection = self.connections[request.connection_id]
        assert connection.persona is not None
        if connection.persona.error is not None:
            request.status, request.failure_reason = "failed", connection.persona.error
            return
        found = (
            transactions(
                connection.data(),
                request.account_id,
                request.first,
                request.last,
                bulk=connection.bulk,
                now=from_epoch(connection.created_at),
            )
            or []
        )
        end = request.offset + request.page_size
        request.items = found[request.offset : end]
        request.status = "completed"
        if end < len(found):
            request.next_cursor = encode_cursor(request, end)


def encode_cursor(request: V3Request, offset: int) -> str:
    """An opaque cursor: the account, the dates and the offset of the next page."""
    first, last = request.first.isoformat(), request.last.isoformat()
    return _cursor.encode({"a": request.account_id, "f": first, "t": last, "o": offset})


def decode_cursor(cursor: str, account_id: str) -> tuple[date, date, int] | None:
    """``(from, to, offset)`` of a cursor for ``account_id``, or ``None`` when invalid."""
    offset = _cursor.offset(cursor, a=account_id)
    fields = _cursor.decode(cursor)
    if offset < 0 or fields is None:
        return None
    try:
        return date.fromisoformat(fields["f"]), date.fromisoformat(fields["t"]), offset
    except (KeyError, TypeError, ValueError):
        return None
