"""The JSON fixtures are valid against TrueLayer's OpenAPI documents, and every property
those documents declare is a field of the corresponding model."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.openapi import openapi_document
from tests.support.fixture_files import fixture
from truelayer_async import models as m
from truelayer_async.models.common import WIRE_NAME

DATA = "data-api-v1.json"
AUTH = "authentication-api.json"
VERIFICATION = "verification-api.json"


def _json_200(path: str, method: str = "get") -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/responses/200/content/application~1json/schema"


# The providers schema in the auth document does not describe what the endpoint (and the
# document's own example) returns: it is an item, not an array; `scopes` is typed as one
# string; `availability` is missing while `additionalProperties` is false; and `steps`
# items are `{title, fields: [AuthInputStep]}`, not AuthInputStep. Those four points are
# corrected here; everything else is checked as published.
_PATCHED_PROVIDERS = "/components/schemas/TestPatchedProviderList"


def _patch_providers(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    schemas = document["components"]["schemas"]
    item = copy.deepcopy(schemas["GetProvidersResponse"])
    scope = item["properties"]["scopes"]
    item["properties"]["scopes"] = {
        "type": "array",
        "items": {"type": "string", "enum": scope["enum"]},
    }
    item["properties"]["availability"] = {
        "type": "object",
        "properties": {
            "recommended_status": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    }
    item["properties"]["steps"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/AuthInputStep"},
                },
            },
        },
    }
    schemas["TestPatchedProviderList"] = {"type": "array", "items": item}
    return document


# fixture file -> (OpenAPI document, JSON pointer of the response schema)
CASES: dict[str, tuple[str, str]] = {
    "me.json": (DATA, _json_200("/me")),
    "info.json": (DATA, _json_200("/info")),
    "info_legacy.json": (DATA, _json_200("/info")),
    "accounts.json": (DATA, _json_200("/accounts")),
    "balance.json": (DATA, _json_200("/accounts/{account_id}/balance")),
    "transactions.json": (DATA, _json_200("/accounts/{account_id}/transactions")),
    "pending_transactions.json": (
        DATA,
        _json_200("/accounts/{account_id}/transactions/pending"),
    ),
    "standing_orders.json": (DATA, _json_200("/accounts/{account_id}/standing_orders")),
    "direct_debits.json": (DATA, _json_200("/accounts/{account_id}/direct_debits")),
    "cards.json": (DATA, _json_200("/cards")),
    "card_balance.json": (DATA, _json_200("/cards/{account_id}/balance")),
    "card_transactions.json": (DATA, _json_200("/cards/{account_id}/transactions")),
    "batch_results.json": (DATA, _json_200("/batch/results")),
    "async_accepted.json": (DATA, "/components/responses/202/content/application~1json/schema"),
    "async_webhook.json": (
        DATA,
        "/components/requestBodies/WebhookRequest/content/application~1json/schema",
    ),
    "extend_no_action_needed.json": (DATA, _json_200("/connections/extend", "post")),
    "extend_authentication_needed.json": (DATA, _json_200("/connections/extend", "post")),
    "extend_reconfirmation_of_consent_needed.json": (
        DATA,
        _json_200("/connections/extend", "post"),
    ),
    "verification_result.json": (VERIFICATION, _json_200("/verification/v1/verify", "post")),
    "verification_result_failed.json": (
        VERIFICATION,
        _json_200("/verification/v1/verify", "post"),
    ),
    "providers.json": (AUTH, _PATCHED_PROVIDERS),
}


def _validator(document_name: str, pointer: str) -> OAS30Validator:
    document = openapi_document(document_name)
    if pointer == _PATCHED_PROVIDERS:
        document = _patch_providers(document)
    uri = f"urn:truelayer-openapi:{document_name}"
    resource = Resource.from_contents(document, default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(uri, resource)
    return OAS30Validator(
        {"$ref": f"{uri}#{pointer}"}, registry=registry, format_checker=oas30_format_checker
    )


@pytest.mark.parametrize(("name", "where"), sorted(CASES.items()))
def test_fixture_is_valid_against_openapi(name: str, where: tuple[str, str]) -> None:
    validator = _validator(*where)
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(fixture(name))
    ]
    assert errors == []


def test_validator_does_reject_a_broken_fixture() -> None:
    body = fixture("transactions.json")
    del body["results"][0]["amount"]
    body["results"][1]["transaction_type"] = "SIDEWAYS"
    validator = _validator(*CASES["transactions.json"])
    assert len(list(validator.iter_errors(body))) == 2


# ----------------------------------------------------- every declared property is modelled


def _wire_names(cls: type[Any]) -> set[str]:
    return {f.metadata.get(WIRE_NAME, f.name) for f in attrs.fields(cls)}


def _properties(document: dict[str, Any], pointer: str) -> set[str]:
    node: Any = document
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if "allOf" in node:
        names: set[str] = set()
        for sub in node["allOf"]:
            if "$ref" in sub:
                names |= _properties(document, sub["$ref"].removeprefix("#"))
            else:
                names |= set(sub.get("properties", {}))
        return names
    return set(node["properties"])


DATA_SCHEMAS = "/components/schemas"
MODELLED: list[tuple[str, str, type[Any]]] = [
    (DATA, f"{DATA_SCHEMAS}/Me", m.Me),
    (DATA, f"{DATA_SCHEMAS}/Me/properties/provider", m.ProviderInfo),
    (DATA, f"{DATA_SCHEMAS}/Info", m.Info),
    (DATA, f"{DATA_SCHEMAS}/Account", m.Account),
    (DATA, f"{DATA_SCHEMAS}/Account/properties/account_number", m.AccountNumber),
    (DATA, f"{DATA_SCHEMAS}/Account/properties/provider", m.ProviderInfo),
    (DATA, f"{DATA_SCHEMAS}/AccountBalance", m.AccountBalance),
    (DATA, f"{DATA_SCHEMAS}/AccountTransaction", m.Transaction),
    (DATA, f"{DATA_SCHEMAS}/AccountTransaction/properties/running_balance", m.RunningBalance),
    (DATA, f"{DATA_SCHEMAS}/CardTransaction", m.CardTransaction),
    (DATA, f"{DATA_SCHEMAS}/AccountStandingOrder", m.StandingOrder),
    (DATA, f"{DATA_SCHEMAS}/AccountDirectDebit", m.DirectDebit),
    (DATA, f"{DATA_SCHEMAS}/Card", m.Card),
    (DATA, f"{DATA_SCHEMAS}/Card/properties/provider", m.ProviderInfo),
    (DATA, f"{DATA_SCHEMAS}/CardBalance", m.CardBalance),
    (DATA, f"{DATA_SCHEMAS}/AsyncResponse", m.AsyncTask),
    (DATA, f"{DATA_SCHEMAS}/NoActionNeeded", m.ExtendResult),
    (DATA, f"{DATA_SCHEMAS}/AuthenticationNeeded", m.ExtendResult),
    (DATA, f"{DATA_SCHEMAS}/ReconfirmationOfConsentNeeded", m.ExtendResult),
    (DATA, f"{DATA_SCHEMAS}/BatchResults", m.BatchResults),
    (DATA, f"{DATA_SCHEMAS}/BatchResults/properties/request", m.BatchRequestWindow),
    (DATA, f"{DATA_SCHEMAS}/BatchResults/properties/results", m.BatchResultsContent),
    (
        DATA,
        f"{DATA_SCHEMAS}/BatchResults/properties/results/properties/accounts/items",
        m.BatchAccountResult,
    ),
    (
        DATA,
        f"{DATA_SCHEMAS}/BatchResults/properties/results/properties/cards/items",
        m.BatchCardResult,
    ),
    (
        DATA,
        "/components/requestBodies/WebhookRequest/content/application~1json/schema",
        m.AsyncWebhook,
    ),
    (VERIFICATION, f"{DATA_SCHEMAS}/NameVerificationResponse", m.VerificationResult),
    (
        VERIFICATION,
        f"{DATA_SCHEMAS}/NameVerificationResponse/properties/report/items",
        m.VerificationReport,
    ),
    (
        VERIFICATION,
        f"{DATA_SCHEMAS}/NameVerificationResponse/properties/report/items"
        "/properties/account_holders/items",
        m.AccountHolder,
    ),
    (AUTH, f"{DATA_SCHEMAS}/GetProvidersResponse", m.Provider),
    (AUTH, f"{DATA_SCHEMAS}/AuthInputStep", m.ProviderStepField),
    (
        AUTH,
        f"{DATA_SCHEMAS}/AuthInputStep/properties/values/items",
        m.ProviderStepValue,
    ),
]


@pytest.mark.parametrize(
    ("document_name", "pointer", "cls"),
    MODELLED,
    ids=[f"{cls.__name__}@{pointer.rsplit('/', 1)[-1]}" for _, pointer, cls in MODELLED],
)
def test_every_openapi_property_is_a_model_field(
    document_name: str, pointer: str, cls: type[Any]
) -> None:
    declared = _properties(openapi_document(document_name), pointer)
    assert declared - _wire_names(cls) == set()


def test_legacy_fields_from_the_reference_are_modelled() -> None:
    # truelayer-api.md section 4.3 lists fields the OpenAPI documents no longer carry.
    assert {"date_of_birth", "addresses"} <= _wire_names(m.Info)
    assert {"address", "city", "state", "zip", "country"} <= _wire_names(m.InfoAddress)
    assert "description" in _wire_names(m.Account)
    assert {"previous_payment_timestamp", "previous_payment_amount"} <= _wire_names(
        m.StandingOrder
    )
    assert "provider_id" in _wire_names(m.Me)
    assert {"steps", "availability"} <= _wire_names(m.Provider)
    assert {"recommended_status", "updated_at"} <= _wire_names(m.ProviderAvailability)
    assert {"title", "fields"} <= _wire_names(m.ProviderStep)
