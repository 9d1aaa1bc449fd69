"""``truelayer-async fake-server``: the emulator on loopback, for other programs."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import threading
from types import FrameType

from ._errors import OK, USAGE, CliError

__all__ = ["run_fake_server"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run_fake_server(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    if not _is_loopback(args.host):
        raise CliError(f"--host must be a loopback address, not {args.host!r}", USAGE)
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be between 0 and 65535, not {args.port}", USAGE)
    try:
        from ..testing import (
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            DEFAULT_REDIRECT_URIS,
        )
        from ..testing._options import fake_from_options
    except ImportError:
        raise CliError(
            "fake-server needs the [testing] extra: pip install 'truelayer-async[cli,testing]'",
            USAGE,
        ) from None
    fake = fake_from_options(args, access_token_ttl=args.access_token_ttl)
    redirect_uris = list(DEFAULT_REDIRECT_URIS)
    if args.redirect_uri:
        fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, args.redirect_uri)
        redirect_uris += [u for u in args.redirect_uri if u not in redirect_uris]
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        try:
            serving = fake.serve_in_thread(args.host, args.port)
            url = serving.__enter__()
        except OSError as exc:
            raise CliError(
                f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})", USAGE
            ) from None
        try:
            print(
                f"TrueLayer emulator listening on {url}\n"
                f"  auth and API URL  {url}\n"
                f"  client id         {DEFAULT_CLIENT_ID}\n"
                f"  client secret     {DEFAULT_CLIENT_SECRET}\n"
                f"  redirect URIs     {' '.join(redirect_uris)}\n"
                f"  return URIs       {' '.join(args.return_uri) or 'any (no allow-list)'}\n"
                "  mock bank user    john / doe\n"
                f"  control API       {url}/_emulator/ (clock: {args.clock})\n"
                "Try:\n"
                f"  export TRUELAYER_CLIENT_ID={DEFAULT_CLIENT_ID} "
                f"TRUELAYER_CLIENT_SECRET={DEFAULT_CLIENT_SECRET} TRUELAYER_AUTH_URL={url}\n"
                "  truelayer-async login --user alice\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:  # Ctrl-C is the normal way to stop it
                pass
        finally:
            serving.__exit__(None, None, None)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("emulator stopped", flush=True)
    return OK
