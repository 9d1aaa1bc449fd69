"""Typed webhook events: one frozen attrs class per ``type``, and :class:`UnknownEvent`.

Every event carries the envelope: ``type``, ``event_id`` (use it to drop duplicate
deliveries), ``event_version``, ``timestamp`` (the verified ``X-TL-Webhook-Timestamp``,
``None`` when parsed without headers) and ``raw`` (the decoded body, as sent). Unknown
types become :class:`UnknownEvent`, so a new TrueLayer event never breaks a receiver.
Sub-objects whose variants differ by ``type`` (payment method, account identifier,
beneficiary, match result) are single classes whose variant-specific fields are optional.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from .._converter import structure
from ..errors import MalformedResponseError, WebhookPayloadError
from ..models.common import WIRE_NAME as _WIRE

__all__ = [
    "EVENT_TYPES",
    "AccountHolderVerificationCompleted",
    "AccountHolderVerificationFailed",
    "AccountIdentifier",
    "BalanceNotification",
    "Beneficiary",
    "Event",
    "ExternalPaymentReceived",
    "MandateAuthorized",
    "MandateFailed",
    "MandateInitialPaymentCreated",
    "MandateRemitterChanged",
    "MandateRevoked",
    "MatchResult",
    "PaymentAuthorized",
    "PaymentCreated",
    "PaymentCreditable",
    "PaymentDisputed",
    "PaymentExecuted",
    "PaymentFailed",
    "PaymentFundsReceived",
    "PaymentLinkDisabled",
    "PaymentLinkPaymentCreated",
    "PaymentMethod",
    "PaymentReversed",
    "PaymentSettled",
    "PaymentSettlementStalled",
    "PaymentSource",
    "PayoutExecuted",
    "PayoutFailed",
    "RefundExecuted",
    "RefundFailed",
    "Remitter",
    "UnknownEvent",
    "parse_event",
]

#: Bodies larger than this are refused before decoding (TrueLayer's are a few KB).
MAX_BODY_BYTES = 1 << 20


# -- sub-objects ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AccountIdentifier:
    """``sort_code_account_number``, ``iban``, ``bban`` or ``nrb`` (fields by ``type``)."""

    type: str
    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None
    bban: str | None = None
    nrb: str | None = None


@attrs.frozen(kw_only=True)
class PaymentMethod:
    """``bank_transfer`` (``provider_id``, ``scheme_id``) or ``mandate`` (``mandate_id``)."""

    type: str
    provider_id: str | None = None
    scheme_id: str | None = None
    mandate_id: str | None = None
    reference: str | None = None


@attrs.frozen(kw_only=True)
class PaymentSource:
    """The payer's account, when the provider shares it (``id`` on settled payments)."""

    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()
    id: str | None = None


@attrs.frozen(kw_only=True)
class PaymentCreated:
    """A payment created from a link or a mandate: ``{id, created_at}``."""

    id: str
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Beneficiary:
    """A payout's beneficiary; ``type`` picks which fields are set."""

    type: str
    payment_source_id: str | None = None
    user_id: str | None = None
    provider_id: str | None = None
    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()
    reference: str | None = None
    user: dict[str, Any] | None = None
    account_holder_verification: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Remitter:
    """Who sent an external payment into a merchant account."""

    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()
    reference: str | None = None


@attrs.frozen(kw_only=True)
class MatchResult:
    """``match``, ``partial_match`` (+``account_holder_name``), ``no_match`` or
    ``match_not_possible`` (+``reason``)."""

    type: str
    account_holder_name: str | None = None
    reason: str | None = None


# -- the envelope ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Event:
    """Fields every webhook has. Subclasses add the event's own fields.

    ``TYPE`` is the wire ``type`` a subclass stands for.
    """

    TYPE: ClassVar[str] = ""

    # ``timestamp`` and ``raw`` never come from the body: their NUL-prefixed wire names
    # keep the converter from reading them from it.
    type: str
    event_id: str
    event_version: int = 1
    timestamp: datetime | None = attrs.field(default=None, metadata={_WIRE: "\0timestamp"})
    raw: dict[str, Any] = attrs.field(
        factory=dict, repr=False, eq=False, metadata={_WIRE: "\0raw"}
    )


@attrs.frozen(kw_only=True)
class UnknownEvent(Event):
    """An event type this SDK does not know yet; ``raw`` holds the whole body."""


