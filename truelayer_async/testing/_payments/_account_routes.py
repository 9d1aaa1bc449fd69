"""Merchant-account API routes (truelayer-api-v3.md §4.2 rows 20–25): accounts,
transactions (cursor pages), payment sources and sweeping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from .. import _cursor
from ._api import PaymentsApi
from ._endpoint import Call, Spec, api_route
from ._ledger import MerchantAccount
from ._problems import PaymentsProblem, payments_json
from ._validate import Errors, raise_if_any

__all__ = ["PAGE_SIZE", "routes"]

#: Transactions per page.
PAGE_SIZE = 25
#: The widest ``from``–``to`` window TrueLayer serves.
MAX_WINDOW = 31 * 86_400.0
#: How long (emulator seconds) a transactions cursor stays valid.
CURSOR_TTL = 3600.0
_FREQUENCIES = ("daily", "weekly", "fortnightly")


def _account(call: Call) -> MerchantAccount:
    call.api.store.tick()
    account = call.api.store.ledger.find(call.param("id"))
    if account is None:
        raise PaymentsProblem("not_found", "Merchant account not found.")
    return account


def list_accounts(call: Call) -> Response:
    call.api.store.tick()
    items = [a.render() for a in call.api.store.ledger.all()]
    return payments_json("GET", {"items": items})


def get_account(call: Call) -> Response:
    return payments_json("GET", _account(call).render())


def _instant(errors: Errors, query: Any, name: str) -> float | None:
    value = query.get(name)
    if value is None:
        errors.add(name, "Required.")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.add(name, "Must be an ISO-8601 date-time with an offset.")
        return None
    return parsed.timestamp()


def transactions(call: Call) -> Response:
    account = _account(call)
    query = call.request.query_params
    errors = Errors()
    start, end = _instant(errors, query, "from"), _instant(errors, query, "to")
    kind = query.get("type")
    if kind is not None and kind not in ("payment", "payout"):
        errors.add("type", "Must be payment or payout.")
    if start is not None and end is not None:
        if start >= end:
            errors.add("to", "Must be after from.")
        elif end - start > MAX_WINDOW:
            errors.add("to", "Must be at most 31 days after from.")
    raise_if_any(errors)
    assert start is not None and end is not None
    listing = {"a": account.id, "f": start, "t": end, "y": kind}
    offset = 0
    if "cursor" in query:
        fields = _cursor.decode(query["cursor"]) or {}
        offset = _cursor.offset(query["cursor"], **listing)
        if offset < 0 or call.api.state.clock() >= fields.get("e", 0):
            raise PaymentsProblem(
                "invalid_parameters", "Invalid cursor", {"cursor": ["Invalid cursor."]}
            )
    found = account.between(start, end, kind)
    page = found[offset : offset + PAGE_SIZE]
    body: dict[str, Any] = {"items": [t.render() for t in page], "pagination": {}}
    if offset + PAGE_SIZE < len(found):
        expires = call.api.state.clock() + CURSOR_TTL
        next_cursor = _cursor.encode({**listing, "o": offset + PAGE_SIZE, "e": expires})
        body["pagination"]["next_cursor"] = next_cursor
    return payments_json("GET", body)


def payment_sources(call: Call) -> Response:
    account = _account(call)
    user_id = call.request.query_params.get("user_id")
    if not user_id:
        raise_if_any(Errors({"user_id": ["Required."]}))
    sources = list(account.sources.get(str(user_id), {}).values())
    return payments_json("GET", {"items": sources})


def setup_sweeping(call: Call) -> Response:
    account = _account(call)
    body = call.body
    errors = Errors()
    amount = body.get("max_amount_in_minor")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        errors.add("max_amount_in_minor", "Required, an integer of at least 0.")
        amount = 0
    frequency = body.get("frequency", "daily")
    if frequency not in _FREQUENCIES:
        errors.add("frequency", "Must be daily, weekly or fortnightly.")
    if body.get("currency", account.currency) != account.currency:
        errors.add("currency", f"Must be the account's currency ({account.currency}).")
    raise_if_any(errors)
    call.api.store.ledger.set_sweeping(account, amount, frequency, call.api.state.clock())
    return payments_json("POST", None, 204)


def get_sweeping(call: Call) -> Response:
    account = _account(call)
    if account.sweeping is None:
        raise PaymentsProblem("not_found", "Sweeping is not set up for this account.")
    return payments_json("GET", account.sweeping.render(account.currency))


def disable_sweeping(call: Call) -> Response:
    account = _account(call)
    account.sweeping = None
    return payments_json("DELETE", None, 204)


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """Every merchant-account route."""
    account = "/v3/merchant-accounts/{id}"
    signed = Spec(sign="Y", key="o")
    table: list[tuple[str, str, Spec, Any]] = [
        ("/v3/merchant-accounts", "GET", Spec(), list_accounts),
        (account, "GET", Spec(), get_account),
        (f"{account}/transactions", "GET", Spec(), transactions),
        (f"{account}/payment-sources", "GET", Spec(), payment_sources),
        (f"{account}/sweeping", "POST", signed, setup_sweeping),
        (f"{account}/sweeping", "GET", Spec(), get_sweeping),
        (f"{account}/sweeping", "DELETE", signed, disable_sweeping),
    ]
    return [api_route(api, path, method, spec, handler) for path, method, spec, handler in table]
