"""Typed events: every example in TrueLayer's documents, and a sample of every type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from tests.openapi import PAYMENTS, VERIFICATION, openapi_document
from tests.support.openapi import spec
from truelayer_async.errors import WebhookPayloadError
from truelayer_async.testing.webhook_samples import SAMPLE_EVENTS, sample_event
from truelayer_async.webhooks import (
    EVENT_TYPES,
    AccountHolderVerificationCompleted,
    Event,
    PaymentFailed,
    PaymentSettled,
    PayoutFailed,
    UnknownEvent,
    parse_event,
)


def webhook_schemas() -> dict[str, tuple[str, str]]:
    """Wire type → (document, JSON pointer of its schema), from the ``webhooks`` sections."""
    found: dict[str, tuple[str, str]] = {}
    for name in (PAYMENTS, VERIFICATION):
        doc = openapi_document(name)
        for hook in doc["webhooks"].values():
            schema = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
            for wire_type, ref in schema["discriminator"]["mapping"].items():
                found[wire_type] = (name, ref)
    return found


def spec_examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every complete webhook body given as an example anywhere in the two documents."""

    def walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            value = node.get("value") if "value" in node else node.get("example")
            if isinstance(value, dict) and "event_id" in value and "type" in value:
                yield where, value
            for key, child in node.items():
                yield from walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                yield from walk(child, f"{where}[{i}]")

    for name in (PAYMENTS, VERIFICATION):
        yield from walk(openapi_document(name), name)


SCHEMAS = webhook_schemas()
EXAMPLES = list(spec_examples())


def test_the_catalogue_has_24_types_and_every_one_has_a_class() -> None:
    # §5.3: 22 types in the Payments document, 2 in the Verification document.
    assert len(SCHEMAS) == 24
    assert set(SCHEMAS) == set(EVENT_TYPES)
    assert set(SAMPLE_EVENTS) == set(EVENT_TYPES)


def test_the_schema_check_can_fail() -> None:
    document, ref = SCHEMAS["payment_reversed"]
    with pytest.raises(ValidationError):
        spec(document).validate(sample_event("payment_reversed", reversal_reason="x"), ref)
    with pytest.raises(ValidationError):
        spec(document).validate(sample_event("payment_reversed", extra=1), ref)


def test_the_documents_give_examples() -> None:
    assert len(EXAMPLES) >= 15
    assert len({body["type"] for _, body in EXAMPLES}) >= 11


@pytest.mark.parametrize(("where", "body"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_every_spec_example_parses_into_its_class(where: str, body: dict[str, Any]) -> None:
    event = parse_event(body)
    assert type(event) is EVENT_TYPES[body["type"]], where
    assert event.event_id == body["event_id"]
    assert event.raw == body
    for key, value in body.items():  # every scalar field the class names comes through
        if isinstance(value, (str, int)) and hasattr(event, key) and not key.endswith("_at"):
            assert getattr(event, key) == value, key


@pytest.mark.parametrize("wire_type", sorted(SAMPLE_EVENTS))
def test_every_sample_matches_its_schema_and_parses(wire_type: str) -> None:
    body = sample_event(wire_type)
    document, ref = SCHEMAS[wire_type]
    spec(document).validate(body, ref)
    event = parse_event(body)
    assert type(event) is EVENT_TYPES[wire_type]
    assert event.type == wire_type
    assert isinstance(event, Event)


def test_nested_objects_are_typed() -> None:
    settled = parse_event(sample_event("payment_settled"))
    assert isinstance(settled, PaymentSettled)
    assert settled.payment_source.account_identifiers[0].sort_code == "040668"
    assert settled.settled_at.tzinfo is not None
    failed = parse_event(sample_event("payout_failed"))
    assert isinstance(failed, PayoutFailed)
    assert failed.beneficiary is not None
    assert failed.beneficiary.type == "payment_source"
    ahv = parse_event(sample_event("account_holder_verification_completed"))
    assert isinstance(ahv, AccountHolderVerificationCompleted)
    assert ahv.match_result.account_holder_name == "John Smith"


def test_events_are_frozen_and_the_timestamp_is_aware() -> None:
    event = parse_event(sample_event("payment_failed"))
    assert isinstance(event, PaymentFailed)
    assert event.failed_at.tzinfo is not None
    with pytest.raises(AttributeError):
        event.failure_reason = "x"  # type: ignore[misc]


def test_unknown_fields_and_types_are_tolerated() -> None:
    body = sample_event("payment_creditable", brand_new_field={"a": 1})
    assert parse_event(body).raw["brand_new_field"] == {"a": 1}
    unknown = parse_event({"type": "identity_authorization_expired", "event_id": "e"})
    assert isinstance(unknown, UnknownEvent)
    assert unknown.raw["type"] == "identity_authorization_expired"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "payment_failed", "event_id": "e"},  # required fields missing
        {**sample_event("balance_notification"), "current_balance_in_minor": "1000"},
        {**sample_event("payment_executed"), "event_version": "1"},
    ],
)
def test_a_known_type_with_bad_fields_raises_payload_error(body: dict[str, Any]) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_event(body)
