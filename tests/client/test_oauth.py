"""OAuth helpers over a scripted transport adapter."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

TOKEN_URL = "https://api.waveapps.com/oauth2/token/"
NOW = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.timezone.utc)


def token_body(**extra):
    """Return a token endpoint success body."""
    body = {
        "access_token": "AT-1",
        "refresh_token": "RT-1",
        "expires_in": 7200,
        "token_type": "Bearer",
        "scope": "invoice:read user:read",
        "businessId": "QnVzaW5lc3M6MQ==",
        "userId": "VXNlcjox",
    }
    body.update(extra)
    return body


def form(call):
    """Decode the form body of a recorded call."""
    return {k: v[0] for k, v in parse_qs(call["request"].body).items()}


def test_build_authorize_url(lib):
    url = lib.build_authorize_url(
        lib.AUTHORIZE_URL,
        "cid",
        "https://odoo.example/cb",
        ["invoice:read", "user:read"],
        "st4te",
        extra_params={"businessId": "B1"},
    )
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.path == "/oauth2/authorize/"
    query = parse_qs(parts.query)
    assert query == {
        "client_id": ["cid"],
        "response_type": ["code"],
        "scope": ["invoice:read user:read"],
        "state": ["st4te"],
        "redirect_uri": ["https://odoo.example/cb"],
        "businessId": ["B1"],
    }


def test_build_authorize_url_https_rule(lib):
    with pytest.raises(lib.WaveConfigurationError):
        lib.build_authorize_url("http://api.waveapps.com/oauth2/authorize/", "c", "", [], "s")


def test_exchange_code(lib, fake):
    fake.queue((200, token_body()))
    tokens = lib.exchange_code(
        TOKEN_URL,
        "cid",
        "csecret",
        "the-code",
        "https://odoo.example/cb",
        session=fake.session,
        now=NOW,
    )
    assert form(fake.calls[0]) == {
        "grant_type": "authorization_code",
        "client_id": "cid",
        "client_secret": "csecret",
        "code": "the-code",
        "redirect_uri": "https://odoo.example/cb",
    }
    assert tokens.access_token == "AT-1" and tokens.refresh_token == "RT-1"
    assert tokens.expires_at == NOW + dt.timedelta(hours=2)
    assert tokens.scopes == ["invoice:read", "user:read"]
    assert tokens.extra == {"businessId": "QnVzaW5lc3M6MQ==", "userId": "VXNlcjox"}
    assert "AT-1" not in repr(tokens) and "RT-1" not in repr(tokens)
    assert tokens.is_expired(NOW + dt.timedelta(seconds=7150))
    assert not tokens.is_expired(NOW)


def test_refresh_rotates_and_keeps_old_when_absent(lib, fake):
    fake.queue(
        (200, token_body(access_token="AT-2", refresh_token="RT-2")),
        (200, {"access_token": "AT-3", "expires_in": 60}),
    )
    first = lib.refresh_token(TOKEN_URL, "cid", "csecret", "RT-1", session=fake.session)
    assert form(fake.calls[0])["grant_type"] == "refresh_token"
    assert form(fake.calls[0])["refresh_token"] == "RT-1"
    assert (first.access_token, first.refresh_token) == ("AT-2", "RT-2")
    second = lib.refresh_token(TOKEN_URL, "cid", "csecret", "RT-2", session=fake.session)
    assert second.refresh_token == "RT-2"


@pytest.mark.parametrize(
    "status,body,exc_name",
    [
        (400, {"error": "invalid_grant", "error_description": "revoked"}, "WaveGrantRevokedError"),
        (401, {"error": "invalid_client"}, "WaveAuthenticationError"),
        (400, {"error": "invalid_scope"}, "WaveScopeError"),
        (500, {"error": "server_error"}, "WaveServerError"),
        (503, {}, "WaveServerError"),
        (400, {"error": "invalid_request"}, "WaveError"),
    ],
)
def test_refresh_error_mapping(lib, fake, status, body, exc_name):
    fake.queue((status, body))
    with pytest.raises(getattr(lib, exc_name)) as info:
        lib.refresh_token(TOKEN_URL, "cid", "csecret", "RT-1", session=fake.session)
    assert type(info.value).__name__ == exc_name
    assert "csecret" not in str(info.value) and "RT-1" not in str(info.value)


def test_invalid_grant_is_an_authentication_error(lib):
    assert issubclass(lib.WaveGrantRevokedError, lib.WaveAuthenticationError)


def test_token_transport_errors(lib, fake):
    fake.queue(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(lib.WaveTransportError) as info:
        lib.refresh_token(TOKEN_URL, "cid", "csecret", "RT-1", session=fake.session)
    assert info.value.details["outcome_unknown"] is True


def test_token_url_https_rule(lib, fake):
    with pytest.raises(lib.WaveConfigurationError):
        lib.exchange_code(
            "http://api.waveapps.com/oauth2/token/", "c", "s", "code", None, session=fake.session
        )
    assert fake.calls == []


def test_scopes_for_features(lib):
    inbound = lib.scopes_for_features(["inbound_invoices"])
    assert inbound == sorted(
        [
            "invoice:read",
            "customer:read",
            "product:read",
            "sales_tax:read",
            "account:read",
            "business:read",
            "user:read",
        ]
    )
    outbound = lib.scopes_for_features(["inbound_invoices", "outbound_invoices", "outbound_bills"])
    for scope in ("invoice:write", "customer:write", "product:write", "transaction:write"):
        assert scope in outbound
    assert "offline_access" not in outbound
    assert "offline_access" in lib.scopes_for_features([], include_offline_access=True)
    assert lib.scopes_for_features([]) == ["business:read", "user:read"]
    with pytest.raises(ValueError):
        lib.scopes_for_features(["everything"])


def test_oauth_token_provider_refreshes_expired_and_persists(lib, fake):
    fake.queue((200, token_body(access_token="AT-2", refresh_token="RT-2")))
    expired = lib.TokenSet("AT-1", "RT-1", NOW - dt.timedelta(days=1))
    saved = []
    provider = lib.OAuthTokenProvider(
        TOKEN_URL, "cid", "csecret", expired, on_refresh=saved.append, session=fake.session
    )
    assert provider.get_access_token() == "AT-2"
    assert saved[0].refresh_token == "RT-2"
    assert provider.get_access_token() == "AT-2" and len(fake.calls) == 1


def test_static_token_provider_cannot_refresh(lib):
    provider = lib.StaticTokenProvider("FAT")
    assert provider.get_access_token() == "FAT"
    with pytest.raises(lib.WaveAuthenticationError):
        provider.refresh_access_token()
