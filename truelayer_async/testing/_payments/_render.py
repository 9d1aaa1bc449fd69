"""A payment as ``GET /v3/payments/{id}`` returns it, by status (truelayer-api-v3.md §4.4)."""

from __future__ import annotations

from typing import Any

from ._flow import next_action
from ._records import Payment, iso

__all__ = ["render_payment"]


def render_payment(payment: Payment, bank_url: str) -> dict[str, Any]:
    """The payment resource for its current status."""
    body: dict[str, Any] = {
        "id": payment.id,
        "amount_in_minor": payment.amount_in_minor,
        "currency": payment.currency,
        "user": {"id": payment.user["id"]},
        "payment_method": payment.method_response(),
        "created_at": iso(payment.created_at),
        "status": payment.status,
    }
    if payment.metadata:
        body["metadata"] = payment.metadata
    status = payment.status
    flow: dict[str, Any] = {} if payment.flow is None else {"configuration": payment.flow}
    if status in ("authorizing", "attempt_failed"):
        body["authorization_flow"] = {"actions": {"next": next_action(payment, bank_url)}, **flow}
    elif status in ("authorized", "executed", "settled", "failed") and flow:
        body["authorization_flow"] = flow
    if status in ("authorized", "executed") or (
        status == "failed" and payment.authorized_at is not None
    ):
        body["payment_source"] = payment.payment_source(settled=False)
    if payment.executed_at is not None and status in ("executed", "settled"):
        body["executed_at"] = iso(payment.executed_at)
    if status == "settled":
        body["payment_source"] = payment.payment_source(settled=True)
        body["settled_at"] = iso(payment.settled_at or payment.created_at)
    if payment.creditable_at is not None and status != "attempt_failed":
        body["creditable_at"] = iso(payment.creditable_at)
    if status in ("failed", "attempt_failed"):
        body["failed_at"] = iso(payment.failed_at or payment.created_at)
        body["failure_stage"] = payment.failure_stage
        body["failure_reason"] = payment.failure_reason
    return body
