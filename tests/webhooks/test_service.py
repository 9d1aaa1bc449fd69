"""tl.webhooks against the emulator: its signed webhooks, key-set caching, rotation, outages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from tests.support.backends import BACKENDS
from tests.support.signing_vectors import TV3_BODY, TV3_PATH, TV3_SIGNATURE, TV3_TIMESTAMP
from truelayer_async import Environment, Session
from truelayer_async.errors import (
    ConfigurationError,
    WebhookKeySetUnavailableError,
    WebhookKeySetUntrustedError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookUnknownKeyError,
    WebhookVerificationError,
)
from truelayer_async.testing import FakeTrueLayer, emulator_environment
from truelayer_async.webhooks import (
    PRODUCTION_KEY_SET_URL,
    SANDBOX_KEY_SET_URL,
    PaymentExecuted,
    WebhookService,
    default_key_set_urls,
)

pytestmark = pytest.mark.anyio

URI = "https://merchant.example/hooks/truelayer"
PATH = "/hooks/truelayer"
PAYLOAD: dict[str, Any] = {
    "type": "payment_executed",
    "event_version": 1,
    "event_id": "b8d4dda0-ff2c-4d77-a6da-4615e4bad941",
    "payment_id": "60c0a60ed8d7-4a4c-a7a7-5b6c8e0e8a2a",
    "payment_method": {"type": "bank_transfer", "provider_id": "mock-payments-gb-redirect"},
    "executed_at": "2024-05-01T10:00:00.123Z",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTrueLayer]:
    async with FakeTrueLayer() as fake:
        yield fake


@pytest.fixture
async def tl(fake: FakeTrueLayer) -> AsyncIterator[Session]:
    async with fake.session() as session:
        yield session


def fetches(fake: FakeTrueLayer) -> int:
    return fake.count("/.well-known/jwks")


async def test_the_emulators_signed_webhook_verifies(fake: FakeTrueLayer, tl: Session) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    event = await tl.webhooks.verify(headers, body, path=PATH)
    assert isinstance(event, PaymentExecuted)
    assert event.event_id == PAYLOAD["event_id"]
    assert event.timestamp is not None
    assert tl.webhooks.key_set_urls == (fake.key_set_url,)
    assert fetches(fake) == 1
    parsed = await tl.webhooks.parse(headers, body, path=PATH)  # cached: no second fetch
    assert parsed == event
    assert fetches(fake) == 1


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("forged", WebhookSignatureError),
        ("tampered", WebhookSignatureError),
        ("unsigned", WebhookSignatureError),
        ("bad_jku", WebhookKeySetUntrustedError),
        ("stale", WebhookTimestampError),
    ],
)
async def test_bad_webhooks_from_the_emulator_fail_closed(
    fake: FakeTrueLayer, tl: Session, mode: Any, error: type[Exception]
) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD, signing=mode)
    with pytest.raises(error) as info:
        await tl.webhooks.verify(headers, body, path=PATH)
    assert isinstance(info.value, WebhookVerificationError)
    if mode == "bad_jku":
        assert fetches(fake) == 0  # nothing is fetched from a URL off the allow-list


async def test_unknown_kid_refetches_once_then_fails_and_respects_the_floor(
    fake: FakeTrueLayer, tl: Session
) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    await tl.webhooks.verify(headers, body, path=PATH)
    fake.clock.advance(61)  # past the re-fetch floor
    headers, body = fake.signed_webhook(URI, PAYLOAD, signing="unknown_kid")
    with pytest.raises(WebhookUnknownKeyError):
        await tl.webhooks.verify(headers, body, path=PATH)
    assert fetches(fake) == 2  # exactly one re-fetch
    for _ in range(5):  # within the floor: no more fetches, however many unknown kids
        headers, body = fake.signed_webhook(URI, PAYLOAD, signing="unknown_kid")
        with pytest.raises(WebhookUnknownKeyError):
            await tl.webhooks.verify(headers, body, path=PATH)
    assert fetches(fake) == 2


async def test_key_rotation_is_picked_up_by_one_refetch(fake: FakeTrueLayer, tl: Session) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    await tl.webhooks.verify(headers, body, path=PATH)
    fake.webhook_keys.rotate()
    fake.clock.advance(61)
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    assert isinstance(await tl.webhooks.verify(headers, body, path=PATH), PaymentExecuted)
    assert fetches(fake) == 2


async def test_the_ttl_expires_the_cached_key_set(fake: FakeTrueLayer, tl: Session) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    await tl.webhooks.verify(headers, body, path=PATH)
    fake.clock.advance(1801)
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    await tl.webhooks.verify(headers, body, path=PATH)
    assert fetches(fake) == 2


@pytest.mark.parametrize("anyio_backend", BACKENDS)
async def test_a_thousand_concurrent_verifications_cause_one_fetch(
    fake: FakeTrueLayer, tl: Session
) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    results: list[object] = []

    async def one() -> None:
        results.append(await tl.webhooks.verify(headers, body, path=PATH))

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(one)
    assert len(results) == 1000
    assert all(isinstance(r, PaymentExecuted) for r in results)
    assert fetches(fake) == 1


async def test_path_is_required(fake: FakeTrueLayer, tl: Session) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    with pytest.raises(ConfigurationError, match="path="):
        await tl.webhooks.verify(headers, body)
    configured = WebhookService(tl, path=PATH)
    assert isinstance(await configured.verify(headers, body), PaymentExecuted)


async def test_str_body_is_a_type_error(fake: FakeTrueLayer, tl: Session) -> None:
    headers, body = fake.signed_webhook(URI, PAYLOAD)
    with pytest.raises(TypeError, match="raw request body bytes"):
        await tl.webhooks.verify(headers, body.decode(), path=PATH)  # type: ignore[arg-type]


def test_allow_lists_per_environment() -> None:
    assert default_key_set_urls(Environment.SANDBOX) == (SANDBOX_KEY_SET_URL,)
    assert default_key_set_urls(Environment.PRODUCTION) == (PRODUCTION_KEY_SET_URL,)
    custom = Environment.custom("https://proxy.example")
    assert default_key_set_urls(custom) == ()


def test_the_emulator_is_allow_listed_by_its_environment_not_its_name() -> None:
    """The emulator's environment carries its key set; a name alone allows nothing."""
    served = emulator_environment("http://127.0.0.1:8765")
    assert default_key_set_urls(served) == ("http://127.0.0.1:8765/.well-known/jwks",)
    split = emulator_environment("http://127.0.0.1:1", "http://127.0.0.1:2/", name="custom")
    assert default_key_set_urls(split) == ("http://127.0.0.1:2/.well-known/jwks",)
    assert split.hosted_page_url == "http://127.0.0.1:2/hpp"
    assert default_key_set_urls(Environment.custom("http://127.0.0.1:8765", name="fake")) == ()
    assert FakeTrueLayer().environment == emulator_environment(
        "https://auth.truelayer.fake", "https://api.truelayer.fake"
    )


