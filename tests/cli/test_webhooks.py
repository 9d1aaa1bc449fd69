"""`webhooks listen` as a real process between a served emulator (`webhooks trigger`
makes it send) and a tiny app that verifies every forwarded webhook again."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import attrs
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.cli import Running, assert_clean_error, run_cli, url_args
from tests.support.processes import free_port
from truelayer_async.cli import _errors as codes
from truelayer_async.cli._config import environment
from truelayer_async.cli._parser import build_parser
from truelayer_async.cli._webhooks_listen import Forwarder, ListenApp
from truelayer_async.errors import WebhookVerificationError
from truelayer_async.testing import FakeTrueLayer, LiveClock
from truelayer_async.testing._server import serve_in_thread
from truelayer_async.testing._webhook_keys import SIGNING_MODES
from truelayer_async.testing.webhook_samples import SAMPLE_EVENTS, sample_event
from truelayer_async.webhooks import (
    EVENT_TYPES,
    Event,
    WebhookService,
    default_key_set_urls,
    verify_with_jwks,
)

PATH = "/webhooks/truelayer"
BAD_MODES = [mode for mode in SIGNING_MODES if mode != "valid"]
#: The ``reason`` of the SDK's error for each bad signing mode.
REASONS = {
    "forged": "invalid",
    "stale": "stale",
    "unknown_kid": "kid",
    "tampered": "invalid",
    "bad_jku": "jku",
    "wrong_alg": "algorithm",
    "unsigned": "missing",
}


@attrs.define
class Received:
    headers: dict[str, str]
    body: bytes
    event: Event | None
    error: str | None


class App:
    """The user's app: verifies each webhook itself; ``fail_next`` answers 500 that often."""

    def __init__(self, fake: FakeTrueLayer) -> None:
        self.fake = fake
        self.received: list[Received] = []
        self.fail_next = 0
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            headers = dict(request.headers)
            try:
                event: Event | None = verify_with_jwks(
                    headers,
                    body,
                    fake.webhook_keys.jwks(),
                    path=request.url.path,
                    allowed_jku=[fake.key_set_url],
                )
                error = None
            except WebhookVerificationError as exc:
                event, error = None, exc.reason
            with self.lock:
                self.received.append(Received(headers, body, event, error))
                failing = self.fail_next > 0
                self.fail_next -= failing
            if error is not None:
                return Response("refused", 401)
            return Response("down", 500) if failing else Response("ok")

        self.asgi = Starlette(routes=[Route(PATH, hook, methods=["POST"])])


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTrueLayer]:
    """Real time (listen checks timestamps) and retries after 50 and 100 ms."""
    fake = FakeTrueLayer(clock=LiveClock(), webhook_retry_delays=(0.05, 0.1))
    with fake.serve_in_thread():
        yield fake


@pytest.fixture(scope="module")
def app(fake: FakeTrueLayer) -> Iterator[tuple[App, str]]:
    served = App(fake)
    with serve_in_thread(served.asgi) as url:
        yield served, url + PATH


def start_listen(fake: FakeTrueLayer, *extra: str) -> tuple[Running, str]:
    listen = Running(["webhooks", "listen", *url_args(fake), "--port", "0", *extra])
    line = listen.wait_for_line("Listening for webhooks on ")
    base = line.split()[4]
    assert base.startswith("http://127.0.0.1:"), line
    listen.wait_for_line("Press Ctrl-C to stop.")
    return listen, base + PATH


def stop(listen: Running) -> tuple[int, str, str]:
    listen.proc.send_signal(signal.SIGINT)
    return listen.finish()


@pytest.fixture(scope="module")
def forwarding(fake: FakeTrueLayer, app: tuple[App, str]) -> Iterator[tuple[Running, str]]:
    """`webhooks listen --forward-to` the app, for the whole module."""
    listen, url = start_listen(fake, "--forward-to", app[1])
    yield listen, url
    code, _, err = stop(listen)
    assert code == 0, err
    assert "Traceback" not in err


def trigger(
    capsys: pytest.CaptureFixture[str], fake: FakeTrueLayer, to: str, event: str, *extra: str
) -> str:
    result = run_cli(capsys, "webhooks", "trigger", event, *url_args(fake), "--to", to, *extra)
    assert result.code == 0, result
    return result.out


def record_of(fake: FakeTrueLayer, event_id: str) -> Any:
    (record,) = [w for w in fake.webhooks if w.payload.get("event_id") == event_id]
    return record


