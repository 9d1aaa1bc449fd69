"""``truelayer-async webhooks listen``: receive webhooks, verify, print, forward.

In the spirit of ``stripe listen``: a local receiver (uvicorn) verifies every webhook with
the SDK (the environment's key set, or the emulator's), prints one line per event, and
with ``--forward-to`` POSTs the exact bytes and headers to your app. TrueLayer (or the
emulator) gets 2xx only once your app answered 2xx, so a failed forward is retried.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from ..errors import WebhookVerificationError
from ..webhooks import WebhookService, response_status
from ..webhooks.asgi import Receive, Scope, Send, answer, read_body, request_path
from ..webhooks.events import Event
from ._config import WEBHOOK_PATH, environment
from ._errors import OK, USAGE, CliError

__all__ = ["Forwarder", "ListenApp", "run_listen"]

#: The listener needs no credentials (key sets are public); a Session still wants some.
_PLACEHOLDER_CLIENT = ("truelayer-async-webhooks-listen", "not-used")
#: Not forwarded: they describe the connection to the listener, not the webhook.
_HOP_BY_HOP = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
     "trailer", "upgrade", "proxy-authorization", "proxy-connection", "accept-encoding"}
)  # fmt: skip


def now_text() -> str:
    """The time printed at the start of each line (UTC)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def main_ids(event: Event) -> str:
    """``payment_id=… refund_id=…``: the top-level ids of the event (never a secret)."""
    raw: Mapping[str, Any] = event.raw if isinstance(event.raw, Mapping) else {}
    pairs = [
        f"{name}={value}"
        for name, value in raw.items()
        if name.endswith("_id") and name != "event_id" and isinstance(value, str)
    ]
    return "  ".join(pairs)


@attrs.define
class Forwarder:
    """POSTs a verified webhook, byte for byte, to the user's app."""

    url: str
    client: httpx.AsyncClient

    async def forward(self, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> int | str:
        """The app's status, or the name of the network error."""
        kept = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in headers
            if name.decode("latin-1").lower() not in _HOP_BY_HOP
        ]
        try:
            response = await self.client.post(self.url, content=body, headers=kept)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return response.status_code


class ListenApp:
    """The receiver: any path, POST only; prints one line per webhook on ``out``."""

    def __init__(
        self, webhooks: WebhookService, forwarder: Forwarder | None, *, out: Any = None
    ) -> None:
        self._webhooks = webhooks
        self._forwarder = forwarder
        self._out = out
        self._warned_paths: set[str] = set()

    def _print(self, text: str) -> None:
        print(f"{now_text()}  {text}", file=self._out or sys.stdout, flush=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await answer(send, 405, b"method not allowed")
            return
        body = await read_body(receive)
        if body is None:
            self._print("REJECTED too_large  -> 413")
            await answer(send, 413, b"body too large")
            return
        path = request_path(scope)
        try:
            event = await self._webhooks.verify(scope["headers"], body, path=path)
        except WebhookVerificationError as exc:
            status = response_status(exc)
            self._print(f"REJECTED {exc.reason}  ({type(exc).__name__}: {exc})  -> {status}")
            await answer(send, status, b"webhook refused")
            return
        line = f"{event.type}  {event.event_id}  {main_ids(event)}".rstrip()
        if self._forwarder is None:
            self._print(f"{line}  -> 200")
            await answer(send, 200, b"ok")
            return
        self._warn_about_path(path)
        outcome = await self._forwarder.forward(scope["headers"], body)
        ok = isinstance(outcome, int) and 200 <= outcome < 300
        # Answer what the app answered (502 if it was not reached): non-2xx gets retried.
        status = outcome if isinstance(outcome, int) else 502
        shown = f"your app answered {outcome}" if isinstance(outcome, int) else f"{outcome}"
        self._print(f"{line}  -> forwarded: {shown}{'' if ok else ' (TrueLayer will retry)'}")
        await answer(send, status, b"ok" if ok else b"forward failed")

    def _warn_about_path(self, path: str) -> None:
        assert self._forwarder is not None
        target = urlsplit(self._forwarder.url).path or "/"
        if target != path and path not in self._warned_paths:
            self._warned_paths.add(path)
            print(
                f"warning: this webhook was signed for {path} but is forwarded to {target}; "
                f"your app verifies it against {target} and will refuse it. Send webhooks "
                f"to this listener at {target} instead.",
                file=sys.stderr,
                flush=True,
            )


def _bind(host: str, port: int) -> socket.socket:
    from ..testing._server import bind_socket  # TCP_NODELAY on each connection, see there

    try:
        return bind_socket(host, port)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", USAGE) from None


def _check_forward_to(url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--forward-to must be an http(s) URL, not {url!r}", USAGE)


async def run_listen(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    try:
        import uvicorn
    except ImportError:
        raise CliError(
            "webhooks listen needs uvicorn: pip install 'truelayer-async[cli,testing]'", USAGE
        ) from None
    from ..session import Session
    from ..testing._server import base_url_for, uvicorn_config

    _check_forward_to(args.forward_to)
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be between 0 and 65535, not {args.port}", USAGE)
    env = environment(args)
    sock = _bind(args.host, args.port)
    try:
        async with (
            Session(*_PLACEHOLDER_CLIENT, environment=env) as tl,
            httpx.AsyncClient(trust_env=False, timeout=30.0) as client,
        ):
            webhooks = WebhookService(tl, tolerance=args.tolerance)
            forwarder = None if args.forward_to is None else Forwarder(args.forward_to, client)
            config = uvicorn_config(ListenApp(webhooks, forwarder), args.host, 0)
            url = base_url_for(args.host, sock.getsockname()[1])
            print(
                f"Listening for webhooks on {url} (any path, e.g. {url}{WEBHOOK_PATH})\n"
                f"  verifying with    {', '.join(webhooks.key_set_urls)}\n"
                f"  forwarding to     {args.forward_to or '(nothing: answering 200)'}\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
            await _serve(uvicorn, config, sock)
    finally:
        sock.close()
    print("listener stopped", flush=True)
    return OK


async def _serve(uvicorn: Any, config: Any, sock: socket.socket) -> None:
    """Run uvicorn until the first SIGINT/SIGTERM (a second one forces the exit)."""

    class Server(uvicorn.Server):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # ours below: uvicorn's would re-raise Ctrl-C after a clean shutdown

    server = Server(config)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, on_signal) for sig in stops}
    try:
        await server.serve(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
