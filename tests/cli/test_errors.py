"""Every expected failure: a clear one-line message on stderr, its exit code, no traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_clean_error, connect, run_cli, url_args
from tests.support.processes import free_port
from truelayer_async import errors as e
from truelayer_async.cli import _errors as codes
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.usefixtures("cli_env")

DAY = 86_400


def test_unknown_account_is_not_found(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    result = run_cli(
        capsys, "transactions", *url_args(fake), "--user", "alice", "--account", "nope"
    )
    assert_clean_error(result, codes.NOT_FOUND, "account 'nope' was not found")
    assert result.out == ""


def test_revoked_consent_asks_to_log_in_again(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    fake.revoke("john")
    result = run_cli(capsys, "accounts", *url_args(fake), "--user", "alice")
    assert_clean_error(result, codes.AUTH, "run login again", "--user alice")


def test_expired_consent_asks_to_log_in_again(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    fake.clock.advance(91 * DAY)  # past the 90-day consent and the refresh token's life
    result = run_cli(capsys, "accounts", *url_args(fake), "--user", "alice")
    assert_clean_error(result, codes.AUTH, "run login again")


def test_network_failure(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    assert fake.base_url is not None
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        capsys, "accounts", "--auth-url", fake.base_url, "--api-url", dead, "--user", "alice"
    )
    assert_clean_error(result, codes.NETWORK, "network error", "ConnectError")


def test_network_failure_of_the_auth_server(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens at all: the store is keyed by the auth URL, so no token is found
    before any request; the message says what to do."""
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli(capsys, "accounts", "--auth-url", dead, "--user", "alice")
    assert_clean_error(result, codes.AUTH, "run login first")


def test_no_store_yet(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "accounts", *url_args(fake))
    assert_clean_error(result, codes.AUTH, "run login first", "truelayer-async login")
    assert not store.exists(), "a data command must not create the store"


def test_no_token_for_this_user(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice")
    result = run_cli(capsys, "accounts", *url_args(fake), "--user", "bob")
    assert_clean_error(result, codes.AUTH, "user 'bob'", "run login first", "--user bob")


def test_missing_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRUELAYER_CLIENT_SECRET")
    result = run_cli(capsys, "accounts")
    assert_clean_error(result, codes.USAGE, "TRUELAYER_CLIENT_SECRET")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["transactions"], "--account"),
        (["transactions", "--account", "a", "--from", "2024-13-01"], "YYYY-MM-DD"),
        (["transactions", "--account", "a", "--format", "xml"], "invalid choice"),
        (["fetch-all", "--concurrency", "0"], "at least 1"),
        (["no-such-command"], "invalid choice"),
        (["accounts", "--environment", "staging"], "invalid choice"),
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *argv)
    assert result.code == codes.USAGE
    assert needle in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (
            ["transactions", "--account", "a", "--from", "2024-02-01", "--to", "2024-01-01"],
            "is after --to",
        ),
        (["fetch-all", "--concurrency", "65", "--users", "a"], "between 1 and 64"),
        (["fetch-all", "--users", " , "], "--users is empty"),
        (["accounts", "--api-url", "http://127.0.0.1:1"], "--api-url needs --auth-url"),
        (["accounts", "--auth-url", "http://example.com"], "configuration error"),
        (["login", "--redirect-uri", "https://example.com/callback"], "loopback"),
        (["login", "--redirect-uri", "http://127.0.0.1/callback"], "explicit port"),
        (["fake-server", "--host", "0.0.0.0"], "loopback"),
    ],
)
def test_our_own_validation_is_a_usage_error(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *argv)
    assert_clean_error(result, codes.USAGE, needle)


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys)
    assert result.code == codes.USAGE
    assert "demo" in result.err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--help")
    assert result.code == 0
    assert "exit codes" in result.out
    result = run_cli(capsys, "--version")
    assert result.code == 0
    assert result.out.startswith("truelayer-async ")


def test_missing_rich_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    result = run_cli(capsys, "demo")
    assert_clean_error(result, codes.USAGE, "pip install 'truelayer-async[cli]'")


def test_secrets_are_never_printed(
    fake: FakeTrueLayer,
    store: Path,
    sentinel: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong secret given as a flag is refused by the emulator; no output repeats it."""
    connect(fake, store, "alice")
    fake.clock.advance(2 * 3600)  # the access token expired: the CLI must refresh
    monkeypatch.delenv("TRUELAYER_CLIENT_SECRET")
    result = run_cli(
        capsys, "accounts", *url_args(fake), "--user", "alice", "--client-secret", sentinel
    )
    assert result.code != 0
    assert "Traceback" not in result.err
    assert sentinel not in result.out + result.err


def test_debug_shows_a_traceback_for_unexpected_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from truelayer_async.cli import _commands

    def boom(args: object) -> int:
        raise RuntimeError("kaput")

    monkeypatch.setattr(_commands, "run", boom)
    result = run_cli(capsys, "demo")
    assert_clean_error(result, codes.FAILURE, "unexpected error: RuntimeError: kaput", "--debug")
    result = run_cli(capsys, "demo", "--debug")
    assert result.code == codes.FAILURE
    assert "Traceback" in result.err


@pytest.mark.parametrize(
    "exc",
    [
        e.PaymentsApiError(404, "not_found", "Payment not found"),
        e.VerificationApiError(404, "not_found", "Verification not found"),
        e.SignupPlusApiError(404, "not_found", "Nothing found"),
    ],
)
def test_a_404_from_any_v3_api_is_not_found(exc: e.ApiError) -> None:
    # Verification v3 and Signup+ errors left the Payments family; a 404 is still "not found".
    message, code = codes.describe(exc)
    assert code == codes.NOT_FOUND and message.startswith("not found")


def test_other_api_errors_are_failures() -> None:
    message, code = codes.describe(e.VerificationApiError(500, "server_error", "Down"))
    assert code == codes.FAILURE and "TrueLayer answered with an error" in message
