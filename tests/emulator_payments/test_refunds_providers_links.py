"""Refunds, providers and payment links in the Payments v3 emulator."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulator_payments.helpers import external_payment
from tests.support.raw_payments import Payments, merchant_payment
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio


async def _refund(api: Payments, payment_id: str, **body: object) -> object:
    return await api.request(
        "POST", f"/v3/payments/{payment_id}/refunds", {"reference": "Refund", **body}
    )


async def test_a_full_refund_walks_pending_authorized_executed(
    api: Payments, fake: FakeTrueLayer
) -> None:
    payment_id = await api.settled()
    created = await api.request(
        "POST", f"/v3/payments/{payment_id}/refunds", {"reference": "Refund 1"}
    )
    assert created.status_code == 202
    refund_id = created.json()["id"]
    path = f"/v3/payments/{payment_id}/refunds/{refund_id}"
    seen = []
    for _ in range(3):
        refund = (await api.request("GET", path)).json()
        seen.append(refund["status"])
        fake.advance(1)
    assert seen == ["pending", "authorized", "executed"]
    assert refund["amount_in_minor"] == 1000 and refund["executed_at"]
    listed = await api.request("GET", f"/v3/payments/{payment_id}/refunds")
    assert [r["id"] for r in listed.json()["items"]] == [refund_id]
    over = await api.request("POST", f"/v3/payments/{payment_id}/refunds", {"reference": "Again"})
    assert over.status_code == 400


async def test_partial_refunds_may_not_exceed_the_amount(api: Payments) -> None:
    payment_id = await api.settled()
    path = f"/v3/payments/{payment_id}/refunds"
    assert (
        await api.request("POST", path, {"reference": "A", "amount_in_minor": 600})
    ).status_code == 202
    over = await api.request("POST", path, {"reference": "B", "amount_in_minor": 401})
    assert over.status_code == 400 and "amount_in_minor" in over.json()["errors"]
    assert (
        await api.request("POST", path, {"reference": "C", "amount_in_minor": 400})
    ).status_code == 202
    assert len((await api.request("GET", path)).json()["items"]) == 2


async def test_only_settled_merchant_account_payments_can_be_refunded(
    api: Payments, fake: FakeTrueLayer
) -> None:
    pending = (await api.created())["id"]
    refused = await api.request("POST", f"/v3/payments/{pending}/refunds", {"reference": "R"})
    assert refused.status_code == 400 and refused.json()["title"] == "Invalid State"
    external = (await api.created(external_payment()))["id"]
    fake.authorize_payment(external)
    fake.advance(60)
    refused = await api.request("POST", f"/v3/payments/{external}/refunds", {"reference": "R"})
    assert refused.status_code == 400


async def test_a_refund_can_be_made_to_fail(api: Payments, fake: FakeTrueLayer) -> None:
    payment_id = await api.settled()
    refund_id = (
        await api.request("POST", f"/v3/payments/{payment_id}/refunds", {"reference": "R"})
    ).json()["id"]
    fake.fail_refund(payment_id, refund_id, "returned")
    fake.advance(5)
    refund = (await api.request("GET", f"/v3/payments/{payment_id}/refunds/{refund_id}")).json()
    assert (refund["status"], refund["failure_reason"]) == ("failed", "returned")
    types = [w.payload["type"] for w in fake.webhooks]
    assert "refund_failed" in types


async def test_provider_search_filters_and_get(api: Payments) -> None:
    search = await api.request(
        "POST",
        "/v3/payments-providers/search",
        {"countries": ["GB"], "currencies": ["GBP"], "authorization_flow": {"configuration": {}}},
        signed=False,
        key=None,
    )
    assert [p["id"] for p in search.json()["items"]] == ["mock-payments-gb-redirect"]
    beta = await api.request(
        "POST",
        "/v3/payments-providers/search",
        {
            "countries": ["GB"],
            "release_channel": "public_beta",
            "authorization_flow": {"configuration": {}},
        },
        signed=False,
        key=None,
    )
    assert "mock-payments-gb-beta-redirect" in [p["id"] for p in beta.json()["items"]]
    forms = await api.request(
        "POST",
        "/v3/payments-providers/search",
        {
            "currencies": ["EUR"],
            "authorization_flow": {"configuration": {"form": {"input_types": ["select"]}}},
        },
        signed=False,
        key=None,
    )
    assert "mock-payments-es-branch-redirect" in [p["id"] for p in forms.json()["items"]]
    missing = await api.request(
        "POST", "/v3/payments-providers/search", {}, signed=False, key=None
    )
    assert missing.status_code == 400
    anonymous = await api.request(
        "GET", "/v3/payments-providers/mock-payments-fi-redirect", token=""
    )
    assert anonymous.json()["country_code"] == "FI"
    unknown = await api.request("GET", "/v3/payments-providers/nope")
    assert unknown.status_code == 404


def _link_body(**extra: object) -> dict[str, object]:
    configuration = merchant_payment()
    return {"type": "single_payment", "payment_configuration": configuration, **extra}


async def test_payment_link_opens_a_payment_on_the_hosted_page(
    api: Payments, fake: FakeTrueLayer
) -> None:
    created = await api.request(
        "POST", "/v3/payment-links", _link_body(return_uri="https://shop.example/done")
    )
    assert created.status_code == 201
    link = created.json()
    assert (await api.request("GET", f"/v3/payment-links/{link['id']}")).json()[
        "status"
    ] == "enabled"
    opened = await api.client.get(link["uri"])
    assert opened.status_code == 303
    location = urlsplit(opened.headers["location"])
    assert location.path == "/hpp/payments"
    fragment = parse_qs(location.fragment)
    assert fragment["return_uri"] == ["https://shop.example/done"]
    payment_id = fragment["payment_id"][0]
    payments = await api.request("GET", f"/v3/payment-links/{link['id']}/payments")
    assert [(p["id"], p["status"]) for p in payments.json()["items"]] == [(payment_id, "pending")]
    fake.authorize_payment(payment_id)
    fake.advance(5)
    payments = await api.request("GET", f"/v3/payment-links/{link['id']}/payments")
    assert payments.json()["items"][0]["status"] == "succeeded"
    disabled = (await api.request("GET", f"/v3/payment-links/{link['id']}")).json()
    assert (disabled["status"], disabled["disabled_reason"]) == ("disabled", "fulfilled")
    types = [w.payload["type"] for w in fake.webhooks]
    assert "payment_link_payment_created" in types and "payment_link_disabled" in types


async def test_payment_links_expire_on_the_clock(api: Payments, fake: FakeTrueLayer) -> None:
    link = (await api.request("POST", "/v3/payment-links", _link_body())).json()
    fake.advance(86_401)
    await api.login()
    found = (await api.request("GET", f"/v3/payment-links/{link['id']}")).json()
    assert (found["status"], found["disabled_reason"]) == ("disabled", "expired")
    assert (await api.client.get(link["uri"])).status_code == 410


async def test_link_payments_paginate_with_opaque_cursors(
    api: Payments, fake: FakeTrueLayer
) -> None:
    link = (await api.request("POST", "/v3/payment-links", _link_body())).json()
    for _ in range(3):
        assert (await api.client.get(link["uri"])).status_code == 303
    path = f"/v3/payment-links/{link['id']}/payments"
    first = (await api.request("GET", path, params={"limit": "2"})).json()
    assert len(first["items"]) == 2
    cursor = first["pagination"]["next_cursor"]
    second = (await api.request("GET", path, params={"limit": "2", "cursor": cursor})).json()
    assert len(second["items"]) == 1 and "next_cursor" not in second["pagination"]
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(set(ids)) == 3
    bad = await api.request("GET", path, params={"cursor": "garbage!"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]
    too_many = await api.request("GET", path, params={"limit": "51"})
    assert too_many.status_code == 400


async def test_link_validation(api: Payments) -> None:
    bad = await api.request("POST", "/v3/payment-links", {"type": "subscription"})
    assert bad.status_code == 400
    assert {"type", "payment_configuration"} <= set(bad.json()["errors"])
    unknown = await api.request("GET", f"/v3/payment-links/{uuid.uuid4().hex}")
    assert unknown.status_code == 404
