"""The sandbox's HTTP stack (werkzeug): routing, keep-alive, dropped connections."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from .conftest import ADMIN

Q = "query Who { user { id } }"


@pytest.fixture()
def conn(sandbox):
    c = http.client.HTTPConnection(sandbox.host, sandbox.port, timeout=5)
    yield c
    c.close()


def _call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_keep_alive_serves_every_request_on_one_connection(sandbox, conn):
    token = sandbox.issue_full_access_token()
    graphql = json.dumps({"query": Q})
    calls = [
        ("GET", "/", None, {}),
        # A body the endpoint never reads: the next request must still parse.
        ("GET", "/", "ignored body", {}),
        ("POST", "/graphql/public", graphql, {"Authorization": f"Bearer {token}"}),
        ("POST", "/graphql/public/", graphql, {"Authorization": f"Bearer {token}"}),
        ("GET", "/sandbox/health", None, {"X-Sandbox-Admin-Token": ADMIN}),
        (
            "POST",
            "/sandbox/faults",
            json.dumps({"kind": "slow", "delay": 0, "count": 0}),
            {"X-Sandbox-Admin-Token": ADMIN},
        ),
        ("DELETE", "/sandbox/faults/", None, {"X-Sandbox-Admin-Token": ADMIN}),
    ]
    first_socket = None
    for method, path, body, headers in calls:
        response, payload = _call(conn, method, path, body, headers)
        assert response.status == 200, (method, path, payload)
        assert response.version == 11
        assert (response.getheader("Connection") or "").lower() != "close"
        assert not response.will_close
        first_socket = first_socket or conn.sock
        assert conn.sock is first_socket, f"{method} {path} came on a new connection"


def test_client_asking_to_close_is_answered_and_closed(sandbox, conn):
    response, _ = _call(conn, "GET", "/", headers={"Connection": "close"})
    assert response.status == 200
    assert response.will_close


@pytest.mark.parametrize(
    ("method", "path", "status", "expected"),
    [
        ("GET", "/nowhere", 404, {"error": "not found"}),
        ("GET", "/graphql/public", 405, None),
        (
            "GET",
            "/oauth2/token/",
            405,
            {"error": "invalid_request", "error_description": "Use POST."},
        ),
        ("GET", "/sandbox/reset", 404, {"error": "unknown admin endpoint GET /sandbox/reset"}),
        ("GET", "/sandbox/nowhere/", 404, {"error": "unknown admin endpoint GET /sandbox/nowhere"}),
        ("DELETE", "/sandbox/faults/x", 404, None),
    ],
)
def test_routing_errors(sandbox, conn, method, path, status, expected):
    response, payload = _call(conn, method, path, headers={"X-Sandbox-Admin-Token": ADMIN})
    assert response.status == status, payload
    body = json.loads(payload)
    if expected is not None:
        assert body == expected
    if path.startswith("/graphql"):
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_admin_needs_its_token(sandbox, conn):
    response, payload = _call(conn, "GET", "/sandbox/health")
    assert response.status == 401, payload


def test_drop_fault_closes_the_connection_without_a_byte(sandbox, api):
    api.admin("DELETE", "faults")
    r = api.admin("POST", "faults", json={"kind": "drop_after", "count": 1})
    assert r.status_code == 200, r.text
    body = json.dumps({"query": Q}).encode()
    request = (
        b"POST /graphql/public HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {api.token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as sock:
        sock.sendall(request)
        assert sock.recv(65536) == b""  # end of stream: no status line, nothing
    counters = api.admin("GET", "counters").json()
    assert counters["by_status"].get("dropped", 0) >= 1
