"""VRP mandates over raw HTTP through the emulator tests' ``Payments`` client: the request
body, create and get."""

from __future__ import annotations

from typing import Any

from tests.support.raw_payments import MERCHANT, Payments

__all__ = ["create", "get", "mandate"]


def mandate(kind: str = "sweeping", **extra: Any) -> dict[str, Any]:
    """A GBP mandate body (``sweeping`` unless told) into the emulator's merchant account."""
    body: dict[str, Any] = {
        "mandate": {
            "type": kind,
            "provider_selection": {"type": "user_selected"},
            "beneficiary": {
                "type": "merchant_account",
                "merchant_account_id": MERCHANT["merchant_account_id"],
            },
            "reference": "SWEEP-1",
        },
        "currency": "GBP",
        "user": {"id": "user-1", "name": "John Doe", "email": "john@example.com"},
        "constraints": {
            "maximum_individual_amount": 5000,
            "periodic_limits": {
                "month": {"maximum_amount": 12000, "period_alignment": "calendar"},
            },
        },
        "metadata": {"k": "v"},
    }
    body.update(extra)
    return body


async def create(api: Payments, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``POST /v3/mandates``, which must answer 201; the created mandate."""
    response = await api.request("POST", "/v3/mandates", body or mandate())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def get(api: Payments, mandate_id: str) -> dict[str, Any]:
    """``GET /v3/mandates/{id}``, which must answer 200; the mandate."""
    response = await api.request("GET", f"/v3/mandates/{mandate_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found
