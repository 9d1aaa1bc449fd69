"""One wrapper for every Payments v3 API route: authentication, signature, idempotency,
problem rendering, and the ``state.lock`` around the handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import attrs
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._api import PaymentsApi
from ._guard import Caller, Stored, authenticate, check_signature, header_pairs
from ._problems import (
    PAYMENTS_STYLE,
    PaymentsProblem,
    ProblemStyle,
    payments_headers,
    problem_response,
)

__all__ = ["Call", "Spec", "api_route"]

#: ``Y``: always signed; ``C``: signed when called with a client token; ``-``: never.
SignRule = Literal["Y", "C", "-"]
#: ``Y``: ``Idempotency-Key`` mandatory; ``o``: optional; ``-``: not used.
KeyRule = Literal["Y", "o", "-"]
_PAYMENTS = ("payments",)


@attrs.frozen
class Spec:
    """How an endpoint is guarded (truelayer-api-v3.md §4.2)."""

    scopes: tuple[str, ...] = _PAYMENTS
    resource_token: bool = False
    #: The claim naming the path's ``{id}`` in an accepted resource token.
    resource_claim: str = "payment_id"
    sign: SignRule = "-"
    key: KeyRule = "-"
    auth: Literal["required", "optional", "none"] = "required"
    #: How problems are spelled (Verification v3: camelCase ``traceId``).
    style: ProblemStyle = PAYMENTS_STYLE


@attrs.frozen
class Call:
    """What a handler gets."""

    request: Request
    caller: Caller | None
    body: dict[str, Any]
    api: PaymentsApi

    @property
    def client_id(self) -> str:
        assert self.caller is not None
        return self.caller.client_id

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")

    @property
    def bank_url(self) -> str:
        return self.base_url + "/mock-bank/payments"

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[Call], Response]


def api_route(api: PaymentsApi, path: str, method: str, spec: Spec, handler: Handler) -> Route:
    """A Starlette route running ``handler`` behind ``spec``'s guards."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            return await _guarded(api, request, raw, method, spec, handler)
        except PaymentsProblem as exc:
            return problem_response(method, exc.kind, exc.detail, exc.errors, style=spec.style)

    return Route(path, endpoint, methods=[method])


async def _guarded(
    api: PaymentsApi, request: Request, raw: bytes, method: str, spec: Spec, handler: Handler
) -> Response:
    authorization = request.headers.get("authorization")
    caller: Caller | None = None
    with api.state.lock:
        if spec.auth == "required" or (spec.auth == "optional" and authorization):
            caller = authenticate(
                api.state,
                authorization,
                scopes=spec.scopes,
                resource_token_ok=spec.resource_token,
                payment_id=request.path_params.get("id"),
                resource_claim=spec.resource_claim,
            )
    key = request.headers.get("idempotency-key")
    signed = spec.sign == "Y" or (
        spec.sign == "C" and caller is not None and not caller.is_resource_token
    )
    if spec.key == "Y" and not key:
        raise PaymentsProblem("unauthenticated", "Invalid request signature.")
    if signed and caller is not None:
        check_signature(
            api.keys,
            caller.client_id,
            method=method,
            path=request.scope.get("root_path", "") + request.url.path,
            body=raw,
            headers=header_pairs(request.scope["headers"]),
        )
    body = _json_object(raw, method)
    owner = caller.client_id if caller is not None else "-"
    store_key = (owner, method, request.url.path, key) if key and spec.key != "-" else None
    if store_key is None:
        with api.state.lock:
            return handler(Call(request, caller, body, api))
    with api.state.lock:
        stored = api.idempotency.begin(store_key, raw, api.state.clock())
    if stored is not None:
        return _replay(method, stored)
    await api.hold()
    try:
        with api.state.lock:
            response = handler(Call(request, caller, body, api))
    except PaymentsProblem as exc:
        response = problem_response(method, exc.kind, exc.detail, exc.errors, style=spec.style)
    except BaseException:
        with api.state.lock:
            api.idempotency.finish(store_key, None)
        raise
    with api.state.lock:
        api.idempotency.finish(
            store_key,
            Stored(response.status_code, bytes(response.body), response.media_type or ""),
        )
    return response


def _replay(method: str, stored: Stored) -> Response:
    headers = payments_headers(method)
    return Response(stored.body, stored.status, headers=headers, media_type=stored.content_type)


def _json_object(raw: bytes, method: str) -> dict[str, Any]:
    if method == "GET" or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PaymentsProblem(
            "invalid_parameters", "The request body is not JSON.", {"body": ["Invalid JSON."]}
        ) from None
    if not isinstance(value, dict):
        raise PaymentsProblem(
            "invalid_parameters",
            "The request body must be a JSON object.",
            {"body": ["Not an object."]},
        )
    return value
