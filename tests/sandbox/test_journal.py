"""The sandbox's request journal: every GraphQL request and token grant, timed (issue 21)."""

import time

from wave_sandbox import oauth

Q = "query Who { user { id } }"


def test_journal_records_requests_per_token_and_grants(sandbox, api):
    since = time.time()
    other = sandbox.issue_full_access_token()
    api.post(Q)
    api.post(Q, token=other)
    api.post(Q, token=other)
    api.post(Q, token="no-such-token")
    refused = api.http.post(
        sandbox.token_url,
        data={"grant_type": "refresh_token", "client_id": "nobody", "client_secret": "x"},
        timeout=10,
    )
    entries = api.admin("GET", f"journal?since={since}").json()["entries"]
    graphql = [e for e in entries if e["kind"] == "graphql"]
    assert [e["key"] for e in graphql].count(other) == 2
    assert [e["key"] for e in graphql].count(api.token) == 1
    assert {e["status"] for e in graphql} == {200}
    # a refused token is journaled as refused (Wave answers it with a 200 and an error)
    assert [e.get("refused") for e in graphql if e["key"] == "no-such-token"] == ["UNAUTHENTICATED"]
    assert not any(e.get("refused") for e in graphql if e["key"] != "no-such-token")
    assert all(since <= e["t"] <= time.time() for e in entries)
    grants = [e for e in entries if e["kind"] == "grant:refresh_token"]
    assert [(g["key"], g["status"]) for g in grants] == [("nobody", refused.status_code)]
    later = api.admin("GET", f"journal?since={time.time() + 60}").json()["entries"]
    assert later == []


def test_journal_times_arrivals_and_keeps_retry_after_client_and_body(sandbox, api):
    """What the fault matrix reads to check that a client honoured a 429's Retry-After:
    when each request arrived, the Retry-After of a 429, the OAuth client of the token
    and a digest of the body (a request sent again has the same)."""
    since = time.time()
    oauth_token, _refresh = oauth.issue_token_pair(
        sandbox.state, "client-a", sandbox.state.users[0].id, {"user:read"}, None, 600
    )
    api.admin("POST", "faults", json={"kind": "rate_limit", "count": 1, "retry_after": 3})
    try:
        assert api.post(Q, token=oauth_token).status_code == 429
        before_second = time.time()
        assert api.post(Q, token=oauth_token).status_code == 200
        api.post("query Other { user { id } }")
    finally:
        api.admin("DELETE", "faults")
    limited, again, other = api.admin("GET", f"journal?since={since}").json()["entries"]
    assert (limited["status"], limited["retry_after"], limited["client"]) == (429, 3.0, "client-a")
    assert "retry_after" not in again and again["client"] == "client-a"
    assert "client" not in other  # a full-access token has no OAuth client
    assert since <= limited["arrived"] <= limited["t"] < before_second <= again["arrived"]
    assert limited["body"] == again["body"] != other["body"]
