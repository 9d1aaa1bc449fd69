"""Payment bodies only the emulator's Payments tests send."""

from __future__ import annotations

from typing import Any

__all__ = ["external_payment"]


def external_payment(**extra: Any) -> dict[str, Any]:
    """A GBP payment to an external account, preselected mock provider."""
    body: dict[str, Any] = {
        "amount_in_minor": 500,
        "currency": "GBP",
        "payment_method": {
            "type": "bank_transfer",
            "provider_selection": {
                "type": "preselected",
                "provider_id": "mock-payments-gb-redirect",
                "scheme_selection": {"type": "instant_only"},
            },
            "beneficiary": {
                "type": "external_account",
                "account_holder_name": "Jane Roe",
                "reference": "Invoice 7",
                "account_identifier": {
                    "type": "sort_code_account_number",
                    "sort_code": "040668",
                    "account_number": "00000871",
                },
            },
        },
        "user": {"name": "John Doe", "email": "john@example.com"},
    }
    body.update(extra)
    return body
