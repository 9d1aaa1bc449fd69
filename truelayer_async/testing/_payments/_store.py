"""Payments v3 state: payments, refunds and links, and the clock-driven state machine.

``authorization_required → authorizing → authorized → executed → settled`` (merchant
account; external-account payments stop at ``executed``), or ``failed`` /
``attempt_failed``. The bank's answer (an *outcome*) is applied ``authorization_delay``
seconds after it was given; execution follows ``execution_delay`` seconds later and
settlement ``settlement_delay`` seconds after that, all on the emulator clock. ``tick()``
applies whatever is due; the routes call it before reading anything, and
``FakeTrueLayer.advance`` after moving the clock. Each transition sends its webhook.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

from .._clock import EmulatorClock
from ._ledger import Ledger
from ._records import Payment, PaymentLink, Refund, iso

__all__ = ["OUTCOMES", "Outcome", "PaymentsStore", "Timing"]

#: What the bank (or the test) decides for an authorization.
Outcome = Literal["executed", "authorization_failed", "execution_rejected", "canceled"]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]

#: The mock bank page's sandbox usernames (truelayer-api-v3.md §4.14).
USERNAMES: dict[str, Outcome] = {
    "test_executed": "executed",
    "test_authorisation_failed": "authorization_failed",
    "test_execution_rejected": "execution_rejected",
}


class Timing:
    """Delays (emulator seconds) of the automatic transitions."""

    def __init__(
        self,
        *,
        authorization_delay: float = 0.0,
        execution_delay: float = 1.0,
        settlement_delay: float = 1.0,
        refund_delay: float = 1.0,
        payout_delay: float = 1.0,
        link_ttl: float = 86_400.0,
        resource_token_ttl: int = 3600,
        verification_delay: float = 1.0,
    ) -> None:
        self.authorization_delay = authorization_delay
        self.execution_delay = execution_delay
        self.settlement_delay = settlement_delay
        self.refund_delay = refund_delay
        self.payout_delay = payout_delay
        self.link_ttl = link_ttl
        self.resource_token_ttl = resource_token_ttl
        #: How long an account holder verification request stays ``pending``.
        self.verification_delay = verification_delay


Emit = Callable[[str, dict[str, Any]], None]


class PaymentsStore:
    """Every payment, refund and link of one emulator state (guarded by ``state.lock``)."""

    def __init__(self, clock: EmulatorClock, timing: Timing, emit: Emit) -> None:
        self.clock = clock
        self.timing = timing
        #: ``emit(client_id, payload)`` sends a signed v3 webhook to that client.
        self.emit = emit
        self.payments: dict[str, Payment] = {}
        self.links: dict[str, PaymentLink] = {}
        #: bank session id → payment id; HPP session id → (payment id, return_uri).
        self.hpp_sessions: dict[str, tuple[str, str]] = {}
        #: Merchant accounts: settled payments credit them, executed refunds debit them.
        self.ledger = Ledger()
        #: Run by ``tick()`` after the payments (payouts, mandates, sweeps).
        self.tickers: list[Callable[[], None]] = []

    # -- creating ------------------------------------------------------------------------

    def create(self, client_id: str, body: Mapping[str, Any]) -> Payment:
        """A new ``authorization_required`` payment from a checked create body."""
        user = dict(body.get("user") or {})
        user.setdefault("id", str(uuid.uuid4()))
        payment = Payment(
            id=str(uuid.uuid4()),
            client_id=client_id,
            amount_in_minor=int(body["amount_in_minor"]),
            currency=str(body["currency"]),
            user=user,
            payment_method=dict(body["payment_method"]),
            created_at=self.clock(),
            metadata=dict(body["metadata"]) if body.get("metadata") else None,
        )
        selection = payment.payment_method.get("provider_selection") or {}
        if selection.get("type") == "preselected":
            payment.provider_id = str(selection.get("provider_id"))
            scheme = selection.get("scheme_selection") or {}
            if scheme.get("type") == "preselected" and scheme.get("scheme_id"):
                payment.scheme_id = str(scheme["scheme_id"])
        self.payments[payment.id] = payment
        return payment

    def find(self, payment_id: str, client_id: str | None = None) -> Payment | None:
        """The payment (of ``client_id``, when given), with due transitions applied."""
        self.tick()
        payment = self.payments.get(payment_id)
        if payment is None or (client_id is not None and payment.client_id != client_id):
            return None
        return payment

    # -- outcomes ------------------------------------------------------------------------

    def decide(
        self,
        payment: Payment,
        outcome: Outcome,
        *,
        execution_delay: float | None = None,
        settlement_delay: float | None = None,
    ) -> None:
        """Record the bank's answer; it is applied after ``authorization_delay``."""
        if payment.status not in ("authorization_required", "authorizing"):
            raise ValueError(f"payment {payment.id} is {payment.status}, not awaiting its bank")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        payment.status = "authorizing"
        payment.outcome = outcome
        payment.outcome_at = self.clock() + self.timing.authorization_delay
        payment.execution_delay = (
            self.timing.execution_delay if execution_delay is None else execution_delay
        )
        payment.settlement_delay = (
            self.timing.settlement_delay if settlement_delay is None else settlement_delay
        )
        self.tick()

    def fail(self, payment: Payment, stage: str, reason: str, at: float | None = None) -> None:
        """Move ``payment`` to ``failed`` (or ``attempt_failed`` when it opted into retries
        and failed while authorizing) and send ``payment_failed``."""
        now = self.clock() if at is None else at
        payment.failed_at = now
        payment.failure_stage = stage
        payment.failure_reason = reason
        retry = payment.retry_enabled and stage == "authorizing" and reason != "canceled"
        payment.status = "attempt_failed" if retry else "failed"
        if payment.status == "failed":
            self._event(
                payment,
                "payment_failed",
                failed_at=iso(now),
                failure_stage=stage,
                failure_reason=reason,
            )
            self._link_payment_done(payment)

    def restart(self, payment: Payment) -> None:
        """``attempt_failed`` → ``authorizing`` with a fresh flow (the ``retry`` action)."""
        payment.provider_id = payment.scheme_id = None
        payment.form_inputs = None
        payment.consented = False
        payment.bank_session = payment.outcome = None
        payment.failure_stage = payment.failure_reason = None
        payment.failed_at = None

    # -- the clock -----------------------------------------------------------------------

    def tick(self) -> None:
        """Apply every transition that is due on the clock."""
        now = self.clock()
        for payment in list(self.payments.values()):
            self._advance(payment, now)
            for refund in payment.refunds:
                self._advance_refund(payment, refund, now)
        for link in self.links.values():
            if link.status == "enabled" and now >= link.expires_at:
                self.disable_link(link, "expired", link.expires_at)
        for ticker in self.tickers:
            ticker()
        self.ledger.tick(now)

    def _advance(self, payment: Payment, now: float) -> None:
        if payment.status == "authorizing" and payment.outcome and now >= payment.outcome_at:
            at = payment.outcome_at
            if payment.outcome == "authorization_failed":
                self.fail(payment, "authorizing", "authorization_failed", at)
            elif payment.outcome == "canceled":
                self.fail(payment, "authorizing", "user_canceled_at_provider", at)
            else:
                payment.status = "authorized"
                payment.authorized_at = at
                payment.execute_at = at + payment.execution_delay
                self._event(
                    payment,
                    "payment_authorized",
                    authorized_at=iso(at),
                    payment_source=payment.payment_source(settled=False),
                )
        if (
            payment.status == "authorized"
            and payment.execute_at is not None
            and now >= payment.execute_at
        ):
            at = payment.execute_at
            if payment.outcome == "execution_rejected":
                self.fail(payment, "authorized", "provider_rejected", at)
                return
            payment.status = "executed"
            payment.executed_at = at
            self._event(
                payment,
                "payment_executed",
                executed_at=iso(at),
                payment_source=payment.payment_source(settled=False),
            )
            if payment.to_merchant_account:
                payment.settle_at = at + payment.settlement_delay
            else:
                self._link_payment_done(payment)
        if (
            payment.status == "executed"
            and payment.settle_at is not None
            and now >= payment.settle_at
        ):
            at = payment.settle_at
            payment.status = "settled"
            payment.settled_at = payment.creditable_at = at
            payment.payment_source_id = str(uuid.uuid4())
            self._event(
                payment,
                "payment_settled",
                settled_at=iso(at),
                payment_source=payment.payment_source(settled=True),
                user_id=payment.user["id"],
            )
            self._event(payment, "payment_creditable", creditable_at=iso(at), method=False)
            self._credit(payment, at)
            self._link_payment_done(payment)

    def _credit(self, payment: Payment, at: float) -> None:
        if payment.to_merchant_account:
            self.ledger.payment_settled(
                str(payment.beneficiary.get("merchant_account_id")),
                payment_id=payment.id,
                amount=payment.amount_in_minor,
                currency=payment.currency,
                at=at,
                source=payment.payment_source(settled=True),
                user_id=str(payment.user["id"]),
                metadata=payment.metadata,
            )

    # -- refunds -------------------------------------------------------------------------

    def refund(
        self, payment: Payment, amount: int, reference: str, metadata: dict[str, str] | None
    ) -> Refund:
        """A new ``pending`` refund (checks are the caller's)."""
        now = self.clock()
        refund = Refund(
            id=str(uuid.uuid4()),
            payment_id=payment.id,
            amount_in_minor=amount,
            currency=payment.currency,
            reference=reference,
            metadata=metadata,
            created_at=now,
            authorize_at=now + self.timing.refund_delay,
            execute_at=now + 2 * self.timing.refund_delay,
        )
        payment.refunds.append(refund)
        return refund

    def _advance_refund(self, payment: Payment, refund: Refund, now: float) -> None:
        if refund.status == "pending" and now >= refund.authorize_at:
            refund.status = "authorized"
        if refund.status == "authorized" and now >= refund.execute_at:
            if refund.fail_with is not None:
                self.fail_refund(payment, refund, refund.fail_with, refund.execute_at)
                return
            refund.status = "executed"
            refund.executed_at = refund.execute_at
            self.ledger.refund_executed(
                str(payment.beneficiary.get("merchant_account_id")),
                refund_id=refund.id,
                payment_id=payment.id,
                amount=refund.amount_in_minor,
                currency=refund.currency,
                at=refund.execute_at,
                created_at=refund.created_at,
                beneficiary={
                    "type": "payment_source",
                    "reference": refund.reference,
                    "payment_source_id": payment.payment_source_id,
                    "user_id": payment.user["id"],
                    **payment.payment_source(settled=False),
                },
            )
            self._refund_event(
                payment,
                refund,
                "refund_executed",
                executed_at=iso(refund.execute_at),
                scheme_id=payment.scheme_id or "faster_payments_service",
            )

    def fail_refund(
        self, payment: Payment, refund: Refund, reason: str, at: float | None = None
    ) -> None:
        """Fail a refund now (also an ``executed`` one: the money came back)."""
        now = self.clock() if at is None else at
        refund.status = "failed"
        refund.failed_at = now
        refund.failure_reason = reason
        self._refund_event(
            payment, refund, "refund_failed", failed_at=iso(now), failure_reason=reason
        )

    # -- links ---------------------------------------------------------------------------

    def create_link(self, client_id: str, body: Mapping[str, Any]) -> PaymentLink:
        """A new ``enabled`` link."""
        now = self.clock()
        link = PaymentLink(
            id=uuid.uuid4().hex,
            client_id=client_id,
            configuration=dict(body["payment_configuration"]),
            created_at=now,
            expires_at=body.get("_expires_at", now + self.timing.link_ttl),
            return_uri=body.get("return_uri"),
        )
        self.links[link.id] = link
        return link

    def pay_link(self, link: PaymentLink) -> Payment:
        """A payment made through ``link`` (``payment_link_payment_created``)."""
        payment = self.create(link.client_id, link.configuration)
        payment.link_id = link.id
        link.payment_ids.append(payment.id)
        self.emit(
            link.client_id,
            {
                "type": "payment_link_payment_created",
                "event_id": str(uuid.uuid4()),
                "event_version": 1,
                "payment_link_id": link.id,
                "payment": {"id": payment.id, "created_at": iso(payment.created_at)},
            },
        )
        return payment

    def disable_link(self, link: PaymentLink, reason: str, at: float | None = None) -> None:
        """``enabled → disabled`` with ``reason`` (``payment_link_disabled``)."""
        now = self.clock() if at is None else at
        link.status = "disabled"
        link.disabled_reason = reason
        link.disabled_at = now
        self.emit(
            link.client_id,
            {
                "type": "payment_link_disabled",
                "event_id": str(uuid.uuid4()),
                "event_version": 1,
                "payment_link_id": link.id,
                "disabled_reason": reason,
                "disabled_at": iso(now),
            },
        )

    def _link_payment_done(self, payment: Payment) -> None:
        link = self.links.get(payment.link_id or "")
        if link is not None and link.status == "enabled" and payment.status != "failed":
            self.disable_link(link, "fulfilled")

    # -- webhooks ------------------------------------------------------------------------

    def _event(self, payment: Payment, kind: str, *, method: bool = True, **fields: Any) -> None:
        payload: dict[str, Any] = {
            "type": kind,
            "event_id": str(uuid.uuid4()),
            "event_version": 1,
            "payment_id": payment.id,
        }
        if method:
            payload["payment_method"] = payment.method_event()
        payload.update(fields)
        if payment.metadata:
            payload["metadata"] = payment.metadata
        self.emit(payment.client_id, payload)

    def _refund_event(self, payment: Payment, refund: Refund, kind: str, **fields: Any) -> None:
        payload: dict[str, Any] = {
            "type": kind,
            "event_id": str(uuid.uuid4()),
            "event_version": 1,
            "refund_id": refund.id,
            "payment_id": payment.id,
            **fields,
        }
        if refund.metadata:
            payload["metadata"] = refund.metadata
        self.emit(payment.client_id, payload)
