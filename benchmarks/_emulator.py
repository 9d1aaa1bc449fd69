"""The emulator as a server process for the loopback benchmarks (#4, #6).

``python -m benchmarks._emulator USERS`` connects USERS mock-bank users (``john1`` …
``john100``, reused: every ``create_connection`` makes a new connection), builds their
bank data up front so no client pays for it, serves the emulator with uvicorn on a
loopback port, prints one JSON line ``{"url": ..., "tokens": [...]}`` and serves until
its standard input closes or says ``stop``. It runs in its own process so that the
client under test and the server do not share a GIL; on two cores each gets one.
"""

from __future__ import annotations

import json
import sys

from truelayer_async.testing import DEFAULT_CLIENT_ID, FakeTrueLayer


def main() -> None:
    users = int(sys.argv[1])
    fake = FakeTrueLayer()
    tokens = []
    for i in range(users):
        grant = fake.create_connection(
            client_id=DEFAULT_CLIENT_ID, username=f"john{i % 100 + 1}", password="doe"
        )
        tokens.append(grant)
    for connection in fake.connections:
        connection.data()  # generate the bank data now, not during the first timed run
    with fake.serve_in_thread(port=0) as url:
        print(json.dumps({"url": url, "tokens": tokens}), flush=True)
        for line in sys.stdin:
            if line.strip() == "stop":
                break
            if line.strip() == "stats":
                print(json.dumps({"stats": fake.stats}), flush=True)
    print(json.dumps({"stats": fake.stats}), flush=True)


if __name__ == "__main__":
    main()
