"""``tl.data_v3``: Data API v3 (UK) — connections, connected accounts and transactions
fetched through asynchronous requests (truelayer-api-v3.md §6).

Every call uses a client-credentials token with the ``data`` scope; calls about a user's
data also send ``Connection-Id`` (the connection the user authorised, whose own scopes
gate what may be read: 403 ``DataApiError`` otherwise). Errors are problem+json, raised
as ``DataApiError`` with the problem's fields (``problem_type``, ``errors``,
``should_retry``; **inferred**: TrueLayer documents no Data v3 error catalogue).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._error_mapping import Api
from ..models.data_v3 import (
    DATA_V3_SCOPES,
    AuthorizationFlow,
    ConnectedAccount,
    CreatedDataConnection,
    DataConnection,
    DataTransaction,
    DataTransactionsRequest,
    HostedPage,
    PrecapturedConsent,
    PreselectedProvider,
    UserSelectedProvider,
)
from ..pagination import AsyncPaginator, Page
from . import _payments_api as api
from ._args import header_value
from ._cursor_page import CursorPage, paginate
from ._polling import poll_until
from ._v3_json import decode, request_json

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["DATA_V3_SCOPE", "MAX_TRANSACTIONS_PAGE_SIZE", "DataV3Service"]

#: The client-credentials scope of every Data v3 call.
DATA_V3_SCOPE = "data"
#: The largest (and default) page of transactions TrueLayer serves.
MAX_TRANSACTIONS_PAGE_SIZE = 500
_SCOPES = (DATA_V3_SCOPE,)
_PRODUCT = "data_v3"
_ACCOUNT_REQUESTS = "/connected-accounts/{account_id}/transactions/requests"
CONNECTED_ACCOUNTS: api.Call[CursorPage[ConnectedAccount]] = api.Call(
    "GET",
    "/connected-accounts",
    CursorPage[ConnectedAccount],
    scopes=_SCOPES,
    family=_PRODUCT,
    errors_api=Api.DATA,
    fills_raw=True,
)


class DataV3Service:
    """Data API v3. Reached as ``tl.data_v3``.

    Errors: ``DataApiError`` (problem+json answers, e.g. 403 when the connection lacks
    a scope), ``DataTransactionsFailedError`` (a transactions request ``failed``),
    ``WaitTimeoutError`` (a request stayed ``pending``), ``InvalidParameterError``
    (before any request), ``TransportError``, ``MalformedResponseError``.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    async def create_connection(
        self,
        *,
        scopes: Collection[str],
        provider: PreselectedProvider | UserSelectedProvider,
        journey: HostedPage | AuthorizationFlow,
        consent: PrecapturedConsent | None = None,
        user: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CreatedDataConnection:
        """Start a connection (``POST /v3/data-connections``); send the user to ``.link``.

        The five UX configurations (§6.2) are the allowed combinations of who selects
        the provider, where the journey runs and who shows the consent screen:

        ====  =========================  ==================  =====================
        #     ``provider``               ``journey``         ``consent``
        ====  =========================  ==================  =====================
        1     ``UserSelectedProvider``   ``HostedPage``      ``None`` (TrueLayer)
        2     ``PreselectedProvider``    ``HostedPage``      ``None`` (TrueLayer)
        3     ``PreselectedProvider``    ``HostedPage``      ``PrecapturedConsent``
        4     ``PreselectedProvider``    ``AuthorizationFlow``  ``None`` (TrueLayer)
        5     ``PreselectedProvider``    ``AuthorizationFlow``  ``PrecapturedConsent``
        ====  =========================  ==================  =====================

        A user-selected provider needs TrueLayer's hosted page. ``scopes`` are the
        connection's: any of ``info``, ``accounts``, ``balance``, ``transactions``.
        ``user`` (``id``, ``name``, ``email``, ``phone``) and ``extra`` (more top-level
        fields, e.g. ``{"data_access_type": "recurring"}``) are sent as given
        (**inferred** fields).
        """
        body = connection_body(scopes, provider, journey, consent)
        if user is not None:
            body["user"] = dict(user)
        for name, value in (extra or {}).items():
            body.setdefault(name, value)
        data, response = await request_json(
            self._core,
            "POST",
            "/data-connections",
            product=_PRODUCT,
            api=Api.DATA,
            scopes=_SCOPES,
            json_body=body,
        )
        return decode(data, CreatedDataConnection, response)

    async def get_connection(self, connection_id: str) -> DataConnection:
        """The connection's ``status`` (``GET /v3/data-connections/{id}``; **inferred**
        endpoint), e.g. to check that the user finished the journey."""
        data, response = await request_json(
            self._core,
            "GET",
            "/data-connections/{connection_id}",
            {"connection_id": connection_id},
            product=_PRODUCT,
            api=Api.DATA,
            scopes=_SCOPES,
        )
        return decode(data, DataConnection, response)

    def connected_accounts(
        self, connection_id: str, *, limit: int | None = None
    ) -> AsyncPaginator[ConnectedAccount]:
        """The connection's accounts (``GET /v3/connected-accounts``), ``async for`` over
        cursor pages (``?cursor=``: **inferred**). Nothing is sent until iteration starts."""
        headers = _connection_header(connection_id)
        return paginate(self._core, CONNECTED_ACCOUNTS, params={}, headers=headers, limit=limit)

    def transactions(
        self,
        account_id: str,
        from_: date,
        to: date,
        *,
        connection_id: str,
        page_size: int | None = None,
        limit: int | None = None,
        page_timeout: float = 300.0,
    ) -> AsyncPaginator[DataTransaction]:
        """The account's transactions from ``from_`` to ``to`` (both inclusive), newest
        first, as ``async for`` over pages.

        Each page is an asynchronous request: created with
        ``POST /v3/connected-accounts/{id}/transactions/requests`` (``cursor`` from the
        previous page), polled with back-off (1 s, doubling, at most 30 s, for at most
        ``page_timeout`` seconds) until ``completed``, then its items are yielded. A
        ``failed`` request raises ``DataTransactionsFailedError``; one still ``pending``
        after ``page_timeout`` raises ``WaitTimeoutError``. ``page_size`` is 1–500
        (TrueLayer's default: 500); ``limit`` caps the total. One page is held at a time.
        """
        _check_dates(from_, to)
        if page_size is not None and (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= MAX_TRANSACTIONS_PAGE_SIZE
        ):
            raise e.InvalidParameterError(
                f"page_size must be an int from 1 to {MAX_TRANSACTIONS_PAGE_SIZE}"
            )
        headers = _connection_header(connection_id)
        ids = {"account_id": account_id}
        base: dict[str, Any] = {"from": _day(from_), "to": _day(to)}
        if page_size is not None:
            base["page_size"] = page_size

        async def fetch(cursor: str | None) -> Page[DataTransaction]:
            body = base if cursor is None else {**base, "cursor": cursor}
            created, _ = await request_json(
                self._core,
                "POST",
                _ACCOUNT_REQUESTS,
                ids,
                product=_PRODUCT,
                api=Api.DATA,
                scopes=_SCOPES,
                json_body=body,
                headers=headers,
            )
            request_id = created.get("id") if isinstance(created, dict) else None
            if not isinstance(request_id, str) or not request_id:
                raise e.MalformedResponseError("expected a request id", path="$.id")
            done = await self._wait(ids, request_id, headers, page_timeout)
            if done.status != "completed":
                raise e.DataTransactionsFailedError(
                    done.id, done.failure_reason, cursor_used=cursor is not None
                )
            result = done.result
            if result is None or not result.items:
                return Page(())
            return Page(result.items, result.next_cursor or None)

        return AsyncPaginator(fetch, limit=limit)

    async def get_transactions_request(
        self, account_id: str, request_id: str, *, connection_id: str
    ) -> DataTransactionsRequest:
        """One transactions request as it is now
        (``GET /v3/connected-accounts/{account_id}/transactions/requests/{request_id}``)."""
        ids = {"account_id": account_id}
        return await self._get_request(ids, request_id, _connection_header(connection_id))

    async def _get_request(
        self, ids: Mapping[str, str], request_id: str, headers: Mapping[str, str]
    ) -> DataTransactionsRequest:
        data, response = await request_json(
            self._core,
            "GET",
            _ACCOUNT_REQUESTS + "/{request_id}",
            {**ids, "request_id": request_id},
            product=_PRODUCT,
            api=Api.DATA,
            scopes=_SCOPES,
            headers=headers,
        )
        return decode(data, DataTransactionsRequest, response)

    async def _wait(
        self, ids: Mapping[str, str], request_id: str, headers: Mapping[str, str], timeout: float
    ) -> DataTransactionsRequest:
        return await poll_until(
            lambda: self._get_request(ids, request_id, headers),
            statuses=None,  # any status but pending ends the wait
            is_final=lambda request: request.status != "pending",
            timeout=timeout,
            clock=self._core.clock,
            sleep=self._core.sleep,
            what="Data v3 transactions request",
        )


def connection_body(
    scopes: Collection[str],
    provider: PreselectedProvider | UserSelectedProvider,
    journey: HostedPage | AuthorizationFlow,
    consent: PrecapturedConsent | None,
) -> dict[str, Any]:
    """The create-connection body for one of the five UX configurations, or
    ``InvalidParameterError``."""
    if isinstance(scopes, str) or not scopes or any(s not in DATA_V3_SCOPES for s in scopes):
        raise e.InvalidParameterError(
            f"scopes must be a non-empty collection of {', '.join(DATA_V3_SCOPES)}"
        )
    if not isinstance(provider, (PreselectedProvider, UserSelectedProvider)):
        raise e.InvalidParameterError(
            "provider must be a PreselectedProvider or UserSelectedProvider"
        )
    if not isinstance(journey, (HostedPage, AuthorizationFlow)):
        raise e.InvalidParameterError("journey must be a HostedPage or an AuthorizationFlow")
    if consent is not None:
        if not isinstance(consent, PrecapturedConsent):
            raise e.InvalidParameterError("consent must be a PrecapturedConsent or None")
        if consent.captured_at.utcoffset() is None:
            raise e.InvalidParameterError("consent.captured_at must be timezone-aware")
    if isinstance(provider, UserSelectedProvider) and (
        isinstance(journey, AuthorizationFlow) or consent is not None
    ):
        raise e.InvalidParameterError(
            "a UserSelectedProvider needs journey=HostedPage and TrueLayer's consent screen"
        )
    body: dict[str, Any] = {
        "scopes": list(dict.fromkeys(scopes)),
        "provider_selection": provider.to_wire(),
    }
    if isinstance(journey, HostedPage):
        body["hosted_page"] = journey.to_wire()
    else:
        body["authorization_flow"] = journey.to_wire()
    if consent is not None:
        body["user_consent"] = consent.to_wire()
    return body


def _connection_header(connection_id: str) -> dict[str, str]:
    return {"Connection-Id": header_value("connection_id", connection_id)}


def _day(value: date) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _check_dates(from_: date, to: date) -> None:
    for name, value in (("from_", from_), ("to", to)):
        if not isinstance(value, date):
            raise e.InvalidParameterError(f"{name} must be a date")
    if _day(from_) > _day(to):
        raise e.InvalidParameterError("from_ must not be after to")
