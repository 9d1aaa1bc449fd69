"""Payouts, merchant-account and mandate response bodies, one per shape the models decode
(each checked against payments-api-v3.json in tests/payouts/test_models.py)."""

from __future__ import annotations

from typing import Any

from tests.support.payment_samples import IBAN, NRB, SCAN

MA_ID = "0cd1b0f7-71bc-4d24-b209-95259dadcc20"
PAYOUT_ID = "0cd1b0f7-71bc-4d24-b209-95259dadcc21"
MANDATE_ID = "a5e39ea7-0b4e-4e0c-a2a4-c1d1d6c1e9a0"
CREATED_AT = "2024-05-01T10:00:00.123Z"

PAYOUT_BENEFICIARIES: dict[str, dict[str, Any]] = {
    "external_account": {
        "type": "external_account",
        "reference": "Withdrawal 1",
        "account_holder_name": "Ada Lovelace",
        "account_identifiers": [SCAN, IBAN],
    },
    "payment_source": {
        "type": "payment_source",
        "payment_source_id": "ps-1",
        "user_id": "user-1",
        "reference": "Refund 1",
        "account_holder_name": "Ada Lovelace",
        "account_identifiers": [SCAN],
    },
    "business_account": {
        "type": "business_account",
        "reference": "Treasury",
        "account_holder_name": "Acme Ltd",
        "account_identifiers": [IBAN],
    },
    "user_determined": {
        "type": "user_determined",
        "reference": "Winnings",
        "user": {"id": "user-2"},
        "verification": {"verify_name": True},
    },
}

PAYOUT_COMMON: dict[str, Any] = {
    "id": PAYOUT_ID,
    "merchant_account_id": MA_ID,
    "amount_in_minor": 1500,
    "currency": "GBP",
    "beneficiary": PAYOUT_BENEFICIARIES["external_account"],
    "metadata": {"order": "42"},
    "scheme_id": "faster_payments_service",
    "created_at": CREATED_AT,
}

PAYOUTS: dict[str, dict[str, Any]] = {
    "authorization_required": {
        **PAYOUT_COMMON,
        "beneficiary": PAYOUT_BENEFICIARIES["user_determined"],
        "status": "authorization_required",
    },
    "authorizing": {
        **PAYOUT_COMMON,
        "beneficiary": PAYOUT_BENEFICIARIES["user_determined"],
        "status": "authorizing",
    },
    "pending": {
        **PAYOUT_COMMON,
        "beneficiary": PAYOUT_BENEFICIARIES["payment_source"],
        "status": "pending",
    },
    "authorized": {
        **PAYOUT_COMMON,
        "beneficiary": PAYOUT_BENEFICIARIES["business_account"],
        "status": "authorized",
    },
    "executed": {**PAYOUT_COMMON, "status": "executed", "executed_at": "2024-05-01T10:00:05Z"},
    "failed": {
        **PAYOUT_COMMON,
        "status": "failed",
        "failed_at": "2024-05-01T10:00:05+01:00",
        "failure_reason": "insufficient_funds",
    },
}

CREATED_PAYOUT = {"id": PAYOUT_ID}
CREATED_VERIFIED_PAYOUT = {
    "id": PAYOUT_ID,
    "status": "authorization_required",
    "resource_token": "payout-resource-token-SECRET",
    "user": {"id": "user-2"},
}

PAYOUT_FLOWS: dict[str, dict[str, Any]] = {
    "created": {"status": "created"},
    "authorizing": {
        "status": "authorizing",
        "actions": {"next": {"type": "redirect", "uri": "https://app.example/payouts/1"}},
    },
    "completed": {"status": "completed", "failure_reason": "account_not_valid"},
}

MERCHANT_ACCOUNT: dict[str, Any] = {
    "id": MA_ID,
    "currency": "GBP",
    "account_identifiers": [SCAN, IBAN],
    "available_balance_in_minor": 100000,
    "current_balance_in_minor": 120000,
    "account_holder_name": "Acme Ltd",
}

SETTLED_SOURCE = {
    "id": "5f4b6ad8-2f39-4f5e-9a47-3b5c1e3c2a10",
    "account_holder_name": "Ada Lovelace",
    "account_identifiers": [SCAN],
}

TRANSACTIONS: dict[str, dict[str, Any]] = {
    "merchant_account_payment": {
        "type": "merchant_account_payment",
        "id": "tx-1",
        "currency": "GBP",
        "amount_in_minor": 1000,
        "status": "settled",
        "settled_at": CREATED_AT,
        "payment_source": SETTLED_SOURCE,
        "payment_id": "pay-1",
        "metadata": {"order": "1"},
    },
    "external_payment": {
        "type": "external_payment",
        "id": "tx-2",
        "currency": "GBP",
        "amount_in_minor": 2000,
        "status": "settled",
        "settled_at": CREATED_AT,
        "remitter": {
            "account_holder_name": "Bob",
            "reference": "top up",
            "account_identifiers": [SCAN],
        },
        "return_for": {"type": "identified", "returned_id": PAYOUT_ID},
    },
    "payout": {
        "type": "payout",
        "id": PAYOUT_ID,
        "currency": "GBP",
        "amount_in_minor": 1500,
        "status": "executed",
        "created_at": CREATED_AT,
        "executed_at": CREATED_AT,
        "beneficiary": PAYOUT_BENEFICIARIES["external_account"],
        "context_code": "withdrawal",
        "payout_id": PAYOUT_ID,
        "scheme_id": "faster_payments_service",
    },
    "refund": {
        "type": "refund",
        "id": "tx-4",
        "currency": "GBP",
        "amount_in_minor": 500,
        "status": "executed",
        "created_at": CREATED_AT,
        "executed_at": CREATED_AT,
        "beneficiary": PAYOUT_BENEFICIARIES["payment_source"],
        "context_code": "internal",
        "refund_id": "ref-1",
        "payment_id": "pay-1",
    },
}

