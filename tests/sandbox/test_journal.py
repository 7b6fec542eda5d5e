"""The sandbox's request journal: every GraphQL request and token grant, timed (issue 21)."""

import time

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
