"""Validating emulator responses against TrueLayer's own OpenAPI documents.

The documents are vendored in ``tests/openapi/`` (TrueLayer's published files, unchanged;
its ``README.md`` says where they come from and lists the errata patched here).

``$ref``s are resolved through a ``referencing`` registry holding the whole document, and
each document is validated with the dialect it declares (3.0.x → ``OAS30Validator``,
3.1.x → ``OAS31Validator``). On top of the schema check, ``closed_world`` rejects keys a
schema does not document, to catch misspelled field names.

Spec errata: the published documents contradict their own examples (and TrueLayer's
real responses) in a few places. ``ERRATA`` patches exactly these, each with the
truelayer-api.md section that explains it:

* ``CardBalance.available`` and standing-order ``*_payment_amount`` are typed string;
  every example (and the emulator) uses numbers (§4.3.7, §4.3.10) → number or string.
* ``BatchResults.request.from``/``to`` are ``format: date-time`` (RFC 3339, offset
  required), but the document's own example sends ``2019-05-10T00:00:00`` (§4.6) →
  RFC 3339 or that naive form. Formats are checked (``date-time`` included).
* ``Me.scopes`` lists only six scopes; a connection may also hold ``direct_debits``,
  ``standing_orders`` and ``verification`` (§2) → any string.
* The auth server's ``Error.error`` enum lacks ``invalid_client`` (a documented 400),
  ``unsupported_grant_type`` and ``invalid_scope`` (RFC 6749 codes the emulator uses, §3.4)
  → enum extended.
* ``GetProvidersResponse`` describes one object whose ``scopes`` is a string, while the
  endpoint returns an array of providers with ``scopes`` arrays and ``availability``
  (§3.8; the spec's own example) → validated per item, ``scopes`` an array,
  ``availability`` allowed.
* ``Problem.errors`` / ``ValidationApiErrorResponse.errors`` are typed arrays, but the
  examples map field names to message lists (§3.10, §5) → object or array.
* Payments v3 ``PaymentCommon`` lists ``beneficiary`` as required but defines no such
  property (the beneficiary is ``payment_method.beneficiary``) → not required.
* Payments v3 ``PayoutDestinationExternalAccount`` requires ``account_identifier`` but
  documents only ``account_identifiers`` (what the other payout beneficiaries carry) →
  not required.
* Payments v3 ``GetVRPMandateCommonWithUserDetails`` requires a ``source`` it never
  defines → not required.
* Payments v3 ``CreatePayout-2`` (the create-payout response) is a ``oneOf`` whose
  ``PayoutCreatedRegular`` (``{id}``, open) also matches every verified payout's answer
  → ``anyOf``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests.openapi import AUTH, DATA, PAYMENTS, VERIFICATION, openapi_document

__all__ = ["AUTH", "DATA", "ERRATA", "PAYMENTS", "VERIFICATION", "Spec", "spec"]


def _number_or_string(schema: dict[str, Any]) -> None:
    schema.pop("type", None)
    schema["anyOf"] = [{"type": "number"}, {"type": "string"}]


#: TrueLayer's own batch example: ``2019-05-10T00:00:00``, a UTC wall time with no offset.
_NAIVE_DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"


def _naive_or_date_time(schema: dict[str, Any]) -> None:
    schema.pop("format")
    schema["anyOf"] = [{"format": "date-time"}, {"pattern": _NAIVE_DATE_TIME}]


def _patch_data(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for name in ("from", "to"):
        _naive_or_date_time(schemas["BatchResults"]["properties"]["request"]["properties"][name])
    _number_or_string(schemas["CardBalance"]["properties"]["available"])
    for name in ("next_payment_amount", "first_payment_amount", "final_payment_amount"):
        _number_or_string(schemas["AccountStandingOrder"]["properties"][name])
    schemas["Me"]["properties"]["scopes"]["items"].pop("enum")
    schemas["Problem"]["properties"]["errors"] = {"anyOf": [{"type": "object"}, {"type": "array"}]}


def _patch_auth(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    schemas["Error"]["properties"]["error"]["enum"] += [
        "invalid_client",
        "unsupported_grant_type",
        "invalid_scope",
    ]
    provider = schemas["GetProvidersResponse"]["properties"]
    provider["scopes"] = {
        "type": "array",
        "items": {"type": "string", "enum": provider["scopes"]["enum"]},
    }
    provider["availability"] = {
        "type": "object",
        "required": ["recommended_status", "updated_at"],
        "properties": {"recommended_status": {"type": "string"}, "updated_at": {"type": "string"}},
    }


def _patch_verification(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["ValidationApiErrorResponse"]
    schema["properties"]["errors"] = {"anyOf": [{"type": "object"}, {"type": "array"}]}


def _patch_payments(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    # ``PaymentCommon`` requires a top-level ``beneficiary`` it never defines; the
    # beneficiary lives in ``payment_method`` (its own required field and every example).
    _drop_required(schemas["PaymentCommon"], "beneficiary")
    _drop_required(schemas["PayoutDestinationExternalAccount"], "account_identifier")
    _drop_required(schemas["GetVRPMandateCommonWithUserDetails"], "source")
    created = schemas["CreatePayout-2"]
    created["anyOf"] = created.pop("oneOf")


def _drop_required(schema: dict[str, Any], name: str) -> None:
    # ``name`` is no longer required by the schema or any of its ``allOf`` parts.
    for part in [schema, *schema.get("allOf", [])]:
        if name in part.get("required", []):
            part["required"].remove(name)


ERRATA: dict[str, Callable[[dict[str, Any]], None]] = {
    DATA: _patch_data,
    AUTH: _patch_auth,
    VERIFICATION: _patch_verification,
    PAYMENTS: _patch_payments,
}


class Spec:
    """One OpenAPI document, patched, with a registry for ``$ref`` resolution."""

    def __init__(self, name: str) -> None:
        self.doc = openapi_document(name)
        self.version: str = self.doc["openapi"]
        ERRATA[name](self.doc)
        self.uri = f"urn:truelayer:{name}"
        if self.version.startswith("3.0"):
            self.validator_cls: Any = OAS30Validator
            resource: Resource[Any] = DRAFT4.create_resource(self.doc)
        else:
            self.validator_cls = OAS31Validator
            resource = DRAFT202012.create_resource(self.doc)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)

    # -- locating schemas ------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref``s until a non-reference node."""
        while isinstance(node, Mapping) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def pointer(self, ref: str) -> Any:
        assert ref.startswith("#/"), ref
        node: Any = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def response_pointer(self, path: str, method: str, status: int, content_type: str) -> str:
        """JSON pointer of the schema for one documented response."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        ref = f"#/paths/{escaped}/{method.lower()}/responses/{status}"
        response = self.pointer(ref)
        if "$ref" in response:
            ref = response["$ref"]
            response = self.pointer(ref)
        content = response.get("content", {})
        assert content_type in content, f"{method} {path} {status} has no {content_type} body"
        ct = content_type.replace("/", "~1")
        return f"{ref}/content/{ct}/schema"

    # -- validating ------------------------------------------------------------------------

    def validate(self, instance: Any, pointer: str) -> None:
        """Validate against the schema at ``pointer`` (raises ``ValidationError``), then
        check that every key is documented."""
        validator = self.validator_cls(
            {"$ref": self.uri + pointer},
            registry=self.registry,
            format_checker=self.validator_cls.FORMAT_CHECKER,
        )
        error = next(iter(sorted(validator.iter_errors(instance), key=str)), None)
        if error is not None:
            raise error
        undocumented = list(self.closed_world(instance, self.pointer(pointer), "$"))
        if undocumented:
            raise ValidationError(f"undocumented keys: {undocumented}")

    def closed_world(self, instance: Any, schema: Any, where: str) -> Iterator[str]:
        """Paths of object keys that the schema (through refs and allOf) does not list."""
        schema = self.resolve(schema)
        if not isinstance(schema, Mapping):
            return
        if "oneOf" in schema or "anyOf" in schema:
            return  # branch choice is the validator's job
        if isinstance(instance, list):
            items = schema.get("items")
            if items is not None:
                for i, item in enumerate(instance):
                    yield from self.closed_world(item, items, f"{where}[{i}]")
            return
        if not isinstance(instance, dict):
            return
        properties: dict[str, Any] = {}
        for part in [schema, *(self.resolve(p) for p in schema.get("allOf", []))]:
            properties.update(part.get("properties", {}))
        if not properties:
            return
        for key, value in instance.items():
            if key not in properties:
                yield f"{where}.{key}"
                continue
            subschemas = [properties[key]]
            for part in schema.get("allOf", []):
                extra = self.resolve(part).get("properties", {}).get(key)
                if extra is not None and extra is not properties[key]:
                    subschemas.append(extra)
            merged: dict[str, Any] = {}
            for sub in subschemas:
                resolved = self.resolve(sub)
                merged.setdefault("properties", {}).update(resolved.get("properties", {}))
                if "items" in resolved:
                    merged["items"] = resolved["items"]
            if merged.get("properties") or "items" in merged:
                yield from self.closed_world(value, merged, f"{where}.{key}")


@cache
def spec(name: str) -> Spec:
    """The patched document ``name`` (cached)."""
    return Spec(name)
