"""Payment inputs and small journeys shared by the end-to-end Payments tests."""

from __future__ import annotations

from typing import Any

from truelayer_async import Session
from truelayer_async.models import (
    BankTransfer,
    CreatedPayment,
    ExternalAccountBeneficiary,
    Iban,
    MerchantAccountBeneficiary,
    PaymentUser,
    PreselectedProvider,
    PreselectedScheme,
    ProviderFilter,
    SortCodeAccountNumber,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeTrueLayer

__all__ = [
    "GB_BANK",
    "MERCHANT",
    "RETURN",
    "USER",
    "create",
    "external",
    "merchant",
    "settled_payment",
]

RETURN = "https://shop.example/return"
GB_BANK = "mock-payments-gb-redirect"
USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")
MERCHANT = MerchantAccountBeneficiary(
    merchant_account_id="c54104a5-fc9c-4e1e-a8b0-dda2a6b85ed2", reference="Order 42"
)
EXTERNAL_GB = ExternalAccountBeneficiary(
    account_holder_name="Jane Roe",
    account_identifier=SortCodeAccountNumber(sort_code="040668", account_number="00000871"),
    reference="Invoice 7",
)
EXTERNAL_EUR = ExternalAccountBeneficiary(
    account_holder_name="Juha Virtanen",
    account_identifier=Iban(iban="FI1410093000123458"),
    reference="Lasku 7",
)


def merchant(*, preselected: bool = False, retry: bool = False) -> BankTransfer:
    """A bank transfer into the merchant account (user-selected GB bank by default)."""
    return BankTransfer(
        provider_selection=_selection(preselected),
        beneficiary=MERCHANT,
        retry={} if retry else None,
    )


def external(*, preselected: bool = False) -> BankTransfer:
    """A bank transfer to someone else's UK account."""
    return BankTransfer(provider_selection=_selection(preselected), beneficiary=EXTERNAL_GB)


def _selection(preselected: bool) -> UserSelectedProvider | PreselectedProvider:
    if preselected:
        return PreselectedProvider(
            provider_id=GB_BANK,
            scheme_selection=PreselectedScheme(scheme_id="faster_payments_service"),
        )
    return UserSelectedProvider(filter=ProviderFilter(countries=["GB"]))


async def create(
    tl: Session, payment_method: BankTransfer | None = None, **kwargs: Any
) -> CreatedPayment:
    """``tl.payments.create`` of a GBP payment (1000 minor units unless told)."""
    kwargs.setdefault("amount_in_minor", 1000)
    kwargs.setdefault("currency", "GBP")
    kwargs.setdefault("user", USER)
    return await tl.payments.create(payment_method=payment_method or merchant(), **kwargs)


async def settled_payment(tl: Session, fake: FakeTrueLayer, amount: int = 1000) -> str:
    """A merchant-account payment authorised at the (emulated) bank and settled."""
    created = await create(tl, amount_in_minor=amount)
    fake.authorize_payment(created.id, "executed")
    fake.advance(5)
    assert fake.payment_status(created.id) == "settled"
    return created.id
