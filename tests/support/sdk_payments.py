"""Payment inputs for the SDK-level Payments tests on the emulator: a payer, a bank
transfer into a merchant account and one to someone else's UK account (both with the
bank chosen by the user)."""

from __future__ import annotations

from truelayer_async.models import (
    BankTransfer,
    ExternalAccountBeneficiary,
    MerchantAccountBeneficiary,
    PaymentUser,
    SortCodeAccountNumber,
    UserSelectedProvider,
)

__all__ = ["TO_EXTERNAL", "TO_MERCHANT", "USER"]

USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")
TO_MERCHANT = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=MerchantAccountBeneficiary(merchant_account_id="ma-1", reference="Order 42"),
)
TO_EXTERNAL = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=ExternalAccountBeneficiary(
        account_holder_name="Jane Roe",
        account_identifier=SortCodeAccountNumber(sort_code="040668", account_number="00000871"),
        reference="Invoice 7",
    ),
)
