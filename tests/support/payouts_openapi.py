"""payments-api-v3.json for the payouts, merchant-account and mandate tests: the
emulator's patched document (its ERRATA, in tests/support/openapi.py, include the payout
and mandate errata), with a closed-world check that follows union variants."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.support.openapi import PAYMENTS, Spec, spec

__all__ = ["MANDATE_SCHEMAS", "SCHEMAS", "payouts_spec", "request_fits", "validate"]

SCHEMAS = "#/components/schemas/"
#: The ``GetMandate`` variant of each mandate status (for ``validate(closed_as=...)``).
MANDATE_SCHEMAS = {
    "authorization_required": "GetVRPMandateAuthorizationRequiredWithUserDetails",
    "authorizing": "GetVRPMandateAuthorizingWithUserDetails",
    "authorized": "GetVRPMandateAuthorizedWithUserDetails",
    "failed": "GetVRPMandateFailedWithUserDetails",
    "revoked": "GetVRPMandateRevokedWithUserDetails",
}


@cache
def payouts_spec() -> Spec:
    """The patched Payments v3 document (``tests/support/openapi.py`` holds the errata)."""
    return spec(PAYMENTS)


def _properties(spec: Spec, schema: Any) -> dict[str, Any]:
    # Every property of a schema, through nested allOf.
    schema = spec.resolve(schema)
    merged = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        merged.update(_properties(spec, part))
    return merged


def validate(body: Any, schema: str, *, closed_as: str | None = None) -> None:
    """Validate ``body`` against ``#/components/schemas/{schema}``, then check that every
    key is documented, in ``closed_as`` when given: the variant of a union whose
    ``allOf``/``oneOf`` nesting the closed-world check cannot follow (its own ``type`` key
    aside, which the union's outer part documents)."""
    spec = payouts_spec()
    if closed_as is None:
        spec.validate(body, SCHEMAS + schema)
        return
    validator = spec.validator_cls(
        {"$ref": spec.uri + SCHEMAS + schema},
        registry=spec.registry,
        format_checker=spec.validator_cls.FORMAT_CHECKER,
    )
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        raise error
    rest = {key: value for key, value in body.items() if key != "type"}
    flat = {"properties": _properties(spec, spec.pointer(SCHEMAS + closed_as))}
    undocumented = list(spec.closed_world(rest, flat, "$"))
    assert not undocumented, f"undocumented keys: {undocumented}"


def request_fits(request: Any, path: str, method: str = "post") -> dict[str, Any]:
    """The JSON body of ``request`` (an ``httpx.Request``), checked against the request
    schema the document gives ``method path`` (closed world)."""
    spec = payouts_spec()
    escaped = path.replace("~", "~0").replace("/", "~1")
    pointer = f"#/paths/{escaped}/{method}/requestBody"
    (media,) = spec.resolve(spec.pointer(pointer))["content"]
    body: dict[str, Any] = json.loads(request.content)
    spec.validate(body, f"{pointer}/content/{media.replace('/', '~1')}/schema")
    return body
