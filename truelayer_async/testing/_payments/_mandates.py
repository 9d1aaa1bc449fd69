"""VRP mandates in the emulator (truelayer-api-v3.md §4.9): records, the authorization
flow, constraints and what they allow, and the webhooks.

``authorization_required → authorizing`` (flow started) ``→ authorized`` (the mock bank,
the hosted page or ``fake.authorize_mandate``) ``→ revoked`` (``revoke``, or the user at
the bank: ``fake.revoke_mandate``); or ``failed`` at the bank. The flow's ``next``:
``provider_selection`` (a user-selected provider not chosen yet), ``consent`` (when the
client declared it), ``redirect`` (the mock bank page), then ``wait``.

A payment on a mandate (``payment_method.type = mandate``) is checked against it: a
revoked mandate fails it with ``mandate_revoked``, one not authorized with
``invalid_mandate_state``, another currency or an amount over
``maximum_individual_amount`` or over what a period has left with
``constraint_violation``. Payments that pass need no user: they are authorized at once
and execute (and settle, into a merchant account) on the clock.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from ._periods import in_window, window
from ._providers import Provider, find, search
from ._records import iso

__all__ = ["PAYER_BALANCE", "Mandate", "MandateStore"]

#: The mock user's balance, for funds confirmation (minor units).
PAYER_BALANCE = 500_000
_REMITTER = {
    "account_holder_name": "John Doe",
    "account_identifier": {
        "type": "sort_code_account_number",
        "sort_code": "040668",
        "account_number": "00000871",
    },
}
#: The return URI of a flow nobody started (a driver decided): the Console's default.
CONSOLE_RETURN = "https://console.truelayer.com/redirect-page"
#: What the bank (or a test) may answer: ``authorized`` or a failure reason.
MANDATE_OUTCOMES = ("authorized", "authorization_failed", "provider_rejected", "canceled")


@attrs.define
class Mandate:
    """One VRP mandate and where its flow stands."""

    id: str
    client_id: str
    type: str
    currency: str
    user: dict[str, Any]
    body: dict[str, Any]
    constraints: dict[str, Any]
    created_at: float
    metadata: dict[str, str] | None = None
    status: str = "authorization_required"
    flow: dict[str, Any] | None = None
    provider_id: str | None = None
    consented: bool = False
    bank_session: str | None = None
    authorized_at: float | None = None
    failed_at: float | None = None
    failure_stage: str | None = None
    failure_reason: str | None = None
    revoked_at: float | None = None
    revocation_source: str | None = None
    #: (created_at, amount) of each payment taken on it (failed ones excluded).
    payments: list[tuple[float, int]] = attrs.field(factory=list)

    @property
    def beneficiary(self) -> dict[str, Any]:
        value: dict[str, Any] = self.body.get("beneficiary") or {}
        return value

    @property
    def selection(self) -> dict[str, Any]:
        value: dict[str, Any] = self.body.get("provider_selection") or {}
        return value

    def render(self, bank_url: str) -> dict[str, Any]:
        selection = dict(self.selection)
        if self.provider_id is not None:
            selection["provider_id"] = self.provider_id
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "currency": self.currency,
            "beneficiary": self.beneficiary,
            "reference": self.body.get("reference") or self.id[:18],
            "provider_selection": selection,
            "user": {"id": self.user["id"]},
            "created_at": iso(self.created_at),
            "constraints": public_constraints(self.constraints),
            "status": self.status,
        }
        if self.body.get("statement_reference"):
            out["statement_reference"] = self.body["statement_reference"]
        if self.metadata:
            out["metadata"] = self.metadata
        if self.flow is not None:
            # The frozen configuration documents only these two capabilities.
            keys = ("provider_selection", "redirect")
            configuration = {k: v for k, v in self.flow.items() if k in keys}
            out["authorization_flow"] = {"configuration": configuration}
            if self.status == "authorizing":
                out["authorization_flow"]["actions"] = {"next": next_action(self, bank_url)}
        if self.authorized_at is not None:
            out["authorized_at"] = iso(self.authorized_at)
        if self.status == "authorized":
            out["remitter"] = dict(_REMITTER)
        if self.status == "failed":
            out["failed_at"] = iso(self.failed_at or self.created_at)
            out["failure_stage"] = self.failure_stage
            out["failure_reason"] = self.failure_reason
        if self.status == "revoked":
            out["revoked_at"] = iso(self.revoked_at or self.created_at)
            out["revocation_source"] = self.revocation_source
        return out

    # -- constraints -----------------------------------------------------------------------

    def _anchor(self) -> float:
        valid_from = self.constraints.get("_valid_from")
        return float(valid_from if valid_from is not None else self.authorized_at or 0.0)

    def usage(self, now: float) -> dict[str, Any]:
        """``GET …/constraints``: each period's window, amount used and left."""
        limits: dict[str, Any] = {}
        for period, limit in (self.constraints.get("periodic_limits") or {}).items():
            alignment = limit.get("period_alignment", "calendar")
            first, last = window(period, alignment, now, self._anchor())
            used = sum(a for at, a in self.payments if in_window(at, first, last))
            limits[period] = {
                "period_alignment": alignment,
                "maximum_available_amount": max(0, limit["maximum_amount"] - used),
                "current_amount": used,
                "start_date": first.isoformat(),
                "end_date": last.isoformat(),
            }
        body = public_constraints(self.constraints)
        body["periodic_limits"] = limits
        return body

    def refusal(self, amount: int, currency: str, now: float) -> str | None:
        """Why a payment of ``amount`` fails now (``None``: it may go)."""
        if self.status == "revoked":
            return "mandate_revoked"
        if self.status != "authorized":
            return "invalid_mandate_state"
        if currency != self.currency or amount > self.constraints["maximum_individual_amount"]:
            return "constraint_violation"
        valid_to = self.constraints.get("_valid_to")
        if now < self.constraints.get("_valid_from", 0) or (valid_to and now >= valid_to):
            return "constraint_violation"
        usage = self.usage(now)["periodic_limits"]
        if any(amount > limit["maximum_available_amount"] for limit in usage.values()):
            return "constraint_violation"
        return None


