"""The Console allow-list of return URIs: off by default (any URI, as before), and once a
client turns it on, hosted pages, authorization flows and payment links refuse a
``return_uri`` that is not on it (400 Invalid Parameters naming the field; a hosted page
shows its error page and never redirects there)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.raw_mandates import create as create_mandate
from tests.support.raw_payments import Payments, merchant_payment
from tests.support.sdk_payments import TO_MERCHANT, USER
from truelayer_async.cli._parser import build_parser
from truelayer_async.errors import PaymentsApiError
from truelayer_async.models import HostedPageOptions
from truelayer_async.testing import (
    DEFAULT_REDIRECT_URI,
    EmulatorControl,
    EmulatorControlError,
    FakeTrueLayer,
)
from truelayer_async.testing._options import fake_from_options

pytestmark = pytest.mark.anyio

ALLOWED = "https://shop.example/return"
OTHER = "https://evil.example/steal"
NOT_ALLOWED = "The return_uri is not in the client's allowed redirect URIs (Console)."


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "Invalid Parameters"
    assert problem["errors"] == {field: [NOT_ALLOWED]}


async def test_without_an_allow_list_any_return_uri_is_accepted(api: Payments) -> None:
    created = await api.create(merchant_payment(hosted_page={"return_uri": OTHER}))
    assert created.status_code == 201, created.text


async def test_payments_refuse_a_return_uri_off_the_allow_list(api: Payments) -> None:
    api.fake.allow_return_uris(ALLOWED)
    refused(await api.create(merchant_payment(hosted_page={"return_uri": OTHER})),
            "hosted_page.return_uri")  # fmt: skip
    flow = {"provider_selection": {}, "redirect": {"return_uri": OTHER}}
    refused(await api.create(merchant_payment(authorization_flow=flow)),
            "authorization_flow.redirect.return_uri")  # fmt: skip
    assert api.fake.payment_ids == []
    for uri in (ALLOWED, DEFAULT_REDIRECT_URI):  # Console keeps one list for both
        made = await api.create(merchant_payment(hosted_page={"return_uri": uri}))
        assert made.status_code == 201, made.text

    created = await api.created()
    path = f"/v3/payments/{created['id']}/authorization-flow"
    refused(await api.request("POST", path, flow), "redirect.return_uri")
    assert (await api.get(created["id"]))["status"] == "authorization_required"
    started = await api.request("POST", path, {**flow, "redirect": {"return_uri": ALLOWED}})
    assert started.status_code == 200, started.text


async def test_payment_links_refuse_a_return_uri_off_the_allow_list(api: Payments) -> None:
    api.fake.allow_return_uris(ALLOWED)
    configuration = merchant_payment()
    body: dict[str, Any] = {"type": "single_payment", "payment_configuration": configuration}
    refused(await api.request("POST", "/v3/payment-links", {**body, "return_uri": OTHER}),
            "return_uri")  # fmt: skip
    made = await api.request("POST", "/v3/payment-links", {**body, "return_uri": ALLOWED})
    assert made.status_code == 201, made.text
    # A link without a return_uri ends on TrueLayer's own result page: always allowed.
    bare = await api.request("POST", "/v3/payment-links", body)
    opened = await api.client.get(urlsplit(bare.json()["uri"]).path)
    started = await api.client.post(
        "/hpp/payments", data=dict(parse_qs(urlsplit(opened.headers["location"]).fragment))
    )
    assert started.status_code == 303, started.text


async def test_the_hosted_page_shows_an_error_instead_of_redirecting(api: Payments) -> None:
    created = await api.created()
    fields = {"payment_id": created["id"], "resource_token": created["resource_token"]}
    assert (
        await api.client.post("/hpp/payments", data={**fields, "return_uri": OTHER})
    ).is_redirect
    api.fake.allow_return_uris(ALLOWED)
    page = await api.client.post("/hpp/payments", data={**fields, "return_uri": OTHER})
    assert page.status_code == 400 and 'data-step="error"' in page.text
    assert "not allowed for this client" in page.text and "location" not in page.headers
    ok = await api.client.post("/hpp/payments", data={**fields, "return_uri": ALLOWED})
    assert ok.status_code == 303


async def test_mandates_flow_and_hosted_page_check_the_allow_list(api: Payments) -> None:
    await api.login("recurring_payments:sweeping")
    api.fake.allow_return_uris(ALLOWED)
    created = await create_mandate(api)
    path = f"/v3/mandates/{created['id']}/authorization-flow"
    flow = {"provider_selection": {}, "redirect": {"return_uri": OTHER}}
    refused(await api.request("POST", path, flow), "redirect.return_uri")
    fields = {"mandate_id": created["id"], "resource_token": created["resource_token"]}
    page = await api.client.post(
        "/hpp/mandates", content=urlencode({**fields, "return_uri": OTHER}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert page.status_code == 400 and "not allowed for this client" in page.text
    started = await api.request("POST", path, {**flow, "redirect": {"return_uri": ALLOWED}})
    assert started.status_code == 200, started.text


async def test_the_sdk_gets_a_typed_error_naming_the_field(fake: FakeTrueLayer) -> None:
    fake.allow_return_uris(ALLOWED)
    async with fake.session() as tl:
        with pytest.raises(PaymentsApiError) as caught:
            await tl.payments.create(
                **_sdk_payment(), hosted_page=HostedPageOptions(return_uri=OTHER)
            )
        assert caught.value.status_code == 400
        assert caught.value.errors == {"hosted_page.return_uri": [NOT_ALLOWED]}
        made = await tl.payments.create(
            **_sdk_payment(), hosted_page=HostedPageOptions(return_uri=ALLOWED)
        )
        assert made.hosted_page is not None


def _sdk_payment() -> dict[str, Any]:
    return {"amount_in_minor": 1000, "currency": "GBP", "payment_method": TO_MERCHANT,
            "user": USER}  # fmt: skip


async def test_the_control_api_and_the_server_flag_turn_it_on() -> None:
    async with FakeTrueLayer() as fake:
        with fake.serve_in_thread() as url:
            async with EmulatorControl(url) as control:
                await control.allow_return_uris(ALLOWED, "https://shop.example/other")
                with pytest.raises(EmulatorControlError, match="no client 'nobody'"):
                    await control.allow_return_uris(ALLOWED, client_id="nobody")
        async with fake.session() as tl:
            with pytest.raises(PaymentsApiError):
                await tl.payments.create(
                    **_sdk_payment(), hosted_page=HostedPageOptions(return_uri=OTHER)
                )
            await tl.payments.create(
                **_sdk_payment(),
                hosted_page=HostedPageOptions(return_uri="https://shop.example/other"),
            )

    args = build_parser().parse_args(["fake-server", "--return-uri", ALLOWED])
    async with fake_from_options(args, access_token_ttl=60) as served, served.session() as tl:
        with pytest.raises(PaymentsApiError):
            await tl.payments.create(
                **_sdk_payment(), hosted_page=HostedPageOptions(return_uri=OTHER)
            )
    default_args = build_parser().parse_args(["fake-server"])
    async with (
        fake_from_options(default_args, access_token_ttl=60) as default,
        default.session() as tl,
    ):
        await tl.payments.create(**_sdk_payment(), hosted_page=HostedPageOptions(return_uri=OTHER))
