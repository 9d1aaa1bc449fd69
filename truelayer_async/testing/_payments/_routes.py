"""Payments v3 API routes: payments, the authorization flow, cancel, refunds, provider
return, providers and payment links (truelayer-api-v3.md §4.2 rows 1–16 and 37–39)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.routing import BaseRoute

from .. import _cursor
from .._timefmt import parse_bound
from ._api import PaymentsApi
from ._endpoint import Call, Spec, api_route
from ._flow import ACTIONS, apply_action, choose_provider, flow_response
from ._mandate_routes import pay_on_mandate
from ._problems import PaymentsProblem, payments_json
from ._providers import find as find_provider
from ._providers import search
from ._records import Payment, PaymentLink
from ._render import render_payment
from ._return_uris import check_return_uris
from ._validate import Errors, check_payment, check_refund, check_start_flow, raise_if_any

__all__ = ["routes", "start_flow"]

_SIGNED = Spec(sign="Y", key="Y")
_FLOW = Spec(resource_token=True, sign="C", key="o")
_REFUNDS = ("payments", "payments:refund")
_LINKS = ("payments", "payment_links", "payment_links:create")


def _payment(call: Call) -> Payment:
    caller = call.caller
    payment = call.api.store.find(call.param("id"), caller.client_id if caller else None)
    if payment is None:
        raise PaymentsProblem("not_found", "Payment not found.")
    return payment


def start_flow(call_api: PaymentsApi, payment: Payment, config: dict[str, Any]) -> None:
    """``authorization_required`` (or ``attempt_failed``) → ``authorizing`` with ``config``."""
    if payment.status == "attempt_failed":
        call_api.store.restart(payment)
    elif payment.status != "authorization_required":
        raise PaymentsProblem(
            "invalid_state",
            f"The authorization flow cannot start: the payment is {payment.status}.",
        )
    selection = payment.payment_method.get("provider_selection") or {}
    if selection.get("type") == "user_selected" and "provider_selection" not in config:
        raise PaymentsProblem(
            "invalid_parameters",
            "A user-selected provider needs the provider_selection capability.",
            {"provider_selection": ["Required for user_selected providers."]},
        )
    payment.status = "authorizing"
    payment.flow = config
    if payment.provider_id is not None:
        choose_provider(payment, payment.provider_id)


# -- payments ---------------------------------------------------------------------------


def create_payment(call: Call) -> Response:
    body = call.body
    raise_if_any(check_payment(body))
    method = body["payment_method"]
    if method.get("type") == "mandate":
        return _created_on_mandate(call)
    flow = body.get("authorization_flow")
    if flow is not None:
        raise_if_any(check_start_flow(flow, "authorization_flow") if isinstance(flow, dict)
                     else Errors({"authorization_flow": ["Must be an object."]}))  # fmt: skip
    check_return_uris(
        call.api,
        call.client_id,
        body,
        "hosted_page.return_uri",
        "authorization_flow.redirect.return_uri",
    )
    payment = call.api.store.create(call.client_id, body)
    token = call.api.resource_token(payment)
    response: dict[str, Any] = {
        "id": payment.id,
        "user": {"id": payment.user["id"]},
        "resource_token": token,
        "status": "authorization_required",
    }
    if isinstance(flow, dict):
        start_flow(call.api, payment, flow)
        response["status"] = "authorizing"
        response["authorization_flow"] = flow_response(payment, call.bank_url)[
            "authorization_flow"
        ]
    page = body.get("hosted_page")
    if isinstance(page, dict):
        response["hosted_page"] = {"uri": hosted_page_uri(call.base_url, payment.id, token, page)}
    return payments_json("POST", response, 201)


def _created_on_mandate(call: Call) -> Response:
    payment = pay_on_mandate(call.api, call.client_id, call.body)
    response: dict[str, Any] = {
        "id": payment.id,
        "user": {"id": payment.user["id"]},
        "resource_token": call.api.resource_token(payment),
        "status": payment.status,
    }
    if payment.status == "failed":
        response["failure_stage"] = payment.failure_stage
        response["failure_reason"] = payment.failure_reason
    return payments_json("POST", response, 201)


def hosted_page_uri(base_url: str, payment_id: str, token: str, page: dict[str, Any]) -> str:
    """The emulator's HPP link for a payment (parameters in the fragment)."""
    from urllib.parse import urlencode

    params = {"payment_id": payment_id, "resource_token": token, "return_uri": page["return_uri"]}
    if page.get("max_wait_for_result") is not None:
        params["max_wait_for_result"] = str(page["max_wait_for_result"])
    return f"{base_url}/hpp/payments#{urlencode(params)}"


def get_payment(call: Call) -> Response:
    return payments_json("GET", render_payment(_payment(call), call.bank_url))


