"""payments-api-v3.json for the payouts, merchant-account and mandate tests: the
emulator's patched document (its ERRATA, in tests/support/openapi.py, include the payout
and mandate errata), with a closed-world check that follows union variants."""

from __future__ import annotations

from typing import Any

from tests.support.openapi import PAYMENTS, Spec, spec

__all__ = ["MANDATE_SCHEMAS", "SCHEMAS", "validate"]

SCHEMAS = "#/components/schemas/"
#: The ``GetMandate`` variant of each mandate status (for ``validate(closed_as=...)``).
MANDATE_SCHEMAS = {
    "authorization_required": "GetVRPMandateAuthorizationRequiredWithUserDetails",
    "authorizing": "GetVRPMandateAuthorizingWithUserDetails",
    "authorized": "GetVRPMandateAuthorizedWithUserDetails",
    "failed": "GetVRPMandateFailedWithUserDetails",
    "revoked": "GetVRPMandateRevokedWithUserDetails",
}


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
    document = spec(PAYMENTS)
    if closed_as is None:
        document.validate(body, SCHEMAS + schema)
        return
    validator = document.validator_cls(
        {"$ref": document.uri + SCHEMAS + schema},
        registry=document.registry,
        format_checker=document.validator_cls.FORMAT_CHECKER,
    )
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        raise error
    rest = {key: value for key, value in body.items() if key != "type"}
    flat = {"properties": _properties(document, document.pointer(SCHEMAS + closed_as))}
    undocumented = list(document.closed_world(rest, flat, "$"))
    assert not undocumented, f"undocumented keys: {undocumented}"
