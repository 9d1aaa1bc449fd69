"""Payouts in the emulator (truelayer-api-v3.md §4.8): records, the clock-driven state
machine and the wire shapes.

``pending → authorized → executed`` (``payout_delay`` seconds each on the emulator clock),
or ``failed``; a ``user_determined`` (verified) payout first goes
``authorization_required → authorizing`` (its flow started) and waits for the user to
pick an account on the payouts hosted page (or ``fake.authorize_payout``). A payout
holds its amount from ``pending`` on; when the account's available balance is short it
fails with ``insufficient_funds`` instead of being authorized. ``fake.fail_payout`` fails
one with any reason; failing an ``executed`` payout (``returned``) credits the money
back. Each end sends ``payout_executed`` / ``payout_failed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import attrs

from ._ledger import BUSINESS_ACCOUNT, Ledger
from ._records import iso

__all__ = ["PAYER_ACCOUNT", "Payout", "PayoutStore"]

#: The account the mock user picks on the payouts hosted page.
PAYER_ACCOUNT: dict[str, Any] = {
    "account_holder_name": "John Doe",
    "account_identifiers": [
        {"type": "sort_code_account_number", "sort_code": "040668", "account_number": "00000871"},
        {"type": "iban", "iban": "GB32CLRB04066800000871"},
    ],
}
_SCHEMES = {
    "GBP": "faster_payments_service",
    "EUR": "sepa_credit_transfer_instant",
    "PLN": "polish_domestic_express",
}
#: The flow's ``failure_reason`` values (anything else completes as ``internal_error``).
FLOW_FAILURES = ("account_not_valid", "internal_error")


@attrs.define
class Payout:
    """One payout and where it stands."""

    id: str
    client_id: str
    merchant_account_id: str
    amount_in_minor: int
    currency: str
    #: The beneficiary as rendered (request form resolved to the response form).
    beneficiary: dict[str, Any]
    created_at: float
    scheme_id: str
    metadata: dict[str, str] | None = None
    status: str = "pending"
    held: bool = False
    fail_with: str | None = None
    authorize_at: float = 0.0
    execute_at: float = 0.0
    executed_at: float | None = None
    failed_at: float | None = None
    failure_reason: str | None = None
    #: Verified payouts: the flow's ``return_uri`` once started, and its outcome.
    flow_return_uri: str | None = None
    flow_failure: str | None = None
    flow_completed: bool = False

    @property
    def verified(self) -> bool:
        return self.beneficiary.get("type") == "user_determined"

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "merchant_account_id": self.merchant_account_id,
            "amount_in_minor": self.amount_in_minor,
            "currency": self.currency,
            "beneficiary": self.beneficiary,
            "scheme_id": self.scheme_id,
            "created_at": iso(self.created_at),
            "status": self.status,
        }
        if self.metadata:
            body["metadata"] = self.metadata
        if self.executed_at is not None:
            body["executed_at"] = iso(self.executed_at)
        if self.status == "failed":
            body["failed_at"] = iso(self.failed_at or self.created_at)
            body["failure_reason"] = self.failure_reason or "unknown"
        return body

    def flow(self, redirect_uri: str) -> dict[str, Any]:
        """The verified payout's authorization flow (``GET …/authorization-flow``)."""
        if self.flow_completed:
            done: dict[str, Any] = {"status": "completed"}
            if self.flow_failure is not None:
                done["failure_reason"] = self.flow_failure
            return done
        if self.flow_return_uri is None:
            return {"status": "created"}
        return {
            "status": "authorizing",
            "actions": {"next": {"type": "redirect", "uri": redirect_uri}},
        }


def render_beneficiary(body: dict[str, Any], source: dict[str, Any] | None) -> dict[str, Any]:
    """A checked request beneficiary in its response form (``source``: the payment source
    a ``payment_source`` beneficiary names)."""
    kind = body["type"]
    out: dict[str, Any] = {"type": kind, "reference": body["reference"]}
    if kind == "external_account":
        out["account_holder_name"] = body["account_holder_name"]
        out["account_identifiers"] = [dict(body["account_identifier"])]
    elif kind == "payment_source":
        assert source is not None
        out["payment_source_id"] = body["payment_source_id"]
        out["user_id"] = body["user_id"]
        out["account_holder_name"] = source["account_holder_name"]
        out["account_identifiers"] = list(source["account_identifiers"])
    elif kind == "business_account":
        out.update(BUSINESS_ACCOUNT)
    else:
        out["user"] = {"id": str((body.get("user") or {}).get("id"))}
        if isinstance(body.get("verification"), dict):
            out["verification"] = body["verification"]
    return out


Emit = Callable[[str, dict[str, Any]], None]


