"""The command-line tool's tests: running the CLI in-process or as a subprocess,
connecting a user in the store, checking a clean error."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest

import truelayer_async as tla
from tests.support.examples import Run
from tests.support.processes import REPO, OutputLines
from truelayer_async.cli import main
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeTrueLayer,
    LiveClock,
    complete_consent,
)

#: What a CLI run left: exit code, stdout, stderr (the examples' ``Run``).
Result = Run


class Running:
    """A CLI subprocess whose stdout lines are read as they come."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "truelayer_async", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=dict(os.environ),
            # Even when pytest runs as a background job (SIGINT ignored), the child must
            # react to Ctrl-C.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.seen: list[str] = []
        assert self.proc.stdout is not None
        self._stdout = OutputLines(self.proc.stdout)

    def wait_for_line(self, prefix: str, timeout: float = 20) -> str:
        """The next stdout line starting with ``prefix``, stripped."""
        return self._wait(lambda line: line.startswith(prefix), repr(prefix), timeout)

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        """The next stdout line containing ``needle``, stripped."""
        return self._wait(lambda line: needle in line, repr(needle), timeout)

    def _wait(self, match: Callable[[str], bool], what: str, timeout: float) -> str:
        while True:
            try:
                line = self._stdout.next(timeout)
            except queue.Empty:
                line = None
            if line is None:
                self.proc.kill()
                raise AssertionError(f"no line matching {what}; saw {self.seen}")
            self.seen.append(line)
            if match(line):
                return line.strip()

    def finish(self, timeout: float = 20) -> tuple[int, str, str]:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        rest = self._stdout.rest()
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code, "".join(self.seen + rest), err


def url_args(fake: FakeTrueLayer) -> list[str]:
    assert fake.base_url is not None
    return ["--auth-url", fake.base_url, "--api-url", fake.base_url]


def connect(fake: FakeTrueLayer, store: Path, user: str | None, username: str = "john") -> None:
    """Connect ``user`` through the consent pages with the SDK and save the token in
    ``store``, as `truelayer-async login` would."""

    async def run() -> None:
        async with (
            httpx.AsyncClient() as http,
            tla.Session(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                redirect_uri=DEFAULT_REDIRECT_URI,
                environment=fake.environment,
                token_store=SqliteTokenStore(store),
            ) as tl,
        ):
            link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers="uk-cs-mock")
            result = await complete_consent(http, link.url, username=username)
            code = tl.auth.parse_callback(result.redirect_url, expected_state=link.state)
            await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)

    anyio.run(run)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run the CLI in this process; returns its exit code and output."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def assert_clean_error(result: Result, code: int, *needles: str) -> None:
    """A one-line message on stderr, the exit code, and no traceback."""
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    assert "Traceback" not in result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    for needle in needles:
        assert needle in result.err, (needle, result.err)


@contextmanager
def live_emulator(delay: float) -> Iterator[FakeTrueLayer]:
    """A served emulator on real time whose payments, refunds and payouts move on after
    ``delay`` seconds (the CLI polls for real)."""
    fake = FakeTrueLayer(clock=LiveClock())
    timing = fake.payment_timing
    timing.execution_delay = timing.settlement_delay = delay
    timing.refund_delay = timing.payout_delay = delay
    with fake.serve_in_thread():
        yield fake
