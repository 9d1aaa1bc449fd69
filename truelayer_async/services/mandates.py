"""``tl.mandates``: VRP mandates (sweeping and commercial): create, list, authorise,
check funds and constraints, revoke. Payments on a mandate go through
``tl.payments.create(payment_method=MandatePaymentMethod(...))``.

Scopes: TrueLayer's docs ask for ``recurring_payments:sweeping`` or
``recurring_payments:commercial`` (its OpenAPI document says ``mandates``). By default
``create`` asks for the scope of its mandate's type and every other call for
``recurring_payments:sweeping``; ``Session(mandate_scopes=...)`` or
``tl.mandates.with_scopes(...)`` sets the scopes of every call instead. Each scope set has
its own cached client-credentials token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .. import errors as e
from .._raw import raw_method
from .._secret import Secret
from ..models import (
    AuthorizationFlowResult,
    CommercialMandate,
    ConsentOptions,
    CreatedMandate,
    FundsConfirmation,
    Mandate,
    MandateConstraintsInput,
    MandateConstraintsUsage,
    PaymentUser,
    ProviderSelectionOptions,
    SweepingMandate,
    to_wire,
)
from ..models._checks import check_amount, check_currency, check_metadata
from ..pagination import AsyncPaginator
from . import _payments_api as api
from ._args import end_user_headers, resource_token_arg, text_arg, type_arg
from ._cursor_page import CursorPage, paginate

if TYPE_CHECKING:
    from .._core import Core

__all__ = [
    "MANDATE_CURRENCIES",
    "MAX_PAGE_SIZE",
    "SWEEPING_SCOPES",
    "MandatesService",
    "RawMandatesService",
]

#: The scopes ``create`` asks for by mandate type (when no scopes are configured).
SWEEPING_SCOPES = ("recurring_payments:sweeping",)
COMMERCIAL_SCOPES = ("recurring_payments:commercial",)
#: The currencies a mandate can be in.
MANDATE_CURRENCIES = ("GBP", "EUR")
#: The largest page ``GET /v3/mandates`` serves.
MAX_PAGE_SIZE = 50

_MANDATE = "/mandates/{mandate_id}"
_FLOW = f"{_MANDATE}/authorization-flow"
CREATE_MANDATE: api.Call[CreatedMandate] = api.Call(
    "POST", "/mandates", CreatedMandate, "always", True
)
LIST_MANDATES: api.Call[CursorPage[Mandate]] = api.Call("GET", "/mandates", CursorPage[Mandate])
GET_MANDATE: api.Call[Mandate] = api.Call("GET", _MANDATE, Mandate)
START_FLOW: api.Call[AuthorizationFlowResult] = api.Call(
    "POST", _FLOW, AuthorizationFlowResult, "with_client_token", True
)


def _action(name: str) -> api.Call[AuthorizationFlowResult]:
    return api.Call(
        "POST", f"{_FLOW}/actions/{name}", AuthorizationFlowResult, "with_client_token", True
    )


PROVIDER_SELECTION = _action("provider-selection")
CONSENT = _action("consent")
REVOKE: api.Call[None] = api.Call("POST", f"{_MANDATE}/revoke", None, "always", True)
FUNDS: api.Call[FundsConfirmation] = api.Call("GET", f"{_MANDATE}/funds", FundsConfirmation)
CONSTRAINTS: api.Call[MandateConstraintsUsage] = api.Call(
    "GET", f"{_MANDATE}/constraints", MandateConstraintsUsage
)


def _scopes_arg(scopes: Sequence[str] | None) -> tuple[str, ...] | None:
    if scopes is None:
        return None
    if isinstance(scopes, str) or not all(isinstance(s, str) and s for s in scopes):
        raise e.ConfigurationError("mandate scopes must be a sequence of scope strings")
    if not scopes:
        raise e.ConfigurationError("mandate scopes must not be empty")
    return tuple(scopes)


class MandatesService:
    """Mandates (Payments API v3). Reached as ``tl.mandates``.

    ``scopes``: the client-credentials scopes of every call; ``None`` (the default):
    ``create`` asks for ``recurring_payments:<type>`` and the other calls for
    ``recurring_payments:sweeping``.

    Errors (all methods): ``PaymentsApiError`` and its subclasses for TrueLayer's
    problem+json answers (``IdempotencyConflictError`` 409, ``IdempotencyKeyReuseError``
    422; 400 ``Invalid State`` when revoking a mandate that cannot be revoked),
    ``ConfigurationError`` before any request when a signature is needed and the Session
    has no signing key, ``InvalidParameterError`` for bad arguments (before any request),
    ``TransportError``, ``MalformedResponseError``.
    """

    def __init__(self, core: Core, *, scopes: Sequence[str] | None = None) -> None:
        self._core = core
        self._scopes = _scopes_arg(scopes)
        self.with_raw_response = RawMandatesService(self)

    @property
    def scopes(self) -> tuple[str, ...] | None:
        """The configured scopes (``None``: by mandate type, as described above)."""
        return self._scopes

    def with_scopes(self, *scopes: str) -> MandatesService:
        """The same service asking for ``scopes`` on every call, e.g.
        ``tl.mandates.with_scopes("recurring_payments:commercial")`` or
        ``with_scopes("mandates")`` (the scope TrueLayer's OpenAPI document names)."""
        return MandatesService(self._core, scopes=scopes)

    def _call(self, call: api.Call[Any], default: tuple[str, ...] = SWEEPING_SCOPES) -> Any:
        return attrs.evolve(call, scopes=self._scopes or default)

    async def create(
        self,
        *,
        mandate: SweepingMandate | CommercialMandate,
        currency: str,
        user: PaymentUser,
        constraints: MandateConstraintsInput,
        metadata: Mapping[str, str] | None = None,
        related_products: Mapping[str, Any] | None = None,
        sub_merchants: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedMandate:
        """Create a VRP mandate (``POST /v3/mandates``, signed, idempotent).

        ``mandate``: a :class:`~truelayer_async.models.SweepingMandate` or
        :class:`~truelayer_async.models.CommercialMandate` (provider selection,
        beneficiary, references); ``currency`` ``GBP`` or ``EUR``; ``user`` the payer;
        ``constraints`` the limits (:class:`~truelayer_async.models.MandateConstraintsInput`);
        ``metadata`` at most 10 pairs.

        Returns the :class:`~truelayer_async.models.CreatedMandate` (``status``
        ``authorization_required`` with a ``resource_token`` ``Secret``, for the hosted
        page or :meth:`start_authorization_flow`).

        Raises:
            InvalidParameterError: a rule above is broken (nothing is sent).
        """
        type_arg("mandate", mandate, SweepingMandate, CommercialMandate)
        if mandate is None:
            raise e.InvalidParameterError("mandate is required")
        check_currency("currency", currency, MANDATE_CURRENCIES)
        type_arg("user", user, PaymentUser)
        type_arg("constraints", constraints, MandateConstraintsInput)
        if user is None or constraints is None:
            raise e.InvalidParameterError("user and constraints are required")
        check_metadata("metadata", metadata)
        body: dict[str, Any] = {
            "mandate": to_wire(mandate),
            "currency": currency,
            "user": to_wire(user),
            "constraints": to_wire(constraints),
        }
        extras = {
            "metadata": metadata,
            "related_products": related_products,
            "sub_merchants": sub_merchants,
        }
        body.update({name: dict(value) for name, value in extras.items() if value is not None})
        by_type = COMMERCIAL_SCOPES if isinstance(mandate, CommercialMandate) else SWEEPING_SCOPES
        return await api.send(
            self._core,
            self._call(CREATE_MANDATE, by_type),
            body=body,
            idempotency_key=idempotency_key,
        )

    def list(
        self, *, user_id: str | None = None, limit: int | None = None
    ) -> AsyncPaginator[Mandate]:
        """Your mandates, a page at a time (``GET /v3/mandates``, cursor
        pages of up to 50)::

            async for mandate in tl.mandates.list(user_id=user_id):
                ...

        ``user_id``: only this user's. ``limit``: stop after that many mandates (pages
        ask for no more than needed). Arguments are checked here, before anything is
        sent.
        """
        params: dict[str, str] = {}
        if user_id is not None:
            params["user_id"] = text_arg("user_id", user_id)
        call = self._call(LIST_MANDATES)
        few = limit if type(limit) is int and limit >= 1 else MAX_PAGE_SIZE
        page_size = min(few, MAX_PAGE_SIZE)
        params["limit"] = str(page_size)
        return paginate(self._core, call, params=params, limit=limit)  # refuses a bad limit

    async def get(self, mandate_id: str, *, resource_token: str | Secret | None = None) -> Mandate:
        """The mandate (``GET /v3/mandates/{id}``): one class per ``status``
        (:data:`~truelayer_async.models.Mandate`). ``resource_token`` (from ``create``)
        is used as the bearer when given."""
        token = resource_token_arg(resource_token)
        del resource_token  # only the Secret stays in this frame
        return await api.send(
            self._core, self._call(GET_MANDATE), {"mandate_id": mandate_id}, resource_token=token
        )

    # -- authorization flow -------------------------------------------------------------

    async def start_authorization_flow(
        self,
        mandate_id: str,
        *,
        return_uri: str,
        provider_selection: ProviderSelectionOptions | None = None,
        consent: ConsentOptions | None = None,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
        user_ip: str | None = None,
        device_user_agent: str | None = None,
    ) -> AuthorizationFlowResult:
        """Start the mandate's authorization flow
        (``POST /v3/mandates/{id}/authorization-flow``; signed when the client token is
        used, idempotent).

        Your front end can show a bank picker (``provider_selection``, default plain)
        and redirect the user, who comes back to ``return_uri`` (allow-listed in
        Console); ``consent`` if it collects consent itself. Returns
        ``AuthorizationFlowAuthorizing`` (``authorization_flow.actions.next``:
        ``provider_selection``, ``redirect``, ``wait`` or ``consent``) or
        ``AuthorizationFlowFailed``.
        """
        token = resource_token_arg(resource_token)
        del resource_token  # only the Secret stays in this frame
        type_arg("provider_selection", provider_selection, ProviderSelectionOptions)
        type_arg("consent", consent, ConsentOptions)
        if not isinstance(return_uri, str) or not return_uri:
            raise e.InvalidParameterError("return_uri must be a non-empty string")
        body: dict[str, Any] = {
            "provider_selection": to_wire(provider_selection or ProviderSelectionOptions()),
            "redirect": {"return_uri": return_uri},
        }
        if consent is not None:
            body["consent"] = to_wire(consent)
        return await self._flow(
            START_FLOW,
            mandate_id,
            body,
            token,
            idempotency_key,
            end_user_headers(user_ip, device_user_agent) or None,
        )

    async def submit_provider_selection(
        self,
        mandate_id: str,
        provider_id: str,
        *,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Submit the bank the user picked
        (``POST /v3/mandates/{id}/authorization-flow/actions/provider-selection``)."""
        token = resource_token_arg(resource_token)
        del resource_token  # only the Secret stays in this frame
        text_arg("provider_id", provider_id)
        body = {"provider_id": provider_id}
        return await self._flow(PROVIDER_SELECTION, mandate_id, body, token, idempotency_key)

    async def submit_consent(
        self,
        mandate_id: str,
        *,
        resource_token: str | Secret | None = None,
        idempotency_key: str | None = None,
    ) -> AuthorizationFlowResult:
        """Submit the user's consent to the mandate
        (``POST /v3/mandates/{id}/authorization-flow/actions/consent``); the next action
        is then usually the bank ``redirect``."""
        token = resource_token_arg(resource_token)
        del resource_token  # only the Secret stays in this frame
        body: dict[str, Any] = {}  # nothing to capture: consent is the user's click
        return await self._flow(CONSENT, mandate_id, body, token, idempotency_key)

    async def _flow(
        self,
        call: api.Call[AuthorizationFlowResult],
        mandate_id: str,
        body: Mapping[str, Any],
        resource_token: Secret | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> AuthorizationFlowResult:
        return await api.send(
            self._core,
            self._call(call),
            {"mandate_id": mandate_id},
            body=body,
            resource_token=resource_token,
            idempotency_key=idempotency_key,
            headers=headers,
        )

    # -- after authorization ------------------------------------------------------------

    async def revoke(self, mandate_id: str, *, idempotency_key: str | None = None) -> None:
        """Revoke the mandate (``POST /v3/mandates/{id}/revoke``, signed, idempotent):
        no payment can be made on it any more. A mandate that cannot be revoked (already
        revoked or failed) raises TrueLayer's 400 ``PaymentsApiError``."""
        await api.send(
            self._core,
            self._call(REVOKE),
            {"mandate_id": mandate_id},
            idempotency_key=idempotency_key,
        )

    async def confirm_funds(
        self,
        mandate_id: str,
        *,
        amount_in_minor: int,
        currency: str,
        resource_token: str | Secret | None = None,
    ) -> FundsConfirmation:
        """Whether the payer's account holds ``amount_in_minor`` of ``currency`` now
        (``GET /v3/mandates/{id}/funds``; confirmation of funds, no money moves)."""
        token = resource_token_arg(resource_token)
        del resource_token  # only the Secret stays in this frame
        check_amount("amount_in_minor", amount_in_minor)
        check_currency("currency", currency, MANDATE_CURRENCIES)
        params = {"amount_in_minor": str(amount_in_minor), "currency": currency}
        return await api.send(
            self._core,
            self._call(FUNDS),
            {"mandate_id": mandate_id},
            params=params,
            resource_token=token,
        )

    async def constraints(self, mandate_id: str) -> MandateConstraintsUsage:
        """The mandate's limits and how much of each period is used
        (``GET /v3/mandates/{id}/constraints``)."""
        return await api.send(self._core, self._call(CONSTRAINTS), {"mandate_id": mandate_id})


class RawMandatesService:
    """``tl.mandates.with_raw_response``: the same methods (but ``list``), each returning
    a :class:`~truelayer_async.RawResponse`."""

    def __init__(self, mandates: MandatesService) -> None:
        self.create = raw_method(mandates.create)
        self.get = raw_method(mandates.get)
        self.start_authorization_flow = raw_method(mandates.start_authorization_flow)
        self.submit_provider_selection = raw_method(mandates.submit_provider_selection)
        self.submit_consent = raw_method(mandates.submit_consent)
        self.revoke = raw_method(mandates.revoke)
        self.confirm_funds = raw_method(mandates.confirm_funds)
        self.constraints = raw_method(mandates.constraints)
