"""Payout API routes (truelayer-api-v3.md §4.2 rows 17–19, §4.8): create (signed,
idempotent), get, and the verified payout's authorization flow (with the payout's
resource token)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from ._api import PaymentsApi
from ._endpoint import Call, Spec, api_route
from ._payouts import Payout, render_beneficiary
from ._problems import PaymentsProblem, payments_json
from ._return_uris import check_return_uris
from ._validate import (
    REFERENCE,
    Errors,
    check_account_identifier,
    check_amount,
    check_metadata,
    raise_if_any,
    string_field,
)

__all__ = ["routes"]

_CURRENCIES = ("GBP", "EUR", "PLN")
_SCHEMES = (
    "faster_payments_service",
    "sepa_credit_transfer_instant",
    "sepa_credit_transfer",
    "polish_domestic_standard",
    "polish_domestic_express",
)
_FLOW = Spec(resource_token=True, resource_claim="payout_id", key="o")


def _check_beneficiary(errors: Errors, body: dict[str, Any]) -> None:
    where = "beneficiary"
    beneficiary = body.get("beneficiary")
    if not isinstance(beneficiary, dict):
        errors.add(where, "Required, must be an object.")
        return
    string_field(errors, beneficiary, "reference", f"{where}.reference", max_length=18,
                 pattern=REFERENCE)  # fmt: skip
    kind = beneficiary.get("type")
    if kind == "external_account":
        string_field(errors, beneficiary, "account_holder_name",
                     f"{where}.account_holder_name", max_length=40)  # fmt: skip
        check_account_identifier(
            errors, beneficiary.get("account_identifier"), f"{where}.account_identifier"
        )
    elif kind == "payment_source":
        string_field(errors, beneficiary, "payment_source_id", f"{where}.payment_source_id")
        string_field(errors, beneficiary, "user_id", f"{where}.user_id")
    elif kind == "user_determined":
        user = beneficiary.get("user")
        if not isinstance(user, dict):
            errors.add(f"{where}.user", "Required, must be an object.")
    elif kind != "business_account":
        errors.add(
            f"{where}.type",
            "Must be external_account, payment_source, business_account or user_determined.",
        )


def check_payout(body: dict[str, Any]) -> Errors:
    """Errors in a create-payout body."""
    errors = Errors()
    string_field(errors, body, "merchant_account_id", "merchant_account_id")
    check_amount(errors, body, "amount_in_minor", required=True)
    if body.get("currency") not in _CURRENCIES:
        errors.add("currency", "Must be GBP, EUR or PLN.")
    check_metadata(errors, body)
    _check_beneficiary(errors, body)
    scheme = body.get("scheme_selection")
    if scheme is not None:
        kind = scheme.get("type") if isinstance(scheme, dict) else None
        if kind == "preselected":
            if scheme.get("scheme_id") not in _SCHEMES:
                errors.add("scheme_selection.scheme_id", f"Must be one of {', '.join(_SCHEMES)}.")
        elif kind not in ("instant_preferred", "instant_only"):
            errors.add(
                "scheme_selection.type", "Must be instant_preferred, instant_only or preselected."
            )
    return errors


def create_payout(call: Call) -> Response:
    body = call.body
    raise_if_any(check_payout(body))
    api = call.api
    api.store.tick()
    account = api.store.ledger.find(str(body["merchant_account_id"]))
    errors = Errors()
    if account is None:
        errors.add("merchant_account_id", "Unknown merchant account.")
    elif account.currency != body["currency"]:
        errors.add("currency", f"Must be the merchant account's currency ({account.currency}).")
    beneficiary = body["beneficiary"]
    source = None
    if beneficiary["type"] == "payment_source":
        source = api.store.ledger.find_source(
            str(beneficiary["user_id"]), str(beneficiary["payment_source_id"])
        )
        if source is None:
            errors.add("beneficiary.payment_source_id", "No such payment source for this user.")
    raise_if_any(errors)
    user = beneficiary.get("user")
    if isinstance(user, dict) and not user.get("id"):
        beneficiary = {**beneficiary, "user": {**user, "id": str(secrets.token_hex(16))}}
    payout = api.payouts.create(call.client_id, body, render_beneficiary(beneficiary, source))
    if not payout.verified:
        return payments_json("POST", {"id": payout.id}, 202)
    token = api.token_for("payout_id", payout.id, payout.client_id)
    response = {
        "id": payout.id,
        "status": payout.status,
        "resource_token": token,
        "user": {"id": payout.beneficiary["user"]["id"]},
    }
    return payments_json("POST", response, 202)


def _payout(call: Call) -> Payout:
    caller = call.caller
    payout = call.api.payouts.find(call.param("id"), caller.client_id if caller else None)
    if payout is None:
        raise PaymentsProblem("not_found", "Payout not found.")
    return payout


def get_payout(call: Call) -> Response:
    return payments_json("GET", _payout(call).render())


def page_session(call: Call, payout: Payout) -> str:
    """The payouts hosted page for ``payout`` (a fresh session, no token in the URL)."""
    session = secrets.token_urlsafe(16)
    call.api.payouts.sessions[session] = payout.id
    return f"{call.base_url}/hpp/payouts/{session}"


def _verified(call: Call) -> Payout:
    payout = _payout(call)
    if not payout.verified:
        raise PaymentsProblem("invalid_state", "Only user-determined payouts have a flow.")
    return payout


def get_flow(call: Call) -> Response:
    payout = _verified(call)
    uri = page_session(call, payout) if payout.status == "authorizing" else ""
    return payments_json("GET", payout.flow(uri))


def start_flow(call: Call) -> Response:
    payout = _verified(call)
    redirect = call.body.get("redirect")
    return_uri = redirect.get("return_uri") if isinstance(redirect, dict) else None
    if not isinstance(return_uri, str) or not return_uri:
        raise_if_any(Errors({"redirect.return_uri": ["Required."]}))
    check_return_uris(call.api, call.client_id, call.body, "redirect.return_uri")
    if payout.status not in ("authorization_required", "authorizing"):
        return payments_json("POST", payout.flow(""))
    call.api.payouts.start_flow(payout, str(return_uri))
    return payments_json("POST", payout.flow(page_session(call, payout)))


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """Every payout route."""
    payout = "/v3/payouts/{id}"
    table: list[tuple[str, str, Spec, Any]] = [
        ("/v3/payouts", "POST", Spec(sign="Y", key="Y"), create_payout),
        (payout, "GET", Spec(), get_payout),
        (f"{payout}/authorization-flow", "GET", _FLOW, get_flow),
        (f"{payout}/authorization-flow", "POST", _FLOW, start_flow),
    ]
    return [api_route(api, path, method, spec, handler) for path, method, spec, handler in table]
