"""CI runs every example, and the demo, against the emulator: exit 0 and the key lines."""

from __future__ import annotations

import re
import subprocess

import anyio
import pytest

from tests.support.binaries import require_binary
from tests.support.examples import EXAMPLES, Run, run_python
from tests.support.fastapi_example import serving_fastapi_app, walk_login_flow

pytestmark = pytest.mark.usefixtures("example_env")


def ok(run: Run) -> str:
    assert run.code == 0, f"exit {run.code}\n--- stdout\n{run.out}\n--- stderr\n{run.err}"
    assert "Traceback" not in run.err
    return run.out


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == {
        "batch_fetch.py",
        "fastapi_app.py",
        "job_queue.py",  # tests/examples/test_job_queue.py
        "trio_accounts.py",
        "worker.py",
    }


def test_demo(example_env: dict[str, str]) -> None:
    out = ok(run_python(["-m", "truelayer_async", "demo"], example_env, timeout=30))
    assert "1. Build the auth link" in out
    assert "redirected to http://127.0.0.1:8080/callback?code=…&state=…" in out
    assert "state: matches" in out
    # The accounts table, with balances.
    assert re.search(r"Everyday Current .*│ +[\d,]+\.\d\d GBP", out)
    assert "Rainy Day Saver" in out
    # Transaction counts per account, cards and per-category totals.
    assert re.search(r"Everyday Current +│ +\d+ │", out)
    assert re.search(r"Account transactions \(90 days\) +│ +\d+", out)
    assert "Mock Credit Card" in out or "Mock" in out
    assert "Totals per category" in out
    assert "PURCHASE" in out
    refreshes = re.search(r"Token refreshes: (\d+)", out)
    assert refreshes is not None and int(refreshes.group(1)) >= 1
    assert "refreshed the token" in out
    # The payment: paid on the hosted page, settled, partly refunded.
    assert re.search(r"^   settled at \d\d:\d\d:\d\d UTC$", out, re.MULTILINE)
    assert "10.00 GBP refunded; 15.00 GBP left on the payment" in out
    # The payer's name checked against their account before the payout.
    assert "completed, match: the name is the account holder's" in out


def test_demo_help(example_env: dict[str, str]) -> None:
    out = ok(run_python(["-m", "truelayer_async", "demo", "--help"], example_env))
    assert "emulator" in out


def test_console_script(example_env: dict[str, str]) -> None:
    """`pip install -e .` puts `truelayer-async` on PATH (pyproject's [project.scripts])."""
    script = require_binary("truelayer-async")
    proc = subprocess.run(
        [script, "--version"], capture_output=True, text=True, env=example_env, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("truelayer-async ")


def test_batch_fetch(example_env: dict[str, str]) -> None:
    out = ok(
        run_python(
            [str(EXAMPLES / "batch_fetch.py"), "--count", "6", "--concurrency", "3"], example_env
        )
    )
    assert "target: emulator" in out
    assert "connected 8 users through the emulator's consent pages" in out
    for n in range(1, 7):
        assert re.search(rf"^user-0{n}: ok, 2 accounts", out, re.M), out
    assert re.search(r"^revoked-user: FAILED ReauthorizationRequired", out, re.M)
    assert re.search(
        r"^locked-user: FAILED DataApiError: 403 account_temporarily_locked", out, re.M
    )
    assert "6 users ok, 2 failed, concurrency 3" in out
    assert "[  8/8]" in out


def test_worker(example_env: dict[str, str]) -> None:
    out = ok(run_python([str(EXAMPLES / "worker.py"), "--cycles", "2"], example_env))
    assert "target: emulator" in out
    assert "cycle 1: 3 synced, 0 failed, 0 flagged" in out
    assert "flagged carol: must reconnect" in out
    assert "cycle 2: 2 synced, 0 failed, 1 flagged (carol)" in out
    refreshes = re.search(r"token refreshes: (\d+)", out)
    assert refreshes is not None and int(refreshes.group(1)) >= 2  # alice's and bob's


def test_trio_accounts(example_env: dict[str, str]) -> None:
    out = ok(run_python([str(EXAMPLES / "trio_accounts.py")], example_env))
    assert "event loop: trio, target: emulator" in out
    assert re.search(r"^Everyday Current +[\d,]+\.\d\d GBP", out, re.M)
    assert re.search(r"^\d+ transactions in the last 7 days", out, re.M)


def test_fastapi_app(example_env: dict[str, str]) -> None:
    """Started as a user starts it, on the emulator; /login -> bank -> /accounts works."""
    with serving_fastapi_app(example_env) as served:
        assert served.emulator_url is not None
        assert "(target: emulator)" in "".join(served.output)
        seen = anyio.run(walk_login_flow, served.app_url)
    assert seen[:3] == ["/callback -> /accounts", "Everyday Current", "Rainy Day Saver"]
    assert re.fullmatch(r"\d+ transactions", seen[-1]) and seen[-1] != "0 transactions"
    # Ctrl-C stops the app and the emulator, without a traceback.
    assert served.returncode == 130, "".join(served.output)
    assert "Traceback" not in "".join(served.output)
