"""``tl.data_v3`` on the wire (respx): bodies, headers, scopes, polling and decoding."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from tests.support.signed_payments import API, ClockSleep, grant
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models.data_v3 import (
    AuthorizationFlow,
    DataTransaction,
    HostedPage,
    PrecapturedConsent,
    PreselectedProvider,
    UserSelectedProvider,
)
from truelayer_async.pagination import AsyncPaginator

pytestmark = pytest.mark.anyio

ACCOUNT = f"{API}/connected-accounts/acc-1/transactions/requests"
BACK = "https://shop.example/back"
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)


def _txn(n: int) -> dict[str, Any]:
    return {
        "transaction_id": f"t-{n}",
        "timestamp": "2024-05-01T10:00:00Z",
        "description": "TESCO",
        "currency": "GBP",
        "amount_in_minor": -100 * n,
        "running_total": {"new": "field"},
    }


def _completed(ids: range, next_cursor: str | None) -> httpx.Response:
    result = {"items": [_txn(n) for n in ids], "next_cursor": next_cursor}
    return httpx.Response(200, json={"id": "r", "status": "completed", "result": result})


async def _collect_ids(pages: AsyncPaginator[DataTransaction], into: list[str]) -> None:
    async for transaction in pages:
        into.append(transaction.transaction_id)


FIVE = [
    (UserSelectedProvider(), HostedPage(return_uri=BACK), None),
    (PreselectedProvider(provider_id="ob-mock"), HostedPage(return_uri=BACK), None),
    (
        PreselectedProvider(provider_id="ob-mock"),
        HostedPage(return_uri=BACK),
        PrecapturedConsent(captured_at=WHEN),
    ),
    (PreselectedProvider(provider_id="ob-mock"), AuthorizationFlow(return_uri=BACK), None),
    (
        PreselectedProvider(provider_id="ob-mock"),
        AuthorizationFlow(return_uri=BACK),
        PrecapturedConsent(captured_at=WHEN),
    ),
]


@pytest.mark.parametrize(("provider", "journey", "consent"), FIVE)
async def test_each_ux_configuration_is_sent_with_a_data_token(
    tl: Session, provider: Any, journey: Any, consent: Any
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/data-connections").mock(
            return_value=httpx.Response(
                201,
                json={
                    "id": "conn-1",
                    "status": "authorization_required",
                    "hosted_page": {"uri": "https://hp.example/c"},
                    "brand_new": True,
                },
            )
        )
        created = await tl.data_v3.create_connection(
            scopes=["accounts", "transactions"],
            provider=provider,
            journey=journey,
            consent=consent,
            extra={"data_access_type": "recurring"},
        )
    assert created.id == "conn-1" and created.link == "https://hp.example/c"
    assert created.raw["brand_new"] is True
    assert "scope=data" in token.calls.last.request.content.decode()
    request = route.calls.last.request
    assert "Tl-Signature" not in request.headers and "Connection-Id" not in request.headers
    body = json.loads(request.content)
    assert body["scopes"] == ["accounts", "transactions"]
    assert body["provider_selection"] == provider.to_wire()
    assert body["data_access_type"] == "recurring"
    if isinstance(journey, HostedPage):
        assert body["hosted_page"] == {"return_uri": BACK} and "authorization_flow" not in body
    else:
        assert body["authorization_flow"] == {"redirect": {"return_uri": BACK}}
    if consent is None:
        assert "user_consent" not in body
    else:
        assert body["user_consent"] == {"type": "precaptured", "captured_at": WHEN.isoformat()}


async def test_the_authorization_flow_link_is_the_redirect_action(tl: Session) -> None:
    flow = {"actions": {"next": {"type": "redirect", "uri": "https://bank.example/x"}}}
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(f"{API}/data-connections").mock(
            return_value=httpx.Response(201, json={"id": "c", "authorization_flow": flow})
        )
        created = await tl.data_v3.create_connection(
            scopes=["accounts"],
            provider=PreselectedProvider(provider_id="ob-mock"),
            journey=AuthorizationFlow(return_uri=BACK),
        )
    assert created.link == "https://bank.example/x" and created.status is None


@pytest.mark.parametrize(
    "options",
    [
        {"scopes": ["cards"]},
        {"scopes": "accounts"},
        {"scopes": []},
        {"journey": AuthorizationFlow(return_uri=BACK)},
        {"consent": PrecapturedConsent(captured_at=WHEN)},
        {"consent": PrecapturedConsent(captured_at=datetime(2024, 1, 1))},
        {"provider": "ob-mock"},
    ],
)
async def test_a_combination_outside_the_five_is_refused_before_sending(
    tl: Session, options: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {
        "scopes": ["accounts"],
        "provider": UserSelectedProvider(),
        "journey": HostedPage(return_uri=BACK),
        **options,
    }
    if "consent" in options and options["consent"].captured_at.tzinfo is None:
        arguments["provider"] = PreselectedProvider(provider_id="ob-mock")
    with respx.mock() as wire, pytest.raises(e.InvalidParameterError):
        await tl.data_v3.create_connection(**arguments)
    assert not wire.calls


async def test_connected_accounts_follow_the_cursor_with_connection_id(tl: Session) -> None:
    first = {
        "items": [
            {
                "id": "a1",
                "account_type": "current",
                "currency": "GBP",
                "extra": 1,
                "account_identifiers": [{"type": "iban", "iban": "GB00", "x": "y"}],
                "account_holder_names": ["Ann", "Bob"],
            }
        ],
        "pagination": {"next_cursor": "c2"},
    }
    second = {"items": [{"id": "a2", "account_type": "loan"}]}
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{API}/connected-accounts").mock(
            side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
        )
        accounts = [a async for a in tl.data_v3.connected_accounts("conn-1")]
    assert [a.id for a in accounts] == ["a1", "a2"]
    assert accounts[1].account_type == "loan"  # an unknown value is kept
    assert accounts[0].raw["extra"] == 1 and accounts[0].account_identifiers[0].raw["x"] == "y"
    assert accounts[0].account_holder_names == ("Ann", "Bob")
    requests = [call.request for call in route.calls]
    assert [r.headers["Connection-Id"] for r in requests] == ["conn-1", "conn-1"]
    assert [r.url.params.get("cursor") for r in requests] == [None, "c2"]


@pytest.mark.parametrize("pagination", [5, {"next_cursor": 3}, ["c2"]])
async def test_a_malformed_accounts_pagination_raises_instead_of_ending(
    tl: Session, pagination: object
) -> None:
    # Read as "no next page", a malformed cursor would silently drop the later pages.
    body = {"items": [{"id": "a1"}], "pagination": pagination}
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(f"{API}/connected-accounts").mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(e.MalformedResponseError, match=r"\$\.pagination"):
            async for _ in tl.data_v3.connected_accounts("conn-1"):
                pass


async def test_transactions_create_poll_with_back_off_and_follow_next_cursor(
    tl: Session, napping: ClockSleep
) -> None:
    pending = httpx.Response(200, json={"id": "r", "status": "pending"})
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        create = wire.post(ACCOUNT).mock(
            side_effect=[
                httpx.Response(202, json={"id": "r1", "status": "pending"}),
                httpx.Response(202, json={"id": "r2", "status": "pending"}),
            ]
        )
        first = wire.get(f"{ACCOUNT}/r1").mock(
            side_effect=[pending, pending, pending, _completed(range(1, 4), "cur-2")]
        )
        second = wire.get(f"{ACCOUNT}/r2").mock(side_effect=[_completed(range(4, 6), None)])
        found = [
            t
            async for t in tl.data_v3.transactions(
                "acc-1",
                date(2024, 1, 1),
                date(2024, 5, 31),
                connection_id="conn-1",
                page_size=3,
            )
        ]
    assert [t.transaction_id for t in found] == ["t-1", "t-2", "t-3", "t-4", "t-5"]
    assert found[1].amount_in_minor == -200 and found[1].raw["running_total"] == {"new": "field"}
    assert napping.delays == [1.0, 2.0, 4.0]  # back-off on the first page only
    bodies = [json.loads(c.request.content) for c in create.calls]
    assert bodies == [
        {"from": "2024-01-01", "to": "2024-05-31", "page_size": 3},
        {"from": "2024-01-01", "to": "2024-05-31", "page_size": 3, "cursor": "cur-2"},
    ]
    for call in [*create.calls, *first.calls, *second.calls]:
        assert call.request.headers["Connection-Id"] == "conn-1"


async def test_an_empty_page_ends_the_iteration_even_with_a_cursor(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        create = wire.post(ACCOUNT).mock(return_value=httpx.Response(202, json={"id": "r1"}))
        wire.get(f"{ACCOUNT}/r1").mock(return_value=_completed(range(0), "again"))
        found = [
            t
            async for t in tl.data_v3.transactions(
                "acc-1", date(2024, 1, 1), date(2024, 1, 2), connection_id="c"
            )
        ]
    assert found == [] and create.call_count == 1


async def test_a_failed_request_raises_a_typed_error_after_the_earlier_pages(tl: Session) -> None:
    failed = httpx.Response(
        200, json={"id": "r2", "status": "failed", "failure_reason": "provider_error"}
    )
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(ACCOUNT).mock(
            side_effect=[
                httpx.Response(202, json={"id": "r1"}),
                httpx.Response(202, json={"id": "r2"}),
            ]
        )
        wire.get(f"{ACCOUNT}/r1").mock(return_value=_completed(range(1, 3), "next"))
        wire.get(f"{ACCOUNT}/r2").mock(return_value=failed)
        seen: list[str] = []
        pages = tl.data_v3.transactions(
            "acc-1", date(2024, 1, 1), date(2024, 1, 2), connection_id="c"
        )
        with pytest.raises(e.DataTransactionsFailedError) as raised:
            await _collect_ids(pages, seen)
    assert seen == ["t-1", "t-2"]
    assert raised.value.failure_reason == "provider_error" and raised.value.request_id == "r2"
    assert raised.value.cursor_used is True


async def test_a_request_pending_past_page_timeout_raises_wait_timeout(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(ACCOUNT).mock(return_value=httpx.Response(202, json={"id": "r1"}))
        wire.get(f"{ACCOUNT}/r1").mock(
            return_value=httpx.Response(200, json={"id": "r1", "status": "pending"})
        )
        with pytest.raises(e.WaitTimeoutError) as raised:
            async for _ in tl.data_v3.transactions(
                "acc-1", date(2024, 1, 1), date(2024, 1, 2), connection_id="c", page_timeout=10
            ):
                pass
    assert raised.value.last.status == "pending"


@pytest.mark.parametrize(
    "options",
    [
        {"page_size": 501},
        {"page_size": 0},
        {"page_size": True},
        {"from_": date(2024, 2, 1)},
        {"connection_id": ""},
        {"connection_id": "bad\r\nheader"},
    ],
)
async def test_bad_transactions_arguments_are_refused_before_sending(
    tl: Session, options: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {
        "account_id": "acc-1",
        "from_": date(2024, 1, 1),
        "to": date(2024, 1, 31),
        "connection_id": "c",
        **options,
    }
    with respx.mock() as wire, pytest.raises(e.InvalidParameterError):
        tl.data_v3.transactions(**arguments)
    assert not wire.calls


async def test_a_problem_answer_raises_data_api_error(tl: Session) -> None:
    body = {
        "type": "https://docs.truelayer.com/x#forbidden",
        "title": "Forbidden",
        "status": 403,
        "trace_id": "t-9",
        "detail": "The connection lacks the scope.",
    }
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(f"{API}/connected-accounts").mock(
            return_value=httpx.Response(
                403, json=body, headers={"Content-Type": "application/problem+json"}
            )
        )
        with pytest.raises(e.DataApiError) as raised:
            async for _ in tl.data_v3.connected_accounts("c"):
                pass
    assert raised.value.status_code == 403 and raised.value.correlation_id == "t-9"
    assert raised.value.api == "data" and not isinstance(raised.value, e.PaymentsApiError)
    assert raised.value.problem_type is not None  # the problem+json fields are kept


async def test_get_connection_encodes_the_id_and_keeps_unknown_fields(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{API}/data-connections/c%201").mock(
            return_value=httpx.Response(200, json={"id": "c 1", "status": "active", "n": 2})
        )
        found = await tl.data_v3.get_connection("c 1")
    assert route.called and found.status == "active" and found.raw["n"] == 2
    with pytest.raises(e.InvalidParameterError):
        await tl.data_v3.get_connection("../x")
