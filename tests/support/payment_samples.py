"""Payments v3 response bodies, one per shape the models decode (each checked against
payments-api-v3.json in tests/payments/test_payment_models.py)."""

from __future__ import annotations

from typing import Any

SCAN = {"type": "sort_code_account_number", "sort_code": "040668", "account_number": "00000871"}
IBAN = {"type": "iban", "iban": "GB33BUKB20201555555555"}
NRB = {"type": "nrb", "nrb": "61109010140000071219812874"}

BANK_TRANSFER = {
    "type": "bank_transfer",
    "provider_selection": {"type": "user_selected", "provider_id": "mock-payments-gb-redirect"},
    "beneficiary": {
        "type": "external_account",
        "account_holder_name": "Ada Lovelace",
        "account_identifier": SCAN,
        "reference": "Invoice 42",
    },
}
MANDATE_METHOD = {"type": "mandate", "mandate_id": "m-1", "reference": "Sweep"}
PRESELECTED_TO_MERCHANT = {
    "type": "bank_transfer",
    "provider_selection": {
        "type": "preselected",
        "provider_id": "ob-natwest",
        "scheme_id": "faster_payments_service",
        "remitter": {"account_holder_name": "Ada", "account_identifier": IBAN},
    },
    "beneficiary": {"type": "merchant_account", "merchant_account_id": "ma-1"},
}

COMMON: dict[str, Any] = {
    "id": "pay-1",
    "amount_in_minor": 1000,
    "currency": "GBP",
    "user": {"id": "user-1"},
    "payment_method": BANK_TRANSFER,
    "created_at": "2024-05-01T10:00:00.123Z",
    "metadata": {"order": "42"},
}
SOURCE = {"account_holder_name": "Ada", "account_identifiers": [SCAN, NRB]}
REDIRECT_FLOW = {"actions": {"next": {"type": "redirect", "uri": "https://bank.example/x"}}}

PAYMENTS: dict[str, dict[str, Any]] = {
    "authorization_required": {**COMMON, "status": "authorization_required"},
    "authorizing": {**COMMON, "status": "authorizing", "authorization_flow": REDIRECT_FLOW},
    "authorized": {
        **COMMON,
        "payment_method": PRESELECTED_TO_MERCHANT,
        "status": "authorized",
        "payment_source": SOURCE,
    },
    "executed": {
        **COMMON,
        "status": "executed",
        "executed_at": "2024-05-01T10:01:00+01:00",
        "payment_source": SOURCE,
    },
    "settled": {
        **COMMON,
        "payment_method": PRESELECTED_TO_MERCHANT,
        "status": "settled",
        "executed_at": "2024-05-01T10:01:00Z",
        "settled_at": "2024-05-01T10:02:00Z",
        "payment_source": {**SOURCE, "id": "5b1b7f4e-8b5b-4c4f-9c1e-000000000001"},
    },
    "failed": {
        **COMMON,
        "payment_method": MANDATE_METHOD,
        "status": "failed",
        "failed_at": "2024-05-01T10:01:00Z",
        "failure_stage": "authorizing",
        "failure_reason": "authorization_failed",
    },
    "attempt_failed": {
        **COMMON,
        "status": "attempt_failed",
        "failed_at": "2024-05-01T10:01:00Z",
        "failure_stage": "authorizing",
        "failure_reason": "provider_rejected",
        "authorization_flow": {
            "actions": {"next": {"type": "retry", "retry_options": ["Restart"]}}
        },
    },
}

CREATED = {
    "id": "pay-1",
    "user": {"id": "user-1"},
    "resource_token": "eyJhbGciOiJIUzI1NiJ9.resource-token-value.sig",
    "status": "authorization_required",
}

NEXT_ACTIONS: dict[str, dict[str, Any]] = {
    "provider_selection": {
        "type": "provider_selection",
        "providers": [
            {
                "id": "mock-payments-gb-redirect",
                "display_name": "Mock UK",
                "icon_uri": "https://truelayer.example/icon.svg",
                "logo_uri": "https://truelayer.example/logo.svg",
                "bg_color": "#FFFFFF",
                "country_code": "GB",
                "search_aliases": ["mock"],
            }
        ],
    },
    "scheme_selection": {
        "type": "scheme_selection",
        "schemes": [{"id": "sepa_credit_transfer_instant", "recommended": True}],
    },
    "redirect": {"type": "redirect", "uri": "https://bank.example/auth"},
    "wait": {"type": "wait", "display_message": {"default": "Hold on"}},
    "form": {
        "type": "form",
        "inputs": [
            {
                "type": "text",
                "id": "psu-branch-code",
                "mandatory": True,
                "display_text": {"default": "Branch code"},
                "format": "numerical",
                "sensitive": False,
                "min_length": 3,
                "max_length": 6,
            }
        ],
    },
    "consent": {
        "type": "consent",
        "requirements": {"pis": {}},
        "subsequent_action_hint": "redirect",
    },
    "user_account_selection": {
        "type": "user_account_selection",
        "user_accounts": [
            {
                "id": "ua-1",
                "provider": {"id": "ob-natwest", "display_name": "NatWest"},
                "masked_account_identifier": "****1234",
                "last_used_at": "2024-04-01T09:00:00Z",
            }
        ],
    },
    "retry": {"type": "retry", "retry_options": ["Restart"]},
}

REFUND_COMMON = {
    "id": "ref-1",
    "amount_in_minor": 500,
    "currency": "GBP",
    "reference": "Refund 42",
    "created_at": "2024-05-02T10:00:00Z",
}
REFUNDS: dict[str, dict[str, Any]] = {
    "pending": {**REFUND_COMMON, "status": "pending"},
    "authorized": {**REFUND_COMMON, "status": "authorized"},
    "executed": {**REFUND_COMMON, "status": "executed", "executed_at": "2024-05-02T10:01:00Z"},
    "failed": {
        **REFUND_COMMON,
        "status": "failed",
        "failed_at": "2024-05-02T10:01:00Z",
        "failure_reason": "insufficient_funds",
    },
}

PROVIDER = {
    "id": "mock-payments-gb-redirect",
    "display_name": "Mock UK Payments",
    "country_code": "GB",
    "capabilities": {
        "payments": {
            "bank_transfer": {
                "release_channel": "general_availability",
                "schemes": [{"id": "faster_payments_service", "requirements": []}],
            }
        }
    },
}
