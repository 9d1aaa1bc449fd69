"""``tl.hosted_page``: hosted-page links built locally, every parameter in the fragment."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from truelayer_async import Environment, Secret, Session
from truelayer_async import errors as e
from truelayer_async.testing import FakeTrueLayer

RETURN = "https://shop.example/return?order=42&x=a b#frag"


def _fragment(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).fragment, keep_blank_values=True, strict_parsing=True)


def test_a_payment_link_on_the_sandbox_page() -> None:
    tl = Session("client", "secret")
    url = tl.hosted_page.payment_url(
        payment_id="p-1", resource_token="rt&=#1", return_uri=RETURN, max_wait_for_result=15
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.query) == (
        "https",
        "payment.truelayer-sandbox.com",
        "/payments",
        "",
    )
    # Every value comes back intact: nothing in them can end or split the fragment.
    assert _fragment(url) == {
        "payment_id": ["p-1"],
        "resource_token": ["rt&=#1"],
        "return_uri": [RETURN],
        "max_wait_for_result": ["15"],
    }
    assert "#" not in parts.fragment and " " not in url


def test_signup_and_secret_tokens() -> None:
    tl = Session("client", "secret", environment=Environment.PRODUCTION)
    url = tl.hosted_page.payment_url(
        payment_id="p", resource_token=Secret("rt"), return_uri="https://a.example/", signup=True
    )
    assert url.startswith("https://payment.truelayer.com/payments#")
    assert _fragment(url)["signup"] == ["true"] and _fragment(url)["resource_token"] == ["rt"]


def test_mandate_and_payout_pages() -> None:
    tl = Session("client", "secret")
    mandate = tl.hosted_page.mandate_url(
        mandate_id="m-1", resource_token="rt", return_uri="https://a.example/r"
    )
    payout = tl.hosted_page.payout_url(
        payout_id="po-1", resource_token="rt", return_uri="https://a.example/r"
    )
    assert mandate.startswith("https://payment.truelayer-sandbox.com/mandates#mandate_id=m-1&")
    assert payout.startswith("https://app.truelayer-sandbox.com/payouts#payout_id=po-1&")
    assert _fragment(payout)["return_uri"] == ["https://a.example/r"]


def test_the_emulator_environment_points_at_its_own_page() -> None:
    fake = FakeTrueLayer()
    tl = Session("client", "secret", environment=fake.environment)
    url = tl.hosted_page.payment_url(
        payment_id="p", resource_token="rt", return_uri="http://127.0.0.1:8000/done"
    )
    assert url.startswith(fake.environment.api_url + "/hpp/payments#payment_id=p&")


def test_a_custom_environment_without_a_page_is_a_configuration_error() -> None:
    tl = Session("client", "secret", environment=Environment.custom("https://auth.example"))
    with pytest.raises(e.ConfigurationError, match="hosted_page_url"):
        tl.hosted_page.payment_url(
            payment_id="p", resource_token="rt", return_uri="https://a.example/"
        )


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"payment_id": ""}, "payment_id"),
        ({"resource_token": ""}, "resource_token"),
        ({"return_uri": "/relative"}, "return_uri"),
        ({"return_uri": "javascript:alert(1)"}, "return_uri"),
        ({"max_wait_for_result": 61}, "max_wait_for_result"),
        ({"max_wait_for_result": -1}, "max_wait_for_result"),
        ({"max_wait_for_result": True}, "max_wait_for_result"),
        ({"signup": "yes"}, "signup"),
    ],
)
def test_bad_parameters_are_refused(changes: dict[str, object], match: str) -> None:
    tl = Session("client", "secret")
    arguments: dict[str, object] = {
        "payment_id": "p",
        "resource_token": "secret-token-value",
        "return_uri": "https://a.example/",
        **changes,
    }
    with pytest.raises(e.InvalidParameterError, match=match) as caught:
        tl.hosted_page.payment_url(**arguments)  # type: ignore[arg-type]
    assert "secret-token-value" not in str(caught.value)
