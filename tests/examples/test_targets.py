"""Where the examples run is chosen by TRUELAYER_ENVIRONMENT alone (default: the emulator),
and what a user gets wrong is told in one line, without a traceback."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.support.examples import EXAMPLES, Run, run_python
from tests.support.fastapi_example import serving_fastapi_app, walk_login_flow
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

#: What `truelayer-async fake-server` and docs/cli.md tell users to export.
EMULATOR_CREDENTIALS = {
    "TRUELAYER_CLIENT_ID": DEFAULT_CLIENT_ID,
    "TRUELAYER_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
}
#: Any attempt to reach TrueLayer fails at once instead of leaving the machine.
NO_NETWORK = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}
SCRIPTS = ["batch_fetch.py", "fastapi_app.py", "trio_accounts.py", "worker.py"]
QUICK_ARGS = {
    "batch_fetch.py": ["--count", "1"],
    "trio_accounts.py": [],
    "worker.py": ["--cycles", "1"],
}


def one_error_line(run: Run) -> str:
    """The run failed with exactly one line on stderr after argparse's usage, if any."""
    assert run.code != 0, run.out
    assert "Traceback" not in run.err, run.err
    lines = [line for line in run.err.splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, run.err
    return lines[0]


@pytest.mark.parametrize("script", sorted(QUICK_ARGS))
def test_exported_emulator_credentials_do_not_switch_to_truelayer(
    script: str, example_env: dict[str, str]
) -> None:
    """The regression: with the variables set, the examples used to go to the sandbox."""
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK
    run = run_python([str(EXAMPLES / script), *QUICK_ARGS[script]], env)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert re.search(r"\btarget: emulator\b", run.out), run.out


def test_fastapi_app_with_exported_credentials_serves_the_emulator(
    example_env: dict[str, str],
) -> None:
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK
    with serving_fastapi_app(env) as served:
        assert served.emulator_url is not None
        seen = anyio.run(walk_login_flow, served.app_url)
    assert "(target: emulator)" in "".join(served.output)
    assert "Everyday Current" in seen


def test_emulator_can_be_named(example_env: dict[str, str]) -> None:
    env = example_env | EMULATOR_CREDENTIALS | {"TRUELAYER_ENVIRONMENT": "emulator"}
    run = run_python([str(EXAMPLES / "trio_accounts.py")], env)
    assert run.code == 0, run.err
    assert "target: emulator" in run.out


def test_sandbox_without_a_stored_token_says_to_log_in(example_env: dict[str, str]) -> None:
    """The other regression: a NoTokenError traceback. Now one line, exit 1, and no
    request leaves the machine (no token means nothing to send)."""
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK | {"TRUELAYER_ENVIRONMENT": "sandbox"}
    run = run_python([str(EXAMPLES / "trio_accounts.py"), "--user", "alice"], env)
    line = one_error_line(run)
    assert run.code == 1
    assert line == (
        "trio_accounts.py: error: 'alice' has no stored token: "
        "run `truelayer-async login --environment sandbox --user alice`"
    )
    assert "target: sandbox" in run.out


@pytest.mark.parametrize("script", ["batch_fetch.py", "worker.py"])
def test_many_user_examples_flag_users_never_connected(
    script: str, example_env: dict[str, str]
) -> None:
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK | {"TRUELAYER_ENVIRONMENT": "sandbox"}
    run = run_python([str(EXAMPLES / script), "--users", "alice,bob"], env)
    assert run.code == 1, run.out + run.err
    assert "Traceback" not in run.err
    for user in ("alice", "bob"):
        assert f"run `truelayer-async login --environment sandbox --user {user}`" in run.out


@pytest.mark.parametrize("script", SCRIPTS)
def test_unknown_environment_is_a_usage_error(script: str, example_env: dict[str, str]) -> None:
    env = example_env | {"TRUELAYER_ENVIRONMENT": "staging"}
    line = one_error_line(run_python([str(EXAMPLES / script)], env))
    assert line == (
        f"{script}: error: TRUELAYER_ENVIRONMENT must be one of emulator, sandbox, "
        "production, not 'staging'"
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_truelayer_needs_the_credentials(script: str, example_env: dict[str, str]) -> None:
    env = example_env | {"TRUELAYER_ENVIRONMENT": "production"}
    run = run_python([str(EXAMPLES / script)], env)
    line = one_error_line(run)
    assert run.code == 2
    assert line == (
        f"{script}: error: production needs TRUELAYER_CLIENT_ID and TRUELAYER_CLIENT_SECRET"
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another program is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


@pytest.mark.parametrize("option", ["--port", "--emulator-port"])
def test_fastapi_app_port_in_use_is_one_line(
    option: str, busy_port: int, example_env: dict[str, str]
) -> None:
    args = [str(EXAMPLES / "fastapi_app.py"), "--port", "0", option, str(busy_port)]
    run = run_python(args, example_env)
    line = one_error_line(run)
    assert run.code == 1
    assert line == (
        f"fastapi_app.py: error: cannot listen on 127.0.0.1:{busy_port} "
        f"(Address already in use): choose another {option} (0: any)"
    )


def test_fastapi_app_needs_both_signing_variables(example_env: dict[str, str]) -> None:
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK
    env |= {"TRUELAYER_ENVIRONMENT": "sandbox", "TRUELAYER_SIGNING_KEY_ID": "kid-1"}
    run = run_python([str(EXAMPLES / "fastapi_app.py"), "--port", "0"], env)
    assert one_error_line(run) == (
        "fastapi_app.py: error: set both TRUELAYER_SIGNING_KEY_ID and "
        "TRUELAYER_SIGNING_KEY_FILE, or neither"
    )
    assert run.code == 2


def test_fastapi_app_reports_an_unreadable_key_file(
    example_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-key.pem"
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK
    env |= {
        "TRUELAYER_ENVIRONMENT": "sandbox",
        "TRUELAYER_SIGNING_KEY_ID": "kid-1",
        "TRUELAYER_SIGNING_KEY_FILE": str(missing),
    }
    run = run_python([str(EXAMPLES / "fastapi_app.py"), "--port", "0"], env)
    assert one_error_line(run) == (
        f"fastapi_app.py: error: cannot read TRUELAYER_SIGNING_KEY_FILE {str(missing)!r}: "
        "No such file or directory"
    )
    assert run.code == 2


def test_fastapi_app_reports_a_key_file_that_is_no_p521_key(
    example_env: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text("not a key\n", encoding="utf-8")
    env = example_env | EMULATOR_CREDENTIALS | NO_NETWORK
    env |= {
        "TRUELAYER_ENVIRONMENT": "sandbox",
        "TRUELAYER_SIGNING_KEY_ID": "kid-1",
        "TRUELAYER_SIGNING_KEY_FILE": str(key_file),
    }
    run = run_python([str(EXAMPLES / "fastapi_app.py"), "--port", "0"], env)
    assert one_error_line(run) == (
        "fastapi_app.py: error: signing_private_key must be an unencrypted EC P-521 "
        "(secp521r1) private key in PEM"
    )
    assert run.code == 2
