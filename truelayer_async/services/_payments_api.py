"""The v3 endpoints (Payments, and Verification v3 which shares its conventions), each
described once (method, path, signature, idempotency, response model), and :func:`send`,
the one function that calls one of them.

The Sig and Idem columns of the endpoint matrix (truelayer-api-v3.md §4.2) map to
``sign`` (Y → ``"always"``, C → ``"with_client_token"``) and ``idempotent`` (Y and o →
``True``: an optional key is generated anyway, so retries are safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from .._converter import structure
from .._error_mapping import Api
from .._path_segment import path_segment
from .._secret import Secret
from ..models import (
    AuthorizationFlowResult,
    CreatedPayment,
    CreatedPaymentLink,
    CreatedRefund,
    Payment,
    PaymentLink,
    PaymentLinkPayment,
    PaymentsProvider,
    ProviderReturnResult,
    Refund,
)
from ..tokens import PAYMENTS_SCOPES
from ._v3_json import decode

if TYPE_CHECKING:
    from .._core import Core, SignMode

__all__ = ["Call", "LinkPaymentsPage", "send"]

R = TypeVar("R")
T = TypeVar("T")


@attrs.frozen(kw_only=True)
class _Pagination:
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class Items(Generic[T]):
    """``{"items": [...]}`` (lists without pagination)."""

    items: tuple[T, ...]


@attrs.frozen(kw_only=True)
class LinkPaymentsPage:
    """One page of a payment link's payments."""

    items: tuple[PaymentLinkPayment, ...]
    pagination: _Pagination | None = None


@attrs.frozen
class Call(Generic[R]):
    """One endpoint: ``path`` is a template whose ``{names}`` are filled with encoded ids;
    ``model`` is what a success body decodes to (``None``: no body)."""

    method: str
    path: str
    model: Any
    sign: SignMode = "never"
    idempotent: bool = False
    authenticated: bool = True
    scopes: tuple[str, ...] = PAYMENTS_SCOPES
    #: The product, first in ``operation`` (``payments``, ``verification``, ``data_v3``);
    #: also the API family whose error classes its errors take, unless ``errors_api`` says.
    family: str = "payments"
    #: The API family of its errors where ``family`` is not one (``data_v3``: Data).
    errors_api: Api | None = None
    #: Whether the model keeps its whole object in ``raw`` (Data v3, Signup+), filled at
    #: every level by ``_v3_json.decode``.
    fills_raw: bool = False
    #: The name of the call in logs, spans and event hooks: the route, never an id
    #: (``truelayer.payments.POST /payments/{payment_id}/refunds``).
    operation: str = attrs.field(
        init=False,
        default=attrs.Factory(
            lambda self: f"truelayer.{self.family}.{self.method} {self.path}", takes_self=True
        ),
    )


_PAYMENT = "/payments/{payment_id}"
_FLOW = f"{_PAYMENT}/authorization-flow"


def _action(name: str) -> Call[AuthorizationFlowResult]:
    return Call(
        "POST", f"{_FLOW}/actions/{name}", AuthorizationFlowResult, "with_client_token", True
    )


CREATE_PAYMENT: Call[CreatedPayment] = Call("POST", "/payments", CreatedPayment, "always", True)
GET_PAYMENT: Call[Payment] = Call("GET", _PAYMENT, Payment)
START_FLOW: Call[AuthorizationFlowResult] = Call(
    "POST", _FLOW, AuthorizationFlowResult, "with_client_token", True
)
PROVIDER_SELECTION = _action("provider-selection")
SCHEME_SELECTION = _action("scheme-selection")
FORM = _action("form")
CONSENT = _action("consent")
USER_ACCOUNT_SELECTION = _action("user-account-selection")
CANCEL: Call[None] = Call("POST", f"{_PAYMENT}/actions/cancel", None, "always", True)
SAVE_USER_ACCOUNT: Call[None] = Call(
    "POST", f"{_PAYMENT}/actions/save-user-account", None, "always", True
)
CREATE_REFUND: Call[CreatedRefund] = Call(
    "POST", f"{_PAYMENT}/refunds", CreatedRefund, "always", True
)
LIST_REFUNDS: Call[Items[Refund]] = Call("GET", f"{_PAYMENT}/refunds", Items[Refund])
GET_REFUND: Call[Refund] = Call("GET", f"{_PAYMENT}/refunds/{{refund_id}}", Refund)
PROVIDER_RETURN: Call[ProviderReturnResult] = Call(
    "POST", "/payments-provider-return", ProviderReturnResult, idempotent=True, authenticated=False
)
SEARCH_PROVIDERS: Call[Items[PaymentsProvider]] = Call(
    "POST", "/payments-providers/search", Items[PaymentsProvider]
)
GET_PROVIDER: Call[PaymentsProvider] = Call(
    "GET", "/payments-providers/{provider_id}", PaymentsProvider
)
CREATE_LINK: Call[CreatedPaymentLink] = Call(
    "POST", "/payment-links", CreatedPaymentLink, "always", True
)
GET_LINK: Call[PaymentLink] = Call("GET", "/payment-links/{link_id}", PaymentLink)
LINK_PAYMENTS: Call[LinkPaymentsPage] = Call(
    "GET", "/payment-links/{link_id}/payments", LinkPaymentsPage
)


async def send(
    core: Core,
    call: Call[R],
    ids: Mapping[str, str] | None = None,
    *,
    body: Mapping[str, Any] | None = None,
    resource_token: str | Secret | None = None,
    idempotency_key: str | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    authenticated: bool | None = None,
) -> R:
    """Call ``call`` with its ``{names}`` filled from ``ids`` (each checked and encoded as
    one path segment) and decode the response into ``call.model``."""
    segments = {name: path_segment(value, name) for name, value in (ids or {}).items()}
    response = await core.payments_request(
        call.method,
        call.path.format(**segments),
        scopes=call.scopes,
        resource_token=resource_token,
        authenticated=call.authenticated if authenticated is None else authenticated,
        sign=call.sign,
        idempotent=call.idempotent,
        idempotency_key=idempotency_key,
        json_body=body,
        params=params,
        headers=headers,
        operation=call.operation,
        api=call.errors_api or Api(call.family),
    )
    if call.model is None:
        result: Any = None
    elif call.fills_raw:
        result = decode(response.json(), call.model, response)
    else:
        result = structure(
            response.json(),
            call.model,
            status_code=response.status_code,
            correlation_id=response.correlation_id,
        )
    return result  # type: ignore[no-any-return]
