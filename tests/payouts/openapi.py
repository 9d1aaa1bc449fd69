"""payments-api-v3.json for the payouts, merchant-account and mandate tests, with the
errata these endpoints need (patched in memory; the vendored file is never edited).

* ``PayoutDestinationExternalAccount`` requires ``account_identifier`` but documents only
  ``account_identifiers`` (what the other payout beneficiaries carry) → not required.
* ``GetVRPMandateCommonWithUserDetails`` requires a ``source`` it never defines → dropped.

The emulator's ERRATA (tests/emulator/openapi.py) should take these over when it patches
payments-api-v3.json.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests.emulator.openapi import PAYMENTS, Spec

__all__ = ["SCHEMAS", "payouts_spec", "request_fits", "validate"]

SCHEMAS = "#/components/schemas/"


def _drop_required(schema: dict[str, Any], name: str) -> None:
    for part in [schema, *schema.get("allOf", [])]:
        if name in part.get("required", []):
            part["required"].remove(name)


@cache
def payouts_spec() -> Spec:
    """The patched Payments v3 document (cached)."""
    spec = Spec(PAYMENTS)
    schemas = spec.doc["components"]["schemas"]
    _drop_required(schemas["PayoutDestinationExternalAccount"], "account_identifier")
    _drop_required(schemas["GetVRPMandateCommonWithUserDetails"], "source")
    draft = DRAFT4 if spec.version.startswith("3.0") else DRAFT202012
    spec.registry = Registry().with_resource(spec.uri, draft.create_resource(spec.doc))
    return spec


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
