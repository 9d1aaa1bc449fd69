"""``tl.signup_plus``: Signup+ (UK and Finland) — the identity of a user who paid you, or
who connected their bank with the ``signupplus`` scope (truelayer-api-v3.md §7.4).

Payment and mandate look-ups use a client-credentials token for ``payments signupplus``;
the data-only flow uses the user's own token (an auth link that asked for ``signupplus``).
The paths are under ``{api_url}/signup-plus``, not ``/v3``. Errors are problem+json, raised
as ``SignupPlusApiError`` (``correlation_id`` is ``Tl-Trace-Id``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errors as e
from .._core import UserToken
from .._error_mapping import Api
from ..models.signup_plus import FinnishAuthUri, SignupPlusIdentity
from ._v3_json import decode, request_json

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["SIGNUP_PLUS_SCOPES", "SignupPlusService"]

#: The client-credentials scopes of the payment and mandate look-ups (TrueLayer's docs).
SIGNUP_PLUS_SCOPES = ("payments", "signupplus")
_PRODUCT = "signup_plus"


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value or not value.isprintable():
        raise e.InvalidParameterError(f"{name} must be a non-empty string")
    return value


class SignupPlusService:
    """Signup+. Reached as ``tl.signup_plus``.

    Errors: ``SignupPlusApiError`` (e.g. 404 when TrueLayer holds no data for the user),
    ``InsufficientScopeError`` (a user token without ``signupplus``),
    ``InvalidParameterError`` (before any request), ``TransportError``,
    ``MalformedResponseError``.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    @property
    def _base(self) -> str:
        return self._core.environment.api_url + "/signup-plus"

    async def _get(self, path: str, params: dict[str, str]) -> SignupPlusIdentity:
        data, response = await request_json(
            self._core,
            "GET",
            path,
            product=_PRODUCT,
            api=Api.SIGNUP_PLUS,
            scopes=SIGNUP_PLUS_SCOPES,
            params=params,
            base_url=self._base,
        )
        return decode(data, SignupPlusIdentity, response)

    async def by_payment(
        self, payment_id: str, *, authorization_reference: str | None = None
    ) -> SignupPlusIdentity:
        """The payer's identity (``GET /signup-plus/payments?payment_id=…``), once the
        payment is ``settled`` (UK) or ``executed`` (Finland). A Finnish payment also
        needs the ``authorization_reference`` the bank returned after
        :meth:`finnish_auth_uri` (parameter name **inferred**)."""
        params = {"payment_id": _text("payment_id", payment_id)}
        if authorization_reference is not None:
            params["authorization_reference"] = _text(
                "authorization_reference", authorization_reference
            )
        return await self._get("/payments", params)

    async def by_mandate(self, mandate_id: str) -> SignupPlusIdentity:
        """The identity of the user who authorised a VRP mandate
        (``GET /signup-plus/mandates?mandate_id=…``)."""
        return await self._get("/mandates", {"mandate_id": _text("mandate_id", mandate_id)})

    async def finnish_auth_uri(self, payment_id: str, *, state: str | None = None) -> str:
        """Finland: where the user authorises the data look-up for ``payment_id``
        (``POST /signup-plus/authuri``); send them there, then call :meth:`by_payment`
        with the ``authorization_reference`` the bank sends back."""
        body = {"payment_id": _text("payment_id", payment_id)}
        if state is not None:
            body["state"] = _text("state", state)
        data, response = await request_json(
            self._core,
            "POST",
            "/authuri",
            product=_PRODUCT,
            api=Api.SIGNUP_PLUS,
            scopes=SIGNUP_PLUS_SCOPES,
            json_body=body,
            base_url=self._base,
        )
        return decode(data, FinnishAuthUri, response).auth_uri

    async def for_user(self, user: str | None = None) -> SignupPlusIdentity:
        """UK data-only flow: the identity behind ``user``'s token
        (``GET /signup-plus/accounts``; path and shape **inferred**). The token comes from
        an auth link whose scopes include ``signupplus``."""
        response = await self._core.authorized_request(
            "GET",
            self._base + "/accounts",
            source=UserToken(user),
            api=Api.SIGNUP_PLUS,
            operation="truelayer.signup_plus.GET /accounts",
            scopes=("signupplus",),
        )
        return decode(response.json(), SignupPlusIdentity, response)