def settled(fake: FakeTrueLayer, event_id: str) -> Any:
    """The webhook's record once the emulator stopped trying."""
    record = record_of(fake, event_id)
    deadline = time.monotonic() + 10
    while record.outcome == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    return record


def sent_event_id(out: str) -> str:
    return out.split()[2]  # "sent TYPE EVENT_ID to URL ..."


@pytest.mark.parametrize(
    ("event_type", "extra", "ids"),
    [
        ("payment_executed", ["--field", "payment_id=pay-123"], ["payment_id=pay-123"]),
        ("refund_failed", [], ["refund_id=", "payment_id="]),
        ("payout_executed", [], ["payout_id="]),
        ("mandate_revoked", ["--field", "mandate_id=mnd-9"], ["mandate_id=mnd-9"]),
        ("balance_notification", ["--field", "current_balance_in_minor=42"], ["merchant_"]),
        ("account_holder_verification_failed", [], ["account_holder_verification_id="]),
    ],
)
def test_valid_webhooks_are_printed_and_forwarded_byte_exactly(
    capsys: pytest.CaptureFixture[str],
    fake: FakeTrueLayer,
    app: tuple[App, str],
    forwarding: tuple[Running, str],
    event_type: str,
    extra: list[str],
    ids: list[str],
) -> None:
    listen, url = forwarding
    out = trigger(capsys, fake, url, event_type, *extra)
    assert f"{url} answered 200" in out
    event_id = sent_event_id(out)
    line = listen.wait_for(event_id)
    assert f"  {event_type}  {event_id}" in line
    assert line.endswith("-> forwarded: your app answered 200"), line
    for needle in ids:
        assert needle in line
    (got,) = [r for r in app[0].received if r.body and event_id.encode() in r.body]
    assert got.error is None and got.event is not None
    assert got.event.type == event_type and got.event.event_id == event_id
    record = settled(fake, event_id)
    assert got.body == _compact(record.payload)  # the exact bytes the emulator sent
    assert record.outcome == "delivered" and len(record.attempts) == 1
    assert got.headers["tl-signature"] not in "".join(listen.seen)  # never printed
    if event_type == "balance_notification":
        assert got.event.raw["current_balance_in_minor"] == 42  # --field value is JSON


@pytest.mark.parametrize("mode", BAD_MODES)
def test_bad_signatures_are_rejected_and_not_forwarded(
    capsys: pytest.CaptureFixture[str],
    fake: FakeTrueLayer,
    app: tuple[App, str],
    forwarding: tuple[Running, str],
    mode: str,
) -> None:
    listen, url = forwarding
    before = len(app[0].received)
    out = trigger(capsys, fake, url, "payment_failed", "--signing", mode)
    assert f"{url} answered 401" in out
    record = settled(fake, sent_event_id(out))
    assert [a.status for a in record.attempts] == [401, 401, 401]  # the emulator retried
    for _ in record.attempts:  # one line each, naming why
        line = listen.wait_for("REJECTED ")
        assert f"REJECTED {REASONS[mode]}  (" in line and line.endswith("-> 401"), line
    assert len(app[0].received) == before


def test_forward_target_failing_answers_non_2xx_so_the_emulator_retries(
    capsys: pytest.CaptureFixture[str],
    fake: FakeTrueLayer,
    app: tuple[App, str],
    forwarding: tuple[Running, str],
) -> None:
    listen, url = forwarding
    app[0].fail_next = 1
    out = trigger(capsys, fake, url, "payment_settled")
    assert f"{url} answered 500 (the emulator retries)" in out
    event_id = sent_event_id(out)
    assert listen.wait_for(event_id).endswith("your app answered 500 (TrueLayer will retry)")
    assert listen.wait_for(event_id).endswith("your app answered 200")  # the retry
    record = settled(fake, event_id)
    assert [a.status for a in record.attempts] == [500, 200]


def test_forward_target_down_answers_502(
    capsys: pytest.CaptureFixture[str], fake: FakeTrueLayer
) -> None:
    down = f"http://127.0.0.1:{free_port()}{PATH}"
    listen, url = start_listen(fake, "--forward-to", down)
    try:
        out = trigger(capsys, fake, url, "mandate_failed")
        assert f"{url} answered 502 (the emulator retries)" in out
        event_id = sent_event_id(out)
        for _ in range(3):  # the first attempt and both retries
            line = listen.wait_for(event_id)
            assert line.endswith("forwarded: ConnectError (TrueLayer will retry)"), line
        record = settled(fake, event_id)
    finally:
        code, _, err = stop(listen)
    assert code == 0, err
    # Every attempt was refused: none was lost to a 2xx.
    assert [a.status for a in record.attempts] == [502, 502, 502]
    assert record.outcome == "failed"


