"""The emulator served in a separate process (``Served``), how to start it, and the plain
HTTP calls the served tests make to it (``bearer``, ``connect``, ``refresh``, ``claims``,
``server_now``)."""

from __future__ import annotations

import base64
import json
import queue
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import OutputLines, child_env
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

#: Webhook retries after 50 ms and 100 ms: tests never wait long.
FAST_RETRIES = "0.05,0.1"
MODULE = ("-m", "truelayer_async.testing")
#: ``truelayer-async fake-server``, without relying on the console script being installed.
CLI = ("-c", "import sys, truelayer_async.cli as c; sys.exit(c.main())", "fake-server")


class Served:
    """A running ``python -m truelayer_async.testing`` child and the URL it printed."""

    def __init__(self, *args: str, log: Path, command: tuple[str, ...] = MODULE) -> None:
        env = child_env()
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, *command, "--port", "0", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self.process.stdout is not None
        self._stdout = OutputLines(self.process.stdout)
        self.url = self._read_url(log)

    def _read_url(self, log: Path) -> str:
        try:
            first = (self._stdout.next(timeout=60) or b"").decode()
        except queue.Empty:
            self.stop()
            raise AssertionError("the emulator printed nothing within 60 s") from None
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        if match is None:
            self.stop()
            raise AssertionError(f"no URL in {first!r}; stderr: {log.read_text()}")
        return match.group(0)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stdout.rest()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


# -- plain HTTP to a served emulator ---------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def connect(http: httpx.Client, username: str = "john", **extra: Any) -> dict[str, Any]:
    """``POST /_emulator/connections``; returns the token response."""
    response = http.post("/_emulator/connections", json={"username": username, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(http: httpx.Client, refresh_token: str) -> httpx.Response:
    """A refresh grant with the default client's credentials, as sent."""
    return http.post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": refresh_token,
        },
    )


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def server_now(http: httpx.Client) -> float:
    """The served emulator's clock (``GET /_emulator/clock``)."""
    now: float = http.get("/_emulator/clock").json()["now"]
    return now
