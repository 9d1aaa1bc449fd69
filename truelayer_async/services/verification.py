"""``tl.verification``: the Verification API v1 name check, and Verification v3
(account holder verification, French account checks, bank lookup)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from .. import errors as e
from .._converter import structure
from .._core import UserToken
from .._error_mapping import Api
from .._raw import raw_method
from .._retry import RetryMode
from ..models import (
    AccountHolderVerification,
    BankLookupResult,
    CreatedAccountHolderVerification,
    FrAccountDetails,
    Iban,
    SortCodeAccountNumber,
    UnknownVerification,
    VerificationResult,
    to_wire,
)
from . import _payments_api as api
from ._polling import poll_resource

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["RawVerificationService", "VerificationService"]

MAX_NAME = 200
#: The final AHV statuses (an unknown status is returned as final too: see design.md).
FINAL_AHV_STATUSES = frozenset({"completed", "failed"})

_AHV = "/account-holder-verifications/requests"
CREATE_AHV: api.Call[CreatedAccountHolderVerification] = api.Call(
    "POST",
    _AHV,
    CreatedAccountHolderVerification,
    "always",
    True,
    scopes=("verification",),
    family="verification",
)
GET_AHV: api.Call[AccountHolderVerification] = api.Call(
    "GET",
    f"{_AHV}/{{request_id}}",
    AccountHolderVerification,
    scopes=("verification",),
    family="verification",
)
VERIFY_FR: api.Call[FrAccountDetails] = api.Call(
    "POST",
    "/verification/fr/verify-account-details",
    FrAccountDetails,
    scopes=("verification:fr",),
    family="verification",
)
BANK_LOOKUP: api.Call[BankLookupResult] = api.Call(
    "POST",
    "/bank-lookup",
    BankLookupResult,
    scopes=("verification:bank_lookup",),
    family="verification",
)


class VerificationService:
    """The Verification API (v1 name check and Verification v3). Reached as
    ``tl.verification``."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawVerificationService(self)

    async def verify(self, name: str, *, user: str | None = None) -> VerificationResult:
        """Check ``name`` against the account holders of the user's connection.

        POST /verification/v1/verify with the user's token (obtained with the
        ``verification`` scope). Problem+json errors raise ``VerificationApiError``
        (429 raises ``RateLimitedError``). Like every POST, it is retried only when the
        request never left the machine: a 5xx or a lost answer is raised, not resent.
        """
        _check_name(name, "name")
        response = await self._core.authorized_request(
            "POST",
            f"{self._core.environment.api_url}/verification/v1/verify",
            source=UserToken(user),
            api=Api.VERIFICATION,
            json_body={"name": name},
            # Sent means possibly counted (verification may be metered): a POST is retried
            # only if it never left the machine, like every other POST.
            retry_mode=RetryMode.UNSENT_ONLY,
            operation="truelayer.verification.verify",
        )
        return structure(
            response.json(),
            VerificationResult,
            status_code=response.status_code,
            correlation_id=response.correlation_id,
        )

    # -- Verification v3 ---------------------------------------------------------------

    async def account_holder(
        self,
        *,
        name: str,
        account_identifier: SortCodeAccountNumber | Iban,
        idempotency_key: str | None = None,
    ) -> str:
        """Ask the account's bank whether ``name`` is its holder; return the request id.

        ``POST /v3/account-holder-verifications/requests`` with a client-credentials
        token (``verification`` scope), signed (the Session needs a signing key) and
        idempotent: ``idempotency_key`` (or a UUID4 made here) is sent on every attempt,
        so a retried request is never counted twice. The answer comes later: use
        :meth:`get_account_holder`, :meth:`wait_for_account_holder`, or the
        ``account_holder_verification_completed`` / ``_failed`` webhook.

        Raises:
            InvalidParameterError: ``name`` is empty or over 200 characters, or
                ``account_identifier`` is not a ``SortCodeAccountNumber`` or ``Iban``
                (nothing is sent).
            VerificationIdempotencyKeyReuseError: ``idempotency_key`` was used for
                another body (also an ``IdempotencyKeyReuseError``).
            VerificationApiError: any other problem+json answer (``correlation_id`` holds
                its ``traceId``).
        """
        _check_name(name, "name")
        _check_identifier(account_identifier, (SortCodeAccountNumber, Iban))
        body = {"account_holder_name": name, "account_identifier": to_wire(account_identifier)}
        created = await api.send(
            self._core, CREATE_AHV, body=body, idempotency_key=idempotency_key
        )
        return created.id

    async def get_account_holder(self, request_id: str) -> AccountHolderVerification:
        """The AHV request ``request_id``: ``VerificationPending``,
        ``VerificationCompleted`` (its ``match_result`` one of ``HolderMatch``,
        ``HolderPartialMatch`` with the bank's ``account_holder_name``, ``HolderNoMatch``,
        ``HolderMatchNotPossible``), ``VerificationFailed``, or ``UnknownVerification``.

        Raises:
            InvalidParameterError: ``request_id`` is not a usable path segment.
            VerificationApiError: a problem+json answer (404 when there is no such request).
        """
        return await api.send(self._core, GET_AHV, {"request_id": request_id})

    async def wait_for_account_holder(
        self, request_id: str, *, timeout: float = 60.0
    ) -> AccountHolderVerification:
        """Poll :meth:`get_account_holder` until the request is no longer ``pending``
        and return it (an unknown status counts as final).

        Pauses start at 1 s and double up to 30 s, never past ``timeout`` (seconds).
        When this Session's ``tl.webhooks`` verifies the request's
        ``account_holder_verification_*`` webhook (e.g. in your webhook endpoint, in the
        same process), the pause ends at once and the result is read.

        Raises:
            WaitTimeoutError: ``timeout`` passed first; ``last`` holds the last result.
        """
        return await poll_resource(
            self._core,
            request_id,
            lambda: self.get_account_holder(request_id),
            statuses=None,
            is_final=lambda request: request.status in FINAL_AHV_STATUSES,
            unknown=UnknownVerification,
            timeout=timeout,
            what="account holder verification",
        )

    async def verify_account_details_fr(
        self,
        *,
        name: str,
        iban: Iban,
        account_type: Literal["personal", "business"],
        date_of_birth: date | None = None,
    ) -> FrAccountDetails:
        """Check a French account's holder ``name``, ``account_type`` and (optionally)
        ``date_of_birth`` against the bank's records.

        ``POST /v3/verification/fr/verify-account-details`` with a client-credentials
        token (``verification:fr`` scope); not signed. Like every unkeyed POST it is
        retried only when the request never left the machine.

        Raises:
            InvalidParameterError: a bad argument (nothing is sent).
            VerificationApiError: a problem+json answer.
        """
        _check_name(name, "name")
        _check_identifier(iban, (Iban,))
        if account_type not in ("personal", "business"):
            raise e.InvalidParameterError("account_type must be 'personal' or 'business'")
        body: dict[str, Any] = {
            "name": name,
            "account_identifier": to_wire(iban),
            "account_type": account_type,
        }
        if date_of_birth is not None:
            if not isinstance(date_of_birth, date):
                raise e.InvalidParameterError("date_of_birth must be a datetime.date")
            body["date_of_birth"] = date_of_birth.isoformat()
        return await api.send(self._core, VERIFY_FR, body=body)

    async def bank_lookup(
        self, account_identifier: SortCodeAccountNumber | Iban
    ) -> BankLookupResult:
        """The bank (``bic``, ``name``) behind a UK account or an IBAN.

        ``POST /v3/bank-lookup`` with a client-credentials token
        (``verification:bank_lookup`` scope); not signed.

        Raises:
            InvalidParameterError: ``account_identifier`` is not a
                ``SortCodeAccountNumber`` or ``Iban`` (nothing is sent).
            VerificationApiError: a problem+json answer.
        """
        _check_identifier(account_identifier, (SortCodeAccountNumber, Iban))
        body = {"account_identifier": to_wire(account_identifier)}
        return await api.send(self._core, BANK_LOOKUP, body=body)


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise e.InvalidParameterError(f"{what} must be a non-empty string")
    if len(name) > MAX_NAME:
        raise e.InvalidParameterError(f"{what} must be at most {MAX_NAME} characters")


def _check_identifier(value: object, allowed: tuple[type, ...]) -> None:
    if not isinstance(value, allowed):
        names = " or ".join(cls.__name__ for cls in allowed)
        raise e.InvalidParameterError(f"account_identifier must be a {names}")


class RawVerificationService:
    """``tl.verification.with_raw_response``: each call returning a :class:`RawResponse`."""

    def __init__(self, verification: VerificationService) -> None:
        self.verify = raw_method(verification.verify)
        self.account_holder = raw_method(verification.account_holder)
        self.get_account_holder = raw_method(verification.get_account_holder)
        self.verify_account_details_fr = raw_method(verification.verify_account_details_fr)
        self.bank_lookup = raw_method(verification.bank_lookup)