def _event(cls: type[Event]) -> type[Event]:
    EVENT_TYPES[cls.TYPE] = cls
    return cls


#: Wire ``type`` → event class.
EVENT_TYPES: dict[str, type[Event]] = {}


# -- payments -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _PaymentEvent(Event):
    payment_id: str
    metadata: dict[str, Any] | None = None


@_event
@attrs.frozen(kw_only=True)
class PaymentAuthorized(_PaymentEvent):
    """``payment_authorized``: the user authorised the payment at their bank."""

    TYPE = "payment_authorized"
    payment_method: PaymentMethod
    authorized_at: datetime
    payment_source: PaymentSource | None = None


@_event
@attrs.frozen(kw_only=True)
class PaymentExecuted(_PaymentEvent):
    """``payment_executed``: the bank accepted the payment."""

    TYPE = "payment_executed"
    payment_method: PaymentMethod
    executed_at: datetime
    payment_source: PaymentSource | None = None


@_event
@attrs.frozen(kw_only=True)
class PaymentSettled(_PaymentEvent):
    """``payment_settled``: the money reached your merchant account."""

    TYPE = "payment_settled"
    payment_method: PaymentMethod
    settled_at: datetime
    payment_source: PaymentSource
    user_id: str


@_event
@attrs.frozen(kw_only=True)
class PaymentFailed(_PaymentEvent):
    """``payment_failed``: ``failure_stage`` and ``failure_reason`` say where and why."""

    TYPE = "payment_failed"
    payment_method: PaymentMethod
    failed_at: datetime
    failure_stage: str
    failure_reason: str
    failure_funds_stage: str | None = None
    payment_source: PaymentSource | None = None


@_event
@attrs.frozen(kw_only=True)
class PaymentCreditable(_PaymentEvent):
    """``payment_creditable``: the payment can be credited to the payee."""

    TYPE = "payment_creditable"
    creditable_at: datetime


@_event
@attrs.frozen(kw_only=True)
class PaymentSettlementStalled(_PaymentEvent):
    """``payment_settlement_stalled``: settlement is late (opt-in)."""

    TYPE = "payment_settlement_stalled"
    settlement_stalled_at: datetime


@_event
@attrs.frozen(kw_only=True)
class PaymentDisputed(_PaymentEvent):
    """``payment_disputed``: a direct-debit payment is disputed until ``expires_at``."""

    TYPE = "payment_disputed"
    disputed_at: datetime
    expires_at: datetime
    disputed_reason: str | None = None


@_event
@attrs.frozen(kw_only=True)
class PaymentReversed(_PaymentEvent):
    """``payment_reversed``: ``reversal_reason`` is ``corrected``, ``failed`` or ``disputed``."""

    TYPE = "payment_reversed"
    reversed_at: datetime
    reversal_reason: str


@_event
@attrs.frozen(kw_only=True)
class PaymentFundsReceived(_PaymentEvent):
    """``payment_funds_received``: the funds arrived."""

    TYPE = "payment_funds_received"
    funds_received_at: datetime


# -- refunds and payouts --------------------------------------------------------------------


@_event
@attrs.frozen(kw_only=True)
class RefundExecuted(Event):
    """``refund_executed``."""

    TYPE = "refund_executed"
    refund_id: str
    payment_id: str
    executed_at: datetime
    scheme_id: str | None = None
    metadata: dict[str, Any] | None = None


@_event
@attrs.frozen(kw_only=True)
class RefundFailed(Event):
    """``refund_failed``."""

    TYPE = "refund_failed"
    refund_id: str
    payment_id: str
    failed_at: datetime
    failure_reason: str
    metadata: dict[str, Any] | None = None


@_event
@attrs.frozen(kw_only=True)
class PayoutExecuted(Event):
    """``payout_executed``."""

    TYPE = "payout_executed"
    payout_id: str
    executed_at: datetime
    beneficiary: Beneficiary
    scheme_id: str | None = None
    metadata: dict[str, Any] | None = None


@_event
@attrs.frozen(kw_only=True)
class PayoutFailed(Event):
    """``payout_failed``."""

    TYPE = "payout_failed"
    payout_id: str
    failed_at: datetime
    failure_reason: str
    beneficiary: Beneficiary | None = None
    metadata: dict[str, Any] | None = None


