"""The fast-server batch (#7): the canned Node.js server and how the suite degrades.

Nothing here looks at a time: it checks what the server answers and that a missing
Node.js or a missing ``http_backend`` keyword become "not measured: <reason>".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks import fast_batch
from benchmarks._common import Settings
from benchmarks._payloads import accounts_body, balance_body, transactions_body
from tests.support.binaries import require_binary


@pytest.fixture
def server(tmp_path: Path) -> Iterator[fast_batch.CannedServer]:
    node = require_binary("node")
    bodies = tmp_path / "bodies.json"
    fast_batch._bodies(bodies, 5)
    canned = fast_batch.CannedServer(node, bodies, cpu=None)
    yield canned
    canned.stop()


def test_serves_the_batch_paths_with_the_precomputed_bodies(
    server: fast_batch.CannedServer,
) -> None:
    auth = {"Authorization": "Bearer canned-access-0"}
    with httpx.Client(base_url=f"{server.url}/data/v1", headers=auth) as client:
        accounts = client.get("/accounts")
        balance = client.get("/accounts/acc-1/balance")
        transactions = client.get("/accounts/acc-1/transactions?from=2025-01-01")
        other = client.get("/accounts/acc-1/standing_orders")
    assert accounts.status_code == balance.status_code == transactions.status_code == 200
    assert accounts.content == accounts_body()
    assert balance.content == balance_body()
    assert transactions.content == transactions_body(5)
    assert accounts.headers["content-type"].startswith("application/json")
    assert accounts.headers["connection"] == "keep-alive"
    assert other.status_code == 404


def test_data_paths_need_a_bearer_token(server: fast_batch.CannedServer) -> None:
    response = httpx.get(f"{server.url}/data/v1/accounts")
    assert response.status_code == 401
    assert json.loads(response.content)["error"] == "invalid_token"


def test_token_endpoint_answers_a_post(server: fast_batch.CannedServer) -> None:
    response = httpx.post(f"{server.url}/connect/token", data={"grant_type": "refresh_token"})
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_without_node_every_figure_is_not_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_batch.shutil, "which", lambda name: None)
    figures = fast_batch.run(Settings.smoke_settings())
    assert figures and {f.number for f in figures} == {"7"}
    assert {f.status for f in figures} == {"not measured: Node.js is not installed"}


def test_a_missing_http_backend_keyword_is_not_measured_not_a_failure(tmp_path: Path) -> None:
    """Run only the SDK-on-aiohttp client: measured where the keyword exists, else a reason."""
    bodies = tmp_path / "bodies.json"
    fast_batch._bodies(bodies, 3)
    canned = fast_batch.CannedServer(require_binary("node"), bodies, cpu=None)
    try:
        config = fast_batch._config(tmp_path / "config.json", canned.url, 4, 2, None)
        outcome = fast_batch._run_once(canned, "sdk-aiohttp", config, timeout=60)
    finally:
        canned.stop()
    if isinstance(outcome, str):
        assert outcome.startswith("Session(..., http_backend='aiohttp') is not available")
    else:
        assert outcome.requests == 12 and outcome.errors == 0 and outcome.transactions == 12
