"""``examples/fastapi_app.py`` run as a user runs it (a child process on free ports), and
clicking through its pages over HTTP as a browser would."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl

import anyio
import attrs
import httpx

from tests.support.examples import EXAMPLES
from tests.support.processes import REPO, OutputLines
from truelayer_async.testing import complete_consent

FASTAPI_APP = EXAMPLES / "fastapi_app.py"
STARTUP_TIMEOUT = 30.0


@attrs.define
class ServedApp:
    """The running example: its URL, the emulator's (if any) and everything it printed
    (stdout and stderr together; complete once the context has exited)."""

    app_url: str
    emulator_url: str | None
    output: list[str]
    returncode: int | None = None


@contextmanager
def serving_fastapi_app(env: dict[str, str], *args: str) -> Iterator[ServedApp]:
    """Start the example with ``--port 0``, wait for its "open URL" line, and stop it with
    SIGINT (Ctrl-C) on exit, recording its exit code."""
    proc = subprocess.Popen(
        [sys.executable, str(FASTAPI_APP), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.stdout is not None
    lines = OutputLines(proc.stdout)
    output: list[str] = []
    try:
        served = _wait_until_serving(proc, lines, output)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        output += lines.rest()
        proc.stdout.close()
    served.returncode = proc.returncode


def _wait_until_serving(
    proc: subprocess.Popen[str], lines: OutputLines[str], output: list[str]
) -> ServedApp:
    emulator_url = None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            line = lines.next(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"the app did not start:\n{''.join(output)}") from None
        if line is None:
            proc.wait(5)
            raise AssertionError(f"the app exited ({proc.returncode}):\n{''.join(output)}")
        output.append(line)
        if found := re.search(r"TrueLayer emulator on (http://\S+)", line):
            emulator_url = found.group(1)
        if found := re.search(r"open (http://\S+)/ in a browser", line):
            return ServedApp(found.group(1), emulator_url, output)


async def walk_login_flow(app_url: str) -> list[str]:
    """Click through the app with HTTP requests, as a browser would; returns what each
    step showed."""
    seen: list[str] = []
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as client:
        response = await client.get(f"{app_url}/login")
        assert response.status_code == 303, response.text
        result = await complete_consent(client, response.headers["location"])
        response = await client.get(result.redirect_url)
        assert response.status_code == 303, response.text
        seen.append(f"/callback -> {response.headers['location']}")
        response = await client.get(f"{app_url}/accounts")
        assert response.status_code == 200, response.text
        seen += re.findall(r'<a href="/transactions\?account_id=[^"]+">([^<]+)</a>', response.text)
        account_id = response.text.split('data-account-id="', 1)[1].split('"', 1)[0]
        response = await client.get(f"{app_url}/transactions", params={"account_id": account_id})
        assert response.status_code == 200, response.text
        count = response.text.count('class="transaction"')
        seen.append(f"{count} transactions")
    return seen


async def pay_at_checkout(
    client: httpx.AsyncClient, app_url: str, *, username: str = "test_executed"
) -> str:
    """Click "Pay" and go through the emulator's hosted page and mock bank as ``username``
    with HTTP requests, as a browser would; returns the order page's URL."""
    response = await client.post(f"{app_url}/checkout")
    assert response.status_code == 303, response.text
    hosted_page = httpx.URL(response.headers["location"])
    # The page's script posts the fragment's fields; a browser-less client does the same.
    fields = dict(parse_qsl(hosted_page.fragment))
    response = await client.post(hosted_page.copy_with(fragment=None, query=None), data=fields)
    assert response.status_code == 303, response.text
    providers = hosted_page.join(response.headers["location"])
    response = await client.post(providers, data={"provider_id": "mock-payments-gb-redirect"})
    assert response.status_code == 303, response.text
    bank = hosted_page.join(response.headers["location"])
    response = await client.post(bank, data={"username": username, "action": "authorise"})
    assert response.status_code == 303, response.text
    returned = response.headers["location"]
    assert returned.startswith(f"{app_url}/checkout/return?payment_id="), returned
    response = await client.get(returned)
    assert response.status_code == 303, response.text
    return f"{app_url}{response.headers['location']}"


async def watch_order(client: httpx.AsyncClient, order_url: str, *, polls: int = 100) -> str:
    """The order page once it stops refreshing (at most ``polls`` reads, 0.2 s apart)."""
    for _ in range(polls):
        response = await client.get(order_url)
        assert response.status_code == 200, response.text
        if 'http-equiv="refresh"' not in response.text:
            return response.text
        await anyio.sleep(0.2)
    raise AssertionError(f"the order page was still refreshing:\n{response.text}")