SWEEPING = {
    "max_amount_in_minor": 5000,
    "currency": "GBP",
    "frequency": "daily",
    "destination": IBAN,
}

CONSTRAINTS: dict[str, Any] = {
    "valid_from": "2024-05-01T00:00:00Z",
    "maximum_individual_amount": 5000,
    "periodic_limits": {"month": {"maximum_amount": 20000, "period_alignment": "calendar"}},
}

MANDATE_COMMON: dict[str, Any] = {
    "id": MANDATE_ID,
    "type": "sweeping",
    "currency": "GBP",
    "beneficiary": {
        "type": "merchant_account",
        "merchant_account_id": MA_ID,
        "account_holder_name": "Acme Ltd",
        "reference": "SWEEP-1",
    },
    "reference": "SWEEP-1",
    "provider_selection": {"type": "user_selected", "provider_id": "ob-natwest-vrp-sandbox"},
    "user": {"id": "user-1"},
    "created_at": CREATED_AT,
    "constraints": CONSTRAINTS,
    "metadata": {"k": "v"},
}
FROZEN_FLOW = {
    "configuration": {
        "provider_selection": {},
        "redirect": {"return_uri": "https://shop.example/return"},
    }
}

MANDATES: dict[str, dict[str, Any]] = {
    "authorization_required": {**MANDATE_COMMON, "status": "authorization_required"},
    "authorizing": {
        **MANDATE_COMMON,
        "status": "authorizing",
        "authorization_flow": {
            "actions": {"next": {"type": "redirect", "uri": "https://bank.example/vrp"}},
            **FROZEN_FLOW,
        },
    },
    "authorized": {
        **MANDATE_COMMON,
        "type": "commercial",
        "beneficiary": {
            "type": "external_account",
            "account_holder_name": "Acme Ltd",
            "account_identifier": NRB,
        },
        "provider_selection": {
            "type": "preselected",
            "provider_id": "ob-natwest-vrp-sandbox",
            "remitter": {"account_holder_name": "Ada", "account_identifier": SCAN},
        },
        "status": "authorized",
        "authorized_at": CREATED_AT,
        "authorization_flow": FROZEN_FLOW,
        "remitter": {"account_holder_name": "Ada", "account_identifier": SCAN},
    },
    "failed": {
        **MANDATE_COMMON,
        "status": "failed",
        "failed_at": CREATED_AT,
        "failure_stage": "authorizing",
        "failure_reason": "provider_rejected",
    },
    "revoked": {
        **MANDATE_COMMON,
        "status": "revoked",
        "revocation_source": "client",
        "authorization_flow": FROZEN_FLOW,
        "authorized_at": CREATED_AT,
        "revoked_at": "2024-05-02T10:00:00Z",
    },
}

CREATED_MANDATE = {
    "id": MANDATE_ID,
    "user": {"id": "user-1"},
    "status": "authorization_required",
    "resource_token": "mandate-resource-token-SECRET",
}
CREATED_MANDATE_AUTHORIZING = {"id": MANDATE_ID, "user": {"id": "user-1"}, "status": "authorizing"}

MANDATE_FLOWS: dict[str, dict[str, Any]] = {
    "provider_selection": {
        "status": "authorizing",
        "authorization_flow": {
            "actions": {
                "next": {
                    "type": "provider_selection",
                    "providers": [{"id": "ob-natwest-vrp-sandbox", "display_name": "NatWest"}],
                }
            }
        },
    },
    "wait": {
        "status": "authorizing",
        "authorization_flow": {"actions": {"next": {"type": "wait", "async_outcome": {}}}},
    },
    "consent": {
        "status": "authorizing",
        "authorization_flow": {
            "actions": {"next": {"type": "consent", "subsequent_action_hint": "redirect"}}
        },
    },
    "failed": {
        "status": "failed",
        "failure_stage": "authorizing",
        "failure_reason": "provider_rejected",
    },
}

FUNDS = {"confirmed": True, "confirmed_at": CREATED_AT}
CONSTRAINTS_USAGE: dict[str, Any] = {
    "valid_from": "2024-05-01T00:00:00Z",
    "maximum_individual_amount": 5000,
    "periodic_limits": {
        "month": {
            "period_alignment": "calendar",
            "maximum_available_amount": 15000,
            "current_amount": 5000,
            "start_date": "2024-05-01",
            "end_date": "2024-05-31",
        }
    },
}