def start_authorization_flow(call: Call) -> Response:
    payment = _payment(call)
    raise_if_any(check_start_flow(call.body))
    check_return_uris(call.api, call.client_id, call.body, "redirect.return_uri")
    start_flow(call.api, payment, call.body)
    return payments_json("POST", flow_response(payment, call.bank_url))


def _action(name: str) -> Any:
    def handler(call: Call) -> Response:
        payment = _payment(call)
        apply_action(payment, name, call.body, call.bank_url)
        return payments_json("POST", flow_response(payment, call.bank_url))

    return handler


def cancel(call: Call) -> Response:
    payment = _payment(call)
    if payment.status not in ("authorization_required", "authorizing", "attempt_failed"):
        raise PaymentsProblem(
            "invalid_state", f"A payment that is {payment.status} cannot be canceled."
        )
    call.api.store.fail(payment, payment.status, "canceled")
    return payments_json("POST", None, 202)


def save_user_account(call: Call) -> Response:
    payment = _payment(call)
    if not payment.to_merchant_account:
        raise PaymentsProblem(
            "invalid_state", "Only payments into a merchant account (closed loop) can save it."
        )
    payment.user_account_saved = True
    return payments_json("POST", None, 202)


def provider_return(call: Call) -> Response:
    params: dict[str, list[str]] = {}
    for name in ("query", "fragment"):
        value = call.body.get(name)
        if isinstance(value, str):
            for key, values in parse_qs(value.lstrip("?#")).items():
                params.setdefault(key, []).extend(values)
    store = call.api.store
    mandate_id = _returned_mandate(call.api, params)
    if mandate_id is not None:
        return payments_json("POST", {"resource": {"type": "mandate", "mandate_id": mandate_id}})
    payment_id = next(iter(params.get("payment_id", [])), None)
    if payment_id is None:
        state = next(iter(params.get("state", [])), None)
        payment_id = next(
            (p.id for p in store.payments.values() if state and p.bank_session == state), None
        )
    if payment_id is None or store.find(payment_id) is None:
        raise PaymentsProblem(
            "invalid_parameters",
            "The provider return parameters name no payment.",
            {"query": ["No payment_id or state of a known payment."]},
        )
    return payments_json("POST", {"resource": {"type": "payment", "payment_id": payment_id}})


def _returned_mandate(api: PaymentsApi, params: dict[str, list[str]]) -> str | None:
    """The mandate a provider return names (``mandate_id``, or its bank session)."""
    mandates = api.mandates.mandates
    mandate_id = next(iter(params.get("mandate_id", [])), None)
    if mandate_id in mandates:
        return mandate_id
    state = next(iter(params.get("state", [])), None)
    return next((m.id for m in mandates.values() if state and m.bank_session == state), None)


# -- refunds ----------------------------------------------------------------------------


def create_refund(call: Call) -> Response:
    payment = _payment(call)
    raise_if_any(check_refund(call.body))
    if not payment.to_merchant_account or payment.status != "settled":
        raise PaymentsProblem(
            "invalid_state", "Only settled payments into a merchant account can be refunded."
        )
    remaining = payment.amount_in_minor - payment.refunded()
    amount = call.body.get("amount_in_minor", remaining)
    if amount > remaining or remaining == 0:
        raise PaymentsProblem(
            "invalid_parameters",
            "The refunds would exceed the payment amount.",
            {"amount_in_minor": [f"At most {remaining} can still be refunded."]},
        )
    metadata = call.body.get("metadata")
    refund = call.api.store.refund(payment, amount, call.body["reference"], metadata)
    return payments_json("POST", {"id": refund.id}, 202)


def list_refunds(call: Call) -> Response:
    payment = _payment(call)
    return payments_json("GET", {"items": [r.render() for r in payment.refunds]})


def get_refund(call: Call) -> Response:
    payment = _payment(call)
    refund_id = call.param("refund_id")
    refund = next((r for r in payment.refunds if r.id == refund_id), None)
    if refund is None:
        raise PaymentsProblem("not_found", "Refund not found.")
    return payments_json("GET", refund.render())


# -- providers --------------------------------------------------------------------------


def search_providers(call: Call) -> Response:
    body = call.body
    if not isinstance(body.get("authorization_flow"), dict):
        raise_if_any(Errors({"authorization_flow": ["Required."]}))
    configuration = body["authorization_flow"].get("configuration") or {}
    form = configuration.get("form") or {}
    found = search(
        countries=body.get("countries"),
        currencies=body.get("currencies"),
        release_channel=body.get("release_channel"),
        capabilities=body.get("capabilities"),
        forms="select" in (form.get("input_types") or ()),
    )
    return payments_json("POST", {"items": [p.resource(search=True) for p in found]})


