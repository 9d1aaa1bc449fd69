"""Payments v3 records held by the emulator: payments, refunds and payment links.

Times are unix seconds on the emulator clock; ``render_*`` turn records into the wire
shapes of payments-api-v3.json.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._timefmt import from_epoch, iso_micro_z

__all__ = ["Payment", "PaymentLink", "Refund", "iso"]

#: Statuses a payment never leaves.
TERMINAL = frozenset({"failed", "settled"})


def iso(seconds: float) -> str:
    """RFC 3339 UTC with microseconds."""
    return iso_micro_z(from_epoch(seconds))


@attrs.define
class Refund:
    """One refund of a settled payment: ``pending → authorized → executed | failed``."""

    id: str
    payment_id: str
    amount_in_minor: int
    currency: str
    reference: str
    metadata: dict[str, str] | None
    created_at: float
    status: str = "pending"
    authorize_at: float = 0.0
    execute_at: float = 0.0
    executed_at: float | None = None
    failed_at: float | None = None
    failure_reason: str | None = None
    #: Set by ``fail_refund``: the refund fails instead of executing.
    fail_with: str | None = None

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "amount_in_minor": self.amount_in_minor,
            "currency": self.currency,
            "reference": self.reference,
            "status": self.status,
            "created_at": iso(self.created_at),
        }
        if self.metadata:
            body["metadata"] = self.metadata
        if self.executed_at is not None:
            body["executed_at"] = iso(self.executed_at)
        if self.status == "failed":
            body["failed_at"] = iso(self.failed_at or self.created_at)
            body["failure_reason"] = self.failure_reason or "unknown"
        return body


@attrs.define
class Payment:
    """One payment and where its authorization flow stands."""

    id: str
    client_id: str
    amount_in_minor: int
    currency: str
    user: dict[str, Any]
    payment_method: dict[str, Any]
    created_at: float
    metadata: dict[str, str] | None = None
    status: str = "authorization_required"
    #: Declared front-end capabilities (the start-flow body), once started.
    flow: dict[str, Any] | None = None
    provider_id: str | None = None
    scheme_id: str | None = None
    form_inputs: dict[str, str] | None = None
    consented: bool = False
    #: The mock bank page's session id, once the flow reached ``redirect``.
    bank_session: str | None = None
    #: Chosen at the bank (or by ``authorize_payment``), applied at ``outcome_at``.
    outcome: str | None = None
    outcome_at: float = 0.0
    execution_delay: float = 0.0
    settlement_delay: float = 0.0
    execute_at: float | None = None
    settle_at: float | None = None
    authorized_at: float | None = None
    executed_at: float | None = None
    settled_at: float | None = None
    failed_at: float | None = None
    creditable_at: float | None = None
    failure_stage: str | None = None
    failure_reason: str | None = None
    payment_source_id: str | None = None
    link_id: str | None = None
    refunds: list[Refund] = attrs.field(factory=list)
    user_account_saved: bool = False
    #: A payment on a mandate: the mandate's beneficiary (its method names none).
    mandate_beneficiary: dict[str, Any] | None = None

    @property
    def beneficiary(self) -> dict[str, Any]:
        if self.mandate_beneficiary is not None:
            return self.mandate_beneficiary
        value: dict[str, Any] = self.payment_method.get("beneficiary") or {}
        return value

    @property
    def to_merchant_account(self) -> bool:
        return self.beneficiary.get("type") == "merchant_account"

    @property
    def retry_enabled(self) -> bool:
        return isinstance(self.payment_method.get("retry"), dict)

    def payment_source(self, *, settled: bool) -> dict[str, Any]:
        """The payer's account (the mock bank's one user)."""
        identifiers: list[dict[str, str]] = []
        if self.currency == "GBP":
            identifiers.append(
                {
                    "type": "sort_code_account_number",
                    "sort_code": "040668",
                    "account_number": "00000871",
                }
            )
        identifiers.append({"type": "iban", "iban": "GB32CLRB04066800000871"})
        source: dict[str, Any] = {
            "account_holder_name": "John Doe",
            "account_identifiers": identifiers,
        }
        if settled and self.payment_source_id is not None:
            source = {"id": self.payment_source_id, **source}
        return source

    def method_response(self) -> dict[str, Any]:
        """``payment_method`` as GET returns it (with the chosen provider and scheme)."""
        method = dict(self.payment_method)
        if method.get("type") != "bank_transfer":
            return method
        selection = dict(method.get("provider_selection") or {})
        if self.provider_id is not None:
            selection["provider_id"] = self.provider_id
        if self.scheme_id is not None:
            selection["scheme_id"] = self.scheme_id
        selection.pop("data_access_token", None)
        method["provider_selection"] = selection
        return method

    def method_event(self) -> dict[str, Any]:
        """``payment_method`` as webhooks carry it."""
        event: dict[str, Any] = {"type": self.payment_method.get("type", "bank_transfer")}
        if self.provider_id is not None:
            event["provider_id"] = self.provider_id
        if self.scheme_id is not None:
            event["scheme_id"] = self.scheme_id
        return event

    def refunded(self) -> int:
        """Minor units refunded or being refunded (failed refunds excluded)."""
        return sum(r.amount_in_minor for r in self.refunds if r.status != "failed")


@attrs.define
class PaymentLink:
    """A ``single_payment`` link: ``enabled → disabled`` (expired or fulfilled)."""

    id: str
    client_id: str
    configuration: dict[str, Any]
    created_at: float
    expires_at: float
    return_uri: str | None
    status: str = "enabled"
    disabled_reason: str | None = None
    disabled_at: float | None = None
    payment_ids: list[str] = attrs.field(factory=list)

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "type": "single_payment", "status": self.status}
        if self.disabled_reason is not None:
            body["disabled_reason"] = self.disabled_reason
        return body
