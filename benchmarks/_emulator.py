"""The emulator as a server process for the loopback benchmarks (#4, #6, #21).

``python -m benchmarks._emulator USERS [--http h11|httptools] [--loop asyncio|uvloop]``
connects USERS mock-bank users (``john1`` … ``john100``, reused: every
``create_connection`` makes a new connection), builds their bank data up front so no
client pays for it, serves the emulator with uvicorn on a loopback port, prints one JSON
line ``{"url": ..., "tokens": [...], "package": ...}`` (``package``: where
``truelayer_async`` was imported from) and serves until its standard input closes or says
``stop``. It runs in its own process so that the client under test and the server do not
share a GIL; on two cores each gets one.

``--http`` and ``--loop`` pick uvicorn's HTTP parser and event loop (default: the
emulator's own choice). The same script serves an older checkout of the package for the
#21 before/after figure, so it only passes them when asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import truelayer_async
from truelayer_async.testing import DEFAULT_CLIENT_ID, FakeTrueLayer


def _serve(fake: FakeTrueLayer, http: str | None, loop: str | None) -> AbstractContextManager[str]:
    if http is None and loop is None:
        return fake.serve_in_thread(port=0)
    from truelayer_async.testing._server import serve_in_thread

    options: dict[str, Any] = {"http": http} if http else {}
    if loop:
        options["loop"] = loop
    return serve_in_thread(fake, port=0, **options)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._emulator")
    parser.add_argument("users", type=int)
    parser.add_argument("--http", choices=["h11", "httptools"])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"])
    args = parser.parse_args()
    fake = FakeTrueLayer()
    tokens = []
    for i in range(args.users):
        grant = fake.create_connection(
            client_id=DEFAULT_CLIENT_ID, username=f"john{i % 100 + 1}", password="doe"
        )
        tokens.append(grant)
    for connection in fake.connections:
        connection.data()  # generate the bank data now, not during the first timed run
    with _serve(fake, args.http, args.loop) as url:
        package = str(Path(truelayer_async.__file__).parent)
        print(json.dumps({"url": url, "tokens": tokens, "package": package}), flush=True)
        for line in sys.stdin:
            if line.strip() == "stop":
                break
            if line.strip() == "stats":
                print(json.dumps({"stats": fake.stats}), flush=True)
    print(json.dumps({"stats": fake.stats}), flush=True)


if __name__ == "__main__":
    main()
