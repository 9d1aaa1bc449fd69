"""Scanners that prove a sentinel secret leaks nowhere (logs, exceptions, reprs, URLs, locals)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import truelayer_async

PACKAGE_ROOT = str(Path(truelayer_async.__file__).resolve().parent)


def assert_no_secret_in_logs(records: Iterable[logging.LogRecord], secret: str) -> None:
    """No record's message or args holds the secret; SDK records carry no exc_info."""
    for record in records:
        assert secret not in record.getMessage(), record.getMessage()
        assert secret not in repr(record.args)
        if record.name.startswith("truelayer_async"):
            assert record.exc_info is None


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None:
                todo.append(nxt)


def assert_no_secret_in_exc(exc: BaseException, secret: str) -> None:
    """Not in the formatted traceback, args, attributes or notes of the whole chain."""
    text = "".join(traceback.format_exception(exc))
    assert secret not in text
    for item in _chain(exc):
        assert secret not in repr(item.args)
        assert secret not in str(item)
        assert secret not in repr(vars(item)) if hasattr(item, "__dict__") else True
        assert secret not in repr(getattr(item, "__notes__", ""))


def _frames(tb: TracebackType | None) -> Iterable[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def assert_no_secret_in_frame_locals(
    exc: BaseException, secret: str, *, sdk_only: bool = True
) -> None:
    """No frame on the error path (the whole chain's tracebacks) holds the secret in a
    local's repr: only the SDK's frames by default, every frame (the test's, httpx's…)
    with ``sdk_only=False``."""
    for item in _chain(exc):
        for tb in _frames(item.__traceback__):
            frame = tb.tb_frame
            if sdk_only and not frame.f_code.co_filename.startswith(PACKAGE_ROOT):
                continue
            held = [name for name, value in frame.f_locals.items() if secret in repr(value)]
            assert not held, f"{frame.f_code.co_name} holds it in {held}"


def assert_no_secret_anywhere(exc: BaseException, secret: str) -> None:
    assert_no_secret_in_exc(exc, secret)
    assert_no_secret_in_frame_locals(exc, secret)
