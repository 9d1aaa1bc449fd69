"""Server options shared by ``python -m truelayer_async.testing`` and ``truelayer-async
fake-server``: how time passes, refresh-token reuse and webhook delivery."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._fake import FakeTrueLayer

__all__ = ["add_server_options", "fake_from_options"]


def _delays(value: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of seconds: {value!r}") from None
    if any(delay < 0 for delay in delays):
        raise argparse.ArgumentTypeError("delays must not be negative")
    return delays


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--clock``, ``--refresh-token-reuse``, ``--webhook-retry-delays``,
    ``--no-webhook-delivery`` and ``--return-uri`` to ``parser``."""
    parser.add_argument(
        "--clock",
        choices=["live", "frozen"],
        default="live",
        help="live: real time plus any offset added through POST /_emulator/clock/advance; "
        "frozen: time moves only when advanced (default: live)",
    )
    parser.add_argument(
        "--refresh-token-reuse",
        choices=["revoke", "grace", "reject"],
        default="revoke",
        help="a rotated refresh token presented again: revoke the whole connection "
        "(RFC 9700, stricter than TrueLayer documents), grace (accept the previous one "
        "until the new access token is used) or reject (invalid_grant only) "
        "(default: revoke)",
    )
    parser.add_argument(
        "--webhook-retry-delays",
        type=_delays,
        default=None,
        metavar="SECONDS,…",
        help="waits before each retry of a webhook the receiver did not answer 2xx "
        "(default: 1,5,30,120,600)",
    )
    parser.add_argument(
        "--no-webhook-delivery",
        action="store_true",
        help="record webhooks (GET /_emulator/webhooks) without POSTing them",
    )
    parser.add_argument(
        "--return-uri",
        action="append",
        default=[],
        metavar="URI",
        help="allow-list this Payments return URI for the default client (repeatable); "
        "with none, any return URI is accepted",
    )


def fake_from_options(args: argparse.Namespace, *, access_token_ttl: int) -> FakeTrueLayer:
    """A ``FakeTrueLayer`` configured from parsed ``add_server_options`` arguments."""
    from ._clock import FakeClock, LiveClock
    from ._fake import FakeTrueLayer
    from ._webhooks import DEFAULT_RETRY_DELAYS

    delays = args.webhook_retry_delays
    fake = FakeTrueLayer(
        clock=LiveClock() if args.clock == "live" else FakeClock(),
        access_token_ttl=access_token_ttl,
        refresh_token_reuse=args.refresh_token_reuse,
        deliver_webhooks=not args.no_webhook_delivery,
        webhook_retry_delays=DEFAULT_RETRY_DELAYS if delays is None else delays,
    )
    if args.return_uri:
        fake.allow_return_uris(*args.return_uri)
    return fake
