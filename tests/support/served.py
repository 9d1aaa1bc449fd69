"""The emulator served in a separate process (``Served``) and how to start it."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.processes import child_env

#: Webhook retries after 50 ms and 100 ms: tests never wait long.
FAST_RETRIES = "0.05,0.1"
MODULE = ("-m", "truelayer_async.testing")
#: ``truelayer-async fake-server``, without relying on the console script being installed.
CLI = ("-c", "import sys, truelayer_async.cli as c; sys.exit(c.main())", "fake-server")


class Served:
    """A running ``python -m truelayer_async.testing`` child and the URL it printed."""

    def __init__(self, *args: str, log: Path, command: tuple[str, ...] = MODULE) -> None:
        env = child_env()
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, *command, "--port", "0", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.url = self._read_url(log)

    def _read_url(self, log: Path) -> str:
        assert self.process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self.process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=60).decode()
        except queue.Empty:
            self.stop()
            raise AssertionError("the emulator printed nothing within 60 s") from None
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        if match is None:
            self.stop()
            raise AssertionError(f"no URL in {first!r}; stderr: {log.read_text()}")
        return match.group(0)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()
