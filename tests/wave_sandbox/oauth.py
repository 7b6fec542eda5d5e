"""OAuth2 authorization-code flow as Wave exposes it (``/oauth2/authorize/``, ``/oauth2/token/``).

Refresh tokens rotate: each refresh returns a new pair and the old refresh token becomes
invalid (re-use -> ``invalid_grant``).  Full-access tokens never expire.
"""

from __future__ import annotations

import html
import json
import secrets
import time
import urllib.parse

from .store import Token

SCOPES = {
    "account:read",
    "account:write",
    "account:*",
    "business:read",
    "business:write",
    "business:*",
    "customer:read",
    "customer:write",
    "customer:*",
    # not on Wave's scopes page; named by its webhooks guide (estimate events need
    # estimate:read or estimate:*). ASSUMPTION: estimate:write as for the other objects.
    "estimate:read",
    "estimate:write",
    "estimate:*",
    "invoice:read",
    "invoice:write",
    "invoice:send",
    "invoice:*",
    "product:read",
    "product:write",
    "product:*",
    "sales_tax:read",
    "sales_tax:write",
    "sales_tax:*",
    "transaction:write",
    "transaction:*",
    "user:read",
    "user:*",
    "vendor:read",
    "vendor:write",
    "vendor:*",
}
EXTRA_SCOPES = {"offline_access"}  # accepted, not enforced (see README)
CODE_TTL = 600


def _json(status, payload, extra_headers=None):
    headers = {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }
    headers.update(extra_headers or {})
    return status, headers, json.dumps(payload).encode()


def oauth_error(error, description, status=400):
    return _json(status, {"error": error, "error_description": description})


def _redirect(uri, params):
    sep = "&" if urllib.parse.urlparse(uri).query else "?"
    location = uri + sep + urllib.parse.urlencode({k: v for k, v in params.items() if v})
    return 302, {"Location": location, "Content-Type": "text/plain"}, b""


def _html(status, body):
    return status, {"Content-Type": "text/html; charset=utf-8"}, body.encode()


def issue_token_pair(state, client_id, user_id, scopes, business_ids, ttl):
    access = "sbx_at_" + secrets.token_urlsafe(24)
    refresh = "sbx_rt_" + secrets.token_urlsafe(24)
    state.tokens[access] = Token(
        access, "oauth", user_id, set(scopes), business_ids, time.time() + ttl, client_id, refresh
    )
    state.refresh_tokens[refresh] = {
        "client_id": client_id,
        "user_id": user_id,
        "scopes": sorted(scopes),
        "business_ids": business_ids,
        "used": False,
        "access_token": access,
    }
    return access, refresh


def _check_client(sb, params):
    client = sb.state.oauth_clients.get(params.get("client_id", ""))
    if client is None:
        return None, _html(400, "<h1>invalid_client</h1><p>Unknown client_id.</p>")
    uri = params.get("redirect_uri") or client["redirect_uris"][0]
    if uri not in client["redirect_uris"]:
        return None, _html(400, "<h1>invalid_request</h1><p>redirect_uri mismatch.</p>")
    return (client, uri), None


def _parse_scopes(raw):
    scopes = [s for s in (raw or "").split() if s]
    bad = [s for s in scopes if s not in SCOPES | EXTRA_SCOPES]
    return scopes, bad


def _grant_code(sb, client, uri, params):
    scopes, _ = _parse_scopes(params.get("scope"))
    code = "sbx_code_" + secrets.token_urlsafe(18)
    user = sb.state.users[0]
    business_ids = [params["businessId"]] if params.get("businessId") else None
    sb.state.auth_codes[code] = {
        "client_id": client["client_id"],
        "redirect_uri": uri,
        "redirect_uri_sent": bool(params.get("redirect_uri")),
        "scopes": scopes,
        "user_id": user.id,
        "business_ids": business_ids,
        "expires": time.time() + CODE_TTL,
        "used": False,
    }
    return _redirect(uri, {"code": code, "state": params.get("state")})


def authorize(sb, method, params):
    """GET renders the consent page; POST (the form) or ``auto_approve=1`` grants."""
    checked, error = _check_client(sb, params)
    if error:
        return error
    client, uri = checked
    if params.get("response_type") != "code":
        return _redirect(uri, {"error": "unsupported_response_type", "state": params.get("state")})
    scopes, bad = _parse_scopes(params.get("scope"))
    if not scopes or bad:
        return _redirect(
            uri,
            {
                "error": "invalid_scope",
                "error_description": f"Unknown scope(s): {' '.join(bad)}"
                if bad
                else "scope is required",
                "state": params.get("state"),
            },
        )
    if method == "POST":
        if params.get("decision") != "allow":
            return _redirect(uri, {"error": "access_denied", "state": params.get("state")})
        return _grant_code(sb, client, uri, params)
    if params.get("auto_approve") in ("1", "true", "yes"):
        return _grant_code(sb, client, uri, params)
    if params.get("auto_approve") in ("deny", "0"):
        return _redirect(uri, {"error": "access_denied", "state": params.get("state")})
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k != "decision"
    )
    scope_items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    return _html(
        200,
        f"""<!doctype html><html><head><title>Authorize application</title></head>
<body><h1>{html.escape(client.get("name") or client["client_id"])} wants to access your Wave
account</h1><ul id="scopes">{scope_items}</ul>
<form method="post" action="/oauth2/authorize/">{hidden}
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>
</body></html>""",
    )


def token(sb, params, basic_auth=None):
    state = sb.state
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    if basic_auth:
        client_id, client_secret = basic_auth
    grant = params.get("grant_type")
    if not grant:
        return oauth_error("invalid_request", "grant_type is required.")
    if grant not in ("authorization_code", "refresh_token"):
        return oauth_error("unsupported_grant_type", f"Unsupported grant_type '{grant}'.")
    if not client_id or not client_secret:
        return oauth_error("invalid_request", "client_id and client_secret are required.")
    client = state.oauth_clients.get(client_id)
    if client is None or client["client_secret"] != client_secret:
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    ttl = state.access_token_ttl
    if grant == "authorization_code":
        code = params.get("code")
        if not code:
            return oauth_error("invalid_request", "code is required.")
        rec = state.auth_codes.get(code)
        if rec is None or rec["client_id"] != client_id:
            return oauth_error("invalid_grant", "Invalid authorization code.")
        if rec["used"] or rec["expires"] < time.time():
            return oauth_error("invalid_grant", "Authorization code expired or already used.")
        if rec["redirect_uri_sent"] and params.get("redirect_uri") != rec["redirect_uri"]:
            return oauth_error("invalid_grant", "redirect_uri does not match.")
        rec["used"] = True
        scopes, user_id, business_ids = rec["scopes"], rec["user_id"], rec["business_ids"]
    else:
        refresh = params.get("refresh_token")
        if not refresh:
            return oauth_error("invalid_request", "refresh_token is required.")
        rec = state.refresh_tokens.get(refresh)
        if rec is None or rec["client_id"] != client_id or rec["used"]:
            return oauth_error("invalid_grant", "Invalid, revoked or already used refresh token.")
        rec["used"] = True
        scopes, user_id, business_ids = rec["scopes"], rec["user_id"], rec["business_ids"]
    access, refresh = issue_token_pair(state, client_id, user_id, scopes, business_ids, ttl)
    payload = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(ttl),
        "refresh_token": refresh,
        "scope": " ".join(scopes),
        "userId": user_id,
    }
    if business_ids:
        payload["businessId"] = business_ids[0]
    return _json(200, payload)
