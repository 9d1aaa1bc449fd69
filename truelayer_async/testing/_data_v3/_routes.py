"""Data API v3 routes (truelayer-api-v3.md §6), behind the Payments guard: a
client-credentials token with the ``data`` scope, then ``Connection-Id``.

``Connection-Id`` [E]: missing → 400 ``Invalid Parameters``; unknown or another client's →
404; not yet authorised by the user, or lacking the scope an endpoint needs (``accounts``,
``transactions``) → 403 ``Forbidden``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from .._payments._api import PaymentsApi
from .._payments._endpoint import Call, Spec, api_route
from .._payments._problems import PaymentsProblem, payments_json
from ._ledger import account_body
from ._store import MAX_PAGE_SIZE, V3Connection, V3Request, V3Store, decode_cursor

__all__ = ["routes"]

_DATA = Spec(scopes=("data",))
_SCOPES = ("info", "accounts", "balance", "transactions")


def _invalid(field: str, message: str) -> PaymentsProblem:
    return PaymentsProblem("invalid_parameters", f"{field}: {message}", {field: [message]})


def _connection(call: Call, store: V3Store, scope: str) -> V3Connection:
    connection_id = call.request.headers.get("connection-id")
    if not connection_id:
        raise _invalid("Connection-Id", "The Connection-Id header is required.")
    connection = store.connections.get(connection_id)
    if connection is None or connection.client_id != call.client_id:
        raise PaymentsProblem("not_found", "Connection not found.")
    if connection.persona is None:
        raise PaymentsProblem("forbidden", "The user has not authorised this connection yet.")
    if scope not in connection.scopes:
        raise PaymentsProblem("forbidden", f"The connection lacks the {scope} scope.")
    return connection


def _created(call: Call, store: V3Store) -> Response:
    body = call.body
    scopes = body.get("scopes")
    if not isinstance(scopes, list) or not scopes or any(s not in _SCOPES for s in scopes):
        raise _invalid("scopes", f"Must be a non-empty list of {', '.join(_SCOPES)}.")
    selection = body.get("provider_selection")
    kind = selection.get("type") if isinstance(selection, dict) else None
    if kind not in ("preselected", "user_selected"):
        raise _invalid("provider_selection.type", "Must be preselected or user_selected.")
    page, flow = body.get("hosted_page"), body.get("authorization_flow")
    if (page is None) == (flow is None):
        raise _invalid("hosted_page", "Exactly one of hosted_page and authorization_flow.")
    journey = page if isinstance(page, dict) else (flow or {}).get("redirect")
    return_uri = journey.get("return_uri") if isinstance(journey, dict) else None
    if not isinstance(return_uri, str) or not return_uri:
        raise _invalid("return_uri", "A return_uri is required.")
    connection = store.create(call.client_id, tuple(scopes), return_uri)
    link = f"{call.base_url}/data-v3/connect/{connection.id}"
    answer: dict[str, Any] = {"id": connection.id, "status": connection.status}
    if page is not None:
        answer["hosted_page"] = {"uri": link}
    else:
        answer["authorization_flow"] = {"actions": {"next": {"type": "redirect", "uri": link}}}
    return payments_json("POST", answer, 201)


def _get_connection(call: Call, store: V3Store) -> Response:
    connection = store.connections.get(call.param("connection_id"))
    if connection is None or connection.client_id != call.client_id:
        raise PaymentsProblem("not_found", "Connection not found.")
    return payments_json("GET", {"id": connection.id, "status": connection.status})


def _accounts(call: Call, store: V3Store) -> Response:
    connection = _connection(call, store, "accounts")
    size = max(1, store.timing.accounts_page_size)
    cursor = call.request.query_params.get("cursor")
    offset = 0
    if cursor is not None:
        if not cursor.isdigit():
            raise _invalid("cursor", "Invalid cursor.")
        offset = int(cursor)
    holder = connection.data().holder_name
    accounts = connection.data().accounts
    items = [account_body(a, holder) for a in accounts[offset : offset + size]]
    answer: dict[str, Any] = {"items": items}
    if offset + size < len(accounts):
        answer["pagination"] = {"next_cursor": str(offset + size)}
    return payments_json("GET", answer)


def _day(body: dict[str, Any], name: str) -> date:
    value = body.get(name)
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _invalid(name, "Must be a date (YYYY-MM-DD).")


def _create_request(call: Call, store: V3Store) -> Response:
    connection = _connection(call, store, "transactions")
    account_id = call.param("account_id")
    if all(a.account_id != account_id for a in connection.data().accounts):
        raise PaymentsProblem("not_found", "Account not found.")
    body = call.body
    size = body.get("page_size", MAX_PAGE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _invalid("page_size", "Must be a positive integer.")
    cursor = body.get("cursor")
    if cursor is not None:
        found = decode_cursor(cursor, account_id) if isinstance(cursor, str) else None
        if found is None:
            raise _invalid("cursor", "Invalid cursor.")
        first, last, offset = found
    else:
        first, last, offset = _day(body, "from"), _day(body, "to"), 0
        if first > last:
            raise _invalid("from", "Must not be after to.")
    request = store.new_request(
        connection, account_id, first, last, offset, min(size, MAX_PAGE_SIZE)
    )
    return payments_json("POST", {"id": request.id, "status": request.status}, 202)


def _render(request: V3Request) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": request.id, "status": request.status}
    if request.status == "completed":
        answer["result"] = {"items": request.items, "next_cursor": request.next_cursor}
    elif request.status == "failed":
        answer["failure_reason"] = request.failure_reason
    return answer


def _get_request(call: Call, store: V3Store) -> Response:
    connection = _connection(call, store, "transactions")
    request = store.requests.get(call.param("request_id"))
    if (
        request is None
        or request.connection_id != connection.id
        or request.account_id != call.param("account_id")
    ):
        raise PaymentsProblem("not_found", "Transactions request not found.")
    return payments_json("GET", _render(store.poll(request)))


def routes(api: PaymentsApi, store: V3Store) -> list[BaseRoute]:
    """The ``/v3/data-connections`` and ``/v3/connected-accounts`` routes."""
    requests = "/v3/connected-accounts/{account_id}/transactions/requests"
    table = [
        ("/v3/data-connections", "POST", _created),
        ("/v3/data-connections/{connection_id}", "GET", _get_connection),
        ("/v3/connected-accounts", "GET", _accounts),
        (requests, "POST", _create_request),
        (requests + "/{request_id}", "GET", _get_request),
    ]
    return [
        api_route(api, path, method, _DATA, _bound(handler, store))
        for path, method, handler in table
    ]


def _bound(
    handler: Callable[[Call, V3Store], Response], store: V3Store
) -> Callable[[Call], Response]:
    return lambda call: handler(call, store)