def test_the_emulators_key_set_url_is_its_environments() -> None:
    """``fake.key_set_url`` (the ``jku`` it signs with) is the ``webhook_jwks_url`` its
    environment allow-lists: in-process, served, and at a base URL ending in a slash."""
    fake = FakeTrueLayer()
    assert fake.key_set_url == "https://api.truelayer.fake/.well-known/jwks"
    assert fake.key_set_url == fake.environment.webhook_jwks_url
    with fake.serve_in_thread() as url:
        assert fake.key_set_url == f"{url}/.well-known/jwks"
        assert fake.key_set_url == fake.environment.webhook_jwks_url
    fake.base_url = "http://127.0.0.1:8765/"
    assert fake.key_set_url == "http://127.0.0.1:8765/.well-known/jwks"
    assert fake.key_set_url == fake.environment.webhook_jwks_url


async def test_a_session_on_a_served_emulators_environment_verifies_its_webhooks() -> None:
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as url:
        headers, body = fake.signed_webhook(URI, PAYLOAD)
        async with Session("c", "s", environment=emulator_environment(url)) as tl:
            assert isinstance(await tl.webhooks.verify(headers, body, path=PATH), PaymentExecuted)
    await fake.aclose()


# -- the key-set endpoint down or slow (a Session on the real sandbox URLs, mocked) ------


def tv3_session(handler: Any, **kwargs: Any) -> tuple[Session, WebhookService]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    session = Session("client", "secret", http_client=client, max_retries=0)
    return session, WebhookService(session, **kwargs)


TV3_HEADERS = {"Tl-Signature": TV3_SIGNATURE, "X-TL-Webhook-Timestamp": TV3_TIMESTAMP}


async def test_key_set_endpoint_down_fails_closed_with_one_fetch_for_many() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(503, text="down")

    session, hooks = tv3_session(handler)
    async with session:
        errors: list[BaseException] = []

        async def one() -> None:
            try:
                await hooks.verify(TV3_HEADERS, TV3_BODY, path=TV3_PATH)
            except WebhookKeySetUnavailableError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(one)
        assert len(errors) == 200
        assert calls == [SANDBOX_KEY_SET_URL]
        # Within the failure back-off, verifications fail fast without fetching.
        with pytest.raises(WebhookKeySetUnavailableError):
            await hooks.verify(TV3_HEADERS, TV3_BODY, path=TV3_PATH)
        assert len(calls) == 1


async def test_key_set_endpoint_slow_is_a_bounded_wait() -> None:
    release = anyio.Event()
    calls: list[str] = []

    async def slow_fetch(url: str) -> Any:
        calls.append(url)
        await release.wait()  # never answers in time
        return {"keys": []}

    session = Session("client", "secret")
    hooks = WebhookService(session, fetch=slow_fetch, fetch_timeout=0.05)
    async with session:
        errors: list[BaseException] = []

        async def one() -> None:
            try:
                await hooks.verify(TV3_HEADERS, TV3_BODY, path=TV3_PATH)
            except WebhookKeySetUnavailableError as exc:
                errors.append(exc)

        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            async with anyio.create_task_group() as tg:
                for _ in range(1000):
                    tg.start_soon(one)
        release.set()
        assert len(errors) == 1000
        assert calls == [SANDBOX_KEY_SET_URL]
        assert "did not answer" in str(errors[0])


async def test_a_key_set_that_is_not_a_jwks_fails_closed() -> None:
    session, hooks = tv3_session(lambda request: httpx.Response(200, json={"nope": 1}))
    async with session:
        with pytest.raises(WebhookKeySetUnavailableError):
            await hooks.verify(TV3_HEADERS, TV3_BODY, path=TV3_PATH)
