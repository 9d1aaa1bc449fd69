"""Signup+ in the emulator (truelayer-api-v3.md §7.4, §8 item 19).

* ``GET /signup-plus/payments?payment_id=…`` (client token with ``signupplus``): the
  payment must be into a merchant account and ``settled`` (GBP) or ``executed`` (EUR,
  Finland), else 400 [E]. The answer follows the sandbox's amount bands: < 1 800 test
  user 1; 1 800–2 099 user 2; 2 100–2 199 user 3; 2 200–9 999 (reserved) user 1;
  10 000–24 999 400 "joint accounts not supported"; ≥ 25 000 404 "user data not found".
* Finland: ``POST /signup-plus/authuri`` ``{payment_id, state?}`` → ``{auth_uri}``, a page
  whose button answers 303 to the client's first registered redirect URI with
  ``authorization_reference`` (and ``state``) [E]; a EUR payment's look-up needs that
  ``authorization_reference`` and adds ``national_identification_number`` and ``sex``.
* ``GET /signup-plus/mandates?mandate_id=…``: an ``authorized`` VRP mandate answers test
  user 1; another status 400, an unknown mandate 404 [E].
* ``GET /signup-plus/accounts`` with a user token holding ``signupplus`` (the UK data-only
  flow): the persona's identity and first account [E].

Problems use ``…/signup-errors#<slug>`` types and carry ``Tl-Trace-Id``.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import _html
from ._dialog import redirect_with
from ._payments import PaymentsApi
from ._payments._endpoint import Call, Spec, api_route
from ._payments._problems import JSON_UTF8, PROBLEM_UTF8, payments_headers, payments_json
from ._responses import json_response
from ._state import TokenRejected

__all__ = ["TEST_USERS", "routes"]

_TYPE = "https://docs.truelayer.com/docs/signup-errors#"
_SCOPE = Spec(scopes=("signupplus",))


def _user(
    first: str, last: str, born: str, line1: str, city: str, zip_: str, number: str
) -> dict[str, Any]:
    return {
        "title": "Mx",
        "first_name": first,
        "last_name": last,
        "date_of_birth": born,
        "address": {"address_line1": line1, "city": city, "zip": zip_, "country": "GB"},
        "account_details": {
            "account_number": number,
            "sort_code": "04-00-04",
            "iban": f"GB29MOCK040004{number}",
            "provider_id": "mock-payments-gb-redirect",
        },
    }


#: The sandbox's three UK test users (fictional people).
TEST_USERS: tuple[dict[str, Any], ...] = (
    _user(
        "Sherlock", "Holmes", "1854-01-06", "221B Baker Street", "London", "NW1 6XE", "10000001"
    ),
    _user("John", "Watson", "1852-08-07", "221B Baker Street", "London", "NW1 6XE", "10000002"),
    _user("Martha", "Hudson", "1830-03-20", "221A Baker Street", "London", "NW1 6XE", "10000003"),
)
_FINNISH = {
    "first_name": "Aino",
    "last_name": "Virtanen",
    "date_of_birth": "1990-02-14",
    "national_identification_number": "140290-999X",
    "sex": "F",
    "address": {
        "address_line1": "Mannerheimintie 1",
        "city": "Helsinki",
        "zip": "00100",
        "country": "FI",
    },
    "account_details": {"iban": "FI2112345600000785", "provider_id": "mock-payments-fi-redirect"},
}


class _Problem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


def _problem(method: str, problem: _Problem) -> Response:
    headers = payments_headers(method)
    body = {
        "type": _TYPE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "trace_id": headers["Tl-Trace-Id"],
    }
    return json_response(body, problem.status, headers=headers, content_type=PROBLEM_UTF8)


_NOT_FOUND = _Problem(404, "user-data-not-found", "User Data Not Found", "No data for this user.")


def _band(amount: int) -> dict[str, Any]:
    if amount < 1800:
        return TEST_USERS[0]
    if amount < 2100:
        return TEST_USERS[1]
    if amount < 2200:
        return TEST_USERS[2]
    if amount < 10_000:
        return TEST_USERS[0]  # reserved: the sandbox answers a default test user
    if amount < 25_000:
        raise _Problem(
            400,
            "joint-accounts-not-supported",
            "Joint Accounts Not Supported",
            "Signup+ does not support joint accounts.",
        )
    raise _NOT_FOUND


class _Finland:
    """Finnish authorisations: session → (payment id, state), reference → payment id."""

    def __init__(self) -> None:
        self.sessions: dict[str, tuple[str, str | None]] = {}
        self.references: dict[str, str] = {}


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """The Signup+ API routes and the Finnish authorisation page."""
    finland = _Finland()

    def guarded(handler: Any) -> Any:
        def run(call: Call) -> Response:
            try:
                return handler(call)  # type: ignore[no-any-return]
            except _Problem as problem:
                return _problem(call.request.method, problem)

        return run

    def by_payment(call: Call) -> Response:
        payment_id = call.request.query_params.get("payment_id", "")
        payment = api.store.find(payment_id, call.client_id)
        if payment is None:
            raise _Problem(404, "payment-not-found", "Payment Not Found", "Payment not found.")
        beneficiary = payment.payment_method.get("beneficiary") or {}
        if beneficiary.get("type") != "merchant_account":
            raise _Problem(
                400,
                "invalid-payment",
                "Invalid Payment",
                "Signup+ needs a payment into a merchant account.",
            )
        finnish = payment.currency == "EUR"
        wanted = "executed" if finnish else "settled"
        if payment.status not in (wanted, "settled"):
            raise _Problem(
                400,
                "invalid-payment-status",
                "Invalid Payment Status",
                f"The payment must be {wanted}; it is {payment.status}.",
            )
        if finnish:
            reference = call.request.query_params.get("authorization_reference")
            if reference is None or finland.references.get(reference) != payment.id:
                raise _Problem(
                    400,
                    "authorization-required",
                    "Authorization Required",
                    "Finnish payments need the authorization_reference.",
                )
            return payments_json("GET", _FINNISH)
        return payments_json("GET", _band(payment.amount_in_minor))

    def by_mandate(call: Call) -> Response:
        mandate_id = call.request.query_params.get("mandate_id", "")
        mandate = api.mandates.find(mandate_id, call.client_id)
        if mandate is None:
            raise _Problem(404, "mandate-not-found", "Mandate Not Found", "Mandate not found.")
        if mandate.status != "authorized":
            raise _Problem(
                400,
                "invalid-mandate-status",
                "Invalid Mandate Status",
                f"The mandate must be authorized; it is {mandate.status}.",
            )
        return payments_json("GET", TEST_USERS[0])

    def auth_uri(call: Call) -> Response:
        payment_id = call.body.get("payment_id")
        state = call.body.get("state")
        payment = (
            api.store.find(payment_id, call.client_id) if isinstance(payment_id, str) else None
        )
        if payment is None:
            raise _Problem(404, "payment-not-found", "Payment Not Found", "Payment not found.")
        session = secrets.token_urlsafe(16)
        finland.sessions[session] = (payment.id, state if isinstance(state, str) else None)
        uri = f"{call.base_url}/signup-plus/fi-bank/{session}"
        return json_response(
            {"auth_uri": uri}, 200, headers=payments_headers("POST"), content_type=JSON_UTF8
        )

    async def bank_page(request: Request) -> Response:
        session = request.path_params["session"]
        with api.state.lock:
            found = finland.sessions.get(session)
        if found is None:
            return HTMLResponse(_html.error_page("invalid_session", "Unknown session."), 404)
        if request.method == "GET":
            body = (
                f'<form id="fi-form" method="post" action="/signup-plus/fi-bank/{session}">'
                '<button type="submit" id="authorise">Share my details</button></form>'
            )
            return HTMLResponse(_html._page("bank", "Finnish bank (emulator)", body))
        with api.state.lock:
            finland.sessions.pop(session, None)
            reference = secrets.token_urlsafe(16)
            finland.references[reference] = found[0]
            client = api.state.clients.get(_client_of(api, found[0]))
            target = client.redirect_uris[0] if client and client.redirect_uris else "/"
        params = {"authorization_reference": reference}
        if found[1] is not None:
            params["state"] = found[1]
        return RedirectResponse(redirect_with(target, params), 303)

    async def data_only(request: Request) -> Response:
        with api.state.lock:
            try:
                connection = api.state.authenticate(request.headers.get("authorization"))
            except TokenRejected as exc:
                problem = _Problem(401, "unauthenticated", "Unauthenticated", exc.description)
                return _problem("GET", problem)
            if "signupplus" not in connection.scopes:
                problem = _Problem(403, "forbidden", "Forbidden", "The token lacks signupplus.")
                return _problem("GET", problem)
            data = connection.data()
        first, _, last = data.holder_name.partition(" ")
        account = data.accounts[0] if data.accounts else None
        identity: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": "1980-01-01",
            "address": TEST_USERS[0]["address"],
        }
        if account is not None:
            identity["account_details"] = {
                "account_number": account.number,
                "sort_code": account.sort_code,
                "iban": account.iban,
                "provider_id": connection.provider_id,
            }
        return payments_json("GET", identity)

    return [
        api_route(api, "/signup-plus/payments", "GET", _SCOPE, guarded(by_payment)),
        api_route(api, "/signup-plus/mandates", "GET", _SCOPE, guarded(by_mandate)),
        api_route(api, "/signup-plus/authuri", "POST", _SCOPE, guarded(auth_uri)),
        Route("/signup-plus/fi-bank/{session}", bank_page, methods=["GET", "POST"]),
        Route("/signup-plus/accounts", data_only, methods=["GET"]),
    ]


def _client_of(api: PaymentsApi, payment_id: str) -> str:
    payment = api.store.payments.get(payment_id)
    return payment.client_id if payment is not None else ""
