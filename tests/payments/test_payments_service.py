"""``tl.payments`` on the wire (respx): paths, bearer, Tl-Signature exactly where the
endpoint matrix wants one, Idempotency-Key per logical call, bodies the OpenAPI document
accepts, responses decoded, errors typed, and ``wait_for`` on the fake clock."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import payment_samples as samples
from tests.support.payments_schema import request_fits
from tests.support.signed_payments import API, ClockSleep, grant, problem, signed_by
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    ActionRedirect,
    AuthorizationFlowAuthorizing,
    AuthorizationFlowOptions,
    BankTransfer,
    CreatedPayment,
    ExternalAccountBeneficiary,
    FormOptions,
    HostedPageOptions,
    PaymentAuthorizing,
    PaymentExecuted,
    PaymentFailed,
    PaymentUser,
    ProviderReturnPayment,
    ProviderSelectionOptions,
    RedirectOptions,
    RefundExecuted,
    RefundPending,
    SortCodeAccountNumber,
    UnknownPayment,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeClock

PAY = f"{API}/payments/pay-1"
FLOW_OK = {
    "status": "authorizing",
    "authorization_flow": samples.PAYMENTS["authorizing"]["authorization_flow"],
}
METHOD = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=ExternalAccountBeneficiary(
        account_holder_name="Ada",
        account_identifier=SortCodeAccountNumber(sort_code="040668", account_number="00000871"),
        reference="Invoice 42",
    ),
)
USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")


async def _create(tl: Session, **kwargs: Any) -> CreatedPayment:
    return await tl.payments.create(
        amount_in_minor=1000, currency="GBP", payment_method=METHOD, user=USER, **kwargs
    )


@pytest.mark.anyio
async def test_create_is_signed_keyed_and_retried_with_the_same_key_and_bytes(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payments").mock(
            side_effect=[httpx.Response(503), httpx.Response(201, json=samples.CREATED)]
        )
        created = await _create(
            tl,
            metadata={"order": "42"},
            hosted_page=HostedPageOptions(return_uri="https://shop.example/done"),
            user_ip="203.0.113.9",
            device_user_agent="Mozilla/5.0",
        )
    assert isinstance(created, CreatedPayment) and created.user_id == "user-1"
    first, second = (call.request for call in route.calls)
    for request in (first, second):
        signed_by(request, key)
        assert request.headers["Authorization"] == "Bearer cc-1"
        assert request.headers["X-Forwarded-For"] == "203.0.113.9"
        assert request.headers["X-Device-User-Agent"] == "Mozilla/5.0"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    uuid.UUID(first.headers["Idempotency-Key"], version=4)
    assert first.content == second.content
    body = request_fits(first, "/v3/payments")
    assert body["hosted_page"] == {"return_uri": "https://shop.example/done"}
    assert body["metadata"] == {"order": "42"}
    assert "scope=payments" in token.calls.last.request.content.decode()


@pytest.mark.anyio
async def test_each_create_gets_its_own_key_unless_the_caller_gives_one(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payments").mock(
            return_value=httpx.Response(201, json=samples.CREATED)
        )
        await _create(tl)
        await _create(tl)
        await _create(tl, idempotency_key="order-42-attempt-1")
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert keys[0] != keys[1] and keys[2] == "order-42-attempt-1"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            problem(
                409, "idempotency-key-concurrency-conflict", "Idempotency-Key Concurrency Conflict"
            ),
            e.IdempotencyConflictError,
        ),
        (
            problem(422, "idempotency-key-reuse", "Idempotency-Key Reuse"),
            e.IdempotencyKeyReuseError,
        ),
    ],
)
async def test_idempotency_conflict_and_reuse_are_typed(
    tl: Session, answer: httpx.Response, error: type[Exception]
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(f"{API}/payments").mock(return_value=answer)
        with pytest.raises(error):
            await _create(tl, idempotency_key="k-1")


@pytest.mark.anyio
async def test_a_401_on_the_client_token_fetches_a_new_one_and_replays_once(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(side_effect=[grant(1), grant(2)])
        route = wire.post(f"{API}/payments").mock(
            side_effect=[
                problem(401, "unauthenticated", "Unauthenticated"),
                httpx.Response(201, json=samples.CREATED),
            ]
        )
        await _create(tl)
    first, second = (call.request for call in route.calls)
    assert second.headers["Authorization"] == "Bearer cc-2"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    signed_by(second, key)


@pytest.mark.anyio
async def test_bad_arguments_are_refused_before_anything_is_sent(tl: Session) -> None:
    with respx.mock() as wire:
        for kwargs in (
            {"amount_in_minor": 0},
            {"currency": "PLN"},
            {"metadata": {f"k{i}": "v" for i in range(11)}},
            {"user_ip": "1.2.3.4\r\nX-Evil: 1"},
            {
                "hosted_page": HostedPageOptions(return_uri="https://x"),
                "authorization_flow": AuthorizationFlowOptions(),
            },
        ):
            args: dict[str, Any] = {
                "amount_in_minor": 1000,
                "currency": "GBP",
                "payment_method": METHOD,
                "user": USER,
                **kwargs,
            }
            with pytest.raises(e.InvalidParameterError):
                await tl.payments.create(**args)
        with pytest.raises(e.InvalidParameterError):
            await tl.payments.get("../other")
        assert not wire.calls


@pytest.mark.anyio
async def test_without_a_signing_key_a_signed_call_fails_before_any_request(
    clock: FakeClock,
) -> None:
    async with Session("client", "secret", clock=clock) as unsigned:
        with respx.mock() as wire:
            with pytest.raises(e.ConfigurationError):
                await _create(unsigned)
            with pytest.raises(e.ConfigurationError):
                await unsigned.payments.cancel("pay-1")
            assert not wire.calls


@pytest.mark.anyio
async def test_get_is_unsigned_and_uses_the_resource_token_when_given(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAY).mock(
            side_effect=[
                httpx.Response(200, json=samples.PAYMENTS["executed"]),
                httpx.Response(200, json=samples.PAYMENTS["failed"]),
            ]
        )
        executed = await tl.payments.get("pay-1")
        failed = await tl.payments.get("pay-1", resource_token="rt-secret-value")
    assert isinstance(executed, PaymentExecuted) and isinstance(failed, PaymentFailed)
    first, second = (call.request for call in route.calls)
    for request in (first, second):
        assert "Tl-Signature" not in request.headers and "Idempotency-Key" not in request.headers
    assert first.headers["Authorization"] == "Bearer cc-1"
    assert second.headers["Authorization"] == "Bearer rt-secret-value"
    assert token.call_count == 1


@pytest.mark.anyio
async def test_the_flow_is_signed_with_the_client_token_but_not_with_a_resource_token(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{PAY}/authorization-flow").mock(
            return_value=httpx.Response(200, json=FLOW_OK)
        )
        options: dict[str, Any] = {
            "provider_selection": ProviderSelectionOptions(),
            "redirect": RedirectOptions(return_uri="https://shop.example/back"),
            "form": FormOptions(input_types=["text", "select"]),
        }
        result = await tl.payments.start_authorization_flow("pay-1", **options)
        await tl.payments.start_authorization_flow("pay-1", resource_token="rt-1", **options)
    assert isinstance(result, AuthorizationFlowAuthorizing)
    assert result.authorization_flow.actions is not None
    assert isinstance(result.authorization_flow.actions.next, ActionRedirect)
    with_client, with_resource = (call.request for call in route.calls)
    signed_by(with_client, key)
    assert "Tl-Signature" not in with_resource.headers
    assert with_resource.headers["Authorization"] == "Bearer rt-1"
    assert "Idempotency-Key" in with_resource.headers  # optional key: sent anyway
    body = request_fits(with_client, "/v3/payments/{id}/authorization-flow")
    assert body["redirect"] == {"return_uri": "https://shop.example/back"}


ACTIONS: list[tuple[str, str, tuple[Any, ...], dict[str, Any], dict[str, Any]]] = [
    (
        "submit_provider_selection",
        "provider-selection",
        ("ob-natwest",),
        {},
        {"provider_id": "ob-natwest"},
    ),
    ("submit_scheme_selection", "scheme-selection", ("fps",), {}, {"scheme_id": "fps"}),
    ("submit_form", "form", ({"branch": "b-1"},), {}, {"inputs": {"branch": "b-1"}}),
    (
        "submit_consent",
        "consent",
        (),
        {"ais_scopes": ["accounts"]},
        {"captured": {"pis": {}, "ais": {"scopes": ["accounts"]}}},
    ),
    ("submit_user_account_selection", "user-account-selection", (), {}, {"type": "new"}),
    (
        "submit_user_account_selection",
        "user-account-selection",
        (),
        {"user_account_id": "ua-1"},
        {"type": "existing", "user_account_id": "ua-1"},
    ),
    (
        "submit_user_account_selection",
        "user-account-selection",
        (),
        {"user_account_id": "ua-1", "delete": True},
        {"type": "delete", "user_account_id": "ua-1"},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "action", "args", "kwargs", "wire_body"), ACTIONS)
async def test_each_flow_action_posts_its_body_signed_and_keyed(
    tl: Session,
    key: ec.EllipticCurvePrivateKey,
    method: str,
    action: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wire_body: dict[str, Any],
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{PAY}/authorization-flow/actions/{action}").mock(
            return_value=httpx.Response(200, json=FLOW_OK)
        )
        result = await getattr(tl.payments, method)("pay-1", *args, **kwargs)
    assert isinstance(result, AuthorizationFlowAuthorizing)
    request = route.calls.last.request
    signed_by(request, key)
    assert (
        request_fits(request, f"/v3/payments/{{id}}/authorization-flow/actions/{action}")
        == wire_body
    )


@pytest.mark.anyio
async def test_cancel_and_save_user_account_are_signed_keyed_and_return_none(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        cancel = wire.post(f"{PAY}/actions/cancel").mock(return_value=httpx.Response(202))
        save = wire.post(f"{PAY}/actions/save-user-account").mock(return_value=httpx.Response(202))
        assert await tl.payments.cancel("pay-1", idempotency_key="cancel-1") is None
        assert await tl.payments.save_user_account("pay-1", resource_token="rt-1") is None
    signed_by(cancel.calls.last.request, key)
    assert cancel.calls.last.request.headers["Idempotency-Key"] == "cancel-1"
    saved = save.calls.last.request
    signed_by(saved, key)  # "Y": signed even with the resource token
    assert saved.headers["Authorization"] == "Bearer rt-1"


@pytest.mark.anyio
async def test_cancel_in_a_state_that_no_longer_allows_it_is_a_payments_error(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(f"{PAY}/actions/cancel").mock(
            return_value=problem(400, "invalid_state", "Invalid State")
        )
        with pytest.raises(e.PaymentsApiError) as caught:
            await tl.payments.cancel("pay-1")
    assert caught.value.status_code == 400


@pytest.mark.anyio
async def test_refunds_create_list_and_get(tl: Session, key: ec.EllipticCurvePrivateKey) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        create = wire.post(f"{PAY}/refunds").mock(
            return_value=httpx.Response(202, json={"id": "ref-1"})
        )
        wire.get(f"{PAY}/refunds").mock(
            return_value=httpx.Response(
                200, json={"items": [samples.REFUNDS["pending"], samples.REFUNDS["executed"]]}
            )
        )
        wire.get(f"{PAY}/refunds/ref-1").mock(
            return_value=httpx.Response(200, json=samples.REFUNDS["executed"])
        )
        created = await tl.payments.create_refund(
            "pay-1", reference="Refund 42", amount_in_minor=500, metadata={"why": "late"}
        )
        await tl.payments.create_refund("pay-1", reference="Full refund")
        listed = await tl.payments.list_refunds("pay-1")
        one = await tl.payments.get_refund("pay-1", "ref-1")
    assert created.id == "ref-1"
    partial_request, full_request = (call.request for call in create.calls)
    signed_by(partial_request, key)
    assert request_fits(partial_request, "/v3/payments/{id}/refunds") == {
        "reference": "Refund 42",
        "amount_in_minor": 500,
        "metadata": {"why": "late"},
    }
    assert request_fits(full_request, "/v3/payments/{id}/refunds") == {"reference": "Full refund"}
    assert partial_request.headers["Idempotency-Key"] != full_request.headers["Idempotency-Key"]
    assert [type(r) for r in listed] == [RefundPending, RefundExecuted]
    assert isinstance(one, RefundExecuted)


@pytest.mark.anyio
async def test_provider_return_is_sent_without_token_or_signature_but_keyed(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payments-provider-return").mock(
            return_value=httpx.Response(
                200, json={"resource": {"type": "payment", "payment_id": "pay-1"}}
            )
        )
        result = await tl.payments.submit_provider_return(
            query="code=abc&state=xyz", fragment="id_token=t"
        )
    assert (
        isinstance(result.resource, ProviderReturnPayment)
        and result.resource.payment_id == "pay-1"
    )
    request = route.calls.last.request
    assert "Authorization" not in request.headers and "Tl-Signature" not in request.headers
    assert "Idempotency-Key" in request.headers
    assert request_fits(request, "/v3/payments-provider-return") == {
        "query": "code=abc&state=xyz",
        "fragment": "id_token=t",
    }
    assert token.call_count == 0


@pytest.mark.anyio
async def test_wait_for_polls_with_back_off_until_a_final_status(
    tl: Session, napping: ClockSleep
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAY).mock(
            side_effect=[httpx.Response(200, json=samples.PAYMENTS["authorizing"])] * 4
            + [httpx.Response(200, json=samples.PAYMENTS["executed"])]
        )
        payment = await tl.payments.wait_for("pay-1", timeout=120)
    assert isinstance(payment, PaymentExecuted)
    assert route.call_count == 5
    assert napping.delays == [1.0, 2.0, 4.0, 8.0]


@pytest.mark.anyio
async def test_wait_for_goes_past_executed_to_settled_for_a_merchant_account(
    tl: Session, napping: ClockSleep
) -> None:
    # Paid into a merchant account, `executed` is not final: `settled` follows.
    executed = {**samples.PAYMENTS["executed"], "payment_method": samples.PRESELECTED_TO_MERCHANT}
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAY).mock(
            side_effect=[httpx.Response(200, json=executed)] * 2
            + [httpx.Response(200, json=samples.PAYMENTS["settled"])]
        )
        payment = await tl.payments.wait_for("pay-1", timeout=120)
    assert payment.status == "settled" and route.call_count == 3


@pytest.mark.anyio
async def test_wait_for_stops_at_a_requested_status(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(PAY).mock(
            side_effect=[
                httpx.Response(200, json=samples.PAYMENTS["authorization_required"]),
                httpx.Response(200, json=samples.PAYMENTS["authorizing"]),
            ]
        )
        payment = await tl.payments.wait_for("pay-1", statuses={"authorizing"})
    assert isinstance(payment, PaymentAuthorizing)


@pytest.mark.anyio
async def test_wait_for_times_out_on_the_fake_clock_with_the_last_payment(
    tl: Session, napping: ClockSleep
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(PAY).mock(return_value=httpx.Response(200, json=samples.PAYMENTS["authorizing"]))
        with pytest.raises(e.WaitTimeoutError) as caught:
            await tl.payments.wait_for("pay-1", timeout=10)
    assert isinstance(caught.value.last, PaymentAuthorizing)
    assert isinstance(caught.value, TimeoutError)
    assert sum(napping.delays) == 10 and max(napping.delays) <= 10
    assert napping.delays == [1.0, 2.0, 4.0, 3.0]


@pytest.mark.anyio
async def test_wait_for_returns_a_payment_whose_status_it_does_not_know(
    tl: Session, napping: ClockSleep
) -> None:
    # As tl.payouts.wait_for: a status newer than this SDK cannot be judged, so the wait
    # hands it over at once rather than polling it until the timeout.
    held = {**samples.PAYMENTS["authorizing"], "status": "held_for_review"}
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAY).mock(return_value=httpx.Response(200, json=held))
        payment = await tl.payments.wait_for("pay-1", timeout=30)
    assert isinstance(payment, UnknownPayment) and payment.status == "held_for_review"
    assert payment.raw["status"] == "held_for_review"
    assert route.call_count == 1 and napping.delays == []


@pytest.mark.anyio
async def test_with_raw_response_returns_the_model_and_the_status(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(f"{API}/payments").mock(return_value=httpx.Response(201, json=samples.CREATED))
        raw = await tl.payments.with_raw_response.create(
            amount_in_minor=1, currency="EUR", payment_method=METHOD, user=USER
        )
    assert raw.status_code == 201 and isinstance(raw.parsed, CreatedPayment)


@pytest.mark.anyio
async def test_a_plain_resource_token_is_in_no_sdk_frame_of_an_error_traceback(
    tl: Session, sentinel: str
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.get(PAY).mock(return_value=problem(404, "not-found", "Not Found"))
        with pytest.raises(e.PaymentsApiError) as caught:
            await tl.payments.wait_for("pay-1", resource_token=sentinel)
    assert sentinel not in str(caught.value) and sentinel not in repr(caught.value)
    traceback = caught.value.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_globals.get("__name__", "").startswith("truelayer_async"):
            for value in frame.f_locals.values():
                assert not (isinstance(value, str) and sentinel in value), frame.f_code.co_name
        traceback = traceback.tb_next


@pytest.mark.anyio
async def test_each_payments_call_is_named_by_its_route_in_event_hooks(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    seen: list[str] = []
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    async with Session(
        "client",
        "secret",
        signing_key_id="kid",
        signing_private_key=pem,
        event_hooks={"request": [lambda event: seen.append(event.operation)]},
    ) as tl:
        with respx.mock(assert_all_called=False) as wire:
            wire.post(TOKEN_URL).mock(return_value=grant(1))
            wire.get(f"{PAY}/refunds/r-1").mock(
                return_value=httpx.Response(200, json=samples.REFUNDS["executed"])
            )
            await tl.payments.get_refund("pay-1", "r-1")
    # The route names the call (low cardinality: never the ids).
    assert "truelayer.payments.GET /payments/{payment_id}/refunds/{refund_id}" in seen


@pytest.mark.anyio
async def test_a_data_access_token_is_sent_but_held_by_no_sdk_frame_of_an_error(
    tl: Session, sentinel: str
) -> None:
    from tests.secret_scan import assert_no_secret_anywhere
    from truelayer_async.models import (
        BankTransfer,
        MerchantAccountBeneficiary,
        PaymentUser,
        PreselectedProvider,
        PreselectedScheme,
    )

    method = BankTransfer(
        provider_selection=PreselectedProvider(
            provider_id="ob-natwest",
            scheme_selection=PreselectedScheme(scheme_id="faster_payments_service"),
            data_access_token=sentinel,
        ),
        beneficiary=MerchantAccountBeneficiary(merchant_account_id="ma-1"),
    )
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payments").mock(
            return_value=problem(400, "invalid-parameters", "Invalid Parameters")
        )
        with pytest.raises(e.PaymentsApiError) as caught:
            await tl.payments.create(
                amount_in_minor=100,
                currency="GBP",
                payment_method=method,
                user=PaymentUser(name="Ada", email="ada@example.com"),
            )
    # Sent on the wire as TrueLayer expects...
    sent = json.loads(route.calls.last.request.content)
    assert sent["payment_method"]["provider_selection"]["data_access_token"] == sentinel
    # ...but no SDK frame on the error's traceback holds it (not even inside the body).
    assert_no_secret_anywhere(caught.value, sentinel)