# -- mandates -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _MandateEvent(Event):
    mandate_id: str
    metadata: dict[str, Any] | None = None


@_event
@attrs.frozen(kw_only=True)
class MandateAuthorized(_MandateEvent):
    """``mandate_authorized``."""

    TYPE = "mandate_authorized"
    authorized_at: datetime
    statement_reference: str | None = None


@_event
@attrs.frozen(kw_only=True)
class MandateFailed(_MandateEvent):
    """``mandate_failed``."""

    TYPE = "mandate_failed"
    failed_at: datetime
    failure_stage: str
    failure_reason: str


@_event
@attrs.frozen(kw_only=True)
class MandateRevoked(_MandateEvent):
    """``mandate_revoked``: ``revocation_source`` is ``client`` or ``provider``."""

    TYPE = "mandate_revoked"
    revoked_at: datetime
    revocation_source: str
    revocation_reason: str | None = None


@_event
@attrs.frozen(kw_only=True)
class MandateRemitterChanged(_MandateEvent):
    """``mandate_remitter_changed``."""

    TYPE = "mandate_remitter_changed"
    remitter_changed_at: datetime
    account_holder_name: str
    account_identifier: AccountIdentifier


@_event
@attrs.frozen(kw_only=True)
class MandateInitialPaymentCreated(_MandateEvent):
    """``mandate_initial_payment_created``."""

    TYPE = "mandate_initial_payment_created"
    payment: PaymentCreated


# -- merchant accounts and payment links ----------------------------------------------------


@_event
@attrs.frozen(kw_only=True)
class ExternalPaymentReceived(Event):
    """``external_payment_received``: money paid into a merchant account from outside."""

    TYPE = "external_payment_received"
    transaction_id: str
    currency: str
    amount_in_minor: int
    settled_at: datetime
    merchant_account_id: str
    remitter: Remitter


@_event
@attrs.frozen(kw_only=True)
class BalanceNotification(Event):
    """``balance_notification``: ``approaching_threshold``, ``below_threshold``, ``recovered``."""

    TYPE = "balance_notification"
    merchant_account_id: str
    current_balance_in_minor: int
    available_balance_in_minor: int
    status: str
    threshold_in_minor: int | None = None


@_event
@attrs.frozen(kw_only=True)
class PaymentLinkPaymentCreated(Event):
    """``payment_link_payment_created``."""

    TYPE = "payment_link_payment_created"
    payment_link_id: str
    payment: PaymentCreated


@_event
@attrs.frozen(kw_only=True)
class PaymentLinkDisabled(Event):
    """``payment_link_disabled``: ``expired``, ``cancelled`` or ``fulfilled``."""

    TYPE = "payment_link_disabled"
    payment_link_id: str
    disabled_reason: str
    disabled_at: datetime


# -- verification ---------------------------------------------------------------------------


@_event
@attrs.frozen(kw_only=True)
class AccountHolderVerificationCompleted(Event):
    """``account_holder_verification_completed``."""

    TYPE = "account_holder_verification_completed"
    account_holder_verification_id: str
    match_result: MatchResult


@_event
@attrs.frozen(kw_only=True)
class AccountHolderVerificationFailed(Event):
    """``account_holder_verification_failed``."""

    TYPE = "account_holder_verification_failed"
    account_holder_verification_id: str
    failure_reason: str


# -- parsing --------------------------------------------------------------------------------


def decode_body(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``; raises :class:`WebhookPayloadError` otherwise."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookPayloadError("webhook body is too large", reason="too_large")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise WebhookPayloadError(
            "webhook body is not a JSON object with a string 'type'", reason="payload"
        )
    return payload


def parse_event(payload: Mapping[str, Any], *, timestamp: datetime | None = None) -> Event:
    """The typed event for a decoded body (:class:`UnknownEvent` for an unknown ``type``).

    Raises:
        WebhookPayloadError: a known type whose fields do not fit (the message names the
            JSON path, never the value).
    """
    cls = EVENT_TYPES.get(str(payload.get("type")), UnknownEvent)
    try:
        event = structure(dict(payload), cls)
    except MalformedResponseError as exc:
        message = f"webhook body does not fit {cls.__name__}: {exc}"
    else:
        return attrs.evolve(event, timestamp=timestamp, raw=dict(payload))
    raise WebhookPayloadError(message, reason="payload")
