"""The demo's account holder verification: before paying the payer back, ask their bank
whether the name on the payment source is the account's holder (Verification v3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import (
    AccountHolderVerification,
    AccountIdentifierIban,
    AccountIdentifierScan,
    Iban,
    PaymentSource,
    SortCodeAccountNumber,
)
from ._errors import OK, CliError
from ._verify import describe_verification

if TYPE_CHECKING:
    from rich.console import Console

    from ..session import Session

__all__ = ["verify_payer"]


def _identifier(source: PaymentSource) -> tuple[SortCodeAccountNumber | Iban, str]:
    """The source's first UK or IBAN identifier, and how to show it."""
    for found in source.account_identifiers:
        if isinstance(found, AccountIdentifierScan):
            scan = SortCodeAccountNumber(
                sort_code=found.sort_code, account_number=found.account_number
            )
            return scan, f"sort code {scan.sort_code}, account {scan.account_number}"
        if isinstance(found, AccountIdentifierIban):
            return Iban(iban=found.iban), f"IBAN {found.iban}"
    raise CliError("the payment source has no sort code and account number, nor IBAN")


async def verify_payer(
    out: Console, tl: Session, source: PaymentSource
) -> AccountHolderVerification:
    """Verify the payment source's holder name against its account and print the
    answer (the demo's payer is a match)."""
    name = source.account_holder_name
    if not name:
        raise CliError("the payment source has no account holder name to verify")
    identifier, shown = _identifier(source)
    request_id = await tl.verification.account_holder(name=name, account_identifier=identifier)
    out.print(f"   is {name!r} the holder of {shown}?")
    out.print(f"   request {request_id} (signed, idempotent)")
    first = await tl.verification.get_account_holder(request_id)
    out.print(f"   {first.status}")
    result = await tl.verification.wait_for_account_holder(request_id, timeout=60)
    text, code = describe_verification(result)
    out.print(f"   {result.status}, {text}")
    if code != OK:
        raise CliError(f"the payer's account holder verification gave {text}")
    return result
