"""Rate limiting, fault injection and request counters."""

from __future__ import annotations

import time

import pytest
import requests

from wave_sandbox import WaveSandbox

Q = "query Who { user { id } }"


@pytest.fixture()
def faults(sandbox, api):
    api.admin("DELETE", "faults")
    yield api
    api.admin("DELETE", "faults")


def add_fault(api, **spec):
    r = api.admin("POST", "faults", json=spec)
    assert r.status_code == 200, r.text
    return r.json()


def test_rate_limit_per_token():
    sb = WaveSandbox(rate_limit=3, rate_window=1, admin_token="x").start()
    try:
        tok, other = sb.issue_full_access_token(), sb.issue_full_access_token()
        s = requests.Session()

        def call(t):
            return s.post(
                sb.graphql_url,
                json={"query": Q},
                headers={"Authorization": f"Bearer {t}"},
                timeout=5,
            )

        oks = [call(tok) for _ in range(3)]
        assert all(r.status_code == 200 for r in oks)
        assert oks[0].headers["X-RateLimit-Limit"] == "3"
        assert oks[-1].headers["X-RateLimit-Remaining"] == "0"
        limited = call(tok)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
            limited.headers
        )
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert call(other).status_code == 200  # per token
        time.sleep(1.05)
        assert call(tok).status_code == 200  # window slides
    finally:
        sb.stop()


def test_http_error_fault_next_n(faults):
    api = faults
    add_fault(api, kind="http_error", operation="user", status=502, count=2)
    assert api.post(Q).status_code == 502
    assert api.post(Q).status_code == 502
    assert api.post(Q).status_code == 200
    listed = api.admin("GET", "faults").json()["faults"]
    assert listed[0]["fired"] == 2 and listed[0]["remaining"] == 0
    # the fault's log names the root field and the operation name it fired on
    assert listed[0]["fired_on"] == {"Who": 2, "user": 2}


def test_fault_matches_operation_only(faults):
    api = faults
    add_fault(api, kind="http_error", operation="invoiceCreate", status=500)
    assert api.post(Q).status_code == 200


def test_seeded_rate_is_reproducible(faults, sandbox):
    api = faults

    def run():
        api.admin("DELETE", "faults")  # also re-seeds the fault RNG
        add_fault(api, kind="http_error", rate=0.5, status=503)
        return [api.post(Q).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second and 503 in first and 200 in first


def test_hang_and_slow(faults):
    api = faults
    add_fault(api, kind="hang", delay=1.5, count=1)
    with pytest.raises(requests.exceptions.RequestException):
        api.post(Q, timeout=0.5)
    add_fault(api, kind="slow", delay=0.3, count=1)
    t = time.perf_counter()
    assert api.post(Q).status_code == 200
    assert time.perf_counter() - t >= 0.3


def test_drop_after_mutation_applied(faults, fresh):
    api = faults
    add_fault(api, kind="drop_after", operation="customerCreate", count=1)
    q = (
        'mutation($b: ID!) { customerCreate(input: {businessId: $b, name: "Dropped Inc"}) '
        "{ didSucceed } }"
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post(q, {"b": fresh.id})
    # the mutation was applied even though the client never got a response
    assert [c.name for c in fresh.customers] == ["Dropped Inc"]


def test_rate_limit_burst_fault(faults):
    api = faults
    add_fault(api, kind="rate_limit", count=2, retry_after=7)
    r = api.post(Q)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert r.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert api.post(Q).status_code == 429
    assert api.post(Q).status_code == 200


def test_revoke_token_fault(faults, sandbox):
    api = faults
    tok = sandbox.issue_full_access_token()
    add_fault(api, kind="revoke_token", count=1)
    body = api.gql(Q, token=tok)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = api.gql(Q, token=tok)  # stays revoked
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_malformed_body(faults):
    api = faults
    add_fault(api, kind="malformed", count=1)
    r = api.post(Q)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_counters(sandbox, api):
    api.admin("POST", "counters/reset")
    api.post(Q)
    api.post("query Pair { user { id } businesses { pageInfo { totalCount } } }")
    api.post("{ a: user { id } }")
    c = api.admin("GET", "counters").json()
    assert c["total"] == 3
    assert c["by_operation"] == {"user": 3, "businesses": 1}
    assert c["by_operation_name"] == {"Who": 1, "Pair": 1, "(anonymous)": 1}
    assert sum(c["by_token"].values()) == 3
