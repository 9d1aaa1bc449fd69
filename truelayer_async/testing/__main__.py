"""``python -m truelayer_async.testing``: run the TrueLayer emulator as an HTTP server."""

from __future__ import annotations

import argparse
import sys

from ._constants import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URIS
from ._options import add_server_options, fake_from_options
from ._server import base_url_for, bind_socket, is_loopback, uvicorn_config


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m truelayer_async.testing",
        description="Local TrueLayer emulator (auth server, auth dialog, Data API v1, "
        "Verification v1). For tests and development only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="default: 8765")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the emulator has no real security)",
    )
    parser.add_argument("--access-token-ttl", type=int, default=3600, metavar="SECONDS")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    add_server_options(parser)
    args = parser.parse_args(argv)

    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"refusing to listen on non-loopback host {args.host!r}; pass --allow-remote",
            file=sys.stderr,
        )
        return 2

    import uvicorn

    # Bind first, so that --port 0 reports the port actually used.
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    # Listen before printing the URL, so that a client reading it can connect at once.
    sock.listen(2048)
    fake = fake_from_options(args, access_token_ttl=args.access_token_ttl)
    fake.base_url = base_url_for(args.host, port)
    print(
        f"TrueLayer emulator on {fake.base_url}\n"
        f"  client_id     {DEFAULT_CLIENT_ID}\n"
        f"  client_secret {DEFAULT_CLIENT_SECRET}\n"
        f"  redirect_uris {' '.join(DEFAULT_REDIRECT_URIS)}\n"
        f"  return_uris   {' '.join(args.return_uri) or 'any (no allow-list)'}\n"
        "  mock bank     john / doe (all users: truelayer_async.testing.PERSONAS)\n"
        f"  clock         {args.clock}\n"
        f"  control API   {fake.base_url}/_emulator/",
        flush=True,
    )
    server = uvicorn.Server(uvicorn_config(fake, args.host, port, log_level=args.log_level))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
