"""Payouts over raw HTTP through the emulator tests' ``Payments`` client: beneficiaries,
request bodies, create and get."""

from __future__ import annotations

from typing import Any

from tests.support.raw_payments import MERCHANT, Payments

__all__ = ["EXTERNAL", "GBP", "VERIFIED", "create", "get", "payout"]

#: The emulator's GBP merchant account.
GBP = MERCHANT["merchant_account_id"]
EXTERNAL = {
    "type": "external_account",
    "reference": "Withdrawal 1",
    "account_holder_name": "Ada Lovelace",
    "account_identifier": {
        "type": "sort_code_account_number",
        "sort_code": "040668",
        "account_number": "00000871",
    },
}
VERIFIED = {
    "type": "user_determined",
    "reference": "Winnings",
    "user": {"id": "user-2", "name": "Ada Lovelace", "email": "ada@example.com"},
    "verification": {"verify_name": True},
    "provider_selection": {"type": "user_selected"},
}


def payout(beneficiary: dict[str, Any], amount: int = 1500, **extra: Any) -> dict[str, Any]:
    """A GBP payout body from the emulator's GBP merchant account to ``beneficiary``."""
    return {
        "merchant_account_id": GBP,
        "amount_in_minor": amount,
        "currency": "GBP",
        "beneficiary": beneficiary,
        **extra,
    }


async def create(api: Payments, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """``POST /v3/payouts``, which must answer 202; the created payout."""
    response = await api.request("POST", "/v3/payouts", body, **kw)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


async def get(api: Payments, payout_id: str) -> dict[str, Any]:
    """``GET /v3/payouts/{id}``, which must answer 200; the payout."""
    response = await api.request("GET", f"/v3/payouts/{payout_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found
