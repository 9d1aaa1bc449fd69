"""A sample body for every v3 webhook type, shaped as TrueLayer's OpenAPI documents say.

``sample_event("payment_executed", payment_id=...)`` returns a fresh dict (new
``event_id``) with the overrides applied; send it with ``fake.send_webhook(uri, body)``.
The tests validate every sample against the documents' schemas.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

__all__ = ["SAMPLE_EVENTS", "sample_event"]

_AT = "2024-05-01T10:00:00.000Z"
_PAYMENT = "1b2ac3a4-9f2b-4c1e-8a6d-5e1d2c3b4a59"
_MANDATE = "a8c1e7a2-4d3b-4f0a-9b62-7f0c5c1d2e3f"
_SCAN = {"type": "sort_code_account_number", "sort_code": "040668", "account_number": "00000871"}
_IBAN = {"type": "iban", "iban": "GB33BUKB20201555555555"}
_BANK_TRANSFER = {
    "type": "bank_transfer",
    "provider_id": "mock-payments-gb-redirect",
    "scheme_id": "faster_payments_service",
}
_SOURCE = {"account_holder_name": "JOHN SANDBRIDGE", "account_identifiers": [_SCAN]}

#: Wire ``type`` → a sample body (without ``event_id``, added per call).
SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "payment_authorized": {
        "payment_id": _PAYMENT,
        "payment_method": _BANK_TRANSFER,
        "authorized_at": _AT,
        "payment_source": _SOURCE,
    },
    "payment_executed": {
        "payment_id": _PAYMENT,
        "payment_method": _BANK_TRANSFER,
        "executed_at": _AT,
        "payment_source": _SOURCE,
    },
    "payment_settled": {
        "payment_id": _PAYMENT,
        "payment_method": _BANK_TRANSFER,
        "settled_at": _AT,
        "payment_source": {"id": "1f111d3c-9427-43be-9b9d-2b6b0d3f3a01", **_SOURCE},
        "user_id": "ec9d0f1a-3b2c-4d5e-8f7a-6b5c4d3e2f1a",
    },
    "payment_failed": {
        "payment_id": _PAYMENT,
        "payment_method": _BANK_TRANSFER,
        "failed_at": _AT,
        "failure_stage": "authorizing",
        "failure_reason": "authorization_failed",
    },
    "payment_creditable": {"payment_id": _PAYMENT, "creditable_at": _AT},
    "payment_settlement_stalled": {"payment_id": _PAYMENT, "settlement_stalled_at": _AT},
    "payment_disputed": {
        "payment_id": _PAYMENT,
        "disputed_at": _AT,
        "expires_at": "2024-05-08T10:00:00.000Z",
        "disputed_reason": "indemnity_claim",
    },
    "payment_reversed": {"payment_id": _PAYMENT, "reversed_at": _AT, "reversal_reason": "failed"},
    "payment_funds_received": {"payment_id": _PAYMENT, "funds_received_at": _AT},
    "refund_executed": {
        "refund_id": "5c3c9a0e-1d2b-4e5f-8a9b-0c1d2e3f4a5b",
        "payment_id": _PAYMENT,
        "executed_at": _AT,
        "scheme_id": "faster_payments_service",
    },
    "refund_failed": {
        "refund_id": "5c3c9a0e-1d2b-4e5f-8a9b-0c1d2e3f4a5b",
        "payment_id": _PAYMENT,
        "failed_at": _AT,
        "failure_reason": "insufficient_funds",
    },
    "payout_executed": {
        "payout_id": "0cd1b0f7-71bc-4d24-b209-95259dadcc20",
        "executed_at": _AT,
        "beneficiary": {"type": "business_account"},
        "scheme_id": "faster_payments_service",
    },
    "payout_failed": {
        "payout_id": "0cd1b0f7-71bc-4d24-b209-95259dadcc20",
        "failed_at": _AT,
        "failure_reason": "insufficient_funds",
        "beneficiary": {
            "type": "payment_source",
            "payment_source_id": "1f111d3c-9427-43be-9b9d-2b6b0d3f3a01",
            "user_id": "ec9d0f1a-3b2c-4d5e-8f7a-6b5c4d3e2f1a",
        },
    },
    "mandate_authorized": {
        "mandate_id": _MANDATE,
        "authorized_at": _AT,
        "statement_reference": "TL-MANDATE-1",
    },
    "mandate_failed": {
        "mandate_id": _MANDATE,
        "failed_at": _AT,
        "failure_stage": "authorizing",
        "failure_reason": "authorization_failed",
    },
    "mandate_revoked": {
        "mandate_id": _MANDATE,
        "revoked_at": _AT,
        "revocation_source": "client",
    },
    "mandate_remitter_changed": {
        "mandate_id": _MANDATE,
        "remitter_changed_at": _AT,
        "account_holder_name": "JANE SANDBRIDGE",
        "account_identifier": _SCAN,
    },
    "mandate_initial_payment_created": {
        "mandate_id": _MANDATE,
        "payment": {"id": _PAYMENT, "created_at": _AT},
    },
    "external_payment_received": {
        "transaction_id": "b8d4dda0-ff2c-4d77-a6da-4615e4bad941",
        "currency": "GBP",
        "amount_in_minor": 100,
        "settled_at": _AT,
        "merchant_account_id": "200552da-13da-43c5-a9ba-04ee1502ac57",
        "remitter": {
            "account_holder_name": "John Smith",
            "account_identifiers": [_IBAN],
            "reference": "Invoice 42",
        },
    },
    "balance_notification": {
        "merchant_account_id": "200552da-13da-43c5-a9ba-04ee1502ac57",
        "current_balance_in_minor": 1000,
        "available_balance_in_minor": 900,
        "threshold_in_minor": 5000,
        "status": "below_threshold",
    },
    "payment_link_payment_created": {
        "payment_link_id": "a4c1b1e9-3d8e-4f4c-9c4f-3f2a1b0c9d8e",
        "payment": {"id": _PAYMENT, "created_at": _AT},
    },
    "payment_link_disabled": {
        "payment_link_id": "a4c1b1e9-3d8e-4f4c-9c4f-3f2a1b0c9d8e",
        "disabled_reason": "expired",
        "disabled_at": _AT,
    },
    "account_holder_verification_completed": {
        "account_holder_verification_id": "6c0e2a6b-4f1d-4e3c-9b8a-7d6c5b4a3f2e",
        "match_result": {"type": "partial_match", "account_holder_name": "John Smith"},
    },
    "account_holder_verification_failed": {
        "account_holder_verification_id": "6c0e2a6b-4f1d-4e3c-9b8a-7d6c5b4a3f2e",
        "failure_reason": "provider_error",
    },
}


def sample_event(event_type: str, **overrides: Any) -> dict[str, Any]:
    """A fresh sample body of ``event_type`` (a new ``event_id``), with ``overrides``.

    Raises:
        KeyError: ``event_type`` is not a v3 webhook type.
    """
    fields = copy.deepcopy(SAMPLE_EVENTS[event_type])
    body = {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4())}
    return {**body, **fields, **overrides}
