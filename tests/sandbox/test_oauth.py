"""OAuth2 authorization-code flow, refresh rotation, token expiry, scope enforcement."""

from __future__ import annotations

import re
import time
import urllib.parse

import pytest
import requests

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture()
def client(sandbox):
    cid = f"app-{time.monotonic_ns()}"
    sandbox.register_oauth_client(cid, "s3cret", [REDIRECT])
    return cid


def authorize(sandbox, client_id, scope="invoice:read business:read user:read", **extra):
    params = {
        "client_id": client_id,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": REDIRECT,
        "state": "xyz-123",
        **extra,
    }
    return requests.get(sandbox.authorize_url, params=params, allow_redirects=False, timeout=5)


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def exchange(sandbox, client_id, code, secret="s3cret"):
    return requests.post(
        sandbox.token_url,
        data={
            "client_id": client_id,
            "client_secret": secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
        },
        timeout=5,
    )


def refresh(sandbox, client_id, token):
    return requests.post(
        sandbox.token_url,
        data={
            "client_id": client_id,
            "client_secret": "s3cret",
            "refresh_token": token,
            "grant_type": "refresh_token",
        },
        timeout=5,
    )


def test_consent_page_allow_and_deny(sandbox, client):
    page = authorize(sandbox, client)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'value="allow"' in page.text and "invoice:read" in page.text
    form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    form.pop("decision", None)
    allow = requests.post(
        sandbox.authorize_url, data={**form, "decision": "allow"}, allow_redirects=False, timeout=5
    )
    assert allow.status_code == 302 and allow.headers["Location"].startswith(REDIRECT)
    q = query_of(allow.headers["Location"])
    assert q["state"] == "xyz-123" and q["code"]
    deny = requests.post(
        sandbox.authorize_url, data={**form, "decision": "deny"}, allow_redirects=False, timeout=5
    )
    assert query_of(deny.headers["Location"]) == {"error": "access_denied", "state": "xyz-123"}


