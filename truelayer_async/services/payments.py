"""``tl.payments``: Payments API v3 payments, their authorization flow and refunds.

Every call uses the Payments slot's client-credentials token (scope ``payments``) unless a
``resource_token`` is given; a 401 on the client token fetches a new one and replays
once. Writes are signed (``Tl-Signature``, needs ``signing_key_id`` and
``signing_private_key`` on the Session) and carry an ``Idempotency-Key``: yours, or one
generated per call and reused on every retry of that call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._raw import raw_method
from .._secret import Secret
from ..models import (
    AuthorizationFlowOptions,
    AuthorizationFlowResult,
    BankTransfer,
    ConsentOptions,
    CreatedPayment,
    CreatedRefund,
    FormOptions,
    HostedPageOptions,
    MandatePaymentMethod,
    Payment,
    PaymentUser,
    ProviderReturnResult,
    ProviderSelectionOptions,
    RedirectOptions,
    Refund,
    SchemeSelectionOptions,
    UnknownPayment,
    UserAccountSelectionOptions,
    to_wire,
)
from ..models._checks import check_amount, check_currency, check_metadata
from . import _payments_api as api
from ._args import end_user_headers, resource_token_arg, type_arg
from ._payment_finality import PaymentFinality, ReadMandate
from ._polling import poll_resource

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["PaymentsService", "RawPaymentsService"]


def _optional_wire(**values: Any) -> dict[str, Any]:
    return {name: to_wire(value) for name, value in values.items() if value is not None}


class PaymentsService:
    """Payments API v3 payments. Reached as ``tl.payments``.

    Errors (all methods): ``PaymentsApiError`` and its subclasses for TrueLayer's
    problem+json answers (``IdempotencyConflictError`` 409, ``IdempotencyKeyReuseError``
    422, ``ResourceConflictError`` 409), ``ConfigurationError`` before any request when a
    signature is needed and the Session has no signing key, ``InvalidParameterError`` for
    bad arguments (before any request), ``TransportError``, ``MalformedResponseError``.
    """

    def __init__(self, core: Core, *, read_mandate: ReadMandate | None = None) -> None:
        self._core = core
        #: ``tl.mandates.get``: where a payment on a mandate goes (see ``wait_for``).
        self._read_mandate = read_mandate
        self.with_raw_response = RawPaymentsService(self)

    async def create(
        self,
        *,
        amount_in_minor: int,
        currency: str,
        payment_method: BankTransfer | MandatePaymentMethod,
        user: PaymentUser,
        metadata: Mapping[str, str] | None = None,
        hosted_page: HostedPageOptions | None = None,
        authorization_flow: AuthorizationFlowOptions | None = None,
        risk_assessment: Mapping[str, Any] | None = None,
        related_products: Mapping[str, Any] | None = None,
        sub_merchants: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        user_ip: str | None = None,
        device_user_agent: str | None = None,
    ) -> CreatedPayment:
        """Create a payment (``POST /v3/payments``, signed, idempotent).

        ``amount_in_minor`` ≥ 1, ``currency`` ``GBP`` or ``EUR``, ``metadata`` at most 10
        pairs (keys ≤ 40, values ≤ 500 characters). ``hosted_page`` asks for a hosted
        payment page link (``created.hosted_page.uri``); ``authorization_flow`` starts
        the flow at once (the two cannot be combined). ``user_ip`` and
        ``device_user_agent`` are the end user's, sent as ``X-Forwarded-For`` and
        ``X-Device-User-Agent``.

        Returns the :class:`~truelayer_async.models.CreatedPayment`, whose
        ``resource_token`` is a ``Secret``.

        Raises:
            InvalidParameterError: a rule above is broken (nothing is sent).
        """
        check_amount("amount_in_minor", amount_in_minor)
        check_currency("currency", currency)
        check_metadata("metadata", metadata)
        type_arg("payment_method", payment_method, BankTransfer, MandatePaymentMethod)
        type_arg("user", user, PaymentUser)
        type_arg("hosted_page", hosted_page, HostedPageOptions)
        type_arg("authorization_flow", authorization_flow, AuthorizationFlowOptions)
        if hosted_page is not None and authorization_flow is not None:
            raise e.InvalidParameterError(
                "hosted_page and authorization_flow cannot be combined: choose one"
            )
        body: dict[str, Any] = {
            "amount_in_minor": amount_in_minor,
            "currency": currency,
            "payment_method": to_wire(payment_method, keep_secrets=True),
            "user": to_wire(user),
            **_optional_wire(hosted_page=hosted_page, authorization_flow=authorization_flow),
        }
        extras = {
            "metadata": metadata,
            "risk_assessment": risk_assessment,
            "related_products": related_products,
            "sub_merchants": sub_merchants,
        }
        body.update({name: dict(value) for name, value in extras.items() if value is not None})
        return await api.send(
            self._core,
            api.CREATE_PAYMENT,
            body=body,
            idempotency_key=idempotency_key,
            headers=end_user_headers(user_ip, device_user_agent) or None,
        )

    async def get(self, payment_id: str, *, resource_token: str | Secret | None = None) -> Payment:
        """The payment (``GET /v3/payments/{id}``): one class per ``status``
        (:data:`~truelayer_async.models.Payment`). ``resource_token`` (from ``create``)
        is used as the bearer when given."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        return await api.send(
            self._core, api.GET_PAYMENT, {"payment_id": payment_id}, resource_token=resource_token
        )

    async def cancel(
        self,
        payment_id: str,
        *,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Cancel a payment that is not yet authorised (``POST …/actions/cancel``,
        signed, idempotent); it then fails with ``failure_reason`` ``canceled``.

        Raises:
            PaymentsApiError: 400 ``Invalid State`` when the payment can no longer be
                cancelled.
        """
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        await api.send(
            self._core,
            api.CANCEL,
            {"payment_id": payment_id},
            resource_token=resource_token,
            idempotency_key=idempotency_key,
        )

    async def save_user_account(
        self,
        payment_id: str,
        *,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Save the paying account for the user's next payments (closed-loop payments
        only; ``POST …/actions/save-user-account``, signed, idempotent)."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        await api.send(
            self._core,
            api.SAVE_USER_ACCOUNT,
            {"payment_id": payment_id},
            resource_token=resource_token,
            idempotency_key=idempotency_key,
        )

    # -- authorization flow -------------------------------------------------------------

    async def start_authorization_flow(
        self,
        payment_id: str,
        *,
        provider_selection: ProviderSelectionOptions | None = None,
        redirect: RedirectOptions | None = None,
        form: FormOptions | None = None,
        consent: ConsentOptions | None = None,
        scheme_selection: SchemeSelectionOptions | None = None,
        user_account_selection: UserAccountSelectionOptions | None = None,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
        user_ip: str | None = None,
        device_user_agent: str | None = None,
    ) -> AuthorizationFlowResult:
        """Start the authorization flow, declaring what your front end can do
        (``POST /v3/payments/{id}/authorization-flow``; signed when the client token is
        used, idempotent).

        Returns an :data:`~truelayer_async.models.AuthorizationFlowResult`:
        ``AuthorizationFlowAuthorizing`` (``authorization_flow.actions.next`` says what
        to do) or ``AuthorizationFlowFailed``.
        """
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        options = AuthorizationFlowOptions(
            provider_selection=provider_selection,
            scheme_selection=scheme_selection,
            redirect=redirect,
            form=form,
            consent=consent,
            user_account_selection=user_account_selection,
        )
        return await self._flow(
            api.START_FLOW,
            payment_id,
            to_wire(options),
            resource_token,
            idempotency_key,
            end_user_headers(user_ip, device_user_agent) or None,
        )

    async def submit_provider_selection(
        self,
        payment_id: str,
        provider_id: str,
        *,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Submit the bank the user picked (``…/actions/provider-selection``)."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        type_arg("provider_id", provider_id, str)
        body = {"provider_id": provider_id}
        return await self._flow(
            api.PROVIDER_SELECTION, payment_id, body, resource_token, idempotency_key
        )

    async def submit_scheme_selection(
        self,
        payment_id: str,
        scheme_id: str,
        *,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Submit the scheme the user picked (``…/actions/scheme-selection``)."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        type_arg("scheme_id", scheme_id, str)
        body = {"scheme_id": scheme_id}
        return await self._flow(
            api.SCHEME_SELECTION, payment_id, body, resource_token, idempotency_key
        )

    async def submit_form(
        self,
        payment_id: str,
        inputs: Mapping[str, str],
        *,
        adjacent: Mapping[str, Any] | None = None,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Submit the form answers, ``{input id: value}`` (``…/actions/form``);
        ``adjacent`` may carry ``{"consent": {"captured": …}}`` with them."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        if not isinstance(inputs, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in inputs.items()
        ):
            raise e.InvalidParameterError("inputs must map input ids to string values")
        body: dict[str, Any] = {"inputs": dict(inputs)}
        if adjacent is not None:
            body["adjacent"] = dict(adjacent)
        return await self._flow(api.FORM, payment_id, body, resource_token, idempotency_key)

    async def submit_consent(
        self,
        payment_id: str,
        *,
        ais_scopes: Collection[str] | None = None,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Submit the user's consent to the payment (``…/actions/consent``), and to
        account access for ``ais_scopes`` (``accounts``, ``balance``) when asked."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        captured: dict[str, Any] = {"pis": {}}
        if ais_scopes is not None:
            captured["ais"] = {"scopes": list(ais_scopes)}
        body = {"captured": captured}
        return await self._flow(api.CONSENT, payment_id, body, resource_token, idempotency_key)

    async def submit_user_account_selection(
        self,
        payment_id: str,
        *,
        user_account_id: str | None = None,
        delete: bool = False,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Pick a saved account (``user_account_id``), ask for a new one (no id), or
        forget one (``delete=True`` with its id) (``…/actions/user-account-selection``)."""
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        body: dict[str, Any]
        if user_account_id is None:
            if delete:
                raise e.InvalidParameterError("delete=True needs the user_account_id to delete")
            body = {"type": "new"}
        else:
            type_arg("user_account_id", user_account_id, str)
            body = {"type": "delete" if delete else "existing", "user_account_id": user_account_id}
        return await self._flow(
            api.USER_ACCOUNT_SELECTION, payment_id, body, resource_token, idempotency_key
        )

    async def submit_provider_return(
        self,
        *,
        query: str | None = None,
        fragment: str | None = None,
        idempotency_key: str | None = None,
    ) -> ProviderReturnResult:
        """Forward the raw ``query`` and/or ``fragment`` of a direct return from the bank
        (``POST /v3/payments-provider-return``, no token, idempotent). Returns which
        payment (or mandate) it was for."""
        if query is None and fragment is None:
            raise e.InvalidParameterError("give the query string, the fragment, or both")
        type_arg("query", query, str)
        type_arg("fragment", fragment, str)
        body = {
            name: value
            for name, value in (("query", query), ("fragment", fragment))
            if value is not None
        }
        return await api.send(
            self._core, api.PROVIDER_RETURN, body=body, idempotency_key=idempotency_key
        )

    async def _flow(
        self,
        call: api.Call[AuthorizationFlowResult],
        payment_id: str,
        body: Mapping[str, Any],
        resource_token: str | Secret | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> AuthorizationFlowResult:
        return await api.send(
            self._core,
            call,
            {"payment_id": payment_id},
            body=body,
            resource_token=resource_token,
            idempotency_key=idempotency_key,
            headers=headers,
        )

    # -- refunds --------------------------------------------------------------------------

    async def create_refund(
        self,
        payment_id: str,
        *,
        reference: str,
        amount_in_minor: int | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedRefund:
        """Refund a settled merchant-account payment, in full (no ``amount_in_minor``) or
        in part (``POST /v3/payments/{id}/refunds``, signed, idempotent). Returns the
        refund's id; follow it with :meth:`get_refund`."""
        if not isinstance(reference, str) or not reference:
            raise e.InvalidParameterError("reference must be a non-empty string")
        if amount_in_minor is not None:
            check_amount("amount_in_minor", amount_in_minor)
        check_metadata("metadata", metadata)
        body: dict[str, Any] = {"reference": reference}
        if amount_in_minor is not None:
            body["amount_in_minor"] = amount_in_minor
        if metadata is not None:
            body["metadata"] = dict(metadata)
        return await api.send(
            self._core,
            api.CREATE_REFUND,
            {"payment_id": payment_id},
            body=body,
            idempotency_key=idempotency_key,
        )

    async def list_refunds(self, payment_id: str) -> list[Refund]:
        """Every refund of a payment (``GET /v3/payments/{id}/refunds``), one class per
        ``status`` (:data:`~truelayer_async.models.Refund`)."""
        found = await api.send(self._core, api.LIST_REFUNDS, {"payment_id": payment_id})
        return list(found.items)

    async def get_refund(self, payment_id: str, refund_id: str) -> Refund:
        """One refund (``GET /v3/payments/{payment_id}/refunds/{refund_id}``)."""
        return await api.send(
            self._core, api.GET_REFUND, {"payment_id": payment_id, "refund_id": refund_id}
        )

    # -- polling ------------------------------------------------------------------------

    async def wait_for(
        self,
        payment_id: str,
        *,
        statuses: Collection[str] | None = None,
        timeout: float = 60.0,
        resource_token: str | Secret | None = None,
    ) -> Payment:
        """Poll :meth:`get` until the payment reaches one of ``statuses`` or a final
        status, and return it. Final: ``failed``, ``settled``, and ``executed`` for
        payments to an external account (merchant-account payments go on to
        ``settled``; see :func:`~truelayer_async.models.is_final`). A payment on a
        mandate names no beneficiary, so when it is first seen ``executed`` its mandate
        is read once (``tl.mandates.get``): into a merchant account, the wait goes on to
        ``settled``; if the mandate cannot be read for good (no mandate scope, 404),
        ``executed`` is final, while a passing failure (5xx, 429, network) has it read
        again on the next poll. A status this SDK version does not know (an
        :class:`~truelayer_async.models.UnknownPayment`) ends the wait too: it is
        returned rather than polled until ``timeout``; read its ``status`` and ``raw``.
        A payment webhook verified by this Session's ``tl.webhooks`` (in the same
        process) ends the pause between polls at once.

        Pauses start at 1 s and double up to 30 s, never past ``timeout`` (seconds).
        A webhook is the better signal in production; this is for scripts and tests.

        Raises:
            WaitTimeoutError: ``timeout`` passed first; ``last`` holds the last payment.
        """
        resource_token = resource_token_arg(resource_token)  # no plain token in this frame
        finality = PaymentFinality(self._read_mandate)

        async def fetch() -> Payment:
            payment = await self.get(payment_id, resource_token=resource_token)
            await finality.learn(payment)
            return payment

        return await poll_resource(
            self._core,
            payment_id,
            fetch,
            statuses=statuses,
            is_final=finality.is_final,
            unknown=UnknownPayment,
            timeout=timeout,
            what="payment",
        )


class RawPaymentsService:
    """``tl.payments.with_raw_response``: the same methods, each returning a
    :class:`~truelayer_async.RawResponse` (the model in ``parsed``, with status, headers
    and correlation id)."""

    def __init__(self, payments: PaymentsService) -> None:
        self.create = raw_method(payments.create)
        self.get = raw_method(payments.get)
        self.cancel = raw_method(payments.cancel)
        self.save_user_account = raw_method(payments.save_user_account)
        self.start_authorization_flow = raw_method(payments.start_authorization_flow)
        self.submit_provider_selection = raw_method(payments.submit_provider_selection)
        self.submit_scheme_selection = raw_method(payments.submit_scheme_selection)
        self.submit_form = raw_method(payments.submit_form)
        self.submit_consent = raw_method(payments.submit_consent)
        self.submit_user_account_selection = raw_method(payments.submit_user_account_selection)
        self.submit_provider_return = raw_method(payments.submit_provider_return)
        self.create_refund = raw_method(payments.create_refund)
        self.list_refunds = raw_method(payments.list_refunds)
        self.get_refund = raw_method(payments.get_refund)
