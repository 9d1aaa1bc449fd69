"""Issue #23: without the otel extra nothing changes and OpenTelemetry is never imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import child_env

# A data call, event hooks, a refresh and a webhook check: everything but truelayer_async.otel.
SCRIPT = """
import sys
if sys.argv[1] == "blocked":
    sys.modules["opentelemetry"] = None  # as if the otel extra were not installed
import anyio
from truelayer_async.testing import FakeTrueLayer

async def main():
    seen = []
    hooks = {"response": [seen.append]}
    async with FakeTrueLayer() as fake, fake.session(event_hooks=hooks) as tl:
        token = await fake.connect(tl, user="alice")
        fake.clock.advance(token.expires_in + 1)
        assert await tl.data.accounts(user="alice")
        headers, body = fake.signed_webhook("https://m.example/hook", {
            "type": "payment_executed", "event_version": 1, "event_id": "e1",
            "payment_id": "p1", "executed_at": "2024-05-01T10:00:00Z",
            "payment_method": {"type": "bank_transfer"}})
        await tl.webhooks.verify(headers, body, path="/hook")
    assert seen

anyio.run(main)
loaded = sorted(n for n, m in sys.modules.items() if n.startswith("opentelemetry") and m)
print("loaded:", loaded)
if sys.argv[1] == "blocked":
    try:
        import truelayer_async.otel
    except ImportError as exc:
        print("otel:", exc)
"""


@pytest.mark.parametrize("mode", ["installed", "blocked"])
def test_the_sdk_never_imports_opentelemetry(mode: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "loaded: []" in run.stdout
    if mode == "blocked":
        assert "pip install 'truelayer-async[otel]'" in run.stdout
