"""``truelayer-async verify``: ask an account's bank whether a name is its holder
(Verification v3 account holder verification), wait for the answer, print it.

The answer is the result, not an error: it goes to stdout, and the exit code tells the
outcomes apart (0 match, 10 partial match, 11 no match, 12 match not possible, 13
failed). Works against any environment, like ``pay``.
"""

from __future__ import annotations

import argparse

from ..errors import WaitTimeoutError
from ..models import (
    AccountHolderVerification,
    HolderMatch,
    HolderMatchNotPossible,
    HolderNoMatch,
    HolderPartialMatch,
    Iban,
    VerificationCompleted,
    VerificationFailed,
)
from ._errors import (
    FAILURE,
    MATCH_NOT_POSSIBLE,
    NO_MATCH,
    OK,
    PARTIAL_MATCH,
    USAGE,
    VERIFICATION_FAILED,
    CliError,
)
from ._output import console
from ._pay import account_identifier
from ._payments_session import payments_session

__all__ = ["describe_verification", "run_verify"]

#: The longest name Verification v3 accepts (the SDK checks it too).
_MAX_NAME = 200


def describe_verification(result: AccountHolderVerification) -> tuple[str, int]:
    """One line saying how the name compared, and ``verify``'s exit code for it."""
    if isinstance(result, VerificationFailed):
        return f"failed (reason: {result.failure_reason})", VERIFICATION_FAILED
    if not isinstance(result, VerificationCompleted):
        return f"unexpected status {result.status!r}", FAILURE
    match = result.match_result
    if isinstance(match, HolderMatch):
        return "match: the name is the account holder's", OK
    if isinstance(match, HolderPartialMatch):
        held = match.account_holder_name
        return f"partial match: the bank holds the name {held!r}", PARTIAL_MATCH
    if isinstance(match, HolderNoMatch):
        return "no match: the name is not the account holder's", NO_MATCH
    if isinstance(match, HolderMatchNotPossible):
        return f"match not possible (reason: {match.reason})", MATCH_NOT_POSSIBLE
    return f"unexpected match result {match.type!r}", FAILURE


def _account_text(args: argparse.Namespace) -> str:
    identifier = account_identifier(args)
    if isinstance(identifier, Iban):
        return f"IBAN {identifier.iban}"
    return f"sort code {identifier.sort_code}, account {identifier.account_number}"


async def run_verify(args: argparse.Namespace) -> int:
    """Create the verification, wait for the bank's answer, print it; the exit code
    says which answer it was."""
    name = args.name.strip()
    if not name or len(name) > _MAX_NAME:
        raise CliError(f"--name must be 1 to {_MAX_NAME} characters", USAGE)
    account = _account_text(args)  # checks the account flags before anything is sent
    out = console()
    signed_what = "account holder verifications"
    async with payments_session(args, signed=True, signed_what=signed_what) as tl:
        request_id = await tl.verification.account_holder(
            name=name, account_identifier=account_identifier(args)
        )
        out.print(f"Verification {request_id} created: is {name!r} the holder of {account}?")
        try:
            result = await tl.verification.wait_for_account_holder(
                request_id, timeout=args.timeout
            )
        except WaitTimeoutError:
            raise CliError(
                f"gave up waiting after --timeout {args.timeout:g} s: the bank has not "
                f"answered; check it later with the request id {request_id}",
                FAILURE,
            ) from None
    text, code = describe_verification(result)
    out.print(f"Verification {text}.")
    return code