def test_code_exchange_refresh_rotation(sandbox, client, api):
    r = authorize(sandbox, client, auto_approve="1")
    code = query_of(r.headers["Location"])["code"]
    tok = exchange(sandbox, client, code)
    assert tok.status_code == 200, tok.text
    body = tok.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    assert set(body["scope"].split()) == {"invoice:read", "business:read", "user:read"}
    # code is single-use
    again = exchange(sandbox, client, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # token works
    assert "errors" not in api.gql("{ user { id } }", token=body["access_token"])
    # refresh rotates; the old refresh token is rejected afterwards
    r1 = refresh(sandbox, client, body["refresh_token"])
    assert r1.status_code == 200
    new = r1.json()
    assert new["refresh_token"] != body["refresh_token"]
    assert new["access_token"] != body["access_token"]
    reuse = refresh(sandbox, client, body["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert refresh(sandbox, client, new["refresh_token"]).status_code == 200


def test_oauth_errors(sandbox, client):
    code = query_of(authorize(sandbox, client, auto_approve="1").headers["Location"])["code"]
    bad_secret = exchange(sandbox, client, code, secret="wrong")
    assert bad_secret.status_code in (400, 401) and bad_secret.json()["error"] == "invalid_client"
    unsupported = requests.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "client_id": client, "client_secret": "s3cret"},
    )
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = requests.post(
        sandbox.token_url,
        data={"grant_type": "authorization_code", "client_id": client, "client_secret": "s3cret"},
    )
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    garbage = exchange(sandbox, client, "nope")
    assert garbage.json()["error"] == "invalid_grant"
    bad_scope = authorize(sandbox, client, scope="invoice:delete", auto_approve="1")
    assert query_of(bad_scope.headers["Location"])["error"] == "invalid_scope"
    unknown_client = authorize(sandbox, "no-such-client")
    assert unknown_client.status_code == 400


def test_access_token_expiry(sandbox, client, api):
    sandbox.configure(access_token_ttl=1)
    try:
        code = query_of(authorize(sandbox, client, auto_approve="1").headers["Location"])["code"]
        body = exchange(sandbox, client, code).json()
        assert body["expires_in"] == 1
        assert "errors" not in api.gql("{ user { id } }", token=body["access_token"])
        time.sleep(1.1)
        expired = api.gql("{ user { id } }", token=body["access_token"])
        assert expired["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        fresh_tok = refresh(sandbox, client, body["refresh_token"]).json()["access_token"]
        assert "errors" not in api.gql("{ user { id } }", token=fresh_tok)
    finally:
        sandbox.configure(access_token_ttl=7200)


def test_scopes_enforced(demo, sandbox, api):
    bid = demo["us"].id
    tok = sandbox.issue_full_access_token(scopes="business:read invoice:read")
    q = (
        "query($b:ID!){ business(id:$b){ id invoices(pageSize:1){ pageInfo { totalCount } } "
        "customers { pageInfo { totalCount } } } }"
    )
    body = api.gql(q, {"b": bid}, token=tok)
    assert body["data"]["business"]["invoices"]["pageInfo"]["totalCount"] > 0
    assert body["data"]["business"]["customers"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["business", "customers"]
    # write does not imply read, and invoice:send is separate from invoice:write
    writer = sandbox.issue_full_access_token(scopes="customer:write")
    out = api.gql("{ user { id } }", token=writer)
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    out = api.gql(
        'mutation($b: ID!){ customerCreate(input:{businessId:$b, name:"Z"}) { didSucceed } }',
        {"b": bid},
        token=writer,
    )
    assert out["data"]["customerCreate"]["didSucceed"] is True
    inv = next(i for i in demo["us"].invoices if i.approved)
    no_send = sandbox.issue_full_access_token(scopes="invoice:write")
    out = api.gql(
        'mutation($i: ID!){ invoiceSend(input:{invoiceId:$i, to:["a@b.co"]}) { didSucceed } }',
        {"i": inv.id},
        token=no_send,
    )
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # resource:* covers every operation of the resource
    star = sandbox.issue_full_access_token(scopes="business:* customer:*")
    assert "errors" not in api.gql(
        q.replace("invoices(pageSize:1){ pageInfo { totalCount } }", ""), {"b": bid}, token=star
    )
    # transaction:write gates money transactions
    ro = sandbox.issue_full_access_token(scopes="business:read")
    out = api.gql(
        "mutation($i: MoneyTransactionCreateInput!){ moneyTransactionCreate(input:$i)"
        "{ didSucceed } }",
        {
            "i": {
                "businessId": bid,
                "externalId": "x",
                "date": "2026-01-01",
                "description": "d",
                "anchor": {"accountId": "a", "amount": "1", "direction": "DEPOSIT"},
                "lineItems": [{"accountId": "b", "amount": "1"}],
            }
        },
        token=ro,
    )
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_business_restricted_token(demo, sandbox, api):
    tok = sandbox.issue_full_access_token(business_ids=[demo["ca"].id])
    d = api.data("{ businesses { edges { node { id } } } business { id } }", token=tok)
    assert [e["node"]["id"] for e in d["businesses"]["edges"]] == [demo["ca"].id]
    assert d["business"]["id"] == demo["ca"].id
    body = api.gql('{{ business(id: "{}") {{ id }} }}'.format(demo["us"].id), token=tok)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_admin_revocation(sandbox, api):
    tok = sandbox.issue_full_access_token()
    assert "errors" not in api.gql("{ user { id } }", token=tok)
    r = api.admin("POST", "tokens/revoke", json={"token": tok})
    assert r.json()["revoked"] == 1
    assert (
        api.gql("{ user { id } }", token=tok)["errors"][0]["extensions"]["code"]
        == "UNAUTHENTICATED"
    )
    r = api.admin("POST", "tokens", json={"scopes": "user:read"})
    assert "errors" not in api.gql("{ user { id } }", token=r.json()["access_token"])
    assert api.http.post(sandbox.base_url + "/sandbox/tokens", json={}).status_code == 401


def test_admin_expire_then_refresh(sandbox, client, api):
    code = query_of(authorize(sandbox, client, auto_approve="1").headers["Location"])["code"]
    body = exchange(sandbox, client, code).json()
    r = api.admin("POST", "tokens/expire", json={"token": body["access_token"]})
    assert r.json() == {"expired": 1}
    out = api.gql("{ user { id } }", token=body["access_token"])
    assert out["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    new = refresh(sandbox, client, body["refresh_token"]).json()
    assert "errors" not in api.gql("{ user { id } }", token=new["access_token"])
