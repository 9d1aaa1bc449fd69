"""The payment authorization-flow engine (truelayer-api-v3.md §4.5).

Given the capabilities the client declared when it started the flow, the next action is
the first of these that still applies:

1. ``provider_selection`` — user-selected provider not chosen yet (providers filtered by
   the payment's ``filter``, its currency, and whether the client can render forms);
2. ``scheme_selection`` — the provider offers several schemes, the payment's
   ``scheme_selection`` is ``user_selected`` and the client declared ``scheme_selection``
   (otherwise the first scheme is taken);
3. ``form`` — the provider needs a branch (``mock-payments-es-branch-redirect``);
4. ``consent`` — the client declared ``consent``;
5. ``redirect`` — to the emulator's mock bank page;
6. ``wait`` — the bank answered but its outcome is not applied yet.

An action that does not match the current ``next`` answers 400 ``Invalid State``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ._problems import PaymentsProblem
from ._providers import Provider, find, search
from ._records import Payment

__all__ = ["ACTIONS", "apply_action", "flow_response", "next_action", "offered"]

#: URL segment of each action → the ``next.type`` it answers.
ACTIONS = {
    "provider-selection": "provider_selection",
    "scheme-selection": "scheme_selection",
    "form": "form",
    "consent": "consent",
    "user-account-selection": "user_account_selection",
}


def _selection(payment: Payment) -> dict[str, Any]:
    value: dict[str, Any] = payment.payment_method.get("provider_selection") or {}
    return value


def offered(payment: Payment) -> list[Provider]:
    """Providers a ``provider_selection`` action lists for this payment."""
    selection = _selection(payment)
    filter_: Mapping[str, Any] = selection.get("filter") or {}
    excludes: Mapping[str, Any] = filter_.get("excludes") or {}
    flow = payment.flow or {}
    forms = "select" in ((flow.get("form") or {}).get("input_types") or ())
    return search(
        countries=filter_.get("countries"),
        currencies=[payment.currency],
        release_channel=filter_.get("release_channel"),
        provider_ids=filter_.get("provider_ids"),
        excluded_ids=excludes.get("provider_ids") or (),
        forms=forms,
    )


def _provider(payment: Payment) -> Provider | None:
    return find(payment.provider_id) if payment.provider_id else None


def next_action(payment: Payment, bank_url: str) -> dict[str, Any] | None:
    """The current ``next`` action of an ``authorizing`` payment (``None`` otherwise)."""
    if payment.status == "attempt_failed":
        return {"type": "retry", "retry_options": ["Restart"]}
    if payment.status != "authorizing" or payment.flow is None:
        return None
    flow = payment.flow
    provider = _provider(payment)
    if provider is None:
        providers = offered(payment)
        return {
            "type": "provider_selection",
            "providers": [p.flow_entry() for p in providers],
        }
    if payment.scheme_id is None:
        return {
            "type": "scheme_selection",
            "schemes": [
                {"id": scheme, "recommended": i == 0} for i, scheme in enumerate(provider.schemes)
            ],
        }
    if provider.branches and payment.form_inputs is None:
        return {
            "type": "form",
            "inputs": [
                {
                    "type": "select",
                    "id": "branch",
                    "mandatory": True,
                    "display_text": {"default": "Your branch"},
                    "options": [
                        {"id": branch_id, "display_text": {"default": name}}
                        for branch_id, name in provider.branches
                    ],
                }
            ],
        }
    if "consent" in flow and not payment.consented:
        return {
            "type": "consent",
            "requirements": {"pis": {}},
            "subsequent_action_hint": "redirect",
        }
    if payment.outcome is None:
        if payment.bank_session is None:
            payment.bank_session = secrets.token_urlsafe(16)
        return {"type": "redirect", "uri": f"{bank_url}/{payment.bank_session}"}
    return {"type": "wait", "display_message": {"default": "Waiting for your bank."}}


def choose_provider(payment: Payment, provider_id: str) -> None:
    """Record the provider, and the scheme when no scheme choice is to be asked."""
    provider = find(provider_id)
    if provider is None:
        raise PaymentsProblem(
            "invalid_parameters", "Unknown provider.", {"provider_id": ["Unknown provider."]}
        )
    payment.provider_id = provider.id
    flow = payment.flow or {}
    scheme_selection = _selection(payment).get("scheme_selection") or {}
    wants_choice = scheme_selection.get("type") == "user_selected" and "scheme_selection" in flow
    if scheme_selection.get("type") == "preselected" and scheme_selection.get("scheme_id"):
        payment.scheme_id = str(scheme_selection["scheme_id"])
    elif len(provider.schemes) == 1 or not wants_choice:
        payment.scheme_id = provider.schemes[0]


def apply_action(payment: Payment, action: str, body: Mapping[str, Any], bank_url: str) -> None:
    """Apply one submitted action; 400 ``Invalid State`` when it is not the ``next`` one."""
    current = next_action(payment, bank_url)
    expected = ACTIONS[action]
    if current is None or current["type"] != expected:
        now = current["type"] if current else payment.status
        raise PaymentsProblem(
            "invalid_state", f"The payment does not expect {expected} now (next: {now})."
        )
    if expected == "provider_selection":
        provider_id = body.get("provider_id")
        if not isinstance(provider_id, str) or provider_id not in {
            p["id"] for p in current["providers"]
        }:
            raise PaymentsProblem(
                "invalid_parameters",
                "The provider is not one of those offered.",
                {"provider_id": ["Must be one of the providers offered."]},
            )
        choose_provider(payment, provider_id)
    elif expected == "scheme_selection":
        scheme_id = body.get("scheme_id")
        if scheme_id not in {s["id"] for s in current["schemes"]}:
            raise PaymentsProblem(
                "invalid_parameters",
                "The scheme is not one of those offered.",
                {"scheme_id": ["Must be one of the schemes offered."]},
            )
        payment.scheme_id = str(scheme_id)
    elif expected == "form":
        inputs = body.get("inputs")
        options = {o["id"] for o in current["inputs"][0]["options"]}
        if not isinstance(inputs, dict) or inputs.get("branch") not in options:
            raise PaymentsProblem(
                "invalid_parameters",
                "The form is incomplete.",
                {"inputs.branch": ["Must be one of the options offered."]},
            )
        payment.form_inputs = {"branch": str(inputs["branch"])}
    elif expected == "consent":
        payment.consented = True


def flow_response(payment: Payment, bank_url: str) -> dict[str, Any]:
    """The body of the start-flow and action endpoints (``PerformPaymentAction``)."""
    action = next_action(payment, bank_url)
    if payment.status == "failed" or action is None:
        return {
            "status": "failed",
            "failure_stage": payment.failure_stage or "authorizing",
            "failure_reason": payment.failure_reason or "invalid_state",
        }
    return {"status": "authorizing", "authorization_flow": {"actions": {"next": action}}}
