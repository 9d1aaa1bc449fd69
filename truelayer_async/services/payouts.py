"""``tl.payouts``: Payouts v3 from your merchant account, and the authorization flow of
verified (``user_determined``) payouts.

Calls use the Payments slot's client-credentials token (scope ``payments``), except the
payout authorization flow, which takes the payout's ``resource_token``. ``create`` is
signed (``Tl-Signature``: the Session needs ``signing_key_id`` and
``signing_private_key``) and carries an ``Idempotency-Key``: yours, or one generated per
call and reused on every retry of that call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._raw import raw_method
from .._secret import Secret
from ..models import (
    TERMINAL_PAYOUT_STATUSES,
    Bban,
    BusinessAccountBeneficiary,
    CreatedPayout,
    ExternalAccountBeneficiary,
    InstantOnly,
    InstantPreferred,
    PaymentSourceBeneficiary,
    Payout,
    PayoutAuthorizationFlow,
    PreselectedScheme,
    UnknownPayout,
    UserDeterminedBeneficiary,
    to_wire,
)
from ..models._checks import check_amount, check_currency, check_metadata
from . import _payments_api as api
from ._args import end_user_headers, resource_token_arg, text_arg, type_arg
from ._polling import poll_resource

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["PAYOUT_CURRENCIES", "PAYOUT_SCHEMES", "PayoutsService", "RawPayoutsService"]

#: The currencies a payout (and a merchant account) can be in.
PAYOUT_CURRENCIES = ("GBP", "EUR", "PLN")
#: The schemes a payout's ``PreselectedScheme`` may name.
PAYOUT_SCHEMES = (
    "faster_payments_service",
    "sepa_credit_transfer_instant",
    "sepa_credit_transfer",
    "polish_domestic_standard",
    "polish_domestic_express",
)
_BENEFICIARIES = (
    ExternalAccountBeneficiary,
    PaymentSourceBeneficiary,
    BusinessAccountBeneficiary,
    UserDeterminedBeneficiary,
)
_SCHEME_SELECTIONS = (InstantPreferred, InstantOnly, PreselectedScheme)

_PAYOUT = "/payouts/{payout_id}"
CREATE_PAYOUT: api.Call[CreatedPayout] = api.Call(
    "POST", "/payouts", CreatedPayout, "always", True
)
GET_PAYOUT: api.Call[Payout] = api.Call("GET", _PAYOUT, Payout)
# The flow is called with the payout's resource token: no signature; the key is optional.
START_PAYOUT_FLOW: api.Call[PayoutAuthorizationFlow] = api.Call(
    "POST", f"{_PAYOUT}/authorization-flow", PayoutAuthorizationFlow, idempotent=True
)
GET_PAYOUT_FLOW: api.Call[PayoutAuthorizationFlow] = api.Call(
    "GET", f"{_PAYOUT}/authorization-flow", PayoutAuthorizationFlow
)


def _check_beneficiary(beneficiary: Any) -> None:
    if not isinstance(beneficiary, _BENEFICIARIES):
        names = ", ".join(cls.__name__ for cls in _BENEFICIARIES)
        raise e.InvalidParameterError(f"beneficiary must be one of {names}")
    if isinstance(beneficiary, ExternalAccountBeneficiary) and isinstance(
        beneficiary.account_identifier, Bban
    ):
        raise e.InvalidParameterError(
            "beneficiary.account_identifier: a payout takes a SortCodeAccountNumber, Iban or "
            "Nrb, not a Bban"
        )


def _check_scheme_selection(scheme_selection: Any) -> None:
    type_arg("scheme_selection", scheme_selection, *_SCHEME_SELECTIONS)
    if isinstance(scheme_selection, (InstantOnly, InstantPreferred)) and any(
        value is not None
        for value in (
            scheme_selection.allow_remitter_fee,
            scheme_selection.instant_override_provider_ids,
            scheme_selection.non_instant_override_provider_ids,
        )
    ):
        raise e.InvalidParameterError(
            "scheme_selection: a payout's InstantOnly / InstantPreferred takes no options"
        )
    if isinstance(scheme_selection, PreselectedScheme) and (
        scheme_selection.scheme_id not in PAYOUT_SCHEMES
    ):
        raise e.InvalidParameterError(
            f"scheme_selection.scheme_id must be one of {', '.join(PAYOUT_SCHEMES)}"
        )


class PayoutsService:
    """Payouts API v3. Reached as ``tl.payouts``.

    Errors (all methods): ``PaymentsApiError`` and its subclasses for TrueLayer's
    problem+json answers (``IdempotencyConflictError`` 409, ``IdempotencyKeyReuseError``
    422, ``ResourceConflictError`` 409), ``ConfigurationError`` before any request when
    ``create`` needs a signature and the Session has no signing key,
    ``InvalidParameterError`` for bad arguments (before any request), ``TransportError``,
    ``MalformedResponseError``.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawPayoutsService(self)

    async def create(
        self,
        *,
        merchant_account_id: str,
        amount_in_minor: int,
        currency: str,
        beneficiary: ExternalAccountBeneficiary
        | PaymentSourceBeneficiary
        | BusinessAccountBeneficiary
        | UserDeterminedBeneficiary,
        scheme_selection: InstantPreferred | InstantOnly | PreselectedScheme | None = None,
        metadata: Mapping[str, str] | None = None,
        sub_merchants: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedPayout:
        """Pay out of a merchant account (``POST /v3/payouts``, signed, idempotent).

        ``amount_in_minor`` ≥ 1; ``currency`` ``GBP``, ``EUR`` or ``PLN`` (the merchant
        account's); ``beneficiary`` an :class:`~truelayer_async.models.ExternalAccountBeneficiary`
        (sort code and account number, IBAN or NRB), a
        :class:`~truelayer_async.models.PaymentSourceBeneficiary` (back to an account
        that paid you), a :class:`~truelayer_async.models.BusinessAccountBeneficiary` or a
        :class:`~truelayer_async.models.UserDeterminedBeneficiary` (a verified payout);
        ``scheme_selection`` ``InstantPreferred``, ``InstantOnly`` or
        ``PreselectedScheme`` (one of :data:`PAYOUT_SCHEMES`); ``metadata`` at most 10
        pairs (keys ≤ 40, values ≤ 500 characters).

        Returns the :class:`~truelayer_async.models.CreatedPayout`: its ``id``; for a
        user-determined beneficiary also ``status`` and ``resource_token`` (a
        ``Secret``), for :meth:`start_authorization_flow` or
        ``tl.hosted_page.payout_url``.

        Raises:
            InvalidParameterError: a rule above is broken (nothing is sent).
        """
        text_arg("merchant_account_id", merchant_account_id)
        check_amount("amount_in_minor", amount_in_minor)
        check_currency("currency", currency, PAYOUT_CURRENCIES)
        check_metadata("metadata", metadata)
        _check_beneficiary(beneficiary)
        _check_scheme_selection(scheme_selection)
        body: dict[str, Any] = {
            "merchant_account_id": merchant_account_id,
            "amount_in_minor": amount_in_minor,
            "currency": currency,
            "beneficiary": to_wire(beneficiary),
        }
        if scheme_selection is not None:
            body["scheme_selection"] = to_wire(scheme_selection)
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if sub_merchants is not None:
            body["sub_merchants"] = dict(sub_merchants)
        return await api.send(
            self._core, CREATE_PAYOUT, body=body, idempotency_key=idempotency_key
        )

    async def get(self, payout_id: str) -> Payout:
        """The payout (``GET /v3/payouts/{id}``): one class per ``status``
        (:data:`~truelayer_async.models.Payout`)."""
        return await api.send(self._core, GET_PAYOUT, {"payout_id": payout_id})

    async def start_authorization_flow(
        self,
        payout_id: str,
        *,
        resource_token: str | Secret,
        return_uri: str,
        idempotency_key: str | None = None,
        user_ip: str | None = None,
        device_user_agent: str | None = None,
    ) -> PayoutAuthorizationFlow:
        """Start a verified payout's authorization flow
        (``POST /v3/payouts/{id}/authorization-flow``, with the payout's
        ``resource_token``; idempotent).

        The user comes back to ``return_uri`` (allow-listed in Console). ``user_ip`` and
        ``device_user_agent`` are the end user's (``X-Forwarded-For``,
        ``X-Device-User-Agent``). Returns ``PayoutAuthorizationFlowAuthorizing`` (send
        the user to ``actions.next.uri``) or ``PayoutAuthorizationFlowCompleted``.
        """
        token = resource_token_arg(resource_token, required=True)
        del resource_token  # only the Secret stays in this frame
        text_arg("return_uri", return_uri)
        return await api.send(
            self._core,
            START_PAYOUT_FLOW,
            {"payout_id": payout_id},
            body={"redirect": {"return_uri": return_uri}},
            resource_token=token,
            idempotency_key=idempotency_key,
            headers=end_user_headers(user_ip, device_user_agent) or None,
        )

    async def get_authorization_flow(
        self, payout_id: str, *, resource_token: str | Secret
    ) -> PayoutAuthorizationFlow:
        """A verified payout's authorization flow
        (``GET /v3/payouts/{id}/authorization-flow``, with the payout's
        ``resource_token``): ``created``, ``authorizing`` (with the redirect) or
        ``completed`` (with ``failure_reason`` when it failed)."""
        token = resource_token_arg(resource_token, required=True)
        del resource_token  # only the Secret stays in this frame
        return await api.send(
            self._core, GET_PAYOUT_FLOW, {"payout_id": payout_id}, resource_token=token
        )

    async def wait_for(
        self,
        payout_id: str,
        *,
        statuses: Collection[str] | None = None,
        timeout: float = 60.0,
    ) -> Payout:
        """Poll :meth:`get` until the payout reaches one of ``statuses`` or a final
        status, and return it. Final: ``executed``, ``failed``, and a status this SDK
        version does not know (an :class:`~truelayer_async.models.UnknownPayout`: the
        wait returns it rather than poll until ``timeout`` for a status it cannot judge;
        read its ``status`` and ``raw``). An ``executed`` payout can still become
        ``failed`` (``returned``) later.

        Pauses start at 1 s and double up to 30 s, never past ``timeout`` (seconds). A
        payout webhook (``payout_executed``, ``payout_failed``) verified by this
        Session's ``tl.webhooks`` (in the same process) ends the pause between polls at
        once. Webhooks are the better signal in production; this is for scripts and tests.

        Raises:
            WaitTimeoutError: ``timeout`` passed first; ``last`` holds the last payout.
        """
        return await poll_resource(
            self._core,
            payout_id,
            lambda: self.get(payout_id),
            statuses=statuses,
            is_final=lambda payout: payout.status in TERMINAL_PAYOUT_STATUSES,
            unknown=UnknownPayout,
            timeout=timeout,
            what="payout",
        )


class RawPayoutsService:
    """``tl.payouts.with_raw_response``: the same methods (but ``wait_for``), each
    returning a :class:`~truelayer_async.RawResponse`."""

    def __init__(self, payouts: PayoutsService) -> None:
        self.create = raw_method(payouts.create)
        self.get = raw_method(payouts.get)
        self.start_authorization_flow = raw_method(payouts.start_authorization_flow)
        self.get_authorization_flow = raw_method(payouts.get_authorization_flow)
