"""Following a payment and a refund through their statuses, reporting each change
(shared by ``demo`` and ``pay``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from ..models import Mandate, Payment, Payout, Refund, is_final
from ..services._polling import poll_until

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["PAYMENT_ORDER", "follow_payment", "follow_refund", "minor_money", "status_detail"]

#: A payment's statuses in the order they come (``failed`` may follow any of them).
PAYMENT_ORDER = ("authorization_required", "authorizing", "authorized", "executed", "settled")
#: A refund's statuses in order (``failed`` may follow any of them).
REFUND_ORDER = ("pending", "authorized", "executed")


def _later(order: tuple[str, ...], status: str) -> tuple[str, ...]:
    return order[order.index(status) + 1 :] if status in order else ()


def minor_money(amount_in_minor: int, currency: str) -> str:
    """``1,234.50 GBP`` from minor units (GBP and EUR have two decimals)."""
    return f"{Decimal(amount_in_minor).scaleb(-2):,} {currency}"


def status_detail(item: Payment | Refund | Payout | Mandate) -> str:
    """The status, with the failure stage and reason of a failed payment, refund, payout
    or mandate."""
    if item.status != "failed":
        return item.status
    stage = getattr(item, "failure_stage", None)
    reason = getattr(item, "failure_reason", None) or "?"
    return f"failed ({f'stage: {stage}, ' if stage else ''}reason: {reason})"


async def follow_payment(
    tl: Session,
    payment_id: str,
    *,
    timeout: float,
    report: Callable[[Payment], None],
) -> Payment:
    """Report the payment's status, then each later one ``tl.payments.wait_for`` sees,
    until a final status. ``timeout`` bounds each wait (``WaitTimeoutError``)."""
    payment = await tl.payments.get(payment_id)
    report(payment)
    while not is_final(payment):
        later = _later(PAYMENT_ORDER, payment.status)
        payment = await tl.payments.wait_for(payment_id, statuses=later, timeout=timeout)
        report(payment)
    return payment


async def follow_refund(
    tl: Session,
    payment_id: str,
    refund_id: str,
    *,
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    report: Callable[[Refund], None],
) -> Refund:
    """Like :func:`follow_payment` for a refund (``tl.payments.get_refund``), until
    ``executed`` or ``failed``; ``clock`` and ``sleep`` pace the polls."""
    refund = await tl.payments.get_refund(payment_id, refund_id)
    report(refund)
    while refund.status not in ("executed", "failed"):
        refund = await poll_until(
            lambda: tl.payments.get_refund(payment_id, refund_id),
            statuses=_later(REFUND_ORDER, refund.status),
            is_final=lambda r: r.status in ("executed", "failed"),
            timeout=timeout,
            clock=clock,
            sleep=sleep,
            what="refund",
        )
        report(refund)
    return refund
