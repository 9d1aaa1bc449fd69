"""``truelayer-async webhooks trigger EVENT``: make the emulator send one signed webhook.

TrueLayer has no API that sends a webhook on demand, so this works against the emulator
only (``fake-server``, reached with ``--auth-url``): it calls the control API's
``POST /_emulator/webhooks`` with a sample of ``EVENT``, then reports the receiver's
answer to the first attempt.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio

from ..testing.webhook_samples import SAMPLE_EVENTS
from ._config import environment
from ._errors import OK, USAGE, CliError

__all__ = ["list_types", "parse_fields", "run_trigger"]
_POLL = 0.05


def parse_fields(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that parses as JSON is taken as JSON (``500``,
    ``true``, ``{"a": 1}``, ``"123"``), anything else as a string."""
    fields: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--field takes key=value, not {pair!r}", USAGE)
        try:
            fields[key] = json.loads(text)
        except ValueError:
            fields[key] = text
    return fields


def list_types() -> int:
    """Print the event types ``trigger`` can send, one a line."""
    for name in sorted(SAMPLE_EVENTS):
        print(name)
    return OK


async def run_trigger(args: argparse.Namespace) -> int:
    """Send one webhook through the emulator and print what the receiver answered."""
    if args.list:
        return list_types()
    if not args.event:
        raise CliError("name the event type to send (see `webhooks trigger --list`)", USAGE)
    if args.event not in SAMPLE_EVENTS:
        raise CliError(
            f"unknown event type {args.event!r}; `webhooks trigger --list` shows the "
            f"{len(SAMPLE_EVENTS)} types",
            USAGE,
        )
    try:
        from ..testing._webhook_keys import SIGNING_MODES
    except ImportError:
        raise CliError(
            "webhooks trigger needs the [testing] extra: "
            "pip install 'truelayer-async[cli,testing]'",
            USAGE,
        ) from None
    if args.signing not in SIGNING_MODES:
        raise CliError(f"--signing must be one of {', '.join(SIGNING_MODES)}", USAGE)
    fields = parse_fields(args.field)
    env = environment(args)
    if env.name != "custom":  # sandbox or production
        raise CliError(
            f"webhooks trigger works against the emulator only: TrueLayer's {env.name} has "
            "no API that sends a webhook on demand. Run `truelayer-async fake-server` and "
            "pass --auth-url http://127.0.0.1:8765 (or set TRUELAYER_AUTH_URL); in the "
            "sandbox, make a real payment or use its mock provider actions instead",
            USAGE,
        )
    from ..testing.control import EmulatorControl

    async with EmulatorControl(env.api_url) as control:
        record = await control.send_webhook(args.to, args.event, signing=args.signing, **fields)
        event_id = record.payload.get("event_id")
        print(f"sent {args.event} {event_id} to {args.to} (signing: {args.signing})", flush=True)
        attempt = None
        with anyio.move_on_after(args.wait):
            while attempt is None:
                await anyio.sleep(_POLL)
                for sent in await control.webhooks():
                    if sent.payload.get("event_id") == event_id and sent.attempts:
                        attempt = sent.attempts[0]
        if attempt is None:
            print(f"no answer from {args.to} within {args.wait:g} s", flush=True)
        elif attempt.status is None:
            print(f"not delivered: {attempt.error} (the emulator retries)", flush=True)
        else:
            retry = "" if attempt.succeeded else " (the emulator retries)"
            print(f"{args.to} answered {attempt.status}{retry}", flush=True)
    return OK