def public_constraints(constraints: dict[str, Any]) -> dict[str, Any]:
    """The constraints as sent (without the parsed ``_valid_from``/``_valid_to``)."""
    return {k: v for k, v in constraints.items() if not k.startswith("_")}


def vrp_providers(mandate: Mandate) -> list[Provider]:
    """The providers a mandate's ``provider_selection`` action offers."""
    return search(currencies=[mandate.currency], capabilities={"mandates": {"vrp": {}}})


def next_action(mandate: Mandate, bank_url: str) -> dict[str, Any] | None:
    """The ``next`` action of an ``authorizing`` mandate."""
    if mandate.status != "authorizing" or mandate.flow is None:
        return None
    if mandate.provider_id is None:
        return {
            "type": "provider_selection",
            "providers": [p.flow_entry() for p in vrp_providers(mandate)],
        }
    if "consent" in mandate.flow and not mandate.consented:
        return {"type": "consent", "subsequent_action_hint": "redirect"}
    if mandate.bank_session is None:
        mandate.bank_session = secrets.token_urlsafe(16)
    return {"type": "redirect", "uri": f"{bank_url}/{mandate.bank_session}"}


Emit = Callable[[str, dict[str, Any]], None]


class MandateStore:
    """Every mandate of one emulator state (guarded by ``state.lock``)."""

    def __init__(self, clock: Callable[[], float], emit: Emit) -> None:
        self.clock = clock
        self.emit = emit
        self.mandates: dict[str, Mandate] = {}
        #: Mandates hosted-page session id → (mandate id, return_uri).
        self.sessions: dict[str, tuple[str, str]] = {}

    def create(self, client_id: str, body: dict[str, Any], constraints: dict[str, Any]) -> Mandate:
        user = dict(body.get("user") or {})
        user.setdefault("id", str(uuid.uuid4()))
        mandate = Mandate(
            id=str(uuid.uuid4()),
            client_id=client_id,
            type=str(body["mandate"]["type"]),
            currency=str(body["currency"]),
            user=user,
            body=dict(body["mandate"]),
            constraints=constraints,
            created_at=self.clock(),
            metadata=dict(body["metadata"]) if body.get("metadata") else None,
        )
        if mandate.selection.get("type") == "preselected":
            mandate.provider_id = str(mandate.selection.get("provider_id"))
        self.mandates[mandate.id] = mandate
        return mandate

    def find(self, mandate_id: str, client_id: str | None = None) -> Mandate | None:
        mandate = self.mandates.get(mandate_id)
        if mandate is None or (client_id is not None and mandate.client_id != client_id):
            return None
        return mandate

    def start(self, mandate: Mandate, flow: dict[str, Any]) -> None:
        mandate.status = "authorizing"
        mandate.flow = flow

    def choose_provider(self, mandate: Mandate, provider_id: str) -> bool:
        """Record the provider (``False`` when it is not a VRP provider on offer)."""
        if provider_id not in {p.id for p in vrp_providers(mandate)} or find(provider_id) is None:
            return False
        mandate.provider_id = provider_id
        return True

    def decide(self, mandate: Mandate, outcome: str) -> None:
        """The bank's answer: ``authorized`` or a failure reason (``authorization_failed``,
        ``provider_rejected``, ``canceled``)."""
        if mandate.status not in ("authorization_required", "authorizing"):
            raise ValueError(f"mandate {mandate.id} is {mandate.status}, not awaiting its bank")
        if outcome not in MANDATE_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(MANDATE_OUTCOMES)}")
        now = self.clock()
        if mandate.flow is None:  # decided by a test driver before any flow started
            mandate.flow = {"provider_selection": {}, "redirect": {"return_uri": CONSOLE_RETURN}}
        if outcome == "authorized":
            if mandate.provider_id is None:
                offered = vrp_providers(mandate)
                mandate.provider_id = offered[0].id if offered else None
            mandate.status = "authorized"
            mandate.authorized_at = now
            self._event(mandate, "mandate_authorized", authorized_at=iso(now))
            return
        mandate.status = "failed"
        mandate.failed_at = now
        mandate.failure_stage = "authorizing"
        mandate.failure_reason = outcome
        self._event(
            mandate,
            "mandate_failed",
            failed_at=iso(now),
            failure_stage="authorizing",
            failure_reason=outcome,
        )

    def revoke(self, mandate: Mandate, source: str) -> None:
        """``authorized → revoked`` (by the ``client`` or the ``provider``)."""
        if mandate.status != "authorized":
            raise ValueError(f"a mandate that is {mandate.status} cannot be revoked")
        now = self.clock()
        mandate.status = "revoked"
        mandate.revoked_at = now
        mandate.revocation_source = source
        self._event(mandate, "mandate_revoked", revoked_at=iso(now), revocation_source=source)

    def _event(self, mandate: Mandate, kind: str, **fields: Any) -> None:
        payload: dict[str, Any] = {
            "type": kind,
            "event_id": str(uuid.uuid4()),
            "event_version": 1,
            "mandate_id": mandate.id,
            **fields,
        }
        if mandate.metadata:
            payload["metadata"] = mandate.metadata
        self.emit(mandate.client_id, payload)
