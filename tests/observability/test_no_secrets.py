"""Issue #23: no secret (client secret, code, verifier, tokens) and no raw user id in any
span name, attribute, event or status, metric label, event-hook event or log field."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from tests.observability.conftest import Captured
from tests.secret_scan import assert_no_secret_anywhere
from truelayer_async import TokenType
from truelayer_async import errors as e
from truelayer_async.correlation import client_correlation_id
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

USER = "user-SENTINEL-4c1d@example.com"


def _texts_of_spans(captured: Captured) -> list[str]:
    texts: list[str] = []
    for span in captured.spans():
        texts.append(span.name)
        texts.append(repr(dict(span.attributes or {})))
        texts.append(repr(span.status.description))
        texts.append(repr(dict(span.resource.attributes)))
        for event in span.events:
            texts.append(event.name)
            texts.append(repr(dict(event.attributes or {})))
    return texts


def _texts_of_metrics(captured: Captured) -> list[str]:
    data = captured.reader.get_metrics_data()
    assert data is not None
    texts: list[str] = []
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                texts.append(metric.name)
                texts.extend(repr(dict(p.attributes)) for p in metric.data.data_points)
    return texts


async def test_no_secret_or_raw_user_id_reaches_telemetry_hooks_or_log_fields(
    fake: FakeTrueLayer, captured: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    secrets: set[str] = set()

    async def grab(request: httpx.Request) -> None:  # what went to the token endpoint
        if request.url.path.endswith("/connect/token"):
            form = dict(parse_qsl(request.content.decode()))
            for name in ("client_secret", "code", "code_verifier", "refresh_token"):
                if form.get(name):
                    secrets.add(form[name])

    events: list[Any] = []
    hooks = {name: [events.append] for name in ("request", "response", "retry", "refresh")}
    client = fake.http_client(event_hooks={"request": [grab]})
    caplog.set_level(logging.DEBUG, logger="truelayer_async")
    async with fake.session(
        http_client=client, telemetry=captured.telemetry, event_hooks=hooks
    ) as tl:
        with client_correlation_id("req-77"):
            token = await fake.connect(tl, user=USER)
            fake.fail_next("/data/v1/accounts", 503)
            await tl.data.accounts(user=USER)
            fake.clock.advance(token.expires_in + 1)
            await tl.data.balance((await tl.data.accounts(user=USER))[0].account_id, user=USER)
            fake.fail_next("/data/v1/cards", 400, times=None)
            with pytest.raises(e.DataApiError) as info:
                await tl.data.cards(user=USER)
        record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, USER))
        assert record is not None
        for value in (token.access_token, token.refresh_token, record.token.access_token,
                      record.token.refresh_token):  # fmt: skip
            if value is not None:
                secrets.add(value.get_secret_value())
        secrets.add(tl.client_secret.get_secret_value())

    assert len(secrets) >= 6  # client secret, code, verifier, 2 refresh, 2 access tokens
    assert {type(event).__name__ for event in events} == {
        "RequestEvent",
        "ResponseEvent",
        "RetryEvent",
        "RefreshEvent",
    }
    spans, labels = _texts_of_spans(captured), _texts_of_metrics(captured)
    hook_texts = [repr(event) for event in events]
    log_fields = [repr(vars(r)) for r in caplog.records if r.name.startswith("truelayer_async")]
    assert len(spans) > 20 and labels and hook_texts and log_fields
    assert info.value.client_correlation_id == "req-77"
    for secret in secrets:
        for text in spans + labels + hook_texts + log_fields:
            assert secret not in text
        assert_no_secret_anywhere(info.value, secret)  # the observer's frames included
    for text in spans + labels + log_fields:  # hooks are your code: they get the user
        assert USER not in text
        assert "SENTINEL" not in text
