"""Mandate API routes (truelayer-api-v3.md §4.2 rows 26–36, §4.9): create (signed,
idempotent), list (cursor pages), get, the authorization flow, revoke, funds and
constraints; and ``pay_on_mandate`` for ``POST /v3/payments`` with a mandate method.

Scopes: ``recurring_payments:sweeping`` / ``recurring_payments:commercial`` (TrueLayer's
docs) or ``mandates`` (its OpenAPI document). Creating a mandate needs the scope of its
type (or ``mandates``); every other call any of the three.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from .. import _cursor
from ._api import PaymentsApi
from ._endpoint import Call, Spec, api_route
from ._mandates import PAYER_BALANCE, Mandate, next_action
from ._periods import PERIODS
from ._problems import PaymentsProblem, payments_json
from ._providers import find
from ._records import Payment, iso
from ._return_uris import check_return_uris
from ._validate import (
    REFERENCE,
    Errors,
    check_account_identifier,
    check_metadata,
    raise_if_any,
    string_field,
)

__all__ = ["MANDATE_SCOPES", "pay_on_mandate", "routes"]

MANDATE_SCOPES = ("recurring_payments:sweeping", "recurring_payments:commercial", "mandates")
#: The most a single payment on a mandate may be.
MAX_INDIVIDUAL = 100_000_000
_FLOW = Spec(MANDATE_SCOPES, resource_token=True, resource_claim="mandate_id", sign="C", key="o")


def _instant(errors: Errors, body: dict[str, Any], name: str, where: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.add(where, "Must be an RFC 3339 date-time.")
        return None
    return parsed.timestamp()


def check_constraints(errors: Errors, body: dict[str, Any]) -> dict[str, Any]:
    """Errors in ``constraints``; returns them with ``_valid_from``/``_valid_to`` parsed."""
    constraints = body.get("constraints")
    if not isinstance(constraints, dict):
        errors.add("constraints", "Required, must be an object.")
        return {}
    most = constraints.get("maximum_individual_amount")
    if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= MAX_INDIVIDUAL:
        errors.add(
            "constraints.maximum_individual_amount", f"An integer from 1 to {MAX_INDIVIDUAL}."
        )
        most = 1
    limits = constraints.get("periodic_limits")
    if not isinstance(limits, dict) or not limits:
        errors.add("constraints.periodic_limits", "Required: at least one period.")
        limits = {}
    for period, limit in limits.items():
        where = f"constraints.periodic_limits.{period}"
        if period not in PERIODS or not isinstance(limit, dict):
            errors.add(where, f"Must be one of {', '.join(PERIODS)}, an object.")
            continue
        amount = limit.get("maximum_amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < most:
            errors.add(
                f"{where}.maximum_amount", "An integer of at least maximum_individual_amount."
            )
        if limit.get("period_alignment") not in ("consent", "calendar"):
            errors.add(f"{where}.period_alignment", "Must be consent or calendar.")
    parsed = dict(constraints)
    for name in ("valid_from", "valid_to"):
        value = _instant(errors, constraints, name, f"constraints.{name}")
        if value is not None:
            parsed[f"_{name}"] = value
    return parsed


def check_mandate(body: dict[str, Any]) -> tuple[Errors, dict[str, Any]]:
    """Errors in a create-mandate body, and its parsed constraints."""
    errors = Errors()
    mandate = body.get("mandate")
    if not isinstance(mandate, dict):
        errors.add("mandate", "Required, must be an object.")
        mandate = {}
    elif mandate.get("type") not in ("sweeping", "commercial"):
        errors.add("mandate.type", "Must be sweeping or commercial (VRP).")
    for name in ("reference", "statement_reference"):
        string_field(errors, mandate, name, f"mandate.{name}", required=False, max_length=18,
                     pattern=REFERENCE)  # fmt: skip
    selection = mandate.get("provider_selection")
    kind = selection.get("type") if isinstance(selection, dict) else None
    if kind == "preselected":
        assert isinstance(selection, dict)
        provider = find(str(selection.get("provider_id")))
        if provider is None or not provider.vrp:
            errors.add("mandate.provider_selection.provider_id", "Not a VRP provider.")
    elif kind != "user_selected":
        errors.add("mandate.provider_selection.type", "Must be user_selected or preselected.")
    beneficiary = mandate.get("beneficiary")
    where = "mandate.beneficiary"
    kind = beneficiary.get("type") if isinstance(beneficiary, dict) else None
    if kind == "merchant_account":
        assert isinstance(beneficiary, dict)
        string_field(errors, beneficiary, "merchant_account_id", f"{where}.merchant_account_id")
    elif kind == "external_account":
        assert isinstance(beneficiary, dict)
        string_field(errors, beneficiary, "account_holder_name", f"{where}.account_holder_name")
        check_account_identifier(
            errors, beneficiary.get("account_identifier"), f"{where}.account_identifier"
        )
    else:
        errors.add(f"{where}.type", "Must be merchant_account or external_account.")
    if body.get("currency") not in ("GBP", "EUR"):
        errors.add("currency", "Must be GBP or EUR.")
    if not isinstance(body.get("user"), dict):
        errors.add("user", "Required, must be an object.")
    check_metadata(errors, body)
    return errors, check_constraints(errors, body)


def create_mandate(call: Call) -> Response:
    body = call.body
    errors, constraints = check_mandate(body)
    raise_if_any(errors)
    assert call.caller is not None
    wanted = {f"recurring_payments:{body['mandate']['type']}", "mandates"}
    if not wanted & call.caller.scopes:
        raise PaymentsProblem(
            "forbidden",
            f"The access token lacks the recurring_payments:{body['mandate']['type']} scope.",
        )
    mandate = call.api.mandates.create(call.client_id, body, constraints)
    token = call.api.token_for("mandate_id", mandate.id, mandate.client_id)
    response = {
        "id": mandate.id,
        "user": {"id": mandate.user["id"]},
        "status": mandate.status,
        "resource_token": token,
    }
    return payments_json("POST", response, 201)


def _mandate(call: Call) -> Mandate:
    caller = call.caller
    mandate = call.api.mandates.find(call.param("id"), caller.client_id if caller else None)
    if mandate is None:
        raise PaymentsProblem("not_found", "Mandate not found.")
    return mandate


def bank_url(call: Call) -> str:
    return call.base_url + "/mock-bank/mandates"


def get_mandate(call: Call) -> Response:
    return payments_json("GET", _mandate(call).render(bank_url(call)))


def list_mandates(call: Call) -> Response:
    query = call.request.query_params
    errors = Errors()
    limit = 25
    if "limit" in query:
        limit = int(query["limit"]) if query["limit"].isdigit() else 0
        if not 1 <= limit <= 50:
            errors.add("limit", "Must be an integer from 1 to 50.")
    user_id = query.get("user_id")
    start = 0
    if "cursor" in query:
        start = _cursor.offset(query["cursor"], u=user_id, m="mandates")
        if start < 0:
            errors.add("cursor", "Invalid cursor.")
    raise_if_any(errors)
    found = [
        m
        for m in call.api.mandates.mandates.values()
        if m.client_id == call.client_id and (user_id is None or m.user["id"] == user_id)
    ]
    page = found[start : start + limit]
    body: dict[str, Any] = {"items": [m.render(bank_url(call)) for m in page], "pagination": {}}
    if start + limit < len(found):
        body["pagination"]["next_cursor"] = _cursor.encode(
            {"o": start + limit, "u": user_id, "m": "mandates"}
        )
    return payments_json("GET", body)


def _flow_response(call: Call, mandate: Mandate) -> Response:
    if mandate.status == "failed":
        body: dict[str, Any] = {
            "status": "failed",
            "failure_stage": mandate.failure_stage,
            "failure_reason": mandate.failure_reason,
        }
    else:
        action = next_action(mandate, bank_url(call))
        body = {"status": "authorizing", "authorization_flow": {"actions": {"next": action}}}
    return payments_json("POST", body)


def start_flow(call: Call) -> Response:
    mandate = _mandate(call)
    errors = Errors()
    if not isinstance(call.body.get("provider_selection"), dict):
        errors.add("provider_selection", "Required, must be an object.")
    redirect = call.body.get("redirect")
    if not isinstance(redirect, dict) or not redirect.get("return_uri"):
        errors.add("redirect.return_uri", "Required.")
    raise_if_any(errors)
    check_return_uris(call.api, call.client_id, call.body, "redirect.return_uri")
    if mandate.status != "authorization_required":
        raise PaymentsProblem(
            "invalid_state",
            f"The authorization flow cannot start: the mandate is {mandate.status}.",
        )
    call.api.mandates.start(mandate, call.body)
    return _flow_response(call, mandate)


def _expect(call: Call, mandate: Mandate, kind: str) -> None:
    current = next_action(mandate, bank_url(call))
    if current is None or current["type"] != kind:
        now = current["type"] if current else mandate.status
        raise PaymentsProblem(
            "invalid_state", f"The mandate does not expect {kind} now (next: {now})."
        )


def provider_selection(call: Call) -> Response:
    mandate = _mandate(call)
    _expect(call, mandate, "provider_selection")
    provider_id = call.body.get("provider_id")
    if not isinstance(provider_id, str) or not call.api.mandates.choose_provider(
        mandate, provider_id
    ):
        raise PaymentsProblem(
            "invalid_parameters",
            "The provider is not one of those offered.",
            {"provider_id": ["Must be one of the providers offered."]},
        )
    return _flow_response(call, mandate)


def consent(call: Call) -> Response:
    mandate = _mandate(call)
    _expect(call, mandate, "consent")
    mandate.consented = True
    return _flow_response(call, mandate)


def revoke(call: Call) -> Response:
    mandate = _mandate(call)
    if mandate.status != "authorized":
        raise PaymentsProblem(
            "invalid_state", f"A mandate that is {mandate.status} cannot be revoked."
        )
    call.api.mandates.revoke(mandate, "client")
    return payments_json("POST", None, 204)


def _authorized(mandate: Mandate) -> None:
    if mandate.status != "authorized":
        raise PaymentsProblem("invalid_state", f"The mandate is {mandate.status}, not authorized.")


def funds(call: Call) -> Response:
    mandate = _mandate(call)
    query = call.request.query_params
    errors = Errors()
    amount = query.get("amount_in_minor", "")
    if not amount.isdigit() or int(amount) < 1:
        errors.add("amount_in_minor", "Required, an integer of at least 1.")
    if query.get("currency") not in ("GBP", "EUR"):
        errors.add("currency", "Required: GBP or EUR.")
    raise_if_any(errors)
    _authorized(mandate)
    confirmed = int(amount) <= PAYER_BALANCE and query["currency"] == mandate.currency
    now = iso(call.api.state.clock())
    return payments_json("GET", {"confirmed": confirmed, "confirmed_at": now})


def constraints(call: Call) -> Response:
    mandate = _mandate(call)
    _authorized(mandate)
    return payments_json("GET", mandate.usage(call.api.state.clock()))


def pay_on_mandate(api: PaymentsApi, client_id: str, body: dict[str, Any]) -> Payment:
    """A payment on a mandate: authorized at once (it then runs on the clock), or failed
    with ``mandate_revoked``, ``invalid_mandate_state`` or ``constraint_violation``."""
    method = body["payment_method"]
    mandate = api.mandates.find(str(method.get("mandate_id")), client_id)
    if mandate is None:
        raise PaymentsProblem(
            "invalid_parameters",
            "Unknown mandate.",
            {"payment_method.mandate_id": ["No such mandate."]},
        )
    payment = api.store.create(client_id, {**body, "user": body.get("user") or mandate.user})
    payment.mandate_beneficiary = mandate.beneficiary
    payment.provider_id = mandate.provider_id
    now = api.state.clock()
    reason = mandate.refusal(payment.amount_in_minor, payment.currency, now)
    if reason is not None:
        api.store.fail(payment, "authorization_required", reason)
        return payment
    mandate.payments.append((now, payment.amount_in_minor))
    payment.status = "authorizing"
    api.store.decide(payment, "executed")
    return payment


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """Every mandate route."""
    mandate = "/v3/mandates/{id}"
    plain = Spec(MANDATE_SCOPES)
    read = Spec(MANDATE_SCOPES, resource_token=True, resource_claim="mandate_id")
    table: list[tuple[str, str, Spec, Any]] = [
        ("/v3/mandates", "POST", Spec(MANDATE_SCOPES, sign="Y", key="Y"), create_mandate),
        ("/v3/mandates", "GET", plain, list_mandates),
        (mandate, "GET", read, get_mandate),
        (f"{mandate}/authorization-flow", "POST", _FLOW, start_flow),
        (
            f"{mandate}/authorization-flow/actions/provider-selection",
            "POST",
            _FLOW,
            provider_selection,
        ),
        (f"{mandate}/authorization-flow/actions/consent", "POST", _FLOW, consent),
        (f"{mandate}/revoke", "POST", Spec(MANDATE_SCOPES, sign="Y", key="Y"), revoke),
        (f"{mandate}/funds", "GET", plain, funds),
        (f"{mandate}/constraints", "GET", plain, constraints),
    ]
    return [api_route(api, path, method, spec, handler) for path, method, spec, handler in table]