def test_listen_without_forwarding_answers_200_and_stops_on_ctrl_c(
    capsys: pytest.CaptureFixture[str], fake: FakeTrueLayer
) -> None:
    listen, url = start_listen(fake)
    try:
        out = trigger(capsys, fake, url, "payment_link_disabled")
        assert f"{url} answered 200" in out
        assert listen.wait_for(sent_event_id(out)).endswith("-> 200")
    finally:
        code, printed, err = stop(listen)
    assert code == 0, err
    assert "listener stopped" in printed
    assert "Traceback" not in err


def test_trigger_list_prints_every_event_type(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "webhooks", "trigger", "--list")
    assert result.code == 0
    assert result.out.split() == sorted(SAMPLE_EVENTS)
    assert set(result.out.split()) == set(EVENT_TYPES)
    assert len(result.out.split()) == 24


def test_trigger_refuses_a_real_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TRUELAYER_AUTH_URL", "TRUELAYER_API_URL", "TRUELAYER_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    for flags in ([], ["--environment", "production"]):
        result = run_cli(capsys, "webhooks", "trigger", "payment_executed", *flags)
        assert_clean_error(result, codes.USAGE, "emulator only", "no API that sends a webhook")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["no_such_event"], "unknown event type 'no_such_event'"),
        ([], "name the event type"),
        (["payment_executed", "--signing", "sloppy"], "--signing must be one of"),
        (["payment_executed", "--field", "novalue"], "--field takes key=value"),
    ],
)
def test_trigger_usage_errors(
    capsys: pytest.CaptureFixture[str], fake: FakeTrueLayer, argv: list[str], needle: str
) -> None:
    result = run_cli(capsys, "webhooks", "trigger", *argv, *url_args(fake))
    assert_clean_error(result, codes.USAGE, needle)


def _compact(payload: Any) -> bytes:
    import json

    return json.dumps(payload, separators=(",", ":")).encode()


def test_listen_usage_errors(capsys: pytest.CaptureFixture[str], fake: FakeTrueLayer) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(capsys, "webhooks", "listen", *url_args(fake), "--port", str(port))
    assert_clean_error(result, codes.USAGE, f"cannot listen on 127.0.0.1:{port}")
    result = run_cli(capsys, "webhooks", "listen", *url_args(fake), "--forward-to", "ftp://x")
    assert_clean_error(result, codes.USAGE, "--forward-to must be an http(s) URL")


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["--environment", "sandbox"], "https://webhooks.truelayer-sandbox.com/.well-known/jwks"),
        (["--environment", "production"], "https://webhooks.truelayer.com/.well-known/jwks"),
        (["--auth-url", "http://127.0.0.1:9"], "http://127.0.0.1:9/.well-known/jwks"),
    ],
)
def test_listen_allows_exactly_the_environments_key_set(argv: list[str], allowed: str) -> None:
    env = environment(build_parser().parse_args(["webhooks", "listen", *argv]))
    assert default_key_set_urls(env) == (allowed,)


def test_listen_warns_when_the_forward_path_differs(capsys: pytest.CaptureFixture[str]) -> None:
    """The signature covers the path: forwarding to another path cannot verify there."""

    async def run() -> tuple[list[int], list[str | None]]:
        async with FakeTrueLayer(clock=LiveClock()) as emulator, emulator.session() as tl:
            target = App(emulator)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=target.asgi)) as client:
                forwarder = Forwarder("http://app.example" + PATH, client)
                listen = ListenApp(
                    WebhookService(tl, key_set_urls=[emulator.key_set_url]), forwarder
                )
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=listen), base_url="http://listen.example"
                ) as sender:
                    statuses = []
                    for _ in range(2):
                        uri = "http://listen.example/elsewhere"
                        headers, body = emulator.signed_webhook(uri, sample_event("payout_failed"))
                        response = await sender.post("/elsewhere", headers=headers, content=body)
                        statuses.append(response.status_code)
                    return statuses, [r.error for r in target.received]

    statuses, errors = anyio.run(run)
    assert statuses == [401, 401]
    assert errors == ["invalid", "invalid"]  # the app refused what was signed for /elsewhere
    captured = capsys.readouterr()
    assert captured.err.count("warning: this webhook was signed for /elsewhere") == 1
    assert "your app answered 401 (TrueLayer will retry)" in captured.out
