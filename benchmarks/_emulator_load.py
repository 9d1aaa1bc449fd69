"""A lean HTTP/1.1 load driver for the emulator throughput figure (#21).

``python -m benchmarks._emulator_load CONFIG.json`` reads the server URL, the users' token
responses, the concurrency and the workload, then drives the served emulator with
keep-alive connections over plain asyncio streams: no HTTP client library, so that the
driver costs the shared machine as little CPU as possible and the emulator sets the pace.

Workloads:

* ``batch``: for every user ``GET /data/v1/accounts``, then for its first account
  ``GET …/balance`` and ``GET …/transactions`` (3 requests per user), at most
  ``concurrency`` users in flight, one connection per worker;
* ``token``: ``POST /connect/token`` with ``grant_type=client_credentials``,
  ``requests`` times, spread over ``concurrency`` workers.

Requests carry ``Accept-Encoding: gzip, deflate`` as httpx's do, so the emulator does the
compression work it does for the SDK. Every response must be a 200 with a JSON body
(checked; anything else counts as an error). Prints one JSON line: requests, seconds,
CPU seconds, errors and bytes received.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: What httpx (and so the SDK) sends by default: the emulator compresses large bodies.
ACCEPT = "Accept-Encoding: gzip, deflate"


class Connection:
    """One keep-alive HTTP/1.1 connection; bodies are framed by Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request and return ``(status, body)``."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", ACCEPT]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(fields.get("content-length", 0)))
        if fields.get("content-encoding") == "gzip":
            body = zlib.decompress(body, wbits=31)
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def _batch(config: dict[str, Any], conn: Connection, queue: Any, stats: Any) -> None:
    for grant in queue:
        headers = {"Authorization": f"Bearer {grant['access_token']}"}
        try:
            status, body = await conn.request("GET", "/data/v1/accounts", headers)
            _check(status, body)
            account_id = json.loads(body)["results"][0]["account_id"]
            for suffix in ("/balance", "/transactions"):
                path = f"/data/v1/accounts/{account_id}{suffix}"
                status, body = await conn.request("GET", path, headers)
                stats["bytes"] += len(body)
                _check(status, body)
            stats["requests"] += 3
        except (OSError, ValueError, KeyError, IndexError, asyncio.IncompleteReadError):
            stats["errors"] += 1


async def _token(config: dict[str, Any], conn: Connection, queue: Any, stats: Any) -> None:
    form = (
        f"grant_type=client_credentials&client_id={config['client_id']}"
        f"&client_secret={config['client_secret']}"
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in queue:
        try:
            status, body = await conn.request("POST", "/connect/token", headers, form)
            _check(status, body)
            stats["requests"] += 1
        except (OSError, ValueError, KeyError, asyncio.IncompleteReadError):
            stats["errors"] += 1


def _check(status: int, body: bytes) -> None:
    if status != 200 or not body.startswith((b"{", b"[")):
        raise ValueError(f"unexpected response: {status}")


async def run(config: dict[str, Any]) -> dict[str, Any]:
    """Drive the configured workload and return the measurements."""
    url = urlsplit(config["url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    stats = {"requests": 0, "errors": 0, "bytes": 0}
    if config.get("workload", "batch") == "batch":
        queue: Any = iter(config["tokens"])
        worker = _batch
    else:
        queue = iter(range(int(config["requests"])))
        worker = _token
    connections = [Connection(host, port) for _ in range(int(config["concurrency"]))]
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(config, c, queue, stats) for c in connections))
    finished, cpu = time.perf_counter(), time.process_time() - cpu
    for conn in connections:
        await conn.close()
    return {"seconds": finished - started, "cpu_seconds": cpu, **stats}


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(run(config))), flush=True)


if __name__ == "__main__":
    main()
