"""A tiny HTTP listener on a loopback port that receives the redirect back from the dialog.

It answers ``GET <path>?code=…&state=…`` (or ``?error=…``) once, hands the query to a
handler, shows the browser a short page, and ignores everything else (404).
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Awaitable, Callable
from html import escape
from urllib.parse import parse_qsl, urlsplit

import anyio
from anyio.abc import SocketStream

from .._resource import AsyncResource
from ._errors import AUTH, USAGE, CliError, ErrorContext, hint_command

__all__ = ["CallbackServer", "Page"]

_MAX_REQUEST = 16_384
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            409: "Conflict", 500: "Internal Server Error"}  # fmt: skip

#: A handler's answer: the HTTP status and the page's title and text.
Page = tuple[int, str, str]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page_html(title: str, text: str) -> str:
    """A minimal self-contained HTML page."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
        "max-width:32rem;margin:4rem auto;padding:0 1rem}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>"
    )


class CallbackServer(AsyncResource):
    """Listens on the host and port of a loopback ``http://`` redirect URI.

    ``context`` (the user and the flags of this login) makes the hints in messages concrete.
    """

    def __init__(
        self,
        redirect_uri: str,
        *,
        context: ErrorContext | None = None,
        flag: str = "--redirect-uri",
    ) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or not parts.hostname or not _is_loopback(parts.hostname):
            raise CliError(
                f"{flag} must be a loopback http:// URL such as "
                f"http://127.0.0.1:8080/callback, not {redirect_uri!r}",
                USAGE,
            )
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is None:
            raise CliError(f"{flag} needs an explicit port: {redirect_uri!r}", USAGE)
        self.redirect_uri = redirect_uri
        self.host = parts.hostname
        self.port = port
        self.path = parts.path or "/"
        self.context = context or ErrorContext()
        self.flag = flag
        self._listener: anyio.abc.Listener[SocketStream] | None = None

    async def open(self) -> None:
        """Listen on the redirect URI's loopback port."""
        try:
            self._listener = await anyio.create_tcp_listener(
                local_host=self.host, local_port=self.port
            )
        except OSError as exc:
            raise CliError(
                f"cannot listen on {self.host}:{self.port} for the redirect "
                f"({exc.strerror or exc}): free the port, or pass {self.flag} with "
                "another loopback port registered for your client",
                USAGE,
            ) from None

    async def aclose(self) -> None:
        """Stop listening; safe to call twice."""
        if self._listener is not None:
            await self._listener.aclose()
            self._listener = None

    async def wait(
        self,
        handle: Callable[[str], Awaitable[Page]],
        *,
        seconds: float,
        keys: frozenset[str] = frozenset({"code", "error"}),
    ) -> None:
        """Serve until one callback has been handled; re-raise the handler's error.

        ``handle(query)`` runs once, for the first request to the path that carries one
        of ``keys`` (``code`` or ``error``); what it returns (or the error it raises) is
        shown to the browser. Raises ``CliError`` when nothing arrives within ``seconds``.
        """
        listener = self._listener
        if listener is None:
            raise RuntimeError("use `async with CallbackServer(...)` first")
        done = anyio.Event()
        claimed = False
        failure: list[BaseException] = []

        async def serve_one(stream: SocketStream) -> None:
            nonlocal claimed
            async with stream:
                try:
                    with anyio.fail_after(10):
                        method, target = await _read_request(stream)
                except (TimeoutError, ValueError, anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                path, _, query = target.partition("?")
                if path != self.path:
                    await _send(stream, 404, "Not found", "Nothing here.")
                    return
                if method != "GET":
                    await _send(stream, 405, "Method not allowed", "Use GET.")
                    return
                if not keys & {k for k, _ in parse_qsl(query, keep_blank_values=True)}:
                    await _send(stream, 400, "Missing code", "This is not a TrueLayer redirect.")
                    return
                if claimed:
                    await _send(stream, 409, "Already handled", "Return to your terminal.")
                    return
                claimed = True
                try:
                    status, title, text = await handle(query)
                except Exception as exc:
                    failure.append(exc)
                    status, title, text = 400, "Login failed", _failure_text(exc, self.context)
                try:
                    await _send(stream, status, title, text)
                finally:
                    done.set()

        timed_out = False

        async def timer() -> None:
            # A task rather than fail_after(): on Ctrl-C, anyio can report the outer
            # cancellation as a TimeoutError from fail_after, hiding the interrupt.
            nonlocal timed_out
            await anyio.sleep(seconds)
            if not claimed:  # else the handler is running: let it finish
                timed_out = True
                done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, serve_one)
            tg.start_soon(timer)
            await done.wait()
            tg.cancel_scope.cancel()
        if timed_out:
            again = hint_command("login", self.context.flags, self.context.user)
            raise CliError(
                f"no redirect arrived at {self.redirect_uri} within {seconds:g} s: "
                f"run login again (`{again}`)",
                AUTH,
            )
        if failure:
            raise failure[0]


def _failure_text(exc: BaseException, context: ErrorContext) -> str:
    from ._errors import describe

    message, _ = describe(exc, context)
    return f"{message}. Return to your terminal."


async def _read_request(stream: SocketStream) -> tuple[str, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive(4096)
        data += chunk
        if len(data) > _MAX_REQUEST:
            raise ValueError("request too large")
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("not an HTTP request")
    return parts[0], parts[1]


async def _send(stream: SocketStream, status: int, title: str, text: str) -> None:
    body = page_html(title, text).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.send(head + body)