class PayoutStore:
    """Every payout of one emulator state (guarded by ``state.lock``)."""

    def __init__(
        self, clock: Callable[[], float], ledger: Ledger, delay: Callable[[], float], emit: Emit
    ) -> None:
        self.clock = clock
        self.ledger = ledger
        #: Seconds between ``pending → authorized`` and ``authorized → executed``.
        self.delay = delay
        self.emit = emit
        self.payouts: dict[str, Payout] = {}
        #: Payouts hosted-page session id → payout id.
        self.sessions: dict[str, str] = {}

    def create(self, client_id: str, body: dict[str, Any], beneficiary: dict[str, Any]) -> Payout:
        """A new payout from a checked body; verified payouts wait for their user."""
        scheme = body.get("scheme_selection") or {}
        currency = str(body["currency"])
        payout = Payout(
            id=str(uuid.uuid4()),
            client_id=client_id,
            merchant_account_id=str(body["merchant_account_id"]),
            amount_in_minor=int(body["amount_in_minor"]),
            currency=currency,
            beneficiary=beneficiary,
            created_at=self.clock(),
            scheme_id=str(scheme.get("scheme_id") or _SCHEMES[currency]),
            metadata=dict(body["metadata"]) if body.get("metadata") else None,
        )
        self.payouts[payout.id] = payout
        if payout.verified:
            payout.status = "authorization_required"
        else:
            self._pending(payout)
        return payout

    def find(self, payout_id: str, client_id: str | None = None) -> Payout | None:
        self.tick()
        payout = self.payouts.get(payout_id)
        if payout is None or (client_id is not None and payout.client_id != client_id):
            return None
        return payout

    def _pending(self, payout: Payout) -> None:
        now = self.clock()
        payout.status = "pending"
        payout.authorize_at = now + self.delay()
        payout.execute_at = now + 2 * self.delay()
        account = self.ledger.find(payout.merchant_account_id)
        if account is None or account.available < payout.amount_in_minor:
            payout.fail_with = payout.fail_with or "insufficient_funds"
            return
        account.held += payout.amount_in_minor
        payout.held = True

    def start_flow(self, payout: Payout, return_uri: str) -> None:
        """``authorization_required → authorizing`` (again: the flow's return URI only)."""
        payout.flow_return_uri = return_uri
        if payout.status == "authorization_required":
            payout.status = "authorizing"

    def decide(self, payout: Payout, outcome: str) -> None:
        """The user's answer to a verified payout: ``authorized`` (the mock user's account)
        or a flow failure (``account_not_valid``, ``internal_error``)."""
        if payout.status not in ("authorization_required", "authorizing"):
            raise ValueError(f"payout {payout.id} is {payout.status}, not awaiting its user")
        payout.flow_completed = True
        if outcome == "authorized":
            payout.beneficiary = {**payout.beneficiary, **PAYER_ACCOUNT}
            payout.beneficiary.pop("verification", None)
            self._pending(payout)
            return
        if outcome not in FLOW_FAILURES:
            raise ValueError(f"outcome must be authorized or one of {', '.join(FLOW_FAILURES)}")
        payout.flow_failure = outcome
        self.fail(payout, outcome)

    def fail(self, payout: Payout, reason: str, at: float | None = None) -> None:
        """Fail ``payout`` now (an ``executed`` one is returned: its money comes back)."""
        now = self.clock() if at is None else at
        account = self.ledger.find(payout.merchant_account_id)
        if payout.held and account is not None:
            account.held -= payout.amount_in_minor
            payout.held = False
        if payout.status == "executed" and account is not None:
            self.ledger.external_payment(
                account, payout.amount_in_minor, now, reference="Returned", return_for=payout.id
            )
        payout.status = "failed"
        payout.failed_at = now
        payout.failure_reason = reason
        self._event(payout, "payout_failed", failed_at=iso(now), failure_reason=reason)

    def tick(self) -> None:
        now = self.clock()
        for payout in list(self.payouts.values()):
            if payout.status == "pending" and now >= payout.authorize_at:
                if payout.fail_with is not None:
                    self.fail(payout, payout.fail_with, payout.authorize_at)
                    continue
                payout.status = "authorized"
            if payout.status == "authorized" and now >= payout.execute_at:
                self._execute(payout, payout.execute_at)

    def _execute(self, payout: Payout, at: float) -> None:
        account = self.ledger.find(payout.merchant_account_id)
        assert account is not None and payout.held
        account.held -= payout.amount_in_minor
        payout.held = False
        payout.status = "executed"
        payout.executed_at = at
        body: dict[str, Any] = {
            "status": "executed",
            "created_at": iso(payout.created_at),
            "executed_at": iso(at),
            "beneficiary": {
                k: v for k, v in payout.beneficiary.items() if k not in ("user", "verification")
            },
            "context_code": "withdrawal",
            "payout_id": payout.id,
            "scheme_id": payout.scheme_id,
        }
        if payout.metadata:
            body["metadata"] = payout.metadata
        self.ledger.record(account, "payout", payout.amount_in_minor, at, body)
        self._event(payout, "payout_executed", executed_at=iso(at), scheme_id=payout.scheme_id)

    def _event(self, payout: Payout, kind: str, **fields: Any) -> None:
        payload: dict[str, Any] = {
            "type": kind,
            "event_id": str(uuid.uuid4()),
            "event_version": 1,
            "payout_id": payout.id,
            "beneficiary": payout.beneficiary,
            **fields,
        }
        if payout.metadata:
            payload["metadata"] = payout.metadata
        self.emit(payout.client_id, payload)
