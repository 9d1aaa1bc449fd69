"""A raw Payments v3 client for the emulator's tests: plain httpx, signatures made with
``truelayer_async.signing.sign``, and every response checked against payments-api-v3.json
(``tests/support/openapi.py``, errata patched in memory). The raw payouts, mandates and
browser tests use it too."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from tests.support.openapi import PAYMENTS, spec
from tests.support.payouts_openapi import MANDATE_SCHEMAS
from tests.support.payouts_openapi import validate as validate_variant
from truelayer_async.signing import sign
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

__all__ = ["FLOW", "MERCHANT", "Payments", "merchant_payment", "template_of", "validate"]

MERCHANT = {
    "type": "merchant_account",
    "merchant_account_id": "c54104a5-fc9c-4e1e-a8b0-dda2a6b85ed2",
    "account_holder_name": "Acme Ltd",
    "reference": "Order 42",
}
_TEMPLATES = [
    (
        re.compile(r"^/v3/payments/[^/]+/refunds/[^/]+$"),
        "/v3/payments/{payment_id}/refunds/{refund_id}",
    ),
    (re.compile(r"^/v3/payments-providers/(?!search$)[^/]+$"), "/v3/payments-providers/{id}"),
    (re.compile(r"^/v3/payment-links/[^/]+/payments$"), "/v3/payment-links/{id}/payments"),
    (re.compile(r"^/v3/payment-links/[^/]+$"), "/v3/payment-links/{id}"),
    (re.compile(r"^/v3/payments/[^/]+(/.*)?$"), None),
    (re.compile(r"^/v3/(payouts|merchant-accounts|mandates)/[^/]+(/.*)?$"), None),
]


def template_of(path: str) -> str:
    """The payments-api-v3.json path template a concrete path belongs to."""
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            if template is not None:
                return template
            return re.sub(
                r"^/v3/(payments|payouts|merchant-accounts|mandates)/[^/]+", r"/v3/\1/{id}", path
            )
    return path


def validate(response: httpx.Response) -> None:
    """Check a Payments response: ``Tl-Trace-Id``, and its body against the schema the
    document gives for that path, method and status."""
    assert response.headers.get("tl-trace-id"), "every Payments response has Tl-Trace-Id"
    method = response.request.method
    if method != "GET":
        assert response.headers.get("tl-should-retry") in ("true", "false")
    if not response.content:
        return
    document = spec(PAYMENTS)
    problem = response.headers["content-type"].startswith("application/problem+json")
    content_type = (
        "application/problem+json; charset=UTF-8" if problem else "application/json; charset=UTF-8"
    )
    path = template_of(response.request.url.path)
    if method == "GET" and response.status_code == 200 and path in _MANDATE_PATHS:
        _validate_mandates(response.json(), path)
        return
    operation = document.doc["paths"][path][method.lower()]
    status = str(response.status_code)
    if status not in operation["responses"]:
        # Undocumented status for this operation: check the problem shape by kind.
        assert problem, f"{method} {path} answered an undocumented {status}"
        body = response.json()
        name = {
            400: "ProblemDetailsInvalidState"
            if body["title"] == "Invalid State"
            else "ProblemDetailsInvalidParameters",
            401: "ProblemDetailsUnauthenticated",
            403: "ProblemDetailsForbidden",
            404: "ProblemDetailsNotFound",
            409: "ProblemDetailsIdempotencyKeyConcurrencyConflict",
            422: "ProblemDetailsIdempotencyKeyReuse",
            500: "ProblemDetailsUnknownError",
        }[response.status_code]
        document.validate(body, f"#/components/schemas/{name}")
        return
    if problem and response.status_code == 400 and response.json()["title"] == "Invalid State":
        document.validate(response.json(), "#/components/schemas/ProblemDetailsInvalidState")
        return
    pointer = document.response_pointer(path, method, response.status_code, content_type)
    document.validate(response.json(), pointer)


_MANDATE_PATHS = ("/v3/mandates", "/v3/mandates/{id}")


def _validate_mandates(body: Any, path: str) -> None:
    # ``GetMandate`` is an allOf around a oneOf: the closed-world check follows the
    # variant of each mandate's status (tests/support/payouts_openapi.py).
    items = [body]
    if path == "/v3/mandates":
        assert set(body) == {"items", "pagination"}, body
        assert set(body["pagination"]) <= {"next_cursor"}
        items = body["items"]
    for item in items:
        validate_variant(item, "GetMandate", closed_as=MANDATE_SCHEMAS[item["status"]])


def merchant_payment(**extra: Any) -> dict[str, Any]:
    """A GBP payment into a merchant account, user-selected provider."""
    body: dict[str, Any] = {
        "amount_in_minor": 1000,
        "currency": "GBP",
        "payment_method": {
            "type": "bank_transfer",
            "provider_selection": {"type": "user_selected", "filter": {"countries": ["GB"]}},
            "beneficiary": dict(MERCHANT),
        },
        "user": {"name": "John Doe", "email": "john@example.com"},
    }
    body.update(extra)
    return body


FLOW = {"provider_selection": {}, "redirect": {"return_uri": "https://shop.example/return"}}


class Payments:
    """Signed, validated requests to the emulator's Payments v3 API."""

    def __init__(self, fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
        self.fake = fake
        self.client = client
        self.key_id, self.private_pem = fake.client_signing_key
        self.token = ""
        #: Checks every response (against payments-api-v3.json unless replaced).
        self.check = validate

    async def login(self, scope: str = "payments") -> str:
        response = await self.client.post(
            f"{self.fake.environment.auth_url}/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "scope": scope,
            },
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        signed: bool = True,
        key: str | bool | None = True,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """``key=True``: a fresh Idempotency-Key; a string: that key; ``None``/False: none."""
        raw = (
            content
            if content is not None
            else (b"" if body is None else json.dumps(body).encode())
        )
        sent: dict[str, str] = {"Content-Type": "application/json"} if raw else {}
        bearer = self.token if token is None else token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        signed_headers: dict[str, str] = {}
        if key is True:
            key = str(uuid.uuid4())
        if isinstance(key, str):
            signed_headers["Idempotency-Key"] = key
        if signed and method != "GET":
            sent["Tl-Signature"] = sign(
                key_id=self.key_id,
                private_key=self.private_pem,
                method=method,
                path=path,
                body=raw,
                headers=signed_headers,
            )
        sent.update(signed_headers)
        sent.update(headers or {})
        response = await self.client.request(
            method, path, content=raw or None, headers=sent, params=params
        )
        self.check(response)
        return response

    async def create(self, body: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return await self.request("POST", "/v3/payments", body or merchant_payment(), **kw)

    async def created(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.create(body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def get(self, payment_id: str, **kw: Any) -> dict[str, Any]:
        response = await self.request("GET", f"/v3/payments/{payment_id}", **kw)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def start(
        self, payment_id: str, flow: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.request(
            "POST", f"/v3/payments/{payment_id}/authorization-flow", flow or FLOW, **kw
        )

    async def act(
        self, payment_id: str, action: str, body: dict[str, Any], **kw: Any
    ) -> httpx.Response:
        return await self.request(
            "POST", f"/v3/payments/{payment_id}/authorization-flow/actions/{action}", body, **kw
        )

    async def settled(self, body: dict[str, Any] | None = None) -> str:
        """A payment driven to ``settled``."""
        payment_id = (await self.created(body))["id"]
        self.fake.authorize_payment(payment_id, "executed")
        self.fake.advance(5)
        assert (await self.get(payment_id))["status"] == "settled"
        return str(payment_id)
