"""Every ``/_emulator/`` control route, over loopback HTTP from another process."""

from __future__ import annotations

import httpx
import pytest

from tests.support.served import bearer, connect, refresh


def test_connections_answer_like_the_token_endpoint(http: httpx.Client) -> None:
    tokens = connect(http, "john", scopes=["info", "accounts", "offline_access"])
    assert set(tokens) >= {"access_token", "refresh_token", "expires_in", "scope", "token_type"}
    assert tokens["scope"] == "info accounts offline_access"
    assert http.get("/data/v1/accounts", headers=bearer(tokens["access_token"])).status_code == 200
    # The scopes were honoured: no "cards" scope.
    assert http.get("/data/v1/cards", headers=bearer(tokens["access_token"])).status_code == 403
    assert refresh(http, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": ""},
        {"username": "nobody-at-this-bank"},
        {"username": "john", "scopes": "accounts"},
        {"username": "john", "scopes": ["not-a-scope"]},
    ],
)
def test_bad_connection_requests_are_400(http: httpx.Client, body: dict[str, object]) -> None:
    response = http.post("/_emulator/connections", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"]


def test_revoke_ends_data_access_and_refresh(http: httpx.Client) -> None:
    tokens = connect(http, "john")
    other = connect(http, "john2")
    revoked = http.post("/_emulator/connections/john/revoke")
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 1}
    denied = http.get("/data/v1/accounts", headers=bearer(tokens["access_token"]))
    assert denied.status_code == 403 and denied.json()["error"] == "access_denied"
    assert refresh(http, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    # Other users are untouched.
    assert http.get("/data/v1/me", headers=bearer(other["access_token"])).status_code == 200
    missing = http.post("/_emulator/connections/nobody/revoke")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_fault_injection_with_status_headers_and_times(http: httpx.Client) -> None:
    token = connect(http)["access_token"]
    added = http.post(
        "/_emulator/faults",
        json={
            "path": "/data/v1/accounts*",
            "status": 503,
            "error": "provider_error",
            "headers": {"Retry-After": "1"},
            "times": 2,
        },
    )
    assert added.status_code == 200 and added.json() == {"added": ["fail"]}
    for _ in range(2):
        failed = http.get("/data/v1/accounts", headers=bearer(token))
        assert failed.status_code == 503
        assert failed.json()["error"] == "provider_error"
        assert failed.headers["retry-after"] == "1"
    assert http.get("/data/v1/accounts", headers=bearer(token)).status_code == 200
    faults = [r["fault"] for r in http.get("/_emulator/requests").json()["requests"]]
    assert faults == ["fail_next", "fail_next", None]


def test_latency_fault_is_applied_and_cleared(http: httpx.Client) -> None:
    token = connect(http)["access_token"]
    added = http.post("/_emulator/faults", json={"path": "/data/v1/me", "latency": 0.01})
    assert added.json() == {"added": ["latency"]}
    assert http.get("/data/v1/me", headers=bearer(token)).status_code == 200
    assert http.delete("/_emulator/faults").status_code == 200
    assert http.get("/data/v1/me", headers=bearer(token)).status_code == 200


def test_drop_response_after_commit_loses_a_refresh_that_happened(http: httpx.Client) -> None:
    tokens = connect(http)
    http.post(
        "/_emulator/faults", json={"path": "/connect/token", "drop_response_after_commit": True}
    ).raise_for_status()
    with pytest.raises(httpx.RemoteProtocolError):
        refresh(http, tokens["refresh_token"])
    # The rotation was committed: the old refresh token is now a reused one.
    assert refresh(http, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    records = http.get("/_emulator/requests").json()["requests"]
    assert [(r["fault"], r["status"]) for r in records[-2:]] == [("drop", 200), (None, 400)]


@pytest.mark.parametrize(
    "body",
    [
        {"status": 503},
        {"path": "no-slash", "status": 503},
        {"path": "/x"},
        {"path": "/x", "status": 200},
        {"path": "/x", "status": "503"},
        {"path": "/x", "status": 503, "times": 0},
        {"path": "/x", "status": 503, "drop_response_after_commit": True},
        {"path": "/x", "latency": -1},
        {"path": "/x", "status": 503, "headers": {"Retry-After": 1}},
    ],
)
def test_bad_fault_requests_are_400(http: httpx.Client, body: dict[str, object]) -> None:
    response = http.post("/_emulator/faults", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


def test_requests_and_stats(http: httpx.Client) -> None:
    tokens = connect(http)
    http.get("/data/v1/accounts", headers=bearer(tokens["access_token"]))
    refresh(http, tokens["refresh_token"])
    records = http.get("/_emulator/requests").json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("GET", "/data/v1/accounts", 200),
        ("POST", "/connect/token", 200),
    ]
    assert records[1]["grant_type"] == "refresh_token"
    # Credentials are never echoed back.
    assert "authorization" not in records[0]["headers"]
    assert tokens["access_token"] not in http.get("/_emulator/requests").text
    stats = http.get("/_emulator/stats").json()
    assert stats == {
        "token": 1,
        "authorization_code": 0,
        "refresh": 1,
        "client_credentials": 0,
        "data": 1,
    }


def test_reset_forgets_everything(http: httpx.Client) -> None:
    token = connect(http)["access_token"]
    http.get("/data/v1/me", headers=bearer(token))
    http.post("/_emulator/faults", json={"path": "/data/v1/me", "status": 500, "times": None})
    http.post("/_emulator/clock/advance", json={"seconds": 10})
    assert http.post("/_emulator/reset").json() == {"reset": True}
    assert http.get("/_emulator/requests").json() == {"requests": []}
    assert http.get("/_emulator/webhooks").json() == {"webhooks": []}
    assert http.get("/_emulator/clock").json()["offset"] == 0
    # The fault is gone and the token was forgotten: 401, not 500.
    assert http.get("/data/v1/me", headers=bearer(token)).status_code == 401


def test_unknown_control_routes_are_404(http: httpx.Client) -> None:
    response = http.get("/_emulator/nothing-here")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert http.get("/_emulator/requests").json() == {"requests": []}  # not recorded
