"""fetch-all's progress bar moves steadily, not in one jump at the end."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from rich.progress import Progress, TaskID

import truelayer_async as tla
from tests.support.cli import run_cli, url_args
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeTrueLayer,
    complete_consent,
)

pytestmark = pytest.mark.usefixtures("cli_env")

USERS = 24


def connect_many(fake: FakeTrueLayer, store: Path, count: int) -> list[str]:
    """Connect ``user1`` … ``userN`` (the mock bank's john1 … johnN) into ``store``."""
    names = [f"user{n}" for n in range(1, count + 1)]

    async def run() -> None:
        async with (
            httpx.AsyncClient() as http,
            tla.Session(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                redirect_uri=DEFAULT_REDIRECT_URI,
                environment=fake.environment,
                token_store=SqliteTokenStore(store),
            ) as tl,
        ):
            for n, name in enumerate(names, start=1):
                link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers="uk-cs-mock")
                result = await complete_consent(http, link.url, username=f"john{n}")
                code = tl.auth.parse_callback(result.redirect_url, expected_state=link.state)
                await tl.auth.exchange_code(code, user=name, code_verifier=link.code_verifier)

    anyio.run(run)
    return names


def test_progress_moves_with_the_requests(
    fake: FakeTrueLayer,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each update of the bar is recorded with how many Data API requests the emulator
    had answered by then. Steady progress: when k of n users are done, not much more
    than k/n of the requests have been made (all users started at once, the first one
    finished only after ~70% of the requests)."""
    connect_many(fake, store, USERS)
    before = fake.stats["data"]
    seen: list[tuple[int, int]] = []  # (users done, data requests so far)
    update = Progress.update

    def record(self: Progress, task_id: TaskID, **fields: object) -> None:
        completed = fields.get("completed")
        if isinstance(completed, int):
            seen.append((completed, fake.stats["data"] - before))
        update(self, task_id, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(Progress, "update", record)
    result = run_cli(capsys, "fetch-all", *url_args(fake), "--concurrency", "4")
    assert result.code == 0, result.err
    assert f"fetch-all: {USERS} of {USERS} users ok" in result.out

    total = fake.stats["data"] - before
    done = [users for users, _ in seen]
    assert done == sorted(done) and done[-1] == USERS
    assert len(set(done[:-1])) >= USERS // 2, seen  # many steps before the end
    for users, requests in seen:
        assert requests / total <= users / USERS + 0.25, (users, requests, total, seen)
