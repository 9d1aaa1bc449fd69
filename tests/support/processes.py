"""What a test needs to start a child process: the repository's root, a free loopback port,
an environment in which the child imports this checkout of ``truelayer_async``, and a
reader of its output that a test can wait on with a timeout."""

from __future__ import annotations

import os
import queue
import socket
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import AnyStr, Generic

__all__ = ["REPO", "OutputLines", "child_env", "free_port"]

#: The repository's root (the folder holding ``truelayer_async/`` and ``tests/``).
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on (free when asked; bind it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def child_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (this process's environment by default) with the repository first on
    ``PYTHONPATH``."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class OutputLines(Generic[AnyStr]):
    """A child's output stream read line by line in a daemon thread, so that a test can wait
    for the next line with a timeout instead of blocking on the pipe."""

    def __init__(self, stream: Iterable[AnyStr]) -> None:
        self._lines: queue.Queue[AnyStr | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Iterable[AnyStr]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def next(self, timeout: float) -> AnyStr | None:
        """The next line, or ``None`` once the stream has ended; raises ``queue.Empty``
        when no line came within ``timeout`` seconds."""
        return self._lines.get(timeout=timeout)

    def rest(self, timeout: float = 5) -> list[AnyStr]:
        """The lines not taken yet, once the stream has ended (waits at most ``timeout``
        seconds for the reader to reach the end: close the stream only after this)."""
        self._thread.join(timeout)
        lines: list[AnyStr] = []
        while not self._lines.empty():
            line = self._lines.get()
            if line is not None:
                lines.append(line)
        return lines