def get_provider(call: Call) -> Response:
    provider = find_provider(call.param("provider_id"))
    if provider is None:
        raise PaymentsProblem("not_found", "Provider not found.")
    return payments_json("GET", provider.resource())


# -- payment links ----------------------------------------------------------------------


def create_link(call: Call) -> Response:
    body = dict(call.body)
    errors = Errors()
    if body.get("type") != "single_payment":
        errors.add("type", "Must be single_payment.")
    configuration = body.get("payment_configuration")
    if not isinstance(configuration, dict):
        errors.add("payment_configuration", "Required, must be an object.")
    else:
        for field, messages in check_payment(
            {**configuration, "user": configuration.get("user", {})}
        ).items():
            errors.setdefault(f"payment_configuration.{field}", []).extend(messages)
        if (configuration.get("payment_method") or {}).get("type") != "bank_transfer":
            errors.add("payment_configuration.payment_method.type", "Must be bank_transfer.")
    if "expires_at" in body:
        try:
            body["_expires_at"] = parse_bound(
                str(body["expires_at"]), end_of_day=False
            ).timestamp()
        except ValueError:
            errors.add("expires_at", "Must be an RFC 3339 date-time.")
    raise_if_any(errors)
    check_return_uris(call.api, call.client_id, body, "return_uri")
    link = call.api.store.create_link(call.client_id, body)
    return payments_json("POST", {"id": link.id, "uri": f"{call.base_url}/links/{link.id}"}, 201)


def _link(call: Call) -> PaymentLink:
    call.api.store.tick()
    link = call.api.store.links.get(call.param("id"))
    if link is None or link.client_id != call.client_id:
        raise PaymentsProblem("not_found", "Payment link not found.")
    return link


def get_link(call: Call) -> Response:
    return payments_json("GET", _link(call).render())


_LINK_STATUS = {"executed": "succeeded", "settled": "succeeded", "failed": "failed"}


def link_payments(call: Call) -> Response:
    link = _link(call)
    query = call.request.query_params
    errors = Errors()
    limit = 25
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            limit = 0
        if not 1 <= limit <= 50:
            errors.add("limit", "Must be an integer from 1 to 50.")
    start = 0
    if "cursor" in query:
        start = _cursor.offset(query["cursor"], l=link.id)
        if start < 0:
            errors.add("cursor", "Invalid cursor.")
    raise_if_any(errors)
    ids = link.payment_ids[start : start + limit]
    items = []
    store = call.api.store
    for payment_id in ids:
        payment = store.payments[payment_id]
        items.append(
            {
                "id": payment.id,
                "status": _LINK_STATUS.get(payment.status, "pending"),
                "created_at": payment_created(payment),
            }
        )
    body: dict[str, Any] = {"items": items, "pagination": {}}
    if start + limit < len(link.payment_ids):
        body["pagination"]["next_cursor"] = _cursor.encode({"o": start + limit, "l": link.id})
    return payments_json("GET", body)


def payment_created(payment: Payment) -> str:
    from ._records import iso

    return iso(payment.created_at)


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """Every Payments v3 API route."""
    payment = "/v3/payments/{id}"
    table: list[tuple[str, str, Spec, Any]] = [
        ("/v3/payments", "POST", _SIGNED, create_payment),
        (payment, "GET", Spec(resource_token=True), get_payment),
        (f"{payment}/authorization-flow", "POST", _FLOW, start_authorization_flow),
        *[
            (f"{payment}/authorization-flow/actions/{name}", "POST", _FLOW, _action(name))
            for name in ACTIONS
        ],
        (
            f"{payment}/actions/cancel",
            "POST",
            Spec(resource_token=True, sign="Y", key="Y"),
            cancel,
        ),
        (
            f"{payment}/actions/save-user-account",
            "POST",
            Spec(resource_token=True, sign="Y", key="Y"),
            save_user_account,
        ),
        (f"{payment}/refunds", "POST", Spec(_REFUNDS, sign="Y", key="Y"), create_refund),
        (f"{payment}/refunds", "GET", Spec(_REFUNDS), list_refunds),
        (f"{payment}/refunds/{{refund_id}}", "GET", Spec(_REFUNDS), get_refund),
        ("/v3/payments-provider-return", "POST", Spec(auth="none", key="o"), provider_return),
        ("/v3/payments-providers/search", "POST", Spec(), search_providers),
        ("/v3/payments-providers/{provider_id}", "GET", Spec(auth="optional"), get_provider),
        ("/v3/payment-links", "POST", Spec(_LINKS, sign="Y", key="Y"), create_link),
        ("/v3/payment-links/{id}", "GET", Spec(_LINKS), get_link),
        ("/v3/payment-links/{id}/payments", "GET", Spec(_LINKS), link_payments),
    ]
    return [api_route(api, path, method, spec, handler) for path, method, spec, handler in table]
